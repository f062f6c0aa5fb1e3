import os
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
def _fresh_cache():
    """Throttles and page caches never leak from one test into another."""
    from django.core.cache import cache

    cache.clear()
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
def make_editor_client(db):
    """Another editor's browser, for tests with two people at work."""
    from tests.factories import EditorFactory

    def make(**kwargs):
        client = _https_client()
        client.force_login(EditorFactory(**kwargs))
        return client

    return make


@pytest.fixture(autouse=True)
def _celery_eager():
    """Unit tests run tasks inline, at enqueue time, with Django's test mail outbox.

    Integration tests (tests/contact/integration/) switch this off and use a real
    worker process and broker instead.
    """
    from newsroom.celery import app

    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False
