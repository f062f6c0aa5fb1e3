"""The article page: its anatomy, topics, previews, related cards, meta and query budget."""

import datetime as dt
import re
from html import unescape

import pytest
from django.contrib.auth.models import Permission
from django.contrib.staticfiles import finders
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from PIL import Image

from articles import services
from articles.models import Article, RelatedLink, Topic
from tests.articles.views.pages import SITE_URL, canonical_of, head_of, not_public
from tests.factories import ArticleFactory, RelatedLinkFactory, TopicFactory

pytestmark = pytest.mark.django_db


def test_article_page_anatomy_top_to_bottom(client):
    article = ArticleFactory(
        title="Bridge reopens after repairs",
        standfirst="Traffic returns to the river crossing.",
        body="<p>The first paragraph.</p><p>The second paragraph.</p>",
        why_it_matters="Forty thousand commuters use it daily.",
        impact_score=68,
        authors__name="Jane Reporter",
    )

    response = client.get(f"/articles/{article.slug}/")

    assert response.status_code == 200
    content = response.content.decode()
    in_order = [
        "<h1",
        "Bridge reopens after repairs",
        "Traffic returns to the river crossing.",
        "Jane Reporter",
        "<p>The first paragraph.</p><p>The second paragraph.</p>",
        "Why it matters",
        "Forty thousand commuters use it daily.",
        '<span class="impact-score-value">68</span>',
        '<span class="impact-score-label">Impact Score</span>',
        "Contact Us",
        "Got questions? Use the form to contact us",
    ]
    position = content.index("<body")
    for fragment in in_order:
        position = content.index(fragment, position)  # raises when missing or out of order


