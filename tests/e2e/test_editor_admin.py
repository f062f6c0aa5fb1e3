"""An editor's comfortable admin, in a real browser: the article form fits a laptop's
window, related links are put in order by dragging them, a suggested story is added
with one click, a story is pinned to Top stories, and a bulk withdrawal asks first.
Screenshots at 1280x800 and on a phone (390x844) go to test-artifacts/e2e/."""

import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from articles import services
from articles.models import Article
from tests.factories import ArticleFactory, ChiefEditorFactory, RelatedLinkFactory, TopicFactory

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "a-long-editor-passphrase"
LAPTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


def sign_in(page, url: str) -> None:
    ChiefEditorFactory(username="rosa", password=PASSWORD)
    page.goto(f"{url}/admin/login/?next=/admin/")
    page.fill("#id_username", "rosa")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    expect(page.locator("#site-name")).to_be_visible()


def no_sideways_scroll(page) -> None:
    widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], f"{page.url} is {widths[0]} px wide in {widths[1]} px"


def curated_titles(page) -> list[str]:
    cards = page.locator(
        "section.related-content .related-card[data-curated=true] .related-card-title"
    )
    return [re.sub(r"\s+", " ", text).strip() for text in cards.all_inner_texts()]


def a_story_with_links():
    topic = TopicFactory(name="Climate", slug="climate")
    story = ArticleFactory(title="Floods reshape the river valley", slug="floods", topics=[topic])
    for position, title in enumerate(("Alpha dam", "Bravo bridge", "Charlie canal"), start=1):
        target = ArticleFactory(title=title, slug=title.lower().replace(" ", "-"), topics=[topic])
        RelatedLinkFactory(article=story, target_article=target, position=position)
    services.correction_add(article=story, text="The river is the Ouse.", user=None)
    return story


def test_the_article_form_fits_a_laptop_and_a_phone(live_server, page, shot):
    story = a_story_with_links()
    page.set_viewport_size(LAPTOP)
    sign_in(page, live_server.url)

    for name, path in (
        ("add", "/admin/articles/article/add/"),
        ("change", f"/admin/articles/article/{story.pk}/change/"),
        ("list", "/admin/articles/article/"),
    ):
        page.goto(f"{live_server.url}{path}")
        page.wait_for_load_state("load")
        no_sideways_scroll(page)
        shot(f"{name}-1280x800")
    # The list: no headline on more than three lines, no topic cut off.
    lines = page.evaluate(
        """() => [...document.querySelectorAll('#result_list .list-headline')].map(
             (el) => Math.round(el.getBoundingClientRect().height
                                / parseFloat(getComputedStyle(el).lineHeight)))"""
    )
    assert lines and max(lines) <= 3, lines
    results = page.locator("#changelist .results")
    assert results.evaluate("(el) => el.scrollWidth <= el.clientWidth")
    expect(page.locator("#result_list td.field-topic_names").first).to_have_text("Climate")

    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/admin/articles/article/{story.pk}/change/")
    page.wait_for_load_state("load")
    shot("change-390x844")
    # Every field of a related link's card is inside the card and its row (a row hides
    # what runs past its edge, so the page itself would not scroll), and its heading,
    # however long the headline, ends above the fields.
    outside = page.evaluate(
        """() => [...document.querySelectorAll('#related_links-group .inline-related')]
             .flatMap((card) => {
               const edge = card.getBoundingClientRect().right;
               const heading = Math.max(...[...card.querySelectorAll('h3 *')].map(
                 (part) => part.getBoundingClientRect().bottom));
               const fields = card.querySelectorAll(
                 '.form-row :is(input:not([type=hidden]), textarea, .select2)');
               return [...fields]
                 .filter((field) => field.getBoundingClientRect().width)
                 .filter((field) => {
                   const box = field.getBoundingClientRect();
                   const row = field.closest('.form-row').getBoundingClientRect();
                   return box.right > Math.min(edge, row.right) || box.top < heading;
                 })
                 .map((field) => field.name || field.className);
             })"""
    )
    assert outside == [], outside
    page.goto(f"{live_server.url}/admin/articles/article/")
    shot("list-390x844")


