"""docs/varnish/newsroom.vcl, rendered and run by a real varnishd in front of the live site,
told of every edit by the site's purges.

Real processes throughout: varnishd (``harness/varnish.py``), and the Procfile's web
(gunicorn, DEBUG off), worker and beat on the PostgreSQL test database, the cache
this test process uses (so its edits bump what gunicorn stored) and the test broker.
Edits are made here, as the admin makes them (a transaction whose commit bumps and
enqueues the purge); the worker sends the purge to Varnish.

``PAGE_CACHE_PROXY_SECONDS`` is 1 here: a page Varnish still answers after that was
kept for the long edge lifetime (``Surrogate-Control``), which only purges make safe.
"""

import http.client
import io
import os
import time
from contextlib import redirect_stdout
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.utils import timezone

from harness import wait_for
from harness.varnish import VarnishServer, varnishd_binary
from newsroom.edge.models import Purge
from tests.conftest import need_postgres_and_redis, switch_broker
from tests.factories import ArticleFactory, RelatedLinkFactory, TopicFactory
from tests.services import ProcfileProcess, RedisServer, layout_env

pytestmark = pytest.mark.django_db(transaction=True)

TOKEN = "varnish-test-token"
HTTPS = {"X-Forwarded-Proto": "https"}


@dataclass
class Reply:
    status: int
    headers: http.client.HTTPMessage
    body: str

    @property
    def cache(self) -> str | None:
        return self.headers.get("X-Cache")


def fetch(
    port: int, path: str, *, method="GET", headers=None, source="127.0.0.1", relayed=True
) -> Reply:
    connection_ = http.client.HTTPConnection(
        "127.0.0.1", port, timeout=20, source_address=(source, 0)
    )
    try:
        relayed_headers = HTTPS if relayed else {}
        connection_.request(method, path, headers={**relayed_headers, **(headers or {})})
        response = connection_.getresponse()
        return Reply(response.status, response.headers, response.read().decode(errors="replace"))
    finally:
        connection_.close()


class Edge:
    """Varnish in front of the Procfile's web, with its worker and beat."""

    def __init__(self, folder, broker_url: str):
        db = connection.settings_dict
        self.web = ProcfileProcess("web", env={}, log_path=folder / "web.log")
        self.varnish = VarnishServer(
            folder=folder / "varnish", backend=f"127.0.0.1:{self.web.port}", token=TOKEN
        )
        env = layout_env(
            var_dir=folder / "var",
            DATABASE_URL=(
                f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT'] or 5432}"
                f"/{db['NAME']}"
            ),
            # This process's cache: the bumps of its edits reach gunicorn's pages.
            REDIS_URL=os.environ["REDIS_URL"],
            CELERY_BROKER_URL=broker_url,
            SECRET_KEY="varnish-test-not-a-secret",
            ALLOWED_HOSTS="127.0.0.1",
            SITE_URL="https://news.example.test",
            STATIC_NO_MANIFEST=1,
            TRUSTED_PROXY_COUNT=1,
            PAGE_CACHE_PROXY_SECONDS=1,
            EDGE_PURGE_URLS=self.varnish.purge_url,
            EDGE_PURGE_TOKEN=TOKEN,
            EDGE_PURGE_SWEEP_SECONDS=1,
            EDGE_PURGE_STALE_AFTER=1,
            CELERY_WORKER_SOFT_SHUTDOWN_TIMEOUT=2,
        )
        self.web.env.update(env)
        self.worker = ProcfileProcess("worker", env=env, log_path=folder / "worker.log")
        self.beat = ProcfileProcess("beat", env=env, log_path=folder / "beat.log")

    def start(self) -> "Edge":
        self.varnish.start()
        for process in (self.web, self.worker, self.beat):
            process.start()
        return self

    def stop(self) -> None:
        for process in (self.beat, self.worker, self.web):
            process.stop()
        self.varnish.stop()

    def get(self, path: str, **kwargs) -> Reply:
        return fetch(self.varnish.port, path, **kwargs)

    def app(self, path: str) -> Reply:
        """Straight from gunicorn, as Varnish sees it."""
        return fetch(self.web.port, path)

    def logs(self) -> str:
        return "\n".join(
            f"--- {name}\n{part.log()}"
            for name, part in (
                ("varnish", self.varnish),
                ("web", self.web),
                ("worker", self.worker),
            )
        )