def visible_text(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def test_the_contact_box_names_the_buttons_by_their_labels(client):
    article = ArticleFactory(slug="bridge-reopens")

    content = client.get(article.get_absolute_url()).content.decode()

    box = re.search(r'<section class="contact-us.*?</section>', content, re.S).group(0)
    link = re.search(r'<a class="contact-us-link[^"]*" href="([^"]+)">([^<]+)</a>', box)
    label = link.group(2)
    assert visible_text(box) == (
        f"Contact Us Got questions? Use the form to contact us "
        f"The {label} button below opens the form. When you click Next there, we send a "
        f"verification code to your email. After verifying it you can enter your message. "
        f"{label}"
    )
    # "Next" is the form's own button, the one that sends the code.
    form = client.get(unescape(link.group(1))).content.decode()
    assert re.search(r'<button type="submit"[^>]*name="next">Next</button>', form)


def test_article_page_links_to_contact_with_the_article(client):
    article = ArticleFactory(slug="bridge-reopens")

    content = client.get(article.get_absolute_url()).content.decode()

    assert f'href="{reverse("contact:start")}?article=bridge-reopens"' in content


def _article_topics(response) -> list[str]:
    return re.findall(r'class="article-topic [^"]*" href="([^"]+)">([^<]+)</a>', response.text)


def test_article_page_shows_its_topics_in_the_menus_order(client):
    article = ArticleFactory(
        topics=[
            TopicFactory(name="Zoning", slug="zoning"),
            TopicFactory(name="Arts", slug="arts"),
            TopicFactory(name="Media", slug="media"),
        ]
    )
    TopicFactory(name="Business", slug="business")

    response = client.get(article.get_absolute_url())

    assert _article_topics(response) == [
        ("/topics/arts/", "Arts"),
        ("/topics/media/", "Media"),
        ("/topics/zoning/", "Zoning"),
    ]


def test_a_renamed_topic_shows_on_every_article_page_at_once(
    client, settings, django_capture_on_commit_callbacks
):
    settings.PAGE_CACHE_SECONDS = 0  # the topic list is kept even when pages are not
    arts = TopicFactory(name="Arts", slug="arts")
    first, second = ArticleFactory(topics=[arts]), ArticleFactory(topics=[arts])
    client.get(first.get_absolute_url())

    with django_capture_on_commit_callbacks(execute=True):
        arts.name = "Culture"
        arts.save()

    for article in (first, second):
        assert _article_topics(client.get(article.get_absolute_url())) == [
            ("/topics/arts/", "Culture")
        ]


def test_a_topic_added_behind_the_sites_back_still_shows_on_its_articles(client, settings):
    settings.PAGE_CACHE_SECONDS = 0  # a page render, not a stored page
    article = ArticleFactory(topics=[TopicFactory(name="Arts", slug="arts")])
    client.get(article.get_absolute_url())  # the topic list is kept without the new one
    # A bulk import sends no signals, so nothing tells the kept topic list.
    (media,) = Topic.objects.bulk_create([Topic(name="Media", slug="media")])
    Article.topics.through.objects.create(article=article, topic=media)

    assert _article_topics(client.get(article.get_absolute_url())) == [
        ("/topics/arts/", "Arts"),
        ("/topics/media/", "Media"),
    ]


def test_unknown_article_is_404(client):
    assert client.get("/articles/no-such-story/").status_code == 404


@pytest.mark.parametrize("kind", ["draft", "scheduled", "withdrawn", "taken_down"])
def test_story_that_is_not_public_is_404_to_visitors(client, django_user_model, kind):
    article = ArticleFactory(**not_public(kind))
    assert client.get(article.get_absolute_url()).status_code == 404

    # Signed in is not enough; neither is staff without the permission.
    client.force_login(django_user_model.objects.create_user("reader", password="pw"))
    assert client.get(article.get_absolute_url()).status_code == 404
    intern = django_user_model.objects.create_user("intern", password="pw", is_staff=True)
    client.force_login(intern)
    assert client.get(article.get_absolute_url()).status_code == 404


@pytest.mark.parametrize("kind", ["draft", "scheduled", "withdrawn", "taken_down"])
def test_staff_preview_a_story_that_is_not_public_with_a_banner(staff_client, kind):
    article = ArticleFactory(title="Embargoed story", **not_public(kind))

    response = staff_client.get(article.get_absolute_url())

    assert response.status_code == 200
    content = response.content.decode()
    assert "Preview — not published" in content
    assert "Embargoed story" in content
    assert head_of(response).meta["robots"] == "noindex"
    assert "no-store" in response["Cache-Control"]


def test_the_preview_of_a_story_past_its_take_down_time_says_when_it_came_down(staff_client):
    article = ArticleFactory(**not_public("taken_down"))

    content = staff_client.get(article.get_absolute_url()).content.decode()

    assert "This story was taken down at its set time" in content


def test_a_draft_with_a_headline_only_previews_without_blanks_filled_in(staff_client):
    draft = ArticleFactory(
        title="Storm warning", standfirst="", body="", impact_score=None, **not_public("draft")
    )

    response = staff_client.get(draft.get_absolute_url())

    assert response.status_code == 200
    content = response.content.decode()
    assert "Storm warning" in content
    assert "impact-score" not in content
    assert "None" not in content


def test_change_permission_also_allows_preview(client, django_user_model):
    user = django_user_model.objects.create_user("writer", password="pw", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="change_article"))
    client.force_login(user)
    article = ArticleFactory(**not_public("draft"))

    assert client.get(article.get_absolute_url()).status_code == 200


def test_published_story_has_no_preview_banner_even_for_staff(staff_client):
    content = staff_client.get(ArticleFactory().get_absolute_url()).content.decode()
    assert "Preview — not published" not in content


