"""The page cache: hits cost no query, and each kind of edit makes stale exactly the
pages that show the edited story (newsroom/pagecache/, articles/cachetags.py,
articles/signals.py)."""

import datetime
import time
from http.cookies import SimpleCookie
from urllib.parse import urlsplit

import pytest
import time_machine
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from articles import selectors, services
from articles.cachetags import article_tag
from articles.models import Article, Correction, RelatedLink
from newsroom.pagecache import http, store
from tests.articles.test_admin import article_form, change_url
from tests.factories import ArticleFactory, RelatedLinkFactory, TopicFactory

pytestmark = pytest.mark.django_db

FEED = "/feed/"
SITEMAP = "/sitemap.xml"
HOME = "/"


def cache_state(client, path, **headers) -> str:
    return client.get(path, headers=headers)["X-Page-Cache"]


# Hits


@pytest.mark.parametrize("page", ["article", "home", "topic", "feed", "sitemap"])
def test_a_second_visit_is_served_from_the_cache_without_a_query(
    anonymous, django_assert_num_queries, page
):
    politics = TopicFactory(slug="politics")
    article = ArticleFactory(slug="budget-vote", topics=[politics])
    path = {
        "article": article.get_absolute_url(),
        "home": HOME,
        "topic": politics.get_absolute_url(),
        "feed": FEED,
        "sitemap": SITEMAP,
    }[page]

    first = anonymous.get(path)
    with django_assert_num_queries(0):
        second = anonymous.get(path)

    assert (first.status_code, second.status_code) == (200, 200)
    assert (first["X-Page-Cache"], second["X-Page-Cache"]) == ("miss", "hit")
    assert second.content == first.content
    assert second["Content-Type"] == first["Content-Type"]
    assert second["ETag"] == first["ETag"]


def test_unknown_query_parameters_share_the_cached_page(anonymous):
    ArticleFactory()
    anonymous.get(HOME)

    assert cache_state(anonymous, "/?utm_source=newsletter&fbclid=x") == "hit"


def test_a_missing_page_is_not_cached(anonymous):
    assert anonymous.get("/articles/not-yet/").status_code == 404
    article = ArticleFactory(slug="not-yet")

    response = anonymous.get(article.get_absolute_url())
    assert response.status_code == 200
    assert response["X-Page-Cache"] == "miss"


def test_search_is_never_cached(anonymous):
    ArticleFactory(title="Council budget vote")
    anonymous.get("/search/?q=budget")

    assert "X-Page-Cache" not in anonymous.get("/search/?q=budget")


# Validators and proxy headers


def test_public_pages_tell_proxies_how_long_and_browsers_to_revalidate(anonymous, settings):
    settings.PAGE_CACHE_PROXY_SECONDS = 30
    article = ArticleFactory()

    miss = anonymous.get(article.get_absolute_url())
    hit = anonymous.get(article.get_absolute_url())

    assert (miss["X-Page-Cache"], hit["X-Page-Cache"]) == ("miss", "hit")
    for response in (miss, hit):
        directives = {part.strip() for part in response["Cache-Control"].split(",")}
        assert directives == {"public", "max-age=0", "s-maxage=30"}
        assert response["ETag"].startswith('"')
        assert response["Last-Modified"].endswith("GMT")


def test_conditional_get_answers_not_modified_until_the_page_changes(anonymous, edit):
    article = ArticleFactory(title="Old headline")
    first = anonymous.get(article.get_absolute_url())

    by_etag = anonymous.get(article.get_absolute_url(), headers={"If-None-Match": first["ETag"]})
    by_date = anonymous.get(
        article.get_absolute_url(), headers={"If-Modified-Since": first["Last-Modified"]}
    )
    assert by_etag.status_code == 304
    assert by_etag.content == b""
    assert by_etag["ETag"] == first["ETag"]
    assert by_date.status_code == 304

    article.title = "New headline"
    edit(article.save)
    changed = anonymous.get(article.get_absolute_url(), headers={"If-None-Match": first["ETag"]})
    assert changed.status_code == 200
    assert b"New headline" in changed.content
    assert changed["ETag"] != first["ETag"]