@pytest.fixture(scope="module")
def edge_broker(tmp_path_factory):
    """A Redis of this module's own for the broker: the suite's session worker
    (``celery_worker``, not told of this Varnish) must not take the purge tasks."""
    server = RedisServer(folder=tmp_path_factory.mktemp("edge-broker")).start()
    yield server.url
    server.stop()


@pytest.fixture(scope="module")
def edge_stack(django_db_setup, django_db_blocker, edge_broker, tmp_path_factory):
    need_postgres_and_redis()
    if varnishd_binary() is None:
        reason = "varnishd is not installed (apt-get install varnish varnish-modules)"
        if os.environ.get("REQUIRE_SERVICES") == "1":
            pytest.fail(f"REQUIRE_SERVICES=1 but {reason}")
        pytest.skip(reason)
    stack = Edge(tmp_path_factory.mktemp("edge"), edge_broker)
    try:
        stack.start()
        yield stack
    finally:
        stack.stop()


@pytest.fixture
def edge(edge_stack, edge_broker, settings):
    """This process edits as the site does with that Varnish configured: its purges go
    through the broker to the worker."""
    from newsroom.celery import app

    settings.EDGE_PURGE_URLS = [edge_stack.varnish.purge_url]
    settings.EDGE_PURGE_TOKEN = TOKEN
    settings.EDGE_CACHE_SECONDS = 3600
    original = app.conf.broker_url
    switch_broker(edge_broker)
    app.conf.task_always_eager = False
    yield edge_stack
    app.conf.task_always_eager = True
    switch_broker(original)


def purges_sent(*, timeout: float = 15) -> None:
    """Every purge recorded so far reached Varnish."""
    wait_for(
        lambda: not Purge.objects.unsent().exists(), timeout=timeout, what="the purges to be sent"
    )


def test_warm_pages_come_from_varnish_and_an_edit_misses_exactly_the_pages_showing_it(edge):
    harbour = TopicFactory(name="Harbour", slug="harbour")
    related = ArticleFactory(slug="ferry", title="Ferry timetable stays the same")
    links, other = ArticleFactory(slug="quay", topics=[harbour]), ArticleFactory(slug="dock")
    extra = [ArticleFactory(topics=[harbour]) for _ in range(3)]
    # Three cards each, so no suggestion (any story) fills them up.
    for position, target in enumerate([related, *extra[:2]]):
        RelatedLinkFactory(article=links, target_article=target, position=position)
    for position, target in enumerate(extra):
        RelatedLinkFactory(article=other, target_article=target, position=position)
    purges_sent()
    showing = ["/articles/ferry/", "/articles/quay/", "/"]
    not_showing = ["/articles/dock/", "/topics/harbour/"]
    for path in showing + not_showing:
        first = edge.get(path)
        assert (first.status, first.cache) == (200, "MISS"), (path, edge.logs())
    time.sleep(1.2)  # past PAGE_CACHE_PROXY_SECONDS
    for path in showing + not_showing:
        warm = edge.get(path)
        assert (warm.status, warm.cache) == (200, "HIT"), path
        assert int(warm.headers["Age"]) >= 1, path
        # The edge's instructions stay inside; visitors get the site's Cache-Control.
        assert "Surrogate-Control" not in warm.headers and "xkey" not in warm.headers
        assert warm.headers["Cache-Control"] == "public, max-age=0, s-maxage=1"
    direct = edge.app("/articles/quay/")
    assert direct.headers["Surrogate-Control"] == "max-age=3600"
    assert f"article:{related.pk}" in direct.headers["xkey"].split()

    with transaction.atomic():
        related.title = "Ferry returns to the old timetable"
        related.save()
    purges_sent()

    for path in showing:
        fresh = edge.get(path)
        assert (fresh.status, fresh.cache) == (200, "MISS"), path
        assert "Ferry returns to the old timetable" in fresh.body, path
    for path in not_showing:
        assert edge.get(path).cache == "HIT", path


