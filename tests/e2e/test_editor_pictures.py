"""An editor puts a captioned picture and a link to another story in a body, from the
editor's own tools, and a reader sees both, on a wide screen and a phone."""

import pytest
from playwright.sync_api import expect

from articles.models import Article, Picture
from tests.articles.pictures import image_bytes
from tests.factories import ArticleFactory, ChiefEditorFactory

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "a-long-editor-passphrase"


@pytest.fixture
def media_site(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.ROOT_URLCONF = "tests.e2e.media_urls"
    photo = tmp_path / "salmon-ladder.jpg"
    photo.write_bytes(image_bytes(2000, 1250))
    return photo


def test_an_editor_adds_a_captioned_picture_and_a_story_link_and_a_reader_sees_them(
    live_server, browser, page, shot, media_site
):
    ChiefEditorFactory(username="rosa", password=PASSWORD)
    target = ArticleFactory(title="Council votes to remove the last weir", slug="weir-vote")

    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", "rosa")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.goto(f"{live_server.url}/admin/articles/article/add/")
    page.locator("#id_title").press_sequentially("Salmon climb the new rock ramps")
    page.fill("#id_standfirst", "Fish were counted above the old mill town for the first time.")

    body = page.locator(".field-body [contenteditable=true]")
    # Spell-checked in the newsroom's language, with room to write.
    expect(body).to_have_attribute("spellcheck", "true")
    expect(body).to_have_attribute("lang", "en-GB")
    assert body.evaluate("node => node.getBoundingClientRect().height") > 300
    # The paragraph-style dropdown draws its arrow; no character that may have no glyph.
    arrow = page.locator(".prose-menubar__selected").first.evaluate(
        "node => getComputedStyle(node, '::after').content"
    )
    assert arrow in ('""', "none")
    shot("editor")

    body.click()
    page.keyboard.type("Survey teams counted 46 salmon nests this autumn.")
    page.keyboard.press("Enter")
    page.keyboard.type("Read how ")
    page.locator("button[title='Link to one of our stories']").click()
    dialog = page.locator("dialog.newsroom-dialog")
    dialog.locator("input[name=story]").fill("weir")
    choice = dialog.locator(".newsroom-story-choice", has_text="Council votes to remove")
    expect(choice).to_contain_text("live")
    shot("story-search")
    choice.click()
    page.keyboard.type(" decided.")

    # The picture goes after the first paragraph.
    page.keyboard.press("Control+Home")
    page.keyboard.press("End")
    page.locator("button[title='Insert or edit a picture']").click()
    dialog.locator("input[type=file]").set_input_files(str(media_site))
    dialog.locator("input[name=caption]").fill("Fish climb where a weir once stood.")
    dialog.locator("input[name=credit]").fill("Photo: Sam Lee")
    dialog.locator("button.newsroom-dialog-submit").click()
    # No alt text: said next to the field, nothing typed is lost.
    expect(dialog.locator("input[name=alt] ~ .newsroom-dialog-error")).to_have_text(
        "Describe the picture for readers who cannot see it (alt text)."
    )
    expect(dialog.locator("input[name=caption]")).to_have_value(
        "Fish climb where a weir once stood."
    )
    shot("picture-dialog-error")
    dialog.locator("input[name=alt]").fill("A salmon leaping up a ramp of boulders")
    dialog.locator("button.newsroom-dialog-submit").click()
    expect(dialog).to_have_count(0)
    expect(page.locator(".field-body figure figcaption")).to_contain_text("Photo: Sam Lee")

    page.fill("#id_why_it_matters", "Removing old barriers brings fish back quickly.")
    page.fill("#id_impact_score", "44")
    page.select_option("#id_status", "published")
    page.locator(".field-publish_at .datetimeshortcuts a", has_text="Today").click()
    page.locator(".field-publish_at .datetimeshortcuts a", has_text="Now").click()
    shot("article-form")
    page.click("input[name=_save]")
    expect(page.locator(".messagelist")).to_contain_text("was added successfully")

    story = Article.objects.get(slug="salmon-climb-the-new-rock-ramps")
    picture = Picture.objects.get()
    assert picture.sized_at is not None, "its sized versions were made after the upload"
    assert f'data-picture="{picture.pk}"' in story.body
    assert f'data-article="{target.pk}"' in story.body

    for viewport, name in (
        ({"width": 1280, "height": 800}, "wide"),
        ({"width": 390, "height": 844}, "phone"),
    ):
        reader = browser.new_context(viewport=viewport)
        visit = reader.new_page()
        problems = []
        visit.on("pageerror", lambda exc, problems=problems: problems.append(str(exc)))
        visit.on(
            "console",
            lambda message, problems=problems: (
                problems.append(message.text) if "Content Security Policy" in message.text else None
            ),
        )
        visit.goto(f"{live_server.url}/articles/salmon-climb-the-new-rock-ramps/")
        figure = visit.locator(".article-body figure")
        figure.scroll_into_view_if_needed()
        image = figure.locator("img")
        expect(image).to_have_attribute("alt", "A salmon leaping up a ramp of boulders")
        expect(image).to_have_attribute("loading", "lazy")
        expect(figure.locator("figcaption")).to_have_text(
            "Fish climb where a weir once stood. Photo: Sam Lee"
        )
        expect(figure.locator("figcaption .credit")).to_have_text("Photo: Sam Lee")
        visit.wait_for_function(
            "img => img.complete && img.naturalWidth > 0", arg=image.element_handle()
        )
        chosen = image.evaluate("img => img.currentSrc")
        assert "/media/sizes/" in chosen and chosen.endswith(".webp"), chosen
        # Drawn as wide as the column, no wider than the screen, in its own proportions.
        box = image.bounding_box()
        assert box["width"] <= viewport["width"]
        assert abs(box["height"] / box["width"] - 1250 / 2000) < 0.02
        visit.screenshot(path=str(shot.folder / f"reader-{name}.png"), full_page=True)
        link = visit.locator(".article-body a", has_text="Council votes to remove the last weir")
        expect(link).to_have_attribute("href", "/articles/weir-vote/")
        link.click()
        expect(visit.locator("h1")).to_have_text("Council votes to remove the last weir")
        assert not problems, problems
        reader.close()