def test_proxies_keep_a_page_no_longer_than_until_the_next_scheduled_story(anonymous, settings):
    settings.PAGE_CACHE_PROXY_SECONDS = 60
    ArticleFactory()
    ArticleFactory(publish_at=timezone.now() + datetime.timedelta(seconds=20))

    response = anonymous.get(HOME)

    s_maxage = int(response["Cache-Control"].split("s-maxage=")[1].split(",")[0])
    assert 0 < s_maxage <= 20


def test_with_the_page_cache_off_every_request_renders(anonymous, settings):
    settings.PAGE_CACHE_SECONDS = 0
    article = ArticleFactory()

    assert cache_state(anonymous, article.get_absolute_url()) == "miss"
    assert cache_state(anonymous, article.get_absolute_url()) == "miss"


# Scheduled stories


def test_a_scheduled_story_appears_at_its_time_without_anyone_touching_anything(anonymous):
    politics = TopicFactory()
    ArticleFactory(title="Yesterday's story", topics=[politics])
    start = timezone.now()
    ArticleFactory(
        title="Embargoed story",
        topics=[politics],
        publish_at=start + datetime.timedelta(seconds=40),
    )
    with time_machine.travel(start, tick=False):
        for path in (HOME, politics.get_absolute_url(), FEED):
            assert b"Embargoed story" not in anonymous.get(path).content
            assert cache_state(anonymous, path) == "hit"

    with time_machine.travel(start + datetime.timedelta(seconds=41), tick=False):
        for path in (HOME, politics.get_absolute_url(), FEED):
            response = anonymous.get(path)
            assert response["X-Page-Cache"] == "miss"
            assert b"Embargoed story" in response.content


# Take-down times


def test_proxies_keep_a_page_no_longer_than_until_the_next_take_down(anonymous, settings):
    settings.PAGE_CACHE_PROXY_SECONDS = 60
    ArticleFactory(unpublish_at=timezone.now() + datetime.timedelta(seconds=20))

    response = anonymous.get(HOME)

    s_maxage = int(response["Cache-Control"].split("s-maxage=")[1].split(",")[0])
    assert 0 < s_maxage <= 20


def _pages_showing(story, topic):
    linker = ArticleFactory(slug="linker", topics=[topic])
    RelatedLinkFactory(article=linker, target_article=story, position=1)
    return {
        "home": HOME,
        "topic": topic.get_absolute_url(),
        "feed": FEED,
        "sitemap": SITEMAP,
        "story": story.get_absolute_url(),
        "card": linker.get_absolute_url(),
    }


def _assert_gone_at(anonymous, pages, moment):
    with time_machine.travel(moment, tick=False):
        assert anonymous.get(pages["story"]).status_code == 404
        for name, path in pages.items():
            if name != "story":
                response = anonymous.get(path)
                assert response["X-Page-Cache"] == "miss", name
                assert b"/articles/fair/" not in response.content, name


def test_a_story_leaves_every_page_at_its_take_down_time_without_anyone_touching_anything(
    anonymous,
):
    topic = TopicFactory()
    ArticleFactory(title="Yesterday's story", topics=[topic])
    start = timezone.now()
    story = ArticleFactory(
        slug="fair",
        title="Fair this weekend",
        topics=[topic],
        unpublish_at=start + datetime.timedelta(seconds=40),
    )
    pages = _pages_showing(story, topic)

    with time_machine.travel(start, tick=False):
        for name, path in pages.items():
            assert b"/articles/fair/" in anonymous.get(path).content or name == "story", name
            assert cache_state(anonymous, path) == "hit", name
    _assert_gone_at(anonymous, pages, start + datetime.timedelta(seconds=41))