def test_a_scheduled_story_appears_on_time_through_varnish(edge):
    topic = TopicFactory(name="Tides", slug="tides")
    ArticleFactory(slug="tide-table", topics=[topic])
    publish_at = timezone.now() + timedelta(seconds=4)
    ArticleFactory(slug="spring-tide", title="Spring tide due", topics=[topic],
                   publish_at=publish_at)  # fmt: skip
    purges_sent()
    assert edge.get("/topics/tides/").cache == "MISS"
    kept = edge.get("/topics/tides/")
    assert kept.cache == "HIT" and "Spring tide due" not in kept.body
    seconds = int(edge.app("/topics/tides/").headers["Surrogate-Control"].split("=")[1])
    assert 0 < seconds <= 4

    wait_for(lambda: timezone.now() > publish_at, timeout=10, what="the publish time")
    on_time = edge.get("/topics/tides/")
    assert "Spring tide due" in on_time.body
    assert on_time.cache == "MISS"


def test_staff_sessions_and_credentials_pass_and_never_fill_varnish(edge):
    for number, personal in enumerate(
        [{"Cookie": "newsroom_staff=1"}, {"Cookie": "a=b; sessionid=x"}, {"Authorization": "X"}]
    ):
        path = ArticleFactory(slug=f"personal-{number}").get_absolute_url()
        purges_sent()
        assert edge.get(path, headers=personal).cache == "PASS"
        assert edge.get(path).cache == "MISS"  # the personal answer was not kept
        assert edge.get(path).cache == "HIT"
        assert edge.get(path, headers=personal).cache == "PASS"
    # Any other cookie is dropped on a public page: it shares the cached copy.
    assert edge.get(path, headers={"Cookie": "_ga=GA1.2.3"}).cache == "HIT"


def test_a_purge_needs_the_purgers_network_and_the_token(edge):
    path = ArticleFactory(slug="guarded").get_absolute_url()
    purges_sent()
    edge.get(path)
    assert edge.get(path).cache == "HIT"
    tag = {"xkey": "global"}
    refused = [
        edge.get("/", method="PURGE", headers=tag).status,
        edge.get("/", method="PURGE", headers={**tag, "X-Purge-Token": "guess"}).status,
        # Loopback, but not the address the ACL names.
        edge.get(
            "/", method="PURGE", headers={**tag, "X-Purge-Token": TOKEN}, source="127.0.0.2"
        ).status,
    ]
    assert refused == [403, 403, 405]
    assert edge.get(path).cache == "HIT"

    purged = edge.get("/", method="PURGE", headers={**tag, "X-Purge-Token": TOKEN})
    assert purged.status == 200
    assert int(purged.body.split()[-1]) >= 1
    assert edge.get(path).cache == "MISS"


def test_purges_wait_for_a_varnish_that_is_down_and_reach_it_when_it_is_back(edge):
    article = ArticleFactory(slug="outage")
    purges_sent()
    edge.varnish.stop()
    try:
        with transaction.atomic():
            article.title = "Written while Varnish was away"
            article.save()
        wait_for(
            lambda: Purge.objects.unsent().filter(attempts__gt=0).exists(),
            timeout=15,
            what="a failed purge attempt",
        )
        assert "refused" in Purge.objects.unsent().first().last_error.lower()
        Purge.objects.update(created_at=timezone.now() - timedelta(minutes=5))
        out = io.StringIO()
        with redirect_stdout(out), pytest.raises(CommandError) as failed:
            call_command("edge", "--check", stdout=out)
        assert failed.value.returncode == 1
        assert "does not take a purge" in str(failed.value)
        # Straight from loopback, as the monitoring scrapes it.
        metrics = fetch(edge.web.port, "/metrics", relayed=False).body
        url = edge.varnish.purge_url
        unsent = next(
            line
            for line in metrics.splitlines()
            if line.startswith(f'newsroom_edge_purge_unsent{{edge="{url}"}}')
        )
        assert float(unsent.split()[-1]) >= 1
        assert f'newsroom_edge_purge_oldest_unsent_age_seconds{{edge="{url}"}}' in metrics
    finally:
        edge.varnish.start()
    purges_sent(timeout=30)  # the retries or the beat sweep, whichever comes first
    call_command("edge", "--check", stdout=io.StringIO())
