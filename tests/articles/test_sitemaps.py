import datetime as dt
import xml.etree.ElementTree as ET

import pytest
import time_machine
from django.utils import timezone

from articles import services
from articles.models import Article
from tests.factories import ArticleFactory, AuthorFactory, TopicFactory

pytestmark = pytest.mark.django_db

NS = {"sm": "http://www.sitemaps.org/schemas/sitemap/0.9"}


def sitemap_entries(client):
    response = client.get("/sitemap.xml")
    assert response.status_code == 200
    root = ET.fromstring(response.content)  # noqa: S314 - our own response, not untrusted input
    assert root.tag == f"{{{NS['sm']}}}urlset"
    return {
        url.findtext("sm:loc", namespaces=NS): url.findtext("sm:lastmod", namespaces=NS)
        for url in root.findall("sm:url", NS)
    }


def test_sitemap_lists_home_topics_authors_and_public_articles_on_site_url(client, settings):
    settings.SITE_URL = "https://news.example.org"
    topic = TopicFactory(slug="climate")
    story = ArticleFactory(
        slug="public-story", topics=[topic], authors=[AuthorFactory(slug="ada-okonkwo")]
    )
    now = timezone.now()
    # Their authors have no public story: their pages would list nothing.
    ArticleFactory(slug="draft-story", status=Article.Status.DRAFT, publish_at=None)
    ArticleFactory(slug="scheduled-story", publish_at=now + dt.timedelta(hours=1))
    ArticleFactory(slug="withdrawn-story", status=Article.Status.WITHDRAWN, publish_at=now)

    entries = sitemap_entries(client)

    assert set(entries) == {
        "https://news.example.org/",
        "https://news.example.org/topics/climate/",
        "https://news.example.org/authors/ada-okonkwo/",
        "https://news.example.org/articles/public-story/",
    }
    assert entries["https://news.example.org/articles/public-story/"] == (
        story.updated_at.astimezone(dt.UTC).strftime("%Y-%m-%d")
    )


def test_sitemap_ignores_the_request_host(client, settings):
    settings.SITE_URL = "https://news.example.org"
    settings.ALLOWED_HOSTS = ["evil.example", "testserver"]
    ArticleFactory()

    response = client.get("/sitemap.xml", HTTP_HOST="evil.example", secure=False)

    assert b"evil.example" not in response.content
    assert all(loc.startswith("https://news.example.org/") for loc in sitemap_entries(client))


def test_sitemap_keeps_a_path_in_site_url(client, settings):
    settings.SITE_URL = "http://example.org/news"
    ArticleFactory(slug="story")
    assert "http://example.org/news/articles/story/" in sitemap_entries(client)


def test_a_storys_lastmod_is_the_day_of_its_latest_correction(client, settings):
    settings.SITE_URL = "https://news.example.org"
    published = timezone.now() - dt.timedelta(days=3)
    corrected = published + dt.timedelta(days=2)
    with time_machine.travel(published, tick=False):
        ArticleFactory(slug="corrected", publish_at=published)
    with time_machine.travel(corrected, tick=False):
        services.correction_add(
            article=Article.objects.get(slug="corrected"), text="A date was wrong.", user=None
        )

    entries = sitemap_entries(client)

    assert entries["https://news.example.org/articles/corrected/"] == (
        corrected.astimezone(dt.UTC).strftime("%Y-%m-%d")
    )