def test_setting_a_take_down_time_cuts_short_the_pages_already_stored(anonymous, edit):
    topic = TopicFactory()
    story = ArticleFactory(slug="fair", title="Fair this weekend", topics=[topic])
    pages = _pages_showing(story, topic)
    for path in pages.values():
        anonymous.get(path)
    assert {cache_state(anonymous, path) for path in pages.values()} == {"hit"}
    start = timezone.now()

    story.unpublish_at = start + datetime.timedelta(seconds=40)
    edit(lambda: services.article_save(article=story, opened_version=1, user=None))

    with time_machine.travel(start, tick=False):
        for name, path in pages.items():
            assert anonymous.get(path).status_code == 200, name
            assert cache_state(anonymous, path) == "hit", name
    _assert_gone_at(anonymous, pages, start + datetime.timedelta(seconds=41))


# Staff and visitors' state


def test_staff_cookie_follows_the_admin_login_and_logout(editor_client):
    editor_client.get("/admin/")
    assert editor_client.cookies["newsroom_staff"].value == "1"
    assert editor_client.cookies["newsroom_staff"]["httponly"]

    editor_client.post("/admin/logout/")
    assert editor_client.cookies["newsroom_staff"].value == ""


def test_staff_are_never_served_a_cached_page(anonymous, editor_client):
    article = ArticleFactory(title="Typo in the headlne")
    assert cache_state(anonymous, article.get_absolute_url()) == "miss"
    # A change the cache was not told about: only a bypass can show it.
    Article.objects.filter(pk=article.pk).update(title="Typo in the headline fixed")
    editor_client.get("/admin/")

    response = editor_client.get(article.get_absolute_url())

    assert response["X-Page-Cache"] == "bypass"
    assert b"Typo in the headline fixed" in response.content
    assert "private" in response["Cache-Control"]
    assert "no-store" in response["Cache-Control"]
    assert "ETag" not in response
    # The staff render was not stored for the public.
    public = anonymous.get(article.get_absolute_url())
    assert public["X-Page-Cache"] == "hit"
    assert b"Typo in the headlne" in public.content


def test_a_forged_staff_cookie_gets_the_public_page_and_loses_the_cookie(anonymous):
    article = ArticleFactory()
    anonymous.get(article.get_absolute_url())
    anonymous.cookies["newsroom_staff"] = "1"

    response = anonymous.get(article.get_absolute_url())

    assert response["X-Page-Cache"] == "hit"
    assert response.cookies["newsroom_staff"].value == ""


def test_a_cached_page_carries_no_visitors_session_token_or_cookie(settings):
    settings.SECURE_SSL_REDIRECT = False
    article = ArticleFactory()
    visitor = Client()
    # The contact form gives this visitor a session and a CSRF cookie.
    visitor.get("/contact/")
    assert visitor.cookies

    rendered_for_visitor = visitor.get(article.get_absolute_url())
    served_to_stranger = Client().get(article.get_absolute_url())

    assert rendered_for_visitor["X-Page-Cache"] == "miss"
    assert served_to_stranger["X-Page-Cache"] == "hit"
    for response in (rendered_for_visitor, served_to_stranger):
        assert not response.cookies
        assert "Cookie" not in response.get("Vary", "")
        assert b"csrfmiddlewaretoken" not in response.content
        for morsel in SimpleCookie(visitor.cookies.output(header="")).values():
            assert morsel.value.encode() not in response.content


def test_a_page_that_reads_the_session_is_not_stored(rf, settings):
    from django.contrib.sessions.backends.db import SessionStore
    from django.http import HttpResponse
    from django.urls import resolve

    def view(request):
        request.session.get("anything")
        return HttpResponse("<p>hello</p>")

    request = rf.get(HOME)
    request.resolver_match = resolve(HOME)
    request.session = SessionStore()
    request.user = None
    wrapped = http.cached_page(view)

    wrapped(request)
    again = rf.get(HOME)
    again.resolver_match = resolve(HOME)
    again.session = SessionStore()
    assert wrapped(again)["X-Page-Cache"] == "miss"


def test_the_site_works_when_the_cache_is_down(anonymous, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
        }
    }
    article = ArticleFactory(title="Still readable")

    response = anonymous.get(article.get_absolute_url())

    assert response.status_code == 200
    assert b"Still readable" in response.content


