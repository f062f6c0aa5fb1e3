"""Tags and generations: what is still valid, and how every process hears of a bump.

See the package's docstring for how validity works. Generations and tags are
shared by every release: an edit made by a process of one release makes stale
what the processes of another stored (a rolling deploy runs both for a while).
"""

import logging
import os
import threading
import time

from django.core.cache import DEFAULT_CACHE_ALIAS, cache, caches
from django.db import transaction
from django_redis import get_redis_connection
from django_redis.cache import RedisCache

logger = logging.getLogger(__name__)

KEY_PREFIX = "pagecache"
GENERATION_KEY = f"{KEY_PREFIX}:generation"
# What every page and every kept value shows (a menu, say): each carries this tag,
# so bumping it makes everything stale (``clear()``).
GLOBAL_TAG = "global"


def tag_key(tag: str) -> str:
    return f"{KEY_PREFIX}:tag:{tag}"


# When the cache fails


class CacheHealth:
    """Whether this process should try the cache now.

    After a failure the page cache leaves the cache alone for ``RETRY_SECONDS``
    and renders instead: a Redis that is down costs one failed call per process
    and period instead of several per request, one that hangs costs one timeout
    (``CACHE_REDIS_TIMEOUT``) instead of one per call, and the log gets one
    traceback per period instead of one per request. The first call after the
    period tries again; a success needs nothing more, the cache is simply used.
    """

    RETRY_SECONDS = 5.0

    def __init__(self):
        self._down_until = 0.0

    def usable(self) -> bool:
        return time.monotonic() >= self._down_until

    def failed(self, message: str, *args) -> None:
        """Record a failed cache call (inside its ``except``) and log it, once a period."""
        first = self.usable()
        self._down_until = time.monotonic() + self.RETRY_SECONDS
        log = logger.warning if first else logger.debug
        log(
            f"page cache: {message}; rendering without the cache for %.0fs",
            *args,
            self.RETRY_SECONDS,
            exc_info=first,
        )


health = CacheHealth()


# Generations


