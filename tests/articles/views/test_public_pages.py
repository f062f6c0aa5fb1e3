"""What every public page has (head tags) and has not (per-visitor state, inline code)."""

import datetime as dt
import re

import pytest
from django.utils import timezone

from tests.articles.views.pages import (
    SITE_URL,
    canonical_of,
    head_of,
)
from tests.factories import ArticleFactory, TopicFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/", "/search/?q=x", "/topics/climate/", "/articles/story/"])
def test_every_page_has_title_description_canonical_og_and_feed_link(client, path):
    topic = TopicFactory(slug="climate")
    ArticleFactory(slug="story", topics=[topic])

    response = client.get(path)

    head = head_of(response)
    assert head.title.strip()
    assert head.meta["description"]
    assert canonical_of(response).startswith(f"{SITE_URL}/")
    for prop in ("og:title", "og:description", "og:url", "og:type", "og:site_name"):
        assert head.meta[prop], prop
    assert {
        "rel": "alternate",
        "type": "application/rss+xml",
        "title": "Newsroom",
        "href": f"{SITE_URL}/feed/",
    } in head.links


PUBLIC_PATHS = [
    "/",
    "/?page=1",
    "/?before={story}",
    "/topics/climate/?after={story}",
    "/articles/story/",
    "/topics/climate/",
    "/search/",
    "/search/?q=story",
    "/feed/",
    "/sitemap.xml",
    "/robots.txt",
]


@pytest.mark.parametrize("path", PUBLIC_PATHS)
def test_public_pages_carry_no_per_visitor_state(client, path):
    climate = TopicFactory(slug="climate")
    now = timezone.now()
    story = ArticleFactory(slug="story", title="A story", topics=[climate])
    ArticleFactory(publish_at=now - dt.timedelta(days=1), topics=[climate])
    ArticleFactory(publish_at=now, topics=[climate])

    response = client.get(path.format(story=story.pk))

    assert response.status_code == 200
    assert not response.cookies
    assert "cookie" not in response.get("Vary", "").lower()
    assert "csrfmiddlewaretoken" not in response.content.decode()


@pytest.mark.parametrize("path", ["/", "/articles/story/", "/topics/climate/"])
def test_public_pages_ignore_a_signed_in_visitor(staff_client, path):
    ArticleFactory(slug="story", topics=[TopicFactory(slug="climate")])

    response = staff_client.get(path)

    assert "cookie" not in response.get("Vary", "").lower()
    assert not response.cookies


@pytest.mark.parametrize("path", ["/", "/articles/story/", "/topics/climate/", "/search/?q=a"])
def test_pages_have_no_inline_script_or_style_and_no_cdn(client, path):
    ArticleFactory(slug="story", title="A story", topics=[TopicFactory(slug="climate")])

    content = client.get(path).content.decode()

    # One script, the topic menu's, from the site itself and deferred; besides it only
    # data a browser never runs (an article's JSON-LD).
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", content, re.DOTALL)
    data = [attrs for attrs, _ in scripts if attrs == ' type="application/ld+json"']
    code = [script for script in scripts if script[0] != ' type="application/ld+json"']
    assert code == [(' src="/static/articles/topic-nav.js" defer', "")]
    assert len(data) == (1 if path.startswith("/articles/") else 0)
    assert content.count("<script") == 1 + len(data)
    assert not re.search(r"\sstyle=", content)
    assert "<style" not in content
    stylesheets = re.findall(r'<link rel="stylesheet" href="([^"]+)"', content)
    assert stylesheets == ["/static/bootstrap/css/bootstrap.min.css", "/static/articles/site.css"]
    assert 'name="viewport" content="width=device-width, initial-scale=1"' in content