def test_related_cards_on_the_page(client):
    topic = TopicFactory()
    article = ArticleFactory(topics=[topic])
    RelatedLinkFactory(article=article, position=0, target_article__title="Curated story")
    RelatedLinkFactory(
        article=article,
        position=1,
        target_article=ArticleFactory(title="Draft story", **not_public("draft")),
    )
    RelatedLink.objects.create(
        article=article,
        position=2,
        url="https://example.org/report",
        title="Outside report",
        summary="A study elsewhere.",
    )
    ArticleFactory(title="Suggested story", topics=[topic])

    content = client.get(article.get_absolute_url()).content.decode()

    section = content.split('class="related-content', 1)[1].split("</section>", 1)[0]
    assert "Related content" in section
    assert "Draft story" not in section
    card = r'<div class="related-card card h-100" ([^>]*)>(.*?)</div>\s*</div>'
    cards = re.findall(card, section, re.S)
    assert [attrs for attrs, _ in cards] == [
        'data-curated="true"',
        'data-curated="true" data-external="true"',
        'data-suggested="true"',
    ]
    assert "Curated story" in cards[0][1]
    external = '<a class="related-card-link" href="https://example.org/report" rel="noopener">'
    assert external in cards[1][1]
    assert "A study elsewhere." in cards[1][1] and "https://example.org/report" in cards[1][1]
    assert "Suggested story" in cards[2][1] and "Suggested</span>" in cards[2][1]


def test_hero_image_with_alt_text_and_og_image(client):
    article = ArticleFactory(
        hero_image="articles/2026/03/bridge.jpg", hero_image_alt="The bridge at dawn"
    )

    response = client.get(article.get_absolute_url())

    assert 'alt="The bridge at dawn"' in response.content.decode()
    assert head_of(response).meta["og:image"] == f"{SITE_URL}/media/articles/2026/03/bridge.jpg"


def test_a_story_without_hero_image_is_shared_with_the_sites_own_picture(client):
    response = client.get(ArticleFactory().get_absolute_url())

    meta = head_of(response).meta
    assert meta["og:image"] == f"{SITE_URL}/static/articles/share.png"
    assert (meta["og:image:width"], meta["og:image:height"]) == ("1200", "630")
    assert meta["og:image:alt"] == "Newsroom"
    with Image.open(finders.find("articles/share.png")) as picture:
        assert picture.size == (1200, 630)


def test_article_meta_tags_use_site_url_not_the_request_host(client):
    article = ArticleFactory(title="Bridge reopens", seo_description="For link previews.")

    response = client.get(article.get_absolute_url(), HTTP_HOST="testserver")

    head = head_of(response)
    url = f"{SITE_URL}/articles/{article.slug}/"
    assert head.title == "Bridge reopens | Newsroom"
    assert canonical_of(response) == url
    assert head.meta["description"] == "For link previews."
    assert head.meta["og:title"] == "Bridge reopens"
    assert head.meta["og:description"] == "For link previews."
    assert head.meta["og:url"] == url
    assert head.meta["og:type"] == "article"
    assert head.meta["og:site_name"] == "Newsroom"
    assert "testserver" not in response.content.decode()


def _article_with(n):
    topics = TopicFactory.create_batch(n)
    article = ArticleFactory(topics=topics)
    for position in range(n):
        RelatedLinkFactory(article=article, position=position, target_article__topics=topics)
    return article


@pytest.mark.parametrize("n", [1, 10])
def test_article_page_query_budget_does_not_grow(
    client, django_assert_max_num_queries, settings, n
):
    settings.PAGE_CACHE_SECONDS = 0  # every request renders (tests/articles/test_pagecache.py)
    article = _article_with(n)
    # The article (with its topic ids), its related links, suggestions when fewer
    # than three links; the topic list (the menu is built from it) until it is kept.
    with django_assert_max_num_queries(5):
        assert client.get(article.get_absolute_url()).status_code == 200


def test_an_article_page_with_its_cards_curated_costs_two_queries(
    client, django_assert_num_queries, settings
):
    settings.PAGE_CACHE_SECONDS = 0
    article = _article_with(3)
    client.get(ArticleFactory(topics=[]).get_absolute_url())  # keeps the topic list and menu

    # The article with its topic ids and its links; elsewhere than PostgreSQL
    # the topics take a query of their own.
    with django_assert_num_queries(2 if connection.vendor == "postgresql" else 3):
        response = client.get(article.get_absolute_url())

    assert len(_article_topics(response)) == 3
    assert response.text.count('data-curated="true"') == 3


# Corrections and updates


