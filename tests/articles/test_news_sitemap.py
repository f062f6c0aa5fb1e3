"""The Google News sitemap, /sitemap-news.xml: the public stories of the last 48 hours."""

import datetime as dt
import xml.etree.ElementTree as ET

import pytest
import time_machine
from django.utils import timezone

from articles import services
from articles.models import Article
from tests.factories import ArticleFactory

pytestmark = pytest.mark.django_db

SITEMAP = "http://www.sitemaps.org/schemas/sitemap/0.9"
NEWS = "http://www.google.com/schemas/sitemap-news/0.9"
NS = {"sm": SITEMAP, "news": NEWS}


def news_entries(client) -> dict[str, dict]:
    """Each <url> of the News sitemap by its <loc>, as a crawler reads it."""
    response = client.get("/sitemap-news.xml")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/xml")
    root = ET.fromstring(response.content)  # noqa: S314 - our own response, not untrusted input
    assert root.tag == f"{{{SITEMAP}}}urlset"
    entries = {}
    for url in root.findall("sm:url", NS):
        news = url.find("news:news", NS)
        entries[url.findtext("sm:loc", namespaces=NS)] = {
            "name": news.findtext("news:publication/news:name", namespaces=NS),
            "language": news.findtext("news:publication/news:language", namespaces=NS),
            "date": dt.datetime.fromisoformat(
                news.findtext("news:publication_date", namespaces=NS)
            ),
            "title": news.findtext("news:title", namespaces=NS),
        }
    return entries


def test_lists_the_public_stories_of_the_last_48_hours(anonymous, settings):
    settings.SITE_URL = "https://news.example.org"
    settings.SITE_NAME = "The Valley Courier"
    now = timezone.now()
    fresh = ArticleFactory(
        slug="fresh", title="Floods & fields: <what> now", publish_at=now - dt.timedelta(hours=2)
    )
    ArticleFactory(slug="day-old", publish_at=now - dt.timedelta(hours=47))
    ArticleFactory(slug="too-old", publish_at=now - dt.timedelta(hours=49))
    ArticleFactory(slug="draft", status=Article.Status.DRAFT, publish_at=None)
    ArticleFactory(slug="scheduled", publish_at=now + dt.timedelta(hours=1))
    ArticleFactory(slug="withdrawn", status=Article.Status.WITHDRAWN, publish_at=now)
    ArticleFactory(
        slug="taken-down",
        publish_at=now - dt.timedelta(hours=3),
        unpublish_at=now - dt.timedelta(minutes=1),
    )

    entries = news_entries(anonymous)

    assert list(entries) == [
        "https://news.example.org/articles/fresh/",
        "https://news.example.org/articles/day-old/",
    ]
    assert entries["https://news.example.org/articles/fresh/"] == {
        "name": "The Valley Courier",
        "language": "en",
        "date": fresh.publish_at,
        "title": "Floods & fields: <what> now",
    }


def test_is_listed_in_robots_txt(anonymous, settings):
    settings.SITE_URL = "https://news.example.org"

    lines = anonymous.get("/robots.txt").content.decode().splitlines()

    assert "Sitemap: https://news.example.org/sitemap-news.xml" in lines
    assert "Sitemap: https://news.example.org/sitemap.xml" in lines


def test_is_kept_in_the_page_cache_until_a_story_changes(
    anonymous, django_capture_on_commit_callbacks, django_assert_num_queries
):
    story = ArticleFactory(slug="fresh", title="First headline")
    assert anonymous.get("/sitemap-news.xml")["X-Page-Cache"] == "miss"
    with django_assert_num_queries(0):
        assert anonymous.get("/sitemap-news.xml")["X-Page-Cache"] == "hit"

    with django_capture_on_commit_callbacks(execute=True):
        story.title = "Second headline"
        story.save()
    assert [entry["title"] for entry in news_entries(anonymous).values()] == ["Second headline"]

    with django_capture_on_commit_callbacks(execute=True):
        ArticleFactory(slug="newer")
    assert len(news_entries(anonymous)) == 2

    with django_capture_on_commit_callbacks(execute=True):
        services.article_withdraw(article=story, user=None)
    assert [loc.rsplit("/", 2)[-2] for loc in news_entries(anonymous)] == ["newer"]


def test_a_story_leaves_when_its_48_hours_are_over(anonymous):
    now = timezone.now()
    ArticleFactory(slug="older", publish_at=now - dt.timedelta(hours=40))
    ArticleFactory(slug="newer", publish_at=now - dt.timedelta(hours=1))
    assert len(news_entries(anonymous)) == 2
    assert anonymous.get("/sitemap-news.xml")["X-Page-Cache"] == "hit"

    with time_machine.travel(now + dt.timedelta(hours=8, seconds=1)):
        response = anonymous.get("/sitemap-news.xml")
        assert response["X-Page-Cache"] == "miss"
        assert [loc.rsplit("/", 2)[-2] for loc in news_entries(anonymous)] == ["newer"]


def test_a_scheduled_story_appears_at_its_publish_time(anonymous):
    now = timezone.now()
    ArticleFactory(slug="live", publish_at=now - dt.timedelta(hours=1))
    ArticleFactory(slug="scheduled", publish_at=now + dt.timedelta(minutes=30))
    assert len(news_entries(anonymous)) == 1
    assert anonymous.get("/sitemap-news.xml")["X-Page-Cache"] == "hit"

    with time_machine.travel(now + dt.timedelta(minutes=31)):
        assert [loc.rsplit("/", 2)[-2] for loc in news_entries(anonymous)] == [
            "scheduled",
            "live",
        ]


def test_an_empty_news_sitemap_is_still_valid(anonymous):
    ArticleFactory(slug="old", publish_at=timezone.now() - dt.timedelta(days=5))

    assert news_entries(anonymous) == {}
