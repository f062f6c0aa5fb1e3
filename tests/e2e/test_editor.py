"""An editor's journey through the admin in a real browser."""

from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from articles.models import Article
from tests.factories import ArticleFactory, ChiefEditorFactory, EditorFactory, TopicFactory

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "a-long-editor-passphrase"


def choose(page, row_selector: str, text: str) -> None:
    """Pick ``text`` in the select2 autocomplete box of a form row."""
    page.locator(f"{row_selector} .select2-selection").first.click()
    page.locator(".select2-container--open .select2-search__field").fill(text)
    page.locator(".select2-results__option", has_text=text).first.click()


def test_editor_writes_links_and_publishes_a_story(live_server, page, shot):
    # A chief editor: with the review step on, only they publish.
    ChiefEditorFactory(username="rosa", password=PASSWORD)
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
    choose(page, "#related_links-1", "Drought tests")
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
    # A chief editor: an editor's change to a live story waits for one.
    ChiefEditorFactory(username="rosa", password=PASSWORD)
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


def sign_in(page, url: str, username: str) -> None:
    page.goto(f"{url}/admin/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    expect(page.locator("#site-name")).to_be_visible()


def test_an_editor_asks_for_review_and_a_chief_editor_completes_and_publishes(
    live_server, page, browser, shot
):
    EditorFactory(username="ana", password=PASSWORD)
    ChiefEditorFactory(username="rosa", password=PASSWORD)

    # Ana starts a story with its headline only, tries to publish, and asks for review.
    sign_in(page, live_server.url, "ana")
    page.goto(f"{live_server.url}/admin/articles/article/add/")
    page.locator("#id_title").press_sequentially("Library to close on Sundays")
    page.select_option("#id_status", "published")
    page.click("input[name=_save]")
    expect(page.locator(".field-status .errorlist")).to_contain_text("Only chief editors")
    expect(page.locator("#id_title")).to_have_value("Library to close on Sundays")
    shot("editor-may-not-publish")
    page.select_option("#id_status", "draft")
    page.click("input[name=_request_review]")
    expect(page.locator(".messagelist")).to_contain_text("is ready for review")
    shot("asked-for-review")

    # Rosa finds it under "Ready for review", sees who asked, and completes it.
    chief = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    sign_in(chief, live_server.url, "rosa")
    chief.goto(f"{live_server.url}/admin/articles/article/?review=ready")
    expect(chief.locator("#result_list")).to_contain_text("Asked by ana at")
    chief.screenshot(path=str(shot.folder / "chief-review-list.png"), full_page=True)
    chief.locator("#result_list a", has_text="Library to close on Sundays").click()
    expect(chief.locator(".field-review_request")).to_contain_text("Asked by ana at")
    chief.select_option("#id_status", "published")
    chief.click("input[name=_save]")
    expect(chief.locator(".errorlist.nonfield")).to_contain_text(
        "To publish, add: standfirst, body, impact score."
    )
    chief.screenshot(path=str(shot.folder / "chief-what-is-missing.png"), full_page=True)
    chief.fill("#id_standfirst", "Opening hours shrink to save money.")
    chief.locator(".field-body [contenteditable=true]").click()
    chief.keyboard.type("The council confirmed the change on Monday.")
    chief.fill("#id_impact_score", "40")
    chief.click("input[name=_save]")
    expect(chief.locator(".messagelist")).to_contain_text("was changed successfully")

    article = Article.objects.get(slug="library-to-close-on-sundays")
    assert article.is_published()
    assert article.review_requested_at is None
    reader = browser.new_context().new_page()
    reader.goto(f"{live_server.url}/articles/library-to-close-on-sundays/")
    expect(reader.locator("h1")).to_have_text("Library to close on Sundays")
    for context in (chief.context, reader.context):
        context.close()


def test_an_editor_asks_for_review_of_a_change_to_a_live_story_and_a_chief_editor_publishes(
    live_server, page, browser, shot
):
    """Editor (no right to publish) edits a live story → "Save" refused →
    "Save and ask for review" → readers still see the live text → the chief editor
    finds it under "Ready for review", sees who asked, publishes → readers see it."""
    EditorFactory(username="ana", password=PASSWORD)
    ChiefEditorFactory(username="rosa", password=PASSWORD)
    story = ArticleFactory(title="Pool reopens in May", slug="pool", topics=[TopicFactory()])
    reader = browser.new_context().new_page()
    reader.goto(f"{live_server.url}/articles/pool/")
    expect(reader.locator("h1")).to_have_text("Pool reopens in May")

    sign_in(page, live_server.url, "ana")
    # What readers do not see at once an editor still saves: a take-down time.
    page.goto(f"{live_server.url}/admin/articles/article/{story.pk}/change/")
    in_a_month = timezone.localdate() + timedelta(days=30)
    page.fill("#id_unpublish_at_0", in_a_month.strftime("%d/%m/%Y"))
    page.fill("#id_unpublish_at_1", "18:00:00")
    page.click("input[name=_continue]")
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")
    page.fill("#id_title", "Pool reopens in June")
    page.fill("#id_standfirst", "Repairs to the roof took longer than planned.")
    page.click("input[name=_save]")
    expect(page.locator(".errorlist.nonfield")).to_contain_text(
        "Readers would see this change at once"
    )
    expect(page.locator("#id_title")).to_have_value("Pool reopens in June")
    expect(page.locator("#id_standfirst")).to_have_value(
        "Repairs to the roof took longer than planned."
    )
    shot("editor-may-not-change-a-live-story")
    page.click("input[name=_request_review]")
    expect(page.locator(".messagelist").first).to_contain_text("ready for review")
    expect(page.locator(".pending-banner")).to_contain_text("saved by ana")
    shot("change-saved-as-draft-and-asked-for-review")

    reader.goto(f"{live_server.url}/articles/pool/")
    expect(reader.locator("h1")).to_have_text("Pool reopens in May")
    reader.screenshot(path=str(shot.folder / "reader-still-sees-the-live-text.png"))

    chief = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    sign_in(chief, live_server.url, "rosa")
    chief.goto(f"{live_server.url}/admin/articles/article/?review=ready")
    expect(chief.locator("#result_list")).to_contain_text("Asked by ana at")
    expect(chief.locator("#result_list")).to_contain_text("unpublished changes")
    chief.screenshot(path=str(shot.folder / "chief-review-list-live-story.png"), full_page=True)
    chief.locator("#result_list a", has_text="Pool reopens in May").click()
    expect(chief.locator(".field-review_request")).to_contain_text("Asked by ana at")
    expect(chief.locator("#id_title")).to_have_value("Pool reopens in June")
    chief.screenshot(path=str(shot.folder / "chief-opens-the-draft.png"), full_page=True)
    chief.click("input[name=_save]")
    expect(chief.locator(".messagelist")).to_contain_text("was changed successfully")

    reader.goto(f"{live_server.url}/articles/pool/")
    expect(reader.locator("h1")).to_have_text("Pool reopens in June")
    expect(reader.locator("main")).to_contain_text("Repairs to the roof")
    reader.screenshot(path=str(shot.folder / "reader-sees-the-published-change.png"))
    assert Article.objects.get(pk=story.pk).review_requested_at is None
    chief.goto(f"{live_server.url}/admin/articles/article/?review=ready")
    expect(chief.locator("#result_list")).to_have_count(0)
    for context in (chief.context, reader.context):
        context.close()


def test_a_live_story_is_changed_as_a_draft_shared_and_then_published(
    live_server, page, shot, browser
):
    """Pending edit of a live story → share link in a fresh browser → publish."""
    ChiefEditorFactory(username="rosa", password=PASSWORD)
    story = ArticleFactory(
        title="Bridge opens to traffic", slug="bridge", topics=[TopicFactory(name="City")]
    )
    reader = browser.new_context().new_page()
    reader.goto(f"{live_server.url}/articles/bridge/")
    expect(reader.locator("h1")).to_have_text("Bridge opens to traffic")

    page.goto(f"{live_server.url}/admin/")
    page.fill("#id_username", "rosa")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.goto(f"{live_server.url}/admin/articles/article/{story.pk}/change/")
    expect(page.locator("input[name=_save]")).to_have_value("Save and publish")
    page.fill("#id_title", "Bridge opens to traffic two weeks early")
    page.fill("#id_standfirst", "The contractor finished ahead of schedule.")

    # Preview of the unsaved form, in a new tab.
    with page.expect_popup() as popup:
        page.click("input[name=_preview]")
    preview = popup.value
    expect(preview.locator("h1")).to_have_text("Bridge opens to traffic two weeks early")
    expect(preview.locator(".preview-banner")).to_contain_text("unsaved changes")
    preview.screenshot(path=str(shot.folder / "00-preview-of-unsaved-form.png"), full_page=True)
    preview.close()

    page.click("input[name=_save_pending]")
    expect(page.locator(".messagelist").first).to_contain_text("saved as a draft of changes")
    expect(page.locator(".pending-banner")).to_contain_text(
        "You are editing unpublished changes saved by rosa"
    )
    expect(page.locator("#id_title")).to_have_value("Bridge opens to traffic two weeks early")
    shot("change-form-with-draft-of-changes")

    page.click("a.sharelink")
    page.click("input[name=_create]")
    link = page.locator("#share-link").input_value()
    shot("share-link")
    assert Article.objects.get(pk=story.pk).title == "Bridge opens to traffic"

    # Someone with no admin login, in a fresh browser.
    source = browser.new_context().new_page()
    shared = source.goto(f"{live_server.url}{urlsplit(link).path}")
    assert "no-store" in shared.headers["cache-control"]
    assert "noindex" in shared.headers["x-robots-tag"]
    expect(source.locator("h1")).to_have_text("Bridge opens to traffic two weeks early")
    expect(source.locator(".preview-banner")).to_contain_text("Preview — not published")
    source.screenshot(path=str(shot.folder / "02b-share-link-fresh-browser.png"), full_page=True)
    reader.goto(f"{live_server.url}/articles/bridge/")
    expect(reader.locator("h1")).to_have_text("Bridge opens to traffic")
    reader.screenshot(path=str(shot.folder / "02c-public-page-still-live-text.png"))

    page.goto(f"{live_server.url}/admin/articles/article/{story.pk}/change/")
    page.click("input[name=_save]")
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")
    shot("published")

    reader.goto(f"{live_server.url}/articles/bridge/")
    expect(reader.locator("h1")).to_have_text("Bridge opens to traffic two weeks early")
    expect(reader.locator(".preview-banner")).to_have_count(0)
    reader.screenshot(path=str(shot.folder / "03b-public-page-after-publishing.png"))
    source.goto(f"{live_server.url}{urlsplit(link).path}")
    assert source.url == f"{live_server.url}/articles/bridge/"
    for context in (reader.context, source.context):
        context.close()


def test_editor_corrects_a_live_story_and_changes_its_address(live_server, page, browser, shot):
    """A correction added in the admin reaches readers; the renamed story's old
    address leads to its new one; a new story may take an old address only when
    the editor ticks the box that appears."""
    ChiefEditorFactory(username="rosa", password=PASSWORD)
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