def test_after_a_failure_the_cache_is_left_alone_for_a_while(anonymous, settings, monkeypatch):
    """A Redis that hangs would cost a timeout per cache call; one failure is enough."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
        }
    }
    monkeypatch.setattr(store.CacheHealth, "RETRY_SECONDS", 0.5)
    article = ArticleFactory(title="Still readable")
    calls = []
    from django.core.cache.backends.redis import RedisCacheClient

    for name in ("get", "get_many", "set", "add", "incr"):
        original = getattr(RedisCacheClient, name)

        def counted(self, *args, _original=original, **kwargs):
            calls.append(1)
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(RedisCacheClient, name, counted)

    assert anonymous.get(article.get_absolute_url()).status_code == 200
    tried = len(calls)
    assert tried >= 1
    for _ in range(5):
        assert anonymous.get(article.get_absolute_url()).status_code == 200
        assert anonymous.get(HOME).status_code == 200
    assert len(calls) == tried  # no further call while the cache is taken to be down

    time.sleep(store.CacheHealth.RETRY_SECONDS)
    anonymous.get(HOME)
    assert len(calls) > tried  # and it is tried again after a while


def test_an_invalidation_the_cache_missed_is_made_when_it_comes_back(settings, monkeypatch):
    monkeypatch.setattr(store.PendingBumps, "RETRY_SECONDS", 0.1)
    real = store.bump
    failing = {"on": True}

    def flaky(*tags):
        if failing["on"]:
            raise ConnectionError("cache down")
        real(*tags)

    monkeypatch.setattr(store, "bump", flaky)
    store._bump_logged(("article:41",))
    generation = store.current_generation()
    failing["on"] = False

    def bumped():
        return (cache.get(store.tag_key("article:41")) or 0) > generation

    from harness import wait_for

    wait_for(bumped, timeout=5, what="the missed invalidation to be made")


# Invalidation: each edit makes stale exactly the pages that show the story.


@pytest.fixture
def newsroom(anonymous):
    """A small site whose pages are all in the cache.

    A links to B, E and F (three curated cards, so no suggestions); B fills its
    cards with suggestions; C, on another topic, links only to external pages.
    """
    politics = TopicFactory(slug="politics", name="Politics")
    sport = TopicFactory(slug="sport", name="Sport")
    hour = datetime.timedelta(hours=1)
    now = timezone.now()
    b = ArticleFactory(slug="b", title="B headline", topics=[politics], publish_at=now - 5 * hour)
    e = ArticleFactory(slug="e", topics=[politics], publish_at=now - 6 * hour)
    f = ArticleFactory(slug="f", topics=[politics], publish_at=now - 7 * hour)
    a = ArticleFactory(slug="a", topics=[politics], publish_at=now - 2 * hour)
    for position, target in enumerate([b, e, f]):
        RelatedLinkFactory(article=a, target_article=target, position=position)
    c = ArticleFactory(slug="c", title="C headline", topics=[sport], publish_at=now - 3 * hour)
    for position in range(3):
        RelatedLink.objects.create(
            article=c, url=f"https://example.org/{position}", title=f"Elsewhere {position}"
        )
    d = ArticleFactory(
        slug="d", title="D headline", topics=[sport], status=Article.Status.DRAFT, publish_at=None
    )
    pages = {
        "A": a.get_absolute_url(),
        "B": b.get_absolute_url(),
        "C": c.get_absolute_url(),
        "home": HOME,
        "politics": politics.get_absolute_url(),
        "sport": sport.get_absolute_url(),
        "feed": FEED,
        "sitemap": SITEMAP,
    }
    for path in pages.values():
        assert anonymous.get(path)["X-Page-Cache"] == "miss"
    for path in pages.values():
        assert anonymous.get(path)["X-Page-Cache"] == "hit"
    return {"pages": pages, "a": a, "b": b, "c": c, "d": d, "politics": politics, "sport": sport}


def stale_pages(anonymous, pages) -> set[str]:
    return {
        name for name, path in pages.items() if anonymous.get(path).get("X-Page-Cache") != "hit"
    }


def test_editing_a_headline_refreshes_its_page_its_lists_and_the_cards_that_show_it(
    anonymous, newsroom, edit
):
    b = newsroom["b"]
    b.title = "B headline corrected"
    edit(b.save)

    assert stale_pages(anonymous, newsroom["pages"]) == {
        "B", "A", "home", "politics", "feed", "sitemap"
    }  # fmt: skip
    for name in ("A", "B", "home", "politics", "feed"):
        assert b"B headline corrected" in anonymous.get(newsroom["pages"][name]).content


def test_a_correction_refreshes_exactly_the_pages_a_headline_change_does(anonymous, newsroom, edit):
    b = newsroom["b"]
    correction = edit(
        lambda: services.correction_add(article=b, text="The vote was 31 to 24.", user=None)
    )

    assert stale_pages(anonymous, newsroom["pages"]) == {
        "B", "A", "home", "politics", "feed", "sitemap"
    }  # fmt: skip
    assert b"The vote was 31 to 24." in anonymous.get(newsroom["pages"]["B"]).content

    correction.text = "The vote was 31 to 24, with two abstentions."
    edit(correction.save)
    assert stale_pages(anonymous, newsroom["pages"]) == {
        "B", "A", "home", "politics", "feed", "sitemap"
    }  # fmt: skip
    assert b"two abstentions" in anonymous.get(newsroom["pages"]["B"]).content

    edit(correction.delete)
    assert stale_pages(anonymous, newsroom["pages"]) == {
        "B", "A", "home", "politics", "feed", "sitemap"
    }  # fmt: skip


def test_a_correction_to_a_draft_refreshes_nothing_the_public_sees(anonymous, newsroom, edit):
    d = newsroom["d"]
    edit(lambda: Correction.objects.create(article=d, text="Not out yet."))

    assert stale_pages(anonymous, newsroom["pages"]) == set()


def test_an_old_address_answers_a_301_that_no_cache_keeps(
    anonymous, newsroom, chief_editor_client, edit
):
    b = newsroom["b"]
    response = edit(
        lambda: chief_editor_client.post(change_url(b), article_form(b, slug="b-renamed"))
    )
    assert response.status_code == 302

    for _ in range(2):
        moved = anonymous.get("/articles/b/")
        assert moved.status_code == 301
        assert moved["Location"] == "/articles/b-renamed/"
        assert moved["X-Page-Cache"] == "miss"
        assert "no-store" in moved["Cache-Control"]
    assert anonymous.get("/articles/b-renamed/").status_code == 200


def test_withdrawing_removes_the_story_everywhere_it_was_shown(anonymous, newsroom, edit):
    edit(lambda: services.article_withdraw(article=newsroom["b"], user=None))

    assert stale_pages(anonymous, newsroom["pages"]) == {
        "B", "A", "home", "politics", "feed", "sitemap"
    }  # fmt: skip
    assert anonymous.get(newsroom["pages"]["B"]).status_code == 404
    for name in ("A", "home", "politics", "feed", "sitemap"):
        assert b"/articles/b/" not in anonymous.get(newsroom["pages"][name]).content


def test_publishing_refreshes_the_lists_and_the_pages_suggesting_stories(anonymous, newsroom, edit):
    edit(lambda: services.article_publish_now(article=newsroom["d"], user=None))

    # B's cards are suggestions, which a new story can join; A and C have curated cards.
    assert stale_pages(anonymous, newsroom["pages"]) == {
        "home", "sport", "feed", "sitemap", "B"
    }  # fmt: skip
    for name in ("home", "sport", "feed", "sitemap"):
        assert b"/articles/d/" in anonymous.get(newsroom["pages"][name]).content


def test_deleting_removes_the_story_from_every_page_that_listed_it(anonymous, newsroom, edit):
    c = newsroom["c"]
    edit(c.delete)

    assert stale_pages(anonymous, newsroom["pages"]) == {
        "C", "home", "sport", "feed", "sitemap", "B"
    }  # fmt: skip
    assert anonymous.get(newsroom["pages"]["C"]).status_code == 404
    for name in ("home", "sport", "feed", "sitemap", "B"):
        assert b"/articles/c/" not in anonymous.get(newsroom["pages"][name]).content


def test_changing_a_related_link_refreshes_only_its_article(anonymous, newsroom, edit):
    link = newsroom["a"].related_links.get(target_article=newsroom["b"])
    link.title = "Read this first"
    edit(link.save)

    assert stale_pages(anonymous, newsroom["pages"]) == {"A"}
    assert b"Read this first" in anonymous.get(newsroom["pages"]["A"]).content


def test_moving_a_story_to_another_topic_refreshes_both_topic_pages(anonymous, newsroom, edit):
    c = newsroom["c"]
    edit(lambda: c.topics.set([newsroom["politics"]]))

    assert stale_pages(anonymous, newsroom["pages"]) == {
        "C", "home", "politics", "sport", "feed", "B"
    }  # fmt: skip
    assert b"/articles/c/" in anonymous.get(newsroom["pages"]["politics"]).content
    assert b"/articles/c/" not in anonymous.get(newsroom["pages"]["sport"]).content


def test_renaming_a_topic_refreshes_every_page(anonymous, newsroom, edit):
    sport = newsroom["sport"]
    sport.name = "Sports"
    edit(sport.save)

    assert stale_pages(anonymous, newsroom["pages"]) == set(newsroom["pages"])


def test_a_draft_edit_refreshes_nothing_the_public_sees(anonymous, newsroom, edit):
    d = newsroom["d"]
    d.title = "D headline, draft two"
    edit(d.save)

    assert stale_pages(anonymous, newsroom["pages"]) == set()


def test_clear_page_cache_command_makes_every_page_stale(anonymous, newsroom, capsys):
    from django.core.management import call_command

    call_command("clear_page_cache")

    assert "stale" in capsys.readouterr().out
    assert stale_pages(anonymous, newsroom["pages"]) == set(newsroom["pages"])


def test_a_chief_editor_saving_in_the_admin_is_seen_by_the_next_reader(
    anonymous, newsroom, chief_editor_client, edit
):
    b = newsroom["b"]
    response = edit(
        lambda: chief_editor_client.post(
            change_url(b), article_form(b, title="B headline, updated")
        )
    )
    assert response.status_code == 302

    for name in ("A", "B", "home", "politics"):
        assert b"B headline, updated" in anonymous.get(newsroom["pages"][name]).content
    assert stale_pages(anonymous, {"C": newsroom["pages"]["C"]}) == set()


@pytest.mark.parametrize("address", ["same", "another host name"])
def test_a_bump_in_another_process_reaches_this_ones_copies_at_once(
    anonymous, address, monkeypatch
):
    """Web processes keep copies of pages; an edit anywhere must reach all of them,
    also from a process that names the same Redis differently."""
    import os
    import subprocess
    import sys
    import time
    from pathlib import Path

    from tests.conftest import need_postgres_and_redis

    need_postgres_and_redis()
    redis_url = os.environ["REDIS_URL"]
    if address != "same":
        aliases = {"127.0.0.1": "localhost", "localhost": "127.0.0.1"}
        host = next((name for name in aliases if f"//{name}" in redis_url), None)
        assert host, f"no other name known for the Redis of {redis_url}"
        redis_url = redis_url.replace(f"//{host}", f"//{aliases[host]}", 1)
    article = ArticleFactory()
    path = article.get_absolute_url()
    store.bump(article_tag(article.pk))  # the counter exists to be read
    deadline = time.monotonic() + 10
    while store.watcher.current() is None:  # subscribed to the bump channel
        assert time.monotonic() < deadline, "the page cache never subscribed to bumps"
        time.sleep(0.05)
    # Only pub/sub can tell this process in time: no periodic re-read from now on. Not
    # before: a watcher left running by an earlier test, whose last re-read found the
    # tests' emptied cache, takes itself for subscribed only at its next re-read.
    monkeypatch.setattr(store.GenerationWatcher, "RECHECK_SECONDS", 60.0)
    # In step with the counter (the tests' flushed cache restarts it unannounced).
    store.bump(article_tag(article.pk))
    assert store.watcher.current() == int(cache.get(store.GENERATION_KEY))
    assert cache_state(anonymous, path) == "miss"
    assert cache_state(anonymous, path) == "hit"

    subprocess.run(
        [sys.executable, "manage.py", "clear_page_cache"],
        cwd=Path(__file__).resolve().parents[2],
        env={**os.environ, "PAGE_CACHE_SECONDS": "600", "REDIS_URL": redis_url},
        check=True,
        capture_output=True,
    )

    # Heard over pub/sub within moments: this process reads nothing from Redis meanwhile.
    deadline = time.monotonic() + 1
    while cache_state(anonymous, path) == "hit":
        assert time.monotonic() < deadline, "this process kept serving its stale copy"
        time.sleep(0.02)
    assert cache_state(anonymous, path) == "hit"


# Drafts of changes, previews and share links are never stored and purge nothing


@pytest.mark.parametrize(
    "button",
    [{"_save_pending": "Save draft of changes"}, {"_request_review": "Save and ask for review"}],
    ids=["draft", "draft-and-review-request"],
)
def test_a_draft_of_changes_refreshes_nothing_until_it_is_published(
    anonymous, newsroom, editor_client, edit, button
):
    b = newsroom["b"]
    response = edit(
        lambda: editor_client.post(
            change_url(b), article_form(b, title="B headline, rewritten") | button
        )
    )
    assert response.status_code == 302

    assert stale_pages(anonymous, newsroom["pages"]) == set()
    for name in ("A", "B", "home", "politics", "feed"):
        assert b"B headline, rewritten" not in anonymous.get(newsroom["pages"][name]).content

    edit(lambda: services.article_publish_pending(article=b, user=None))

    assert stale_pages(anonymous, newsroom["pages"]) == {
        "B", "A", "home", "politics", "feed", "sitemap"
    }  # fmt: skip
    for name in ("A", "B", "home", "politics", "feed"):
        assert b"B headline, rewritten" in anonymous.get(newsroom["pages"][name]).content


def test_staff_reading_the_changes_leave_the_readers_stored_page_alone(
    anonymous, newsroom, editor_client, edit
):
    b = newsroom["b"]
    edit(
        lambda: editor_client.post(
            change_url(b),
            article_form(b, title="B headline, rewritten")
            | {"_save_pending": "Save draft of changes"},
        )
    )
    editor_client.get("/admin/")  # the staff cookie

    staff = editor_client.get(newsroom["pages"]["B"])
    reader = anonymous.get(newsroom["pages"]["B"])

    assert (staff["X-Page-Cache"], reader["X-Page-Cache"]) == ("bypass", "hit")
    assert b"B headline, rewritten" in staff.content
    assert b"B headline, rewritten" not in reader.content


def test_share_links_and_previews_are_never_stored(anonymous, editor_client):
    draft = ArticleFactory(status=Article.Status.DRAFT, publish_at=None, title="First words")
    path = urlsplit(selectors.share_link(article_id=draft.pk).url).path
    preview = f"/admin/articles/article/{draft.pk}/preview/"

    first = [anonymous.get(path), editor_client.post(preview, article_form(draft))]
    draft.title = "Second words"
    draft.save()
    second = [
        anonymous.get(path),
        editor_client.post(preview, article_form(draft, title="Third words")),
    ]

    for response in first + second:
        assert response.status_code == 200
        assert "no-store" in response["Cache-Control"]
        assert "private" in response["Cache-Control"]
        assert "X-Page-Cache" not in response
    assert b"Second words" in second[0].content
    assert b"Third words" in second[1].content
