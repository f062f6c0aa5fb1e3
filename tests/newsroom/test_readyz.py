"""/readyz tells a load balancer whether this process can do its work."""

import time

import pytest

from harness import free_port
from newsroom import health
from tests.conftest import switch_broker

pytestmark = pytest.mark.django_db


@pytest.fixture
def broker_down():
    """The broker this process publishes to is a port nothing listens on."""
    from newsroom.celery import app

    original = app.conf.broker_url
    switch_broker(f"redis://127.0.0.1:{free_port()}/0")
    yield
    switch_broker(original)


def test_all_parts_up_is_ready(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"database": "ok", "cache": "ok", "broker": "ok"}
    assert "no-cache" in response["Cache-Control"]
    assert "max-age=0" in response["Cache-Control"]


def test_cache_down_is_not_ready_and_named(client, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",
        }
    }
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["cache"].startswith("error: ")
    assert body["database"] == "ok"
    assert body["broker"] == "ok"


def test_broker_down_is_not_ready_and_named(client, broker_down):
    started = time.monotonic()
    response = client.get("/readyz")
    assert time.monotonic() - started < health.READYZ_TIMEOUT + 1
    assert response.status_code == 503
    body = response.json()
    assert body["broker"].startswith("error: ")
    assert body["database"] == "ok"
    assert body["cache"] == "ok"


def test_a_part_that_hangs_is_reported_in_bounded_time(client, monkeypatch):
    monkeypatch.setattr(health, "READYZ_TIMEOUT", 0.5)
    monkeypatch.setitem(health.CHECKS, "database", lambda: time.sleep(1.5))
    started = time.monotonic()
    response = client.get("/readyz")
    assert time.monotonic() - started < 1.4
    assert response.status_code == 503
    assert response.json() == {"database": "timeout", "cache": "ok", "broker": "ok"}


def test_the_error_names_the_failure_but_not_the_hosts(client, monkeypatch, caplog):
    def refuse():
        raise ConnectionRefusedError(111, "Connection refused to db.internal:5432")

    monkeypatch.setitem(health.CHECKS, "database", refuse)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["database"] == "error: ConnectionRefusedError"
    assert "db.internal" not in response.content.decode()
    assert "db.internal" in caplog.text  # operators find the details in the log


def test_the_file_broker_is_ready_while_its_folders_are_writable(client, settings, tmp_path):
    from newsroom.celery import app

    folder = tmp_path / "in"
    folder.mkdir()
    original = app.conf.broker_url, app.conf.broker_transport_options
    app.conf.broker_url = "filesystem://"
    app.conf.broker_transport_options = {"data_folder_in": str(folder)}
    try:
        assert client.get("/readyz").json()["broker"] == "ok"
        folder.rmdir()
        response = client.get("/readyz")
        assert response.status_code == 503
        assert response.json()["broker"] == "error: OSError"
    finally:
        app.conf.broker_url, app.conf.broker_transport_options = original


def test_readyz_names_the_node_and_whether_it_hears_bumps(client, settings):
    """Behind a load balancer an operator needs to know which node answered, and
    whether its page cache hears edits over pub/sub or reads the counter meanwhile."""
    from harness import wait_for
    from newsroom.pagecache import store

    settings.NODE_NAME = "web-a"
    response = client.get("/readyz")
    assert response["X-Node"] == "web-a"
    if store._redis_client() is None:  # the embedded disk cache: no pub/sub at all
        assert response["X-Page-Cache-Bumps"] == "off"
        return
    assert response["X-Page-Cache-Bumps"] in {"subscribed", "polling"}
    wait_for(
        lambda: client.get("/readyz")["X-Page-Cache-Bumps"] == "subscribed",
        timeout=10,
        what="the watcher to subscribe",
    )