def test_dragging_related_links_into_a_new_order_reaches_the_public_page(live_server, page, shot):
    story = a_story_with_links()
    page.set_viewport_size(LAPTOP)
    sign_in(page, live_server.url)
    page.goto(f"{live_server.url}{story.get_absolute_url()}")
    assert curated_titles(page)[:3] == ["Alpha dam", "Bravo bridge", "Charlie canal"]

    page.goto(f"{live_server.url}/admin/articles/article/{story.pk}/change/")
    headings = page.locator("#related_links-group .inline-related.has_original h3")
    expect(headings).to_have_count(3)
    # Charlie's heading, dragged with the mouse onto Alpha's: pressed, moved up a little
    # at a time as a hand does (the list follows each move), and released.
    headings.nth(1).evaluate("(heading) => heading.scrollIntoView({block: 'center'})")
    source, target = headings.nth(2).bounding_box(), headings.nth(0).bounding_box()
    assert target["y"] > 0 and source["y"] + 20 < LAPTOP["height"], "both in sight"
    page.mouse.move(source["x"] + 60, source["y"] + 10)
    page.mouse.down()
    for step in range(1, 31):
        page.mouse.move(
            source["x"] + 60, source["y"] + 10 + (target["y"] - source["y"]) * step / 30
        )
        page.wait_for_timeout(20)
    page.mouse.up()
    expect(headings.nth(0)).to_contain_text("Charlie canal")
    expect(headings.nth(1)).to_contain_text("Alpha dam")
    shot("dragged")
    page.click("input[name=_save]")
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")

    page.goto(f"{live_server.url}{story.get_absolute_url()}")
    assert curated_titles(page)[:3] == ["Charlie canal", "Alpha dam", "Bravo bridge"]
    shot("public-order")


def test_a_suggested_story_is_added_as_related_with_one_click(live_server, page, shot):
    topic = TopicFactory(name="Climate", slug="climate")
    story = ArticleFactory(title="Floods reshape the river valley", slug="floods", topics=[topic])
    ArticleFactory(title="Drought tests the farmers", slug="drought", topics=[topic])
    page.set_viewport_size(LAPTOP)
    sign_in(page, live_server.url)

    page.goto(f"{live_server.url}/admin/articles/article/{story.pk}/change/")
    page.fill("#id_standfirst", "Typed before the click, and kept.")
    suggestion = page.locator(".suggested-related li", has_text="Drought tests the farmers")
    suggestion.get_by_role("button", name="Add as related").click()
    expect(suggestion.locator("[role=status]")).to_contain_text("save the story to keep it")
    row = page.locator("#related_links-group .inline-related:not(.empty-form)").last
    expect(row.locator(".select2-selection__rendered")).to_contain_text("Drought tests")
    shot("suggestion-added")
    page.click("input[name=_save]")
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")

    story.refresh_from_db()
    assert story.standfirst == "Typed before the click, and kept."
    assert [link.target_article.slug for link in story.related_links.all()] == ["drought"]
    page.goto(f"{live_server.url}{story.get_absolute_url()}")
    assert curated_titles(page) == ["Drought tests the farmers"]


def test_a_pinned_story_leads_top_stories_on_the_home_page(live_server, page, shot):
    ArticleFactory(title="Big fresh story", slug="big", impact_score=95)
    quiet = ArticleFactory(
        title="Quiet explainer",
        slug="quiet",
        impact_score=5,
        publish_at=timezone.now() - timezone.timedelta(days=3),
    )
    page.set_viewport_size(LAPTOP)
    sign_in(page, live_server.url)
    page.goto(f"{live_server.url}/")
    top = page.locator("section.top-stories .top-story")
    expect(top.first).to_have_attribute("data-article-slug", "big")

    page.goto(f"{live_server.url}/admin/articles/article/{quiet.pk}/change/")
    until = timezone.localtime() + timezone.timedelta(days=1)
    page.fill("#id_pinned_until_0", until.strftime("%d/%m/%Y"))
    page.fill("#id_pinned_until_1", until.strftime("%H:%M:%S"))
    shot("pin")
    page.click("input[name=_save]")
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")

    page.goto(f"{live_server.url}/")
    expect(top.first).to_have_attribute("data-article-slug", "quiet")
    shot("home-pinned")


def test_withdrawing_in_bulk_asks_first_and_names_the_stories_linking_there(
    live_server, page, shot
):
    target = ArticleFactory(title="Fair this weekend", slug="fair")
    linker = ArticleFactory(title="What's on in town", slug="whats-on")
    RelatedLinkFactory(article=linker, target_article=target)
    page.set_viewport_size(LAPTOP)
    sign_in(page, live_server.url)

    def ask():
        page.goto(f"{live_server.url}/admin/articles/article/")
        page.locator(f'input[name=_selected_action][value="{target.pk}"]').check()
        page.select_option("select[name=action]", "withdraw")
        page.click("button[name=index]")
        expect(page.locator("h1")).to_have_text("Withdraw these stories?")

    ask()
    story = page.locator(f'.confirm-story[data-article-id="{target.pk}"]')
    expect(story).to_contain_text("Fair this weekend")
    expect(story.locator(".confirm-linkers")).to_contain_text("What's on in town (related link)")
    shot("confirm-1280x800")
    page.set_viewport_size(PHONE)
    shot("confirm-390x844")
    page.set_viewport_size(LAPTOP)
    page.get_by_role("link", name="No, take me back").click()
    expect(page.locator("#result_list")).to_be_visible()
    target.refresh_from_db()
    assert target.is_published()

    ask()
    page.get_by_role("button", name="Yes, withdraw them").click()
    expect(page.locator(".messagelist")).to_contain_text("1 article withdrawn.")
    expect(page.locator(".messagelist")).to_contain_text("What's on in town")
    target.refresh_from_db()
    assert target.status == Article.Status.WITHDRAWN
