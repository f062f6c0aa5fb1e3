"""Authors in the page cache: an edit to an author, a byline or a story by them makes
stale exactly the pages that show it (articles/cachetags.py, articles/signals.py)."""

import datetime

import pytest
from django.utils import timezone

from articles import services
from articles.models import Article, ArticleAuthor
from tests.articles.test_admin import article_form, byline_rows, change_url
from tests.factories import ArticleFactory, AuthorFactory, TopicFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def bylines(anonymous):
    """Stories by Ada (A alone, B with Ben), by Ben (C) and a draft by Ada (D), with
    every public page that could show them in the cache.

    A, B and D are on Politics; C on Sport. Cards on list pages show no byline.
    """
    politics = TopicFactory(slug="politics", name="Politics")
    sport = TopicFactory(slug="sport", name="Sport")
    ada = AuthorFactory(name="Ada Okonkwo", slug="ada")
    ben = AuthorFactory(name="Ben Hale", slug="ben")
    hour = datetime.timedelta(hours=1)
    now = timezone.now()
    a = ArticleFactory(slug="a", topics=[politics], authors=[ada], publish_at=now - hour)
    b = ArticleFactory(slug="b", topics=[politics], authors=[ada, ben], publish_at=now - 2 * hour)
    c = ArticleFactory(slug="c", topics=[sport], authors=[ben], publish_at=now - 3 * hour)
    d = ArticleFactory(
        slug="d",
        topics=[politics],
        authors=[ada],
        status=Article.Status.DRAFT,
        publish_at=None,
    )
    pages = {
        "A": a.get_absolute_url(),
        "B": b.get_absolute_url(),
        "C": c.get_absolute_url(),
        "home": "/",
        "politics": politics.get_absolute_url(),
        "politics feed": "/topics/politics/feed/",
        "sport feed": "/topics/sport/feed/",
        "ada": "/authors/ada/",
        "ada feed": "/authors/ada/feed/",
        "ben": "/authors/ben/",
        "ben feed": "/authors/ben/feed/",
        "feed": "/feed/",
        "sitemap": "/sitemap.xml",
    }
    for path in pages.values():
        assert anonymous.get(path)["X-Page-Cache"] == "miss", path
    for path in pages.values():
        assert anonymous.get(path)["X-Page-Cache"] == "hit", path
    return {"pages": pages, "a": a, "b": b, "c": c, "d": d, "ada": ada, "ben": ben}


def stale_pages(anonymous, pages) -> set[str]:
    return {
        name for name, path in pages.items() if anonymous.get(path).get("X-Page-Cache") != "hit"
    }


def test_a_cached_author_page_and_feed_cost_no_query(anonymous, bylines, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert anonymous.get("/authors/ada/?utm_source=x")["X-Page-Cache"] == "hit"
        assert anonymous.get("/authors/ada/feed/")["X-Page-Cache"] == "hit"


def test_editing_an_author_refreshes_exactly_the_pages_that_name_them(anonymous, bylines, edit):
    ada = bylines["ada"]
    ada.name = "Ada Okonkwo-Reyes"
    ada.role = "Politics editor"
    edit(lambda: services.author_save(author=ada))

    # Their page and feed, the stories with their byline, the feeds whose items name
    # them, and the sitemap (their address); not the cards' lists nor Ben's pages.
    assert stale_pages(anonymous, bylines["pages"]) == {
        "ada", "ada feed", "A", "B", "ben feed", "politics feed", "feed", "sitemap"
    }  # fmt: skip
    for name in ("ada", "A", "B", "ben feed", "politics feed", "feed"):
        assert b"Ada Okonkwo-Reyes" in anonymous.get(bylines["pages"][name]).content, name
    assert b"Politics editor" in anonymous.get(bylines["pages"]["ada"]).content


def test_publishing_a_story_puts_it_on_its_authors_pages(anonymous, bylines, edit):
    edit(lambda: services.article_publish_now(article=bylines["d"], user=None))

    stale = stale_pages(anonymous, bylines["pages"])
    assert {"ada", "ada feed"} <= stale
    # (The story pages suggest stories, which a new one may join: stale too.)
    assert not stale & {"ben", "ben feed", "sport feed"}
    for name in ("ada", "ada feed"):
        assert b"/articles/d/" in anonymous.get(bylines["pages"][name]).content


@pytest.mark.parametrize(
    ("story", "its_pages", "other_pages"),
    [
        ("b", {"ada", "ada feed", "ben", "ben feed"}, {"sport feed"}),
        ("c", {"ben", "ben feed"}, {"ada", "ada feed", "politics feed"}),
    ],
)
def test_withdrawing_a_story_takes_it_off_each_of_its_authors_pages(
    anonymous, bylines, edit, story, its_pages, other_pages
):
    edit(lambda: services.article_withdraw(article=bylines[story], user=None))

    stale = stale_pages(anonymous, bylines["pages"])
    assert its_pages <= stale
    assert not stale & other_pages
    for name in its_pages:
        assert f"/articles/{story}/".encode() not in anonymous.get(bylines["pages"][name]).content


def test_adding_an_author_to_a_story_refreshes_the_story_and_their_page(anonymous, bylines, edit):
    a, ben = bylines["a"], bylines["ben"]
    edit(lambda: ArticleAuthor.objects.create(article=a, author=ben, position=2))

    # Every page that shows the story (B and C suggest it), and Ben's list; not the
    # pages that only name Ben (the sport feed) nor the sitemap.
    assert stale_pages(anonymous, bylines["pages"]) == {
        "A", "B", "C", "home", "politics", "politics feed", "ada", "ada feed", "feed", "ben",
        "ben feed",
    }  # fmt: skip
    assert b"/articles/a/" in anonymous.get(bylines["pages"]["ben"]).content
    assert b"Ben Hale" in anonymous.get(bylines["pages"]["A"]).content


def test_a_byline_change_on_a_draft_refreshes_nothing_the_public_sees(anonymous, bylines, edit):
    d, ben = bylines["d"], bylines["ben"]
    edit(lambda: ArticleAuthor.objects.create(article=d, author=ben, position=2))

    assert stale_pages(anonymous, bylines["pages"]) == set()


def test_reordering_authors_in_the_admin_refreshes_the_story(
    anonymous, bylines, chief_editor_client, edit
):
    b = bylines["b"]
    ada_row, ben_row = b.bylines.all()
    rows = [
        {"id": ada_row.pk, "article": b.pk, "author": bylines["ada"].pk, "position": 2},
        {"id": ben_row.pk, "article": b.pk, "author": bylines["ben"].pk, "position": 1},
    ]
    response = edit(
        lambda: chief_editor_client.post(change_url(b), article_form(b) | byline_rows(rows))
    )
    assert response.status_code == 302

    assert "B" in stale_pages(anonymous, bylines["pages"])
    assert b"Ben Hale</a> and <a" in anonymous.get(bylines["pages"]["B"]).content
