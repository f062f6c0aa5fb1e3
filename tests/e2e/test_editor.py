"""An editor's journey through the admin in a real browser."""

import pytest
from playwright.sync_api import expect

from articles.models import Article
from tests.factories import ArticleFactory, EditorFactory, TopicFactory

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "a-long-editor-passphrase"


def choose(page, row_selector: str, text: str) -> None:
    """Pick ``text`` in the select2 autocomplete box of a form row."""
    page.locator(f"{row_selector} .select2-selection").first.click()
    page.locator(".select2-container--open .select2-search__field").fill(text)
    page.locator(".select2-results__option", has_text=text).first.click()


def test_editor_writes_links_and_publishes_a_story(live_server, page, shot):
    EditorFactory(username="rosa", password=PASSWORD)
    topic = TopicFactory(name="Climate", slug="climate")
    first = ArticleFactory(title="Floods reshape the river valley", slug="floods", topics=[topic])
    second = ArticleFactory(title="Drought tests the farmers", slug="drought", topics=[topic])

    page.goto(f"{live_server.url}/admin/")
    page.fill("#id_username", "rosa")
    page.fill("#id_password", PASSWORD)
    shot("login")
    page.click("input[type=submit]")
    expect(page.locator("#site-name")).to_be_visible()
    shot("admin-index")

    page.goto(f"{live_server.url}/admin/articles/article/add/")
    page.locator("#id_title").press_sequentially("Town votes to restore its wetlands")
    expect(page.locator("#id_slug")).to_have_value("town-votes-to-restore-its-wetlands")
    page.fill("#id_standfirst", "A marsh drained a century ago will flood again by design.")
    page.locator(".field-body [contenteditable=true]").click()
    page.keyboard.type("The council voted on Monday to restore the marsh.")
    page.keyboard.press("Enter")
    page.keyboard.type("Work starts in spring.")
    page.fill("#id_why_it_matters", "Wetlands store water that would otherwise flood homes.")
    page.fill("#id_impact_score", "73")
    choose(page, ".field-topics", "Climate")
    page.select_option("#id_status", "published")
    page.locator(".field-publish_at .datetimeshortcuts a", has_text="Today").click()
    page.locator(".field-publish_at .datetimeshortcuts a", has_text="Now").click()

    page.locator("#related_links-group .add-row a").click()
    page.locator("#related_links-group .add-row a").click()
    choose(page, "#related_links-0", "Floods reshape")
    page.fill("#id_related_links-0-position", "1")
    choose(page, "#related_links-1", "Drought tests")
    page.fill("#id_related_links-1-position", "2")
    shot("article-form")
    page.click("input[name=_save]")

    expect(page.locator(".messagelist")).to_contain_text("was added successfully")
    shot("changelist")
    article = Article.objects.get(slug="town-votes-to-restore-its-wetlands")
    assert article.is_published()
    assert article.body == (
        "<p>The council voted on Monday to restore the marsh.</p><p>Work starts in spring.</p>"
    )
    assert [link.target_article for link in article.related_links.all()] == [first, second]

    page.goto(f"{live_server.url}/")
    card = page.locator(
        'article.article-card[data-article-slug="town-votes-to-restore-its-wetlands"]'
    )
    expect(card).to_be_visible()
    shot("home")
    card.locator("a.article-card-link").click()
    cards = page.locator("section.related-content .related-card[data-curated=true]")
    expect(cards.nth(0)).to_contain_text("Floods reshape the river valley")
    expect(cards.nth(1)).to_contain_text("Drought tests the farmers")
    expect(page.locator(".impact-score-value").first).to_have_text("73")
    shot("published-article")


