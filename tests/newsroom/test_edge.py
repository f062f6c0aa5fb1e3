"""The edge: tag headers on public pages, the long edge lifetime and when it is refused,
the purge outbox an edit writes, its sends, retries and sweep, what operators see.

Fast: Django's test client, and a loopback HTTP server standing in for Varnish's purge
endpoint (``FakeEdge``) where a purge must be received. tests/newsroom/test_varnish.py
runs the real Varnish.
"""

import http.server
import threading
import time
from datetime import timedelta

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django.http import HttpResponse
from django.urls import path
from django.utils import timezone

import newsroom.urls
from harness import free_port
from newsroom.edge import services
from newsroom.edge.models import Purge
from newsroom.pagecache import edge, store
from newsroom.pagecache.http import cached_page, shows
from newsroom.settings import edge_settings
from tests.factories import ArticleFactory

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.newsroom.test_edge")]

TOKEN = "edge-test-token"
LONG_TAG = "author-stories:" + "9" * 40


def _tagged(request):
    count = int(request.GET.get("n", "3"))
    shows(request, *(f"tag:{i:05d}" for i in range(count)), LONG_TAG)
    if "bump" in request.GET:
        store.bump("tag:00000")  # an edit commits while this page renders
    return HttpResponse("<p>tagged</p>")


urlpatterns = [
    path("tagged/", cached_page(_tagged, params=("n", "bump")), name="tagged"),
    path(
        "soon/",
        cached_page(_tagged, expires=lambda: time.time() + 100),
        name="soon",
    ),
    *newsroom.urls.urlpatterns,
]