def _corrected_story(**kwargs):
    """A story published two hours ago, saved then, with a correction an hour later."""
    published = timezone.now() - dt.timedelta(hours=2)
    article = ArticleFactory(publish_at=published, **kwargs)
    Article.objects.filter(pk=article.pk).update(updated_at=published)
    corrected = published + dt.timedelta(hours=1)
    services.correction_add(
        article=article,
        text="An earlier version gave the vote as 32 to 23.\nIt was 31 to 24.",
        posted_at=corrected,
        user=None,
    )
    services.correction_add(
        article=article,
        kind="editors_note",
        text="This story was updated with the <council's> reply.",
        posted_at=published + dt.timedelta(minutes=30),
        user=None,
    )
    article.refresh_from_db()
    return article, published, corrected


def test_corrections_are_listed_at_the_foot_of_the_story_with_their_times(client):
    article, published, corrected = _corrected_story()

    content = client.get(article.get_absolute_url()).content.decode()

    foot = content.split('class="article-corrections', 1)[1].split("</section>", 1)[0]
    assert content.index('class="impact-score') < content.index('class="article-corrections')
    assert content.index('class="article-corrections') < content.index("Contact Us")
    notes = re.findall(
        r'<li class="article-correction[^"]*">\s*<strong>([^<]+)</strong>,\s*'
        r'<time datetime="([^"]+)">',
        foot,
    )
    assert [(kind, parse_datetime(at)) for kind, at in notes] == [
        ("Editor&#x27;s note", published + dt.timedelta(minutes=30)),
        ("Correction", corrected),
    ]
    assert "An earlier version gave the vote as 32 to 23.<br>It was 31 to 24." in foot
    assert "the &lt;council&#x27;s&gt; reply" in foot, "plain text, escaped"


def test_the_page_says_updated_and_its_modified_time_follows_the_latest_correction(client):
    article, published, corrected = _corrected_story()

    response = client.get(article.get_absolute_url())

    byline = response.content.decode().split('class="article-byline', 1)[1].split("</p>", 1)[0]
    updated = re.search(r'Updated <time datetime="([^"]+)">', byline)
    assert parse_datetime(updated.group(1)) == corrected
    meta = head_of(response).meta
    assert parse_datetime(meta["article:published_time"]) == published
    assert parse_datetime(meta["article:modified_time"]) >= corrected


def test_a_note_from_before_publication_does_not_make_the_story_updated(client):
    published = timezone.now() - dt.timedelta(hours=1)
    article = ArticleFactory(publish_at=published)
    services.correction_add(
        article=article,
        kind="editors_note",
        text="Embargoed until this morning.",
        posted_at=published - dt.timedelta(hours=1),
        user=None,
    )

    content = client.get(article.get_absolute_url()).content.decode()

    assert "Embargoed until this morning." in content
    assert "Updated" not in content


def test_a_story_without_corrections_has_no_corrections_section(client):
    content = client.get(ArticleFactory().get_absolute_url()).content.decode()

    assert "article-corrections" not in content
    assert "Updated" not in content


def test_a_corrected_page_stays_within_the_query_budget(
    client, django_assert_max_num_queries, settings
):
    settings.PAGE_CACHE_SECONDS = 0
    article = _article_with(10)
    services.correction_add(article=article, text="A name was misspelt.", user=None)

    with django_assert_max_num_queries(5):
        response = client.get(article.get_absolute_url())

    assert "A name was misspelt." in response.content.decode()


def test_corrections_cost_one_query_and_only_on_a_corrected_story(
    client, django_assert_num_queries, settings
):
    settings.PAGE_CACHE_SECONDS = 0
    article = _article_with(3)
    client.get(ArticleFactory(topics=[]).get_absolute_url())  # keeps the topic list and menu
    services.correction_add(article=article, text="A name was misspelt.", user=None)

    plain = 2 if connection.vendor == "postgresql" else 3
    with django_assert_num_queries(plain + 1):
        assert "A name was misspelt." in client.get(article.get_absolute_url()).text
