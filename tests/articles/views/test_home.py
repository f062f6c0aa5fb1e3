"""The home page: newest stories first, paged by cursor, top stories, the topic menu."""

import datetime as dt
import re

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from articles.models import Article
from tests.articles.views.pages import (
    SITE_URL,
    canonical_of,
    follow,
    not_public,
    pagination_links,
    queries_of,
    slugs_listed,
)
from tests.factories import ArticleFactory, TopicFactory

pytestmark = pytest.mark.django_db


def test_home_lists_public_stories_newest_first(client):
    now = timezone.now()
    older = ArticleFactory(publish_at=now - dt.timedelta(days=2))
    newer = ArticleFactory(publish_at=now - dt.timedelta(hours=1))
    for kind in ("draft", "scheduled", "withdrawn", "taken_down"):
        ArticleFactory(slug=f"not-public-{kind}", **not_public(kind))

    response = client.get("/")

    assert response.status_code == 200
    assert slugs_listed(response) == [newer.slug, older.slug]
    assert "not-public-" not in response.content.decode()


def test_home_card_shows_standfirst_date_impact_and_topics(client):
    topic = TopicFactory(name="Climate", slug="climate")
    article = ArticleFactory(
        standfirst="Rivers rose overnight.",
        impact_score=68,
        publish_at=dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC),
        topics=[topic],
    )

    content = client.get("/").content.decode()

    card = content.split(f'data-article-slug="{article.slug}"', 1)[1].split("</article>", 1)[0]
    assert "Rivers rose overnight." in card
    assert ">2 Mar 2026</time>" in card
    assert '<span class="impact-score-value">68</span>' in card
    assert f'href="{topic.get_absolute_url()}"' in card


def test_scheduled_story_appears_on_the_home_page_by_itself():
    publish_at = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC)
    with time_machine.travel(publish_at - dt.timedelta(hours=1), tick=False):
        story = ArticleFactory(publish_at=publish_at)
        assert story.slug not in slugs_listed(Client().get("/"))
        assert Client().get(story.get_absolute_url()).status_code == 404

    with time_machine.travel(publish_at + dt.timedelta(seconds=1), tick=False):
        assert slugs_listed(Client().get("/")) == [story.slug]
        assert Client().get(story.get_absolute_url()).status_code == 200


def test_home_shows_twenty_and_links_to_older_stories(client):
    now = timezone.now()
    stories = [ArticleFactory(publish_at=now - dt.timedelta(minutes=i)) for i in range(25)]

    first = client.get("/")
    older = client.get(pagination_links(first)["Older stories"])

    assert slugs_listed(first) == [story.slug for story in stories[:20]]
    assert "Newer stories" not in pagination_links(first)
    assert pagination_links(first)["Older stories"] == f"/?before={stories[19].pk}"
    assert slugs_listed(older) == [story.slug for story in stories[20:]]
    assert "Older stories" not in pagination_links(older)
    assert pagination_links(older)["Newer stories"] == f"/?after={stories[20].pk}"
    assert pagination_links(older)["Newest stories"] == "/"
    assert canonical_of(older) == f"{SITE_URL}/?before={stories[19].pk}"
    assert canonical_of(first) == f"{SITE_URL}/"


def test_home_with_one_page_has_no_pagination(client):
    ArticleFactory.create_batch(20)
    response = client.get("/")
    assert len(slugs_listed(response)) == 20
    assert pagination_links(response) == {}


def _stories_with_ties_and_hidden_ones():
    """Public stories, five of them published at the same second, among hidden ones.

    Returns the public ones in the order a reader must see them: newest first,
    and among stories of the same time the later-created (higher id) first.
    """
    now = timezone.now().replace(microsecond=0)
    tied = now - dt.timedelta(hours=3)
    times = [now - dt.timedelta(hours=h) for h in (1, 2)] + [tied] * 5
    times += [now - dt.timedelta(hours=h) for h in (4, 5, 6)]
    public = [ArticleFactory(publish_at=at) for at in times]
    for i, at in enumerate((now - dt.timedelta(minutes=150), tied, now - dt.timedelta(hours=5))):
        ArticleFactory(slug=f"not-public-{i}", status=Article.Status.WITHDRAWN, publish_at=at)
        public.append(ArticleFactory(publish_at=at))
    ArticleFactory(slug="not-public-draft", **not_public("draft"))
    ArticleFactory(slug="not-public-scheduled", **not_public("scheduled"))
    return sorted(public, key=lambda story: (story.publish_at, story.pk), reverse=True)


def test_older_then_newer_visits_every_public_story_once_in_order(client, settings):
    settings.ARTICLES_PER_PAGE = 3
    expected = [story.slug for story in _stories_with_ties_and_hidden_ones()]

    going_back = follow(client, "/", "Older stories")
    last = going_back[-1].request
    coming_forward = follow(client, f"{last['PATH_INFO']}?{last['QUERY_STRING']}", "Newer stories")

    assert [slug for page in going_back for slug in slugs_listed(page)] == expected
    assert [slug for page in reversed(coming_forward) for slug in slugs_listed(page)] == expected
    assert all(1 <= len(slugs_listed(page)) <= 3 for page in going_back + coming_forward)
    assert len(going_back) == len(coming_forward) == 5  # 13 stories, 3 a page
    assert "Newer stories" not in pagination_links(going_back[0])
    assert "Older stories" not in pagination_links(going_back[-1])
    assert "Newer stories" not in pagination_links(coming_forward[-1])