class FakeEdge:
    """Varnish's purge endpoint as the VCL answers it: 200 ``purged N`` for the token,
    403 without; ``fail_next`` answers 503 that many times first."""

    def __init__(self):
        self.port = free_port()
        self.received: list[dict] = []
        self.fail_next = 0
        edge_self = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_PURGE(self):
                if edge_self.fail_next:
                    edge_self.fail_next -= 1
                    status, body = 503, b"busy"
                elif self.headers.get("X-Purge-Token") != TOKEN:
                    status, body = 403, b"Forbidden"
                else:
                    edge_self.received.append({k.lower(): v for k, v in self.headers.items()})
                    status, body = 200, b"purged 1\n"
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def purged(self) -> list[set[str]]:
        return [set(headers["xkey"].split()) for headers in self.received]

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fake_edge(settings):
    server = FakeEdge()
    settings.EDGE_PURGE_URLS = [server.url]
    settings.EDGE_PURGE_TOKEN = TOKEN
    settings.EDGE_CACHE_SECONDS = 3600
    settings.EDGE_PURGE_TIMEOUT = 2
    yield server
    server.stop()


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    """What runs after the commit runs, as outside the test's own transaction."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def no_retry_wait(monkeypatch):
    monkeypatch.setattr(services, "retry_delay", lambda attempt: 0)


# Tag headers and the long lifetime ------------------------------------------------------


def test_long_tags_are_hashed_alike_in_the_header_and_in_the_purge():
    short, hashed = edge.edge_tag("article:12"), edge.edge_tag(LONG_TAG)
    assert short == "article:12"
    assert len(hashed) <= edge.TAG_MAX_LENGTH and hashed != LONG_TAG
    assert hashed == edge.edge_tag(LONG_TAG)
    assert edge.edge_tag("has space") != "has space"  # a separator never gets through
    assert hashed in edge.tag_headers([LONG_TAG])["xkey"].split()


def test_every_public_answer_names_its_tags_hit_and_miss(client, settings):
    settings.EDGE_TAG_HEADERS = ["xkey", "Surrogate-Key", "Cache-Tag"]
    miss, hit = client.get("/tagged/"), client.get("/tagged/")
    assert (miss["X-Page-Cache"], hit["X-Page-Cache"]) == ("miss", "hit")
    expected = {"global", "tag:00000", "tag:00001", "tag:00002", edge.edge_tag(LONG_TAG)}
    for answer in (miss, hit):
        assert set(answer["xkey"].split()) == expected
        assert set(answer["Surrogate-Key"].split()) == expected
        assert set(answer["Cache-Tag"].split(", ")) == expected


def test_no_long_edge_lifetime_without_purges(client, settings):
    settings.EDGE_PURGE_URLS, settings.EDGE_CACHE_SECONDS = [], 0
    for _ in range(2):
        answer = client.get("/tagged/")
        assert "Surrogate-Control" not in answer
        assert answer["Cache-Control"] == "public, max-age=0, s-maxage=10"


def test_with_purges_the_edge_keeps_pages_long_and_browsers_revalidate(client, fake_edge):
    miss, hit = client.get("/tagged/"), client.get("/tagged/")
    for answer in (miss, hit):
        assert answer["Surrogate-Control"] == "max-age=3600"
        assert answer["Cache-Control"] == "public, max-age=0, s-maxage=10"
    # A revalidation keeps them: an edge refreshing its copy with a 304 loses nothing.
    again = client.get("/tagged/", headers={"If-None-Match": hit["ETag"]})
    assert again.status_code == 304
    assert again["Surrogate-Control"] == "max-age=3600" and again["xkey"] == hit["xkey"]


def test_the_edge_lifetime_ends_at_the_pages_next_scheduled_change(client, fake_edge):
    for _ in range(2):
        seconds = int(client.get("/soon/")["Surrogate-Control"].removeprefix("max-age="))
        assert 95 <= seconds <= 100


def test_a_page_with_too_many_tags_gets_no_tag_header_and_no_long_lifetime(client, fake_edge):
    many = client.get("/tagged/?n=2000")
    assert many.status_code == 200
    assert "xkey" not in many and "Surrogate-Control" not in many
    assert "xkey" in client.get("/tagged/?n=100")
    assert len(client.get("/tagged/?n=100")["xkey"]) < edge.HEADER_MAX_BYTES


def test_a_render_that_an_edit_overtook_gets_no_long_lifetime(client, fake_edge):
    """Its tag was bumped while it rendered: the edit's purge may reach the edge before
    this answer does, which the edge would then keep, stale, for an hour."""
    overtaken = client.get("/tagged/?bump=1")
    assert "tag:00000" in overtaken["xkey"].split()
    assert "Surrogate-Control" not in overtaken
    assert client.get("/tagged/")["Surrogate-Control"] == "max-age=3600"


def test_with_the_cache_down_tags_are_named_but_no_long_lifetime_given(client, fake_edge):
    store.health.failed("test: the cache is down")
    answer = client.get("/tagged/")
    assert answer["X-Page-Cache"] == "miss"
    assert "global" in answer["xkey"].split()
    assert "Surrogate-Control" not in answer


# Settings ---------------------------------------------------------------------------------


def test_purge_urls_need_the_token_and_are_web_addresses():
    with pytest.raises(ImproperlyConfigured, match="EDGE_PURGE_TOKEN must be set"):
        edge_settings(urls=["http://10.0.0.5:6081/"], token="", seconds="", tag_headers=[])
    with pytest.raises(ImproperlyConfigured, match="http"):
        edge_settings(urls=["10.0.0.5:6081"], token="t", seconds="", tag_headers=[])
    with pytest.raises(ImproperlyConfigured, match="EDGE_CACHE_SECONDS needs"):
        edge_settings(urls=[], token="", seconds="3600", tag_headers=[])
    with pytest.raises(ImproperlyConfigured, match="EDGE_TAG_HEADERS"):
        edge_settings(urls=[], token="", seconds="", tag_headers=["X-Tags"])
    assert edge_settings(urls=[], token="", seconds="", tag_headers=["xkey"])[2] == 0
    assert edge_settings(
        urls=["http://10.0.0.5:6081/"], token="t", seconds="", tag_headers=["cache-tag"]
    ) == (["http://10.0.0.5:6081/"], "t", 3600, ["Cache-Tag"])


# The outbox ------------------------------------------------------------------------------


def test_an_edit_purges_its_tags_at_every_edge_after_the_commit(fake_edge, settings, commit):
    other = FakeEdge()
    settings.EDGE_PURGE_URLS = [fake_edge.url, other.url]
    try:
        article = ArticleFactory()
        fake_edge.received.clear()
        other.received.clear()
        Purge.objects.all().delete()
        with commit(), transaction.atomic():
            article.title = "A new headline"
            article.save()
            # Written with the edit, sent after it.
            assert Purge.objects.filter(sent_at__isnull=True).count() == 2
            assert fake_edge.received == []
        for server in (fake_edge, other):
            assert {f"article:{article.pk}", "sitemap"} <= set().union(*server.purged())
            assert all(headers["x-purge-token"] == TOKEN for headers in server.received)
        assert not Purge.objects.unsent().exists()
        assert Purge.objects.count() == 2
    finally:
        other.stop()


def test_an_edit_rolled_back_purges_nothing(fake_edge):
    article = ArticleFactory()
    Purge.objects.all().delete()
    with pytest.raises(RuntimeError), transaction.atomic():
        article.title = "Never saved"
        article.save()
        raise RuntimeError
    assert not Purge.objects.exists()


def test_clear_page_cache_purges_every_page_at_the_edge(fake_edge, commit):
    with commit():
        call_command("clear_page_cache")
    assert {"global"} in fake_edge.purged()


def test_a_busy_edge_is_tried_again_and_a_sent_row_never_again(fake_edge, no_retry_wait, commit):
    fake_edge.fail_next = 2
    with commit():
        store.clear()
    row = Purge.objects.get()
    assert row.sent_at is not None and row.attempts == 3
    assert fake_edge.purged() == [{"global"}]
    assert services.purge_send(edge=fake_edge.url) == 0
    assert len(fake_edge.received) == 1


def test_an_edge_that_stays_down_keeps_its_purges_for_the_sweep_and_shows_it(
    fake_edge, settings, client, no_retry_wait, commit
):
    down = f"http://127.0.0.1:{free_port()}/"
    settings.EDGE_PURGE_URLS = [fake_edge.url, down]
    with commit():
        store.clear()
    stuck = Purge.objects.get(edge=down)
    assert stuck.sent_at is None and stuck.attempts == services.RETRIES + 1
    assert "Connection refused" in stuck.last_error

    metrics = client.get("/metrics").content.decode()
    assert f'newsroom_edge_purge_unsent{{edge="{down}"}} 1.0' in metrics
    assert f'newsroom_edge_purge_unsent{{edge="{fake_edge.url}"}} 0.0' in metrics
    assert f'newsroom_edge_purge_attempts_total{{edge="{down}",outcome="unavailable"}}' in metrics
    assert f'newsroom_edge_purge_oldest_unsent_age_seconds{{edge="{down}"}}' in metrics

    Purge.objects.filter(pk=stuck.pk).update(created_at=timezone.now() - timedelta(minutes=5))
    with pytest.raises(CommandError, match=f"{down} does not take a purge") as failed:
        call_command("edge", "--check")
    assert failed.value.returncode == 1

    # It comes back (the same address, now answering): the sweep sends what it missed.
    settings.EDGE_PURGE_URLS = [fake_edge.url]
    Purge.objects.filter(pk=stuck.pk).update(edge=fake_edge.url)
    fake_edge.received.clear()
    services.purge_sweep()
    assert not Purge.objects.unsent().exists()
    assert fake_edge.purged() == [{"global"}]
    call_command("edge", "--check")


def test_purge_all_empties_every_edge_and_old_sent_rows_are_pruned(fake_edge, settings):
    down = f"http://127.0.0.1:{free_port()}/"
    settings.EDGE_PURGE_URLS = [fake_edge.url, down]
    with pytest.raises(CommandError, match=f"{down} did not take"):
        call_command("edge", "--purge-all")
    assert fake_edge.purged() == [{"global"}]
    # The one that did not answer gets it from the sweep.
    assert Purge.objects.unsent().get().edge == down
    settings.EDGE_PURGE_URLS = [fake_edge.url]
    Purge.objects.filter(edge=down).delete()
    Purge.objects.update(sent_at=timezone.now() - services.KEEP - timedelta(minutes=1))
    services.purge_sweep()
    assert not Purge.objects.exists()


def test_without_edges_nothing_is_recorded():
    ArticleFactory()
    store.clear()
    assert not Purge.objects.exists()
