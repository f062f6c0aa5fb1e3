"""The cache on Redis (django-redis, as settings configure it) keeps the contract the
page cache and the kept values rely on: values come back with their type, ``incr`` is
Redis's atomic INCR, several keys are read in one call, and one client is reused."""

import os
from urllib.parse import urlparse

import pytest
from django.core.cache import caches
from django_redis import get_redis_connection

from newsroom import settings as site_settings


@pytest.fixture
def redis_cache(settings):
    if not os.environ.get("REDIS_URL"):
        if os.environ.get("REQUIRE_SERVICES") == "1":
            pytest.fail("REQUIRE_SERVICES=1 but REDIS_URL is not set")
        pytest.skip("needs Redis: set REDIS_URL")
    # The site's own cache settings, under a prefix of this test's.
    settings.CACHES = site_settings.CACHES | {
        "cachetest": site_settings.CACHES["default"] | {"KEY_PREFIX": "cachetest"}
    }
    backend = caches["cachetest"]
    yield backend
    backend.delete_many(["key", "counter", "a", "b", "forever"])


@pytest.mark.parametrize("value", [0, 7, True, False, None, 1.5, "text", b"bytes", {"a": [1, 2]}])
def test_values_come_back_as_they_went_in(redis_cache, value):
    redis_cache.set("key", value)

    found = redis_cache.get("key", default="missing")

    assert found == value
    assert type(found) is type(value)


def test_add_only_adds_and_incr_counts_atomically(redis_cache):
    assert redis_cache.add("counter", 1, timeout=None)
    assert not redis_cache.add("counter", 99)
    assert redis_cache.incr("counter") == 2
    assert redis_cache.incr("counter", 5) == 7
    assert redis_cache.get("counter") == 7
    # Stored as a Redis integer: INCR itself counts, with no read-modify-write in Python.
    client = get_redis_connection("cachetest")
    assert client.get(redis_cache.make_key("counter")) == b"7"
    with pytest.raises(ValueError):
        redis_cache.incr("no such key")


def test_many_at_once_and_expiry(redis_cache):
    client = get_redis_connection("cachetest")
    redis_cache.set_many({"a": 1, "b": "two"}, timeout=30)
    redis_cache.set_many({"forever": 3}, timeout=None)

    assert redis_cache.get_many(["a", "b", "forever", "missing"]) == {
        "a": 1,
        "b": "two",
        "forever": 3,
    }
    assert 0 < client.ttl(redis_cache.make_key("a")) <= 30
    assert client.ttl(redis_cache.make_key("forever")) == -1
    assert redis_cache.touch("a", timeout=None)
    assert client.ttl(redis_cache.make_key("a")) == -1
    redis_cache.delete_many(["a", "b"])
    assert not redis_cache.has_key("a")
    assert redis_cache.has_key("forever")
    redis_cache.set("forever", 4, timeout=0)  # a timeout of 0 is gone at once
    assert redis_cache.get("forever") is None


def test_one_client_is_reused_and_knows_its_database(redis_cache):
    client = get_redis_connection("cachetest")
    redis_cache.get("anything")

    assert get_redis_connection("cachetest") is client
    database = int(urlparse(os.environ["REDIS_URL"]).path.strip("/") or 0)
    assert int(client.get_connection_kwargs().get("db", 0)) == database
    timeout = site_settings.CACHE_REDIS_TIMEOUT
    assert client.get_connection_kwargs()["socket_timeout"] == timeout
