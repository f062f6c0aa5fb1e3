"""What the public pages' tests read from a page: its head, the stories it lists,
its pagination links, the SQL it ran; and a story's fields for each way of not
being public."""

import datetime as dt
import re
from html import unescape
from html.parser import HTMLParser
from urllib.parse import urljoin

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from articles.models import Article

SITE_URL = "https://news.example.org"


class _Head(HTMLParser):
    """Collects <meta> and <link> tags, the way a link-preview crawler reads them."""

    def __init__(self):
        super().__init__()
        self.meta, self.links, self.title, self._in_title = {}, [], "", False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "meta" and ("property" in attrs or "name" in attrs):
            self.meta[attrs.get("property") or attrs["name"]] = attrs.get("content")
        elif tag == "link":
            self.links.append(attrs)
        self._in_title = tag == "title"

    def handle_endtag(self, tag):
        self._in_title = False

    def handle_data(self, data):
        if self._in_title:
            self.title += data


def head_of(response):
    parser = _Head()
    parser.feed(response.content.decode())
    return parser


def canonical_of(response):
    return next(link["href"] for link in head_of(response).links if link["rel"] == "canonical")


def slugs_listed(response):
    card = r'class="article-card[^"]*" data-article-slug="([^"]+)"'
    return re.findall(card, response.content.decode())


def pagination_links(response):
    """The pagination links a reader can click, by their text, as paths to request."""
    content = response.content.decode()
    if 'class="pagination-nav' not in content:
        return {}
    nav = content.split('class="pagination-nav', 1)[1].split("</nav>", 1)[0]
    links = re.findall(r'<a class="page-link[^"]*"[^>]*href="([^"]+)">([^<]+)</a>', nav)
    here = response.request["PATH_INFO"]
    return {text: urljoin(here, unescape(href)) for href, text in links}


def follow(client, path, link):
    """Every page from ``path`` on, clicking ``link`` until it is gone."""
    pages = [client.get(path)]
    while link in pagination_links(pages[-1]):
        assert pages[-1].status_code == 200
        pages.append(client.get(pagination_links(pages[-1])[link]))
    assert pages[-1].status_code == 200
    return pages


def not_public(kind):
    now = timezone.now()
    return {
        "draft": {"status": Article.Status.DRAFT, "publish_at": None},
        "scheduled": {"publish_at": now + dt.timedelta(hours=2)},
        "withdrawn": {"status": Article.Status.WITHDRAWN, "publish_at": now - dt.timedelta(days=1)},
        # Published, but its take-down time has passed.
        "taken_down": {
            "publish_at": now - dt.timedelta(days=1),
            "unpublish_at": now - dt.timedelta(minutes=1),
        },
    }[kind]


def queries_of(client, path):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(path).status_code == 200
    return [query["sql"] for query in queries.captured_queries]
