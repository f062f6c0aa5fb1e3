import os
import shutil
import socket
from urllib.parse import urlparse

import pytest


def _require_services() -> bool:
    return os.environ.get("REQUIRE_SERVICES") == "1"


def pytest_configure(config):
    """Under REQUIRE_SERVICES=1 (CI) a missing PostgreSQL or Redis fails the run at once."""
    if not _require_services():
        return
    problems = []
    database_url = os.environ.get("DATABASE_URL", "")
    if not database_url.startswith(("postgres://", "postgresql://")):
        problems.append("DATABASE_URL must point at PostgreSQL")
    redis_url = os.environ.get("REDIS_URL", "")
    if not redis_url.startswith("redis://"):
        problems.append("REDIS_URL must point at Redis")
    for name, url, default_port in (
        ("PostgreSQL", database_url, 5432),
        ("Redis", redis_url, 6379),
    ):
        parsed = urlparse(url)
        if not parsed.hostname:
            continue
        try:
            socket.create_connection((parsed.hostname, parsed.port or default_port), 3).close()
        except OSError as exc:
            problems.append(f"{name} at {parsed.hostname}:{parsed.port or default_port}: {exc}")
    if problems:
        raise pytest.UsageError("REQUIRE_SERVICES=1 but: " + "; ".join(problems))


@pytest.fixture(autouse=True)
def _plain_static_storage(settings):
    """Tests render templates without running collectstatic first."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def _fresh_cache(monkeypatch):
    """Page caches and kept values never leak from one test into another.

    The cache is emptied behind the page cache's back (no bump announces it), so
    this process's own copies of pages and values, and its memory of a cache that
    failed, start anew for each test too.
    """
    from django.core.cache import cache

    from newsroom.pagecache import http, store, values

    cache.clear()
    monkeypatch.setattr(http, "local_pages", http.LocalPages())
    monkeypatch.setattr(values, "local_values", {})
    monkeypatch.setattr(store, "health", store.CacheHealth())
    # What this process heard of the counter went with it: the watcher keeps the
    # highest value it heard, and a counter made while a test travelled in time would
    # otherwise stay above the next one for good (no deployment's clock jumps days).
    store.watcher._generation = None
    yield
    cache.clear()


def _https_client():
    """A test client whose requests count as HTTPS, as behind the production proxy.

    With DEBUG off, SECURE_SSL_REDIRECT would answer plain-HTTP requests with a redirect.
    """
    from django.test import Client

    return Client(headers={"X-Forwarded-Proto": "https"})


@pytest.fixture
def https_client():
    """An anonymous browser on the HTTPS site."""
    return _https_client()


@pytest.fixture
def editor(db):
    from tests.factories import EditorFactory

    return EditorFactory()


@pytest.fixture
def editor_client(editor):
    """Logged in as a member of the Editors group (no superuser rights)."""
    client = _https_client()
    client.force_login(editor)
    return client


@pytest.fixture
def chief_editor_client(db):
    """Logged in as a chief editor: an editor who may also publish."""
    from tests.factories import ChiefEditorFactory

    client = _https_client()
    client.force_login(ChiefEditorFactory())
    return client


@pytest.fixture
def make_editor_client(db):
    """Another editor's browser, for tests with two people at work."""
    from tests.factories import EditorFactory

    def make(**kwargs):
        client = _https_client()
        client.force_login(EditorFactory(**kwargs))
        return client

    return make


@pytest.fixture
def make_chief_editor_client(db):
    """Another chief editor's browser, for tests with two people publishing."""
    from tests.factories import ChiefEditorFactory

    def make(**kwargs):
        client = _https_client()
        client.force_login(ChiefEditorFactory(**kwargs))
        return client

    return make


@pytest.fixture(autouse=True)
def _celery_eager():
    """Unit tests run tasks inline, at enqueue time, with Django's test mail outbox.

    Integration tests (the ``worker`` fixture below, e.g. tests/contact/test_integration.py)
    switch this off and use a real worker process and broker instead.
    """
    from newsroom.celery import app

    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


# Real services for integration tests ------------------------------------------------


