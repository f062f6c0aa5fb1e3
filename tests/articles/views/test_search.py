"""Search: public stories only, the newest matches ranked, bounded in time and queries."""

import datetime as dt
import re

import pytest
from django.utils import timezone

from articles.models import SEARCH_CANDIDATES, Article
from tests.articles.views.pages import (
    SITE_URL,
    canonical_of,
    follow,
    head_of,
    not_public,
    pagination_links,
    queries_of,
    slugs_listed,
)
from tests.factories import ArticleFactory, TopicFactory

pytestmark = pytest.mark.django_db


def test_empty_search_shows_the_form_and_no_results(client):
    ArticleFactory(title="Anything")

    response = client.get("/search/", {"q": "   "})

    assert response.status_code == 200
    content = response.content.decode()
    assert 'name="q"' in content
    assert slugs_listed(response) == []
    assert "result" not in content.split("</form>", 2)[-1]


def test_the_search_page_names_its_two_search_landmarks_apart(client):
    # The header's box and the page's own form are both role=search: a screen
    # reader's landmark list tells them apart only by their names.
    content = client.get("/search/", {"q": "council"}).content.decode()

    forms = re.findall(r"<form [^>]*role=\"search\"[^>]*>", content)
    names = [re.search(r'aria-label="([^"]+)"', form).group(1) for form in forms]
    assert len(names) == 2
    assert len(set(names)) == 2


def test_search_finds_public_stories_only(client):
    found = ArticleFactory(title="Harbour bridge reopens")
    ArticleFactory(title="Harbour draft", **not_public("draft"))
    ArticleFactory(title="Harbour later", **not_public("scheduled"))
    ArticleFactory(title="Harbour fair ended", **not_public("taken_down"))
    ArticleFactory(title="Something else")

    response = client.get("/search/", {"q": "harbour"})

    assert slugs_listed(response) == [found.slug]
    assert "1 result for “harbour”" in response.content.decode()


def test_search_results_paginate_and_keep_the_query(client, settings):
    settings.ARTICLES_PER_PAGE = 2
    ArticleFactory.create_batch(3, title="Harbour news")

    first = client.get("/search/", {"q": "harbour"})
    second = client.get(pagination_links(first)["More results"])

    assert len(slugs_listed(first)) == 2
    assert pagination_links(first)["More results"] == "/search/?q=harbour&page=2"
    assert len(slugs_listed(second)) == 1
    assert pagination_links(second) == {"Previous results": "/search/?q=harbour"}
    assert canonical_of(second) == f"{SITE_URL}/search/?q=harbour&page=2"
    assert "3 results for “harbour”" in second.content.decode()
    assert not re.search(r"Page \d+ of", first.content.decode())


@pytest.mark.parametrize("page", ["2", "0", "abc"])
def test_search_page_out_of_range_is_404(client, page):
    ArticleFactory(title="Harbour news")
    assert client.get("/search/", {"q": "harbour", "page": page}).status_code == 404


def harbour_stories(count):
    """``count`` public stories matching "harbour", harbour-0 the newest, a minute apart."""
    now = timezone.now()
    Article.objects.bulk_create(
        Article(
            title=f"Harbour news {i}",
            slug=f"harbour-{i}",
            standfirst="The harbour.",
            body="<p>Boats.</p>",
            impact_score=10,
            status=Article.Status.PUBLISHED,
            publish_at=now - dt.timedelta(minutes=i),
        )
        for i in range(count)
    )


def test_search_ranks_only_the_newest_matches_and_says_so(client):
    harbour_stories(SEARCH_CANDIDATES + 5)

    pages = follow(client, "/search/?q=harbour", "More results")

    shown = [slug for page in pages for slug in slugs_listed(page)]
    assert sorted(shown) == sorted(f"harbour-{i}" for i in range(SEARCH_CANDIDATES))
    first = pages[0].content.decode()
    assert f"Showing the {SEARCH_CANDIDATES} most recent matches for “harbour”" in first
    assert "Refine your search" in first
    assert f"{SEARCH_CANDIDATES + 5} results" not in first
    assert f"{SEARCH_CANDIDATES} results" not in first


def test_search_with_exactly_the_cap_of_matches_is_not_capped(client, settings):
    settings.ARTICLES_PER_PAGE = 100
    harbour_stories(SEARCH_CANDIDATES)

    content = client.get("/search/", {"q": "harbour"}).content.decode()

    assert f"{SEARCH_CANDIDATES} results for “harbour”" in content
    assert "Refine your search" not in content


def test_search_query_is_capped(client):
    response = client.get("/search/", {"q": "harbour " * 100})
    assert response.status_code == 200
    assert response.context["query"] == ("harbour " * 100)[:200].strip()


@pytest.mark.parametrize(
    "query",
    [
        "\x00",
        "harbour\x00bridge",
        "'\"\\;--",
        "a & | ! ( ) : * <->",
        '"unterminated',
        "-",
        "or",
        "the",
        "%_%",
        "<script>alert(1)</script>",
        "ünïcødé 北京 🙂",
        "x" * 5000,
        '"harbour" -bridge or',
        '"" - or -',
    ],
)
def test_search_survives_bad_input(client, query):
    ArticleFactory(title="Harbour bridge")
    response = client.get("/search/", {"q": query})
    assert response.status_code == 200
    assert "<script>alert(1)</script>" not in response.content.decode()


def test_search_pages_are_not_indexed(client):
    assert head_of(client.get("/search/", {"q": "x"})).meta["robots"] == "noindex"


def test_a_search_the_database_cannot_finish_in_time_asks_to_refine(client, settings, monkeypatch):
    from articles.models import ArticleQuerySet
    from tests.conftest import need_postgres_and_redis

    need_postgres_and_redis()
    settings.SEARCH_TIME_LIMIT_MS = 50
    ArticleFactory(title="Council budget vote")
    real_search = ArticleQuerySet.search

    def slow_search(self, query, **kwargs):
        # As slow as a quoted phrase of common words over a big archive.
        return real_search(self, query, **kwargs).extra(where=["(SELECT true FROM pg_sleep(1))"])

    monkeypatch.setattr(ArticleQuerySet, "search", slow_search)

    started = timezone.now()
    response = client.get("/search/", {"q": '"council budget"'})

    assert response.status_code == 200
    assert (timezone.now() - started).total_seconds() < 0.9
    assert "took too long" in response.content.decode()
    assert slugs_listed(response) == []
    # The connection is usable again, without the limit.
    monkeypatch.setattr(ArticleQuerySet, "search", real_search)
    assert "Council budget vote" in client.get("/search/", {"q": "council"}).content.decode()


def test_search_query_budget_does_not_grow_or_count(client, settings):
    settings.ARTICLES_PER_PAGE = 2
    ArticleFactory.create_batch(2, title="Harbour news", topics=TopicFactory.create_batch(3))
    few = queries_of(client, "/search/?q=harbour")
    ArticleFactory.create_batch(10, title="Harbour news", topics=TopicFactory.create_batch(3))
    many = queries_of(client, "/search/?q=harbour&page=3")

    few, many = ([sql for sql in run if sql.startswith("SELECT")] for run in (few, many))

    # Matching ids, the page's cards, their topics; the topic list once, then from the cache.
    # (Besides these, the time limit is set for the first: SET LOCAL in a transaction.)
    assert len(few) == 4
    assert len(many) == 3
    assert not any("COUNT(" in sql.upper() for sql in few + many)
