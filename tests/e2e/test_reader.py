"""A reader's journey through the public site in a real browser."""

import re

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

pytestmark = pytest.mark.django_db(transaction=True)

LEAD = "halvard-labs-refuses-eu-ai-code-of-practice"


@pytest.fixture
def demo_site(live_server):
    call_command("load_demo", "--force", verbosity=0)
    return live_server


def test_home_article_related_topic_search(demo_site, page, shot):
    page.goto(demo_site.url + "/")
    expect(page.locator("h1, .site-name").first).to_contain_text("Newsroom")
    expect(page.locator("section.top-stories")).to_be_visible()
    shot("home")

    page.locator(f'article.article-card[data-article-slug="{LEAD}"] a.article-card-link').click()
    expect(page).to_have_url(f"{demo_site.url}/articles/{LEAD}/")
    expect(page.locator("h1.article-title")).to_contain_text("Halvard Labs")
    expect(page.locator(".article-standfirst")).to_be_visible()
    expect(page.locator("aside.why-it-matters")).to_contain_text("Why it matters")
    expect(page.locator(".impact-score-value").first).to_have_text("68")
    cards = page.locator("section.related-content .related-card")
    expect(cards.nth(0)).to_contain_text("retrieval-augmented generation")
    expect(cards.nth(1)).to_contain_text("biomedical")
    contact = page.locator("section.contact-us a.contact-us-link")
    expect(contact).to_have_attribute("href", f"/contact/?article={LEAD}")
    shot("article")

    cards.nth(0).locator("a.related-card-link").click()
    expect(page).to_have_url(f"{demo_site.url}/articles/retrieval-augmented-generation-at-scale/")
    expect(page.locator("h1.article-title")).to_contain_text("retrieval-augmented generation")
    shot("related-article")

    page.locator('nav.topic-nav a.topic-nav-link:has-text("Science & Health")').click()
    expect(page.locator("nav.topic-nav a.topic-nav-link.active")).to_have_text("Science & Health")
    expect(page.locator("article.article-card").first).to_be_visible()
    shot("topic")

    page.locator("form.site-search input[name=q]").fill("biomedical")
    page.locator("form.site-search input[name=q]").press("Enter")
    expect(page).to_have_url(f"{demo_site.url}/search/?q=biomedical")
    expect(
        page.locator(
            'article.article-card[data-article-slug="ai-models-reshape-biomedical-research"]'
        )
    ).to_be_visible()
    shot("search")


def test_home_older_and_newer_stories(demo_site, page, shot):
    page.goto(demo_site.url + "/")
    first = page.locator("article.article-card").evaluate_all(
        "cards => cards.map(card => card.dataset.articleSlug)"
    )
    expect(page.locator("a.pagination-newer")).to_have_count(0)

    page.locator("a.pagination-older").click()
    expect(page).to_have_url(f"{demo_site.url}/?before={_pk(first[-1])}")
    expect(page.locator("section.top-stories")).to_have_count(0)
    older = page.locator("article.article-card").evaluate_all(
        "cards => cards.map(card => card.dataset.articleSlug)"
    )
    assert older and not set(older) & set(first)
    shot("home-older")

    page.locator("a.pagination-newer").click()
    expect(page.locator("article.article-card").first).to_have_attribute(
        "data-article-slug", first[0]
    )
    expect(page.locator("a.pagination-newer")).to_have_count(0)

    page.go_back()
    page.locator("a.pagination-newest").click()
    expect(page).to_have_url(f"{demo_site.url}/")
    expect(page.locator("section.top-stories")).to_be_visible()


def _pk(slug):
    from articles.models import Article

    return Article.objects.get(slug=slug).pk