def need_postgres_and_redis():
    """Integration tests use the real PostgreSQL and Redis (CI always has both)."""
    from django.db import connection

    if connection.vendor != "postgresql" or not os.environ.get("REDIS_URL"):
        reason = "needs PostgreSQL and Redis: set DATABASE_URL and REDIS_URL"
        if _require_services():
            pytest.fail(f"REQUIRE_SERVICES=1 but this test {reason}")
        pytest.skip(reason)


def switch_broker(url: str) -> None:
    """Point this process's Celery app at another broker.

    Celery has no public way to change a running app's broker: it caches a
    connection pool and a producer pool per app, and ``app.close()`` drops only the
    first (and unregisters the app). So both caches are dropped here, as Celery
    itself does in a child after a fork (``Celery._after_fork``); the next publish
    connects to ``url``. Tests only: the site never switches brokers.
    """
    from newsroom.celery import app

    app.conf.broker_url = url
    app._pool = None
    app.amqp._producer_pool = None


# Where the worker process sends the editors' notifications.
INTEGRATION_RECIPIENT = "desk@newsroom.test"


@pytest.fixture(scope="session")
def smtp_server():
    from harness.smtp import SMTPServer

    server = SMTPServer().start()
    yield server
    server.stop()


@pytest.fixture
def smtp(smtp_server):
    """The loopback SMTP server, emptied and accepting mail."""
    smtp_server.messages.clear()
    smtp_server.reply = smtp_server.rcpt_reply = None
    smtp_server.refused = 0
    smtp_server.delay = 0.0
    yield smtp_server
    smtp_server.delay = 0.0
    smtp_server.reply = smtp_server.rcpt_reply = None


@pytest.fixture(scope="session")
def broker_url():
    """A Redis database of its own for the integration broker, apart from the cache.

    ``TEST_BROKER_URL`` overrides it, so two test runs on one machine keep apart.
    """
    if os.environ.get("TEST_BROKER_URL"):
        return os.environ["TEST_BROKER_URL"]
    parsed = urlparse(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
    return parsed._replace(path="/9").geturl()


@pytest.fixture(scope="session")
def celery_worker(django_db_setup, smtp_server, broker_url, tmp_path_factory):
    """A real ``celery worker`` process on the test database, the broker and the SMTP server."""
    need_postgres_and_redis()
    import redis
    from django.db import connection

    from harness.worker import worker_env
    from tests.services import WorkerProcess

    db = connection.settings_dict
    database_url = (
        f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"
    )
    redis.Redis.from_url(broker_url).flushdb()  # nothing left over from an earlier run
    folder = tmp_path_factory.mktemp("worker")
    env = worker_env(
        database_url=database_url,
        broker_url=broker_url,
        smtp_port=smtp_server.port,
        var_dir=folder,
        # Short backoff so the "SMTP down for good" case ends within seconds.
        CONTACT_MAIL_RETRY_BASE=0.2,
        CONTACT_MAIL_RETRY_MAX=1,
        CONTACT_MAIL_MAX_RETRIES=3,
        CONTACT_RECIPIENTS=INTEGRATION_RECIPIENT,
    )
    worker = WorkerProcess(env=env, log_path=folder / "worker.log").start()
    yield worker
    worker.stop()


@pytest.fixture
def worker(celery_worker, broker_url, settings):
    """Tasks go through the real Redis broker to the worker process, not inline."""
    from newsroom.celery import app

    original = app.conf.broker_url
    switch_broker(broker_url)
    app.conf.task_always_eager = False
    yield celery_worker
    app.conf.task_always_eager = True
    switch_broker(original)


# The embedded defaults (no DATABASE_URL, no REDIS_URL) ----------------------------


@pytest.fixture(scope="session")
def migrated_embedded_var(tmp_path_factory):
    """Migrated once a run; copy it (``embedded_var``) before a process writes to it."""
    from tests.services import embedded_env, manage

    folder = tmp_path_factory.mktemp("embedded") / "var"
    manage("migrate", "--noinput", env=embedded_env(folder))
    return folder


@pytest.fixture
def embedded_var(migrated_embedded_var, tmp_path):
    """A ``var/`` folder of the test's own with a migrated SQLite database, as
    ``make run`` leaves it before it starts its processes: whatever database the
    test run itself uses, processes given ``embedded_env(embedded_var)`` run on SQLite.
    """
    folder = tmp_path / "var"
    shutil.copytree(migrated_embedded_var, folder)
    return folder
