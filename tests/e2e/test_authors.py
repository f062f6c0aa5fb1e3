"""Authors in a real browser: a chief editor reorders a byline by drag and drop, and a
reader follows the byline to the author's page and its feed."""

import pytest
from playwright.sync_api import expect

from tests.factories import ArticleFactory, AuthorFactory, ChiefEditorFactory, TopicFactory

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "a-long-editor-passphrase"


def test_a_byline_dragged_into_a_new_order_reaches_readers_with_links_to_author_pages(
    live_server, page, shot, browser
):
    ChiefEditorFactory(username="rosa", password=PASSWORD)
    ada = AuthorFactory(
        name="Ada Okonkwo",
        slug="ada-okonkwo",
        role="Science correspondent",
        bio="Ada covers research and the people who do it.",
    )
    ben = AuthorFactory(name="Ben Hale", slug="ben-hale", role="Data reporter")
    cy = AuthorFactory(name="Cy Ito", slug="cy-ito")
    topic = TopicFactory(name="Science", slug="science")
    story = ArticleFactory(
        title="Labs share their failed experiments",
        slug="labs",
        topics=[topic],
        authors=[ada, ben, cy],
    )
    ArticleFactory.create_batch(2, topics=[topic], authors=[ada])

    page.goto(f"{live_server.url}/admin/")
    page.fill("#id_username", "rosa")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.goto(f"{live_server.url}/admin/articles/article/{story.pk}/change/")
    rows = page.locator("#bylines-group tr.form-row.has_original")
    expect(rows).to_have_count(3)
    expect(page.locator("#bylines-group input[name$='-position']").first).to_be_hidden()
    rows.nth(0).scroll_into_view_if_needed()
    shot("byline-rows")

    # Cy's row dragged by its handle above Ada's.
    rows.nth(2).locator("td.original p").drag_to(rows.nth(0).locator("td.original p"))
    expect(rows.nth(0)).to_contain_text("Cy Ito")
    shot("byline-dragged")
    page.click("input[name=_save]")
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")
    assert [author.name for author in story.byline_authors()] == [
        "Cy Ito",
        "Ada Okonkwo",
        "Ben Hale",
    ]

    reader = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
    reader.goto(f"{live_server.url}/articles/labs/")
    byline = reader.locator(".article-byline")
    expect(byline).to_contain_text("By Cy Ito, Ada Okonkwo and Ben Hale")
    shot.page = reader
    shot("article-byline")
    byline.get_by_role("link", name="Ada Okonkwo").click()

    expect(reader).to_have_url(f"{live_server.url}/authors/ada-okonkwo/")
    expect(reader.locator("h1")).to_have_text("Ada Okonkwo")
    expect(reader.locator(".author-role")).to_have_text("Science correspondent")
    expect(reader.locator("article.article-card")).to_have_count(3)
    shot("author-page")
    reader.set_viewport_size({"width": 390, "height": 844})
    shot("author-page-phone")
    feeds = reader.locator("link[rel=alternate][type='application/rss+xml']")
    hrefs = [feeds.nth(i).get_attribute("href") for i in range(feeds.count())]
    assert any(href.endswith("/authors/ada-okonkwo/feed/") for href in hrefs), hrefs
    response = reader.request.get(f"{live_server.url}/authors/ada-okonkwo/feed/")
    assert response.ok and "Labs share their failed experiments" in response.text()
    reader.context.close()