def test_a_story_published_while_reading_is_not_repeated_on_the_next_page(client, settings):
    settings.ARTICLES_PER_PAGE = 2
    now = timezone.now()
    stories = [ArticleFactory(publish_at=now - dt.timedelta(hours=i)) for i in range(1, 5)]

    first = client.get("/")
    ArticleFactory(slug="breaking", publish_at=now - dt.timedelta(minutes=1))
    older = client.get(pagination_links(first)["Older stories"])

    assert slugs_listed(older) == [stories[2].slug, stories[3].slug]


def test_home_page_follows_articles_per_page(client, settings):
    settings.ARTICLES_PER_PAGE = 2
    ArticleFactory.create_batch(3)
    first = client.get("/")
    assert len(slugs_listed(first)) == 2
    assert len(slugs_listed(client.get(pagination_links(first)["Older stories"]))) == 1


@pytest.mark.parametrize(
    "query",
    [
        "before=abc",
        "before=0",
        "before=-1",
        "before=+{newest}",
        "before=0{newest}",
        "before={newest}.0",
        "before=",
        "after=",
        "before=99999999999999999999",
        "before=%D9%A1",  # an Arabic-Indic digit one
        "before=999999",
        "before={draft}",
        "before={scheduled}",
        "before={withdrawn}",
        "after={newest}",
        "before={oldest}",
        "before={newest}&after={oldest}",
        "before={newest}&before={newest}",
        "page=2",
        "page=0",
        "page=abc",
        "page=2&before={newest}",
    ],
)
def test_bad_or_unknown_cursor_is_404(client, query):
    newest, _, oldest = (
        ArticleFactory(publish_at=timezone.now() - dt.timedelta(hours=h)) for h in (1, 2, 3)
    )
    ids = {
        "newest": newest.pk,
        "oldest": oldest.pk,
        **{
            kind: ArticleFactory(**not_public(kind)).pk
            for kind in ("draft", "scheduled", "withdrawn", "taken_down")
        },
    }
    query = query.format(**ids)

    response = client.get(f"/?{query}")

    assert response.status_code == 404
    assert "Page not found" in response.content.decode()


def test_page_one_is_the_first_page(client):
    story = ArticleFactory()
    response = client.get("/?page=1")
    assert response.status_code == 200
    assert slugs_listed(response) == [story.slug]
    assert canonical_of(response) == f"{SITE_URL}/"


def test_home_top_stories_rank_impact_weighted_by_recency(client):
    now = timezone.now()
    ArticleFactory(slug="day-old-100", impact_score=100, publish_at=now - dt.timedelta(hours=25))
    ArticleFactory(slug="fresh-60", impact_score=60, publish_at=now - dt.timedelta(minutes=5))
    ArticleFactory(slug="draft-100", impact_score=100, **not_public("draft"))

    content = client.get("/").content.decode()

    strip = content.split('class="top-stories', 1)[1].split("</section>", 1)[0]
    assert "Top stories" in strip
    assert re.findall(r'class="top-story [^"]*" data-article-slug="([^"]+)"', strip) == [
        "fresh-60",
        "day-old-100",
    ]


def test_top_stories_only_on_the_first_page(client, settings):
    settings.ARTICLES_PER_PAGE = 1
    ArticleFactory.create_batch(3)
    first = client.get("/")
    older = client.get(pagination_links(first)["Older stories"])
    newer = client.get(
        pagination_links(client.get(pagination_links(older)["Older stories"]))["Newer stories"]
    )
    assert "Top stories" in first.content.decode()
    assert "Top stories" not in older.content.decode()
    assert "Top stories" not in newer.content.decode()


def test_home_with_no_stories(client):
    response = client.get("/")
    assert response.status_code == 200
    assert "No stories yet." in response.content.decode()


def test_topic_nav_lists_every_topic(client):
    topics = [TopicFactory(name=name, slug=name.lower()) for name in ("Economy", "Climate")]

    content = client.get("/").content.decode()

    nav = content.split('class="topic-nav', 1)[1].split("</nav>", 1)[0]
    assert re.findall(r'data-topic-slug="([^"]+)"', nav) == ["climate", "economy"]
    assert f'href="{topics[0].get_absolute_url()}"' in nav


@pytest.mark.parametrize("n", [1, 10])
def test_home_page_query_budget_does_not_grow(client, django_assert_max_num_queries, settings, n):
    settings.PAGE_CACHE_SECONDS = 0
    topics = TopicFactory.create_batch(n)
    ArticleFactory.create_batch(n, topics=topics)
    # Page, topics prefetch, top stories, topic list (for the menu).
    with django_assert_max_num_queries(4):
        assert client.get("/").status_code == 200


@pytest.mark.parametrize("listing", ["home", "topic"])
def test_deep_list_pages_cost_what_the_first_page_costs(client, settings, listing):
    settings.ARTICLES_PER_PAGE = 2
    settings.PAGE_CACHE_SECONDS = 0  # measure renders, not cache hits
    topic = TopicFactory()
    now = timezone.now()
    for i in range(12):
        ArticleFactory(publish_at=now - dt.timedelta(hours=i), topics=[topic])
    path = "/" if listing == "home" else topic.get_absolute_url()
    pages = follow(client, path, "Older stories")
    deep = pagination_links(pages[-2])["Older stories"]
    deep_newer = pagination_links(pages[-1])["Newer stories"]

    second, deepest, coming_back = (
        queries_of(client, page)
        for page in (pagination_links(pages[0])["Older stories"], deep, deep_newer)
    )

    assert len(pages) == 6
    assert len(second) == len(deepest) == len(coming_back) <= len(queries_of(client, path))
    for sql in second + deepest + coming_back:
        assert "COUNT(" not in sql.upper()
        assert "OFFSET" not in sql.upper()