def current_generation() -> int:
    generation = cache.get(GENERATION_KEY)
    if generation is None:
        # Started from the clock, so a counter lost with a flushed cache starts
        # above every generation a surviving tag could still hold.
        cache.add(GENERATION_KEY, time.time_ns() // 1000, timeout=None)
        generation = cache.get(GENERATION_KEY)
    return int(generation)


def unbumped_since(generation: int, tags, found: dict) -> bool:
    """No tag in ``found`` (a read of their keys) was bumped after ``generation``."""
    return all(int(found.get(tag_key(tag), 0)) <= generation for tag in tags)


def bump(*tags: str) -> None:
    """Mark every page and value carrying one of ``tags`` as stale, now."""
    if not tags:
        return
    current_generation()
    generation = cache.incr(GENERATION_KEY)
    cache.set_many({tag_key(tag): generation for tag in set(tags)}, timeout=None)
    # Once more, now that the tags are written: a process that read the counter
    # between the two saw tags not yet bumped, and must look again.
    generation = cache.incr(GENERATION_KEY)
    watcher.announce(generation)


def clear() -> None:
    """Make every stored page and value stale (after a change the site was not told of),
    here and at the edge."""
    bump(GLOBAL_TAG)
    _tell_listeners((GLOBAL_TAG,))


def _redis_client():
    """The cache's redis-py client (django-redis), or None when the cache is not Redis."""
    if not isinstance(caches[DEFAULT_CACHE_ALIAS], RedisCache):
        return None
    return get_redis_connection(DEFAULT_CACHE_ALIAS)


class GenerationWatcher:
    """Every web process hears each bump over Redis pub/sub, so a hit reads nothing.

    A daemon thread per process subscribes to the bump channel, then reads the
    counter, and from then on keeps the counter's value as bumps announce it.
    While it is subscribed a hit compares its page with that value and makes no
    cache call at all; otherwise (connecting, a lost connection, a cache that is
    not Redis) the hit reads the counter itself. Every ``RECHECK_SECONDS`` it
    also reads the counter, in case an announcement was lost.
    """

    RECHECK_SECONDS = 5.0

    def __init__(self):
        self._generation: int | None = None
        self._subscribed = False
        self._pid = None
        self._lock = threading.Lock()

    def current(self) -> int | None:
        """The counter as last heard, or None when it has to be read."""
        if self._pid != os.getpid():
            self._start()
        return self._generation if self._subscribed else None

    def hearing(self) -> bool | None:
        """Whether this process hears bumps over pub/sub now (False: it reads the counter
        on every hit meanwhile); None when the cache is not Redis. Starts the watcher in a
        process that has served no page yet."""
        self.current()
        if _redis_client() is None:
            return None
        return self._subscribed

    def announce(self, generation: int) -> None:
        """Tell this process at once, and the others through the channel."""
        self._heard(generation)
        client = _redis_client()
        if client is not None:
            client.publish(self._channel(client), generation)

    def _heard(self, generation: int) -> None:
        with self._lock:
            if self._generation is None or generation > self._generation:
                self._generation = generation

    @staticmethod
    def _channel(client) -> str:
        # Channels are per server, not per database: name the database in it. Not
        # the URL: processes reaching one server under two host names must meet,
        # and a password in the URL has no business in a channel name.
        database = client.get_connection_kwargs().get("db", 0)
        return f"{cache.make_key(f'{KEY_PREFIX}:bumps')}@db{database}"

    def _start(self) -> None:
        with self._lock:
            if self._pid == os.getpid():
                return
            self._pid = os.getpid()
            self._generation = None
            self._subscribed = False
        if _redis_client() is None:
            return
        threading.Thread(target=self._listen, name="pagecache-watcher", daemon=True).start()

    def _listen(self) -> None:
        lost = False
        while True:
            try:
                self._follow()
            except Exception:
                # Once per outage, not once a second while Redis is away.
                if not lost or self._subscribed:
                    logger.warning("page cache: bump channel lost, reconnecting", exc_info=True)
                lost = True
            self._subscribed = False
            time.sleep(1)

    def _follow(self) -> None:
        client = _redis_client()
        pubsub = client.pubsub(ignore_subscribe_messages=True)
        try:
            pubsub.subscribe(self._channel(client))
            pubsub.get_message(timeout=1.0)  # the subscription's confirmation
            while True:
                # Subscribed first, then read: no bump falls between the two. The
                # counter only grows: one lost with an emptied Redis restarts from the
                # clock, above it, here at once rather than at the first render.
                self._heard(current_generation())
                self._subscribed = True
                checked = time.monotonic()
                while time.monotonic() - checked < self.RECHECK_SECONDS:
                    message = pubsub.get_message(timeout=1.0)
                    if message is not None and message["type"] == "message":
                        self._heard(int(message["data"]))
        finally:
            pubsub.close()


watcher = GenerationWatcher()


# Invalidation


# Who else hears of each invalidation, inside the edit's transaction: the edge's purge
# outbox (newsroom/edge/), which registers itself, so this package names no app.
_listeners: list = []


def on_invalidate(listener) -> None:
    """Call ``listener(tags)`` on each ``invalidate()`` and ``clear()``.

    Called inside the current transaction, after the bump was scheduled for its
    commit: what the listener schedules for the commit runs after the bump (the
    edge's purge must follow the bump; see ``http._edge_seconds``).
    """
    if listener not in _listeners:
        _listeners.append(listener)


def _tell_listeners(tags) -> None:
    for listener in _listeners:
        listener(tuple(tags))


def invalidate(*tags: str) -> None:
    """Bump ``tags`` once the current transaction commits (at once outside one).

    After the commit, so that a page rendered in between from the old rows can
    not be stored as fresh. A cache that is down loses the bump, not the save:
    the error is logged and the bump retried (``PendingBumps``). The listeners
    (``on_invalidate``) hear of ``tags`` now, in the transaction.
    """
    if tags:
        transaction.on_commit(lambda: _bump_logged(tags))
        _tell_listeners(tags)


def _bump_logged(tags) -> None:
    try:
        bump(*tags)
    except Exception:
        logger.exception("page cache: could not invalidate %s", ", ".join(sorted(set(tags))))
        pending_bumps.add(tags)


class PendingBumps:
    """Bumps that failed, tried again every ``RETRY_SECONDS`` until the cache takes them.

    A Redis that keeps its data through an outage (persistence, or a network cut
    between this process and a healthy Redis) would otherwise serve the pages an
    edit made stale until they expire. A daemon thread of this process retries;
    a process that exits first loses them (the failure is in its log).
    """

    RETRY_SECONDS = 2.0

    def __init__(self):
        self._tags: set[str] = set()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def add(self, tags) -> None:
        with self._lock:
            self._tags.update(tags)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._retry, name="pagecache-bumps", daemon=True
                )
                self._thread.start()

    def _retry(self) -> None:
        while True:
            time.sleep(self.RETRY_SECONDS)
            with self._lock:
                tags = set(self._tags)
            try:
                bump(*tags)
            except Exception:
                logger.debug("page cache: still cannot invalidate", exc_info=True)
                continue
            logger.info(
                "page cache: invalidated %s after the cache came back", ", ".join(sorted(tags))
            )
            with self._lock:
                self._tags -= tags
                if not self._tags:
                    self._thread = None
                    return


pending_bumps = PendingBumps()
