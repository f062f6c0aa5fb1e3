"""An editor's day in a real browser, end to end: a live story changed as a draft,
shown to a source through a share link, reviewed and published by a chief editor,
corrected, and moved to a new address whose old one keeps working."""

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from articles.models import Article
from tests.factories import ArticleFactory, ChiefEditorFactory, EditorFactory, TopicFactory

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "a-long-editor-passphrase"
OLD = "/articles/ferry-strike/"
NEW = "/articles/ferry-strike-called-off/"


def sign_in(page, url: str, username: str) -> None:
    page.goto(f"{url}/admin/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    expect(page.locator("#site-name")).to_be_visible()


def test_pending_edit_share_review_publish_correct_and_move(live_server, page, browser, shot):
    EditorFactory(username="ana", password=PASSWORD)
    ChiefEditorFactory(username="rosa", password=PASSWORD)
    story = ArticleFactory(
        title="Ferry crews call a strike",
        slug="ferry-strike",
        standfirst="Crossings stop on Friday.",
        topics=[TopicFactory(name="Transport", slug="transport")],
    )
    reader = browser.new_context().new_page()
    reader.goto(f"{live_server.url}{OLD}")
    expect(reader.locator("h1")).to_have_text("Ferry crews call a strike")

    # Ana, who may not publish, changes the live story as a draft of changes.
    sign_in(page, live_server.url, "ana")
    page.goto(f"{live_server.url}/admin/articles/article/{story.pk}/change/")
    page.fill("#id_title", "Ferry strike called off after a late offer")
    page.fill("#id_standfirst", "Crews accept the operator's new offer.")
    page.click("input[name=_save_pending]")
    expect(page.locator(".pending-banner")).to_contain_text("saved by ana")
    expect(page.locator(".pending-banner")).to_contain_text("sends them to a chief editor")
    shot("draft-of-changes")

    # A source with no login reads the draft through a share link, in a fresh browser.
    page.click("a.sharelink")
    page.click("input[name=_create]")
    link = page.locator("#share-link").input_value()
    shot("share-link")
    source = browser.new_context().new_page()
    source.goto(f"{live_server.url}{urlsplit(link).path}")
    expect(source.locator("h1")).to_have_text("Ferry strike called off after a late offer")
    expect(source.locator(".preview-banner")).to_contain_text("Preview — not published")
    source.screenshot(path=str(shot.folder / "source-reads-the-draft.png"), full_page=True)
    reader.goto(f"{live_server.url}{OLD}")
    expect(reader.locator("h1")).to_have_text("Ferry crews call a strike")

    # Ana asks for review; readers still see the published story.
    page.goto(f"{live_server.url}/admin/articles/article/{story.pk}/change/")
    page.click("input[name=_request_review]")
    expect(page.locator(".messagelist").first).to_contain_text("ready for review")
    shot("asked-for-review")
    reader.goto(f"{live_server.url}{OLD}")
    expect(reader.locator("h1")).to_have_text("Ferry crews call a strike")

    # Rosa reviews it under "Ready for review" and publishes it.
    chief = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    sign_in(chief, live_server.url, "rosa")
    chief.goto(f"{live_server.url}/admin/articles/article/?review=ready")
    expect(chief.locator("#result_list")).to_contain_text("Asked by ana at")
    chief.screenshot(path=str(shot.folder / "chief-review-list.png"), full_page=True)
    chief.locator("#result_list a", has_text="Ferry").first.click()
    expect(chief.locator("#id_title")).to_have_value("Ferry strike called off after a late offer")
    chief.click("input[name=_save]")
    expect(chief.locator(".messagelist")).to_contain_text("was changed successfully")
    reader.goto(f"{live_server.url}{OLD}")
    expect(reader.locator("h1")).to_have_text("Ferry strike called off after a late offer")

    # She adds a correction and gives the story the address its new headline deserves.
    chief.goto(f"{live_server.url}/admin/articles/article/{story.pk}/change/")
    chief.locator("#corrections-group .add-row a").click()
    chief.select_option("#id_corrections-0-kind", "correction")
    chief.fill("#id_corrections-0-text", "An earlier version said crossings stop on Thursday.")
    chief.fill("#id_slug", "ferry-strike-called-off")
    chief.screenshot(path=str(shot.folder / "chief-correction-and-slug.png"), full_page=True)
    chief.click("input[name=_save]")
    expect(chief.locator(".messagelist")).to_contain_text("was changed successfully")

    # The old address answers with the new one, which shows the correction.
    reader.goto(f"{live_server.url}{OLD}")
    assert reader.url == f"{live_server.url}{NEW}"
    expect(reader.locator("h1")).to_have_text("Ferry strike called off after a late offer")
    expect(reader.locator(".article-corrections")).to_contain_text("Thursday")
    expect(reader.locator(".article-updated")).to_contain_text("Updated")
    reader.screenshot(path=str(shot.folder / "reader-after-the-day.png"), full_page=True)

    story = Article.objects.get(pk=story.pk)
    assert (story.slug, story.review_requested_at) == ("ferry-strike-called-off", None)
    for context in (reader.context, source.context, chief.context):
        context.close()