def test_a_headline_fixed_in_the_admin_reaches_readers_at_once(live_server, page, browser):
    """The page cache serves readers, and an editor's save refreshes what they see."""
    EditorFactory(username="rosa", password=PASSWORD)
    story = ArticleFactory(title="Mayor resgins after vote", slug="mayor", topics=[TopicFactory()])
    reader = browser.new_context().new_page()
    for path in ("/", "/articles/mayor/"):
        reader.goto(f"{live_server.url}{path}")
        expect(reader.locator("main")).to_contain_text("Mayor resgins after vote")
    # The reader's second visit is a cache hit.
    response = reader.goto(f"{live_server.url}/articles/mayor/")
    assert response.headers["x-page-cache"] == "hit"

    page.goto(f"{live_server.url}/admin/")
    page.fill("#id_username", "rosa")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.goto(f"{live_server.url}/admin/articles/article/{story.pk}/change/")
    page.fill("#id_title", "Mayor resigns after vote")
    page.click("input[name=_save]")
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")

    # The editor, on the public site, gets a fresh page, never a cached one.
    response = page.goto(f"{live_server.url}/articles/mayor/")
    assert response.headers["x-page-cache"] == "bypass"
    expect(page.locator("h1")).to_have_text("Mayor resigns after vote")
    for path in ("/", "/articles/mayor/"):
        reader.goto(f"{live_server.url}{path}")
        expect(reader.locator("main")).to_contain_text("Mayor resigns after vote")
        expect(reader.locator("main")).not_to_contain_text("resgins")
    reader.context.close()


def test_editor_corrects_a_live_story_and_changes_its_address(live_server, page, browser, shot):
    """A correction added in the admin reaches readers; the renamed story's old
    address leads to its new one; a new story may take an old address only when
    the editor ticks the box that appears."""
    EditorFactory(username="rosa", password=PASSWORD)
    story = ArticleFactory(
        title="Council backs a four-day week", slug="council-backs-four-day-week"
    )

    page.goto(f"{live_server.url}/admin/")
    page.fill("#id_username", "rosa")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    expect(page.locator("#site-name")).to_be_visible()

    page.goto(f"{live_server.url}/admin/articles/article/{story.pk}/change/")
    page.locator("#corrections-group .add-row a").click()
    page.select_option("#id_corrections-0-kind", "correction")
    page.fill("#id_corrections-0-text", "An earlier version gave the vote as 32 to 23.")
    page.fill("#id_slug", "council-approves-four-day-week-pilot")
    shot("correction-and-new-slug")
    page.click("input[name=_save]")
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")

    page.goto(f"{live_server.url}/admin/articles/article/{story.pk}/change/")
    expect(page.locator(".field-old_addresses")).to_contain_text(
        "/articles/council-backs-four-day-week/"
    )
    shot("old-addresses-listed")

    reader = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
    reader.goto(f"{live_server.url}/articles/council-backs-four-day-week/")
    assert reader.url == f"{live_server.url}/articles/council-approves-four-day-week-pilot/"
    expect(reader.locator(".article-updated")).to_contain_text("Updated")
    expect(reader.locator(".article-corrections")).to_contain_text("32 to 23")
    reader.locator(".article-corrections").scroll_into_view_if_needed()
    reader.screenshot(path=str(shot.folder / "reader-corrected-story.png"), full_page=True)
    reader.context.close()

    page.goto(f"{live_server.url}/admin/articles/article/add/")
    page.fill("#id_title", "Another story")
    page.fill("#id_standfirst", "A standfirst.")
    page.locator(".field-body [contenteditable=true]").click()
    page.keyboard.type("A body.")
    page.fill("#id_impact_score", "20")
    # Typed over the slug the headline filled in.
    page.fill("#id_slug", "council-backs-four-day-week")
    page.locator("#id_slug").dispatch_event("change")
    expect(page.locator("#id_slug")).to_have_value("council-backs-four-day-week")
    expect(page.locator("#id_take_over_address")).to_be_hidden()
    page.click("input[name=_save]")
    shot("refused")
    expect(page.locator(".field-slug .errorlist")).to_contain_text("is an old address of")
    expect(page.locator("#id_take_over_address")).to_be_visible()
    shot("take-over-address")
    page.check("#id_take_over_address")
    page.click("input[name=_save]")
    expect(page.locator(".messagelist")).to_contain_text("was added successfully")
    assert Article.objects.get(slug="council-backs-four-day-week").title == "Another story"