def test_article_page_reads_on_a_phone(demo_site, browser, shot):
    context = browser.new_context(viewport={"width": 375, "height": 812}, is_mobile=True)
    try:
        phone = context.new_page()
        phone.goto(f"{demo_site.url}/articles/{LEAD}/")
        expect(phone.locator("h1.article-title")).to_be_visible()
        # Nothing wider than the screen: no sideways scrolling of the whole page.
        overflow = phone.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0
        shot.page = phone
        shot("article-phone")
    finally:
        context.close()


def test_home_page_on_a_phone_shows_the_latest_stories_on_the_first_screen(
    demo_site, browser, shot
):
    context = browser.new_context(viewport={"width": 375, "height": 812}, is_mobile=True)
    try:
        phone = context.new_page()
        phone.goto(f"{demo_site.url}/")
        tiles = phone.locator(".top-stories-list > li")
        expect(tiles).to_have_count(6)
        # The top stories take one row, which scrolls sideways on its own...
        tops = {round(box["y"]) for box in (tiles.nth(i).bounding_box() for i in range(6))}
        assert len(tops) == 1
        strip = phone.locator(".top-stories-list")
        assert strip.evaluate("list => list.scrollWidth > list.clientWidth")
        # ...so the first latest story starts within the first screen,
        latest = phone.locator("article.article-card").first.bounding_box()
        assert latest["y"] < 812
        # and the page itself never scrolls sideways.
        overflow = phone.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0
        # The last tile can be reached.
        tiles.nth(5).locator("a").focus()
        expect(tiles.nth(5)).to_be_in_viewport()
        shot.page = phone
        shot("home-phone")
    finally:
        context.close()


def _hint_opacity(frame, side: str) -> str:
    return frame.evaluate(f"frame => getComputedStyle(frame, '::{side}').opacity")


def _expect_hint_at(phone, frame, edge: str) -> None:
    """The menu marks topics hidden past ``edge`` ("start" or "end") and shows that
    edge's fade (``::before`` at the start, ``::after`` at the end), not the other's."""
    other = "start" if edge == "end" else "end"
    expect(frame).to_have_class(re.compile(rf"\bmore-{edge}\b"))
    expect(frame).not_to_have_class(re.compile(rf"\bmore-{other}\b"))
    after = "1" if edge == "end" else "0"
    phone.wait_for_function(
        "() => getComputedStyle(document.querySelector('.topic-nav-frame'), '::after')"
        f".opacity === '{after}'"
    )
    assert _hint_opacity(frame, "before") == ("0" if edge == "end" else "1")


def test_topic_menu_on_a_phone_shows_that_more_topics_are_hidden(demo_site, browser, page, shot):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    try:
        phone = context.new_page()
        phone.goto(f"{demo_site.url}/")
        menu = phone.locator("nav.topic-nav .topic-nav-list")
        frame = phone.locator("nav.topic-nav .topic-nav-frame")
        assert menu.evaluate("list => list.scrollWidth > list.clientWidth")
        # Topics hidden to the right: a fade with an arrow there, none on the left.
        _expect_hint_at(phone, frame, "end")
        assert frame.evaluate("frame => getComputedStyle(frame, '::after').content") != "none"
        shot.page = phone
        shot("topic-menu-phone")

        # Scrolled to its end: the hint moves to the left edge.
        menu.evaluate("list => list.scrollTo({left: list.scrollWidth})")
        _expect_hint_at(phone, frame, "start")
        shot("topic-menu-phone-scrolled")

        # The current topic is scrolled into view, even the last one.
        last = menu.locator("a.topic-nav-link").last
        phone.goto(demo_site.url + last.get_attribute("href"))
        expect(phone.locator("a.topic-nav-link.active")).to_be_in_viewport(ratio=1)
        shot("topic-menu-phone-last-topic")
    finally:
        context.close()

    # Where every topic fits there is nothing to hint at.
    page.goto(f"{demo_site.url}/")
    wide = page.locator("nav.topic-nav .topic-nav-frame")
    expect(wide).not_to_have_class(re.compile(r"\bmore-(start|end)\b"))
    assert _hint_opacity(wide, "after") == "0"
