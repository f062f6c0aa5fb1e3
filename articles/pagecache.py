"""Whole public pages in the cache, invalidated exactly when what they show changes.

A page is stored with the *tags* of what it shows (``article:<id>`` for every
story on it, ``home`` for the public list, ``topic:<id>``, ``sitemap``, and
``global`` for what every page shows: the topic menu, bylines). An edit bumps
the tags it touches (``articles/signals.py``), and every stored page carrying
one of them stops being served. Nothing is deleted: a page is simply not valid
any more, and the next request renders and stores it again.

Validity without clocks: the cache holds one counter, the *generation*, raised
by every bump. A bump records the generation it produced on each tag it
touches; a page records the generation current when its rendering began. The
page is valid while none of its tags was bumped after that (tag generation <=
page generation). A render that read the database before an editor's commit
started before the bump that followed the commit, so it can never be stored
as valid for that change.

A hit costs no query and, usually, no cache call either. Each web process keeps
the pages it served lately in its own memory (``PAGE_CACHE_LOCAL_BYTES``) with
the generation at which it last found them valid: while the generation has not
moved, nothing was bumped anywhere and the copy is still valid. Each process
hears the counter move over Redis pub/sub (``GenerationWatcher``), and reads it
from the cache only while it cannot hear it. When it has moved, the page and
its tags' generations are read in one round trip (an atomic MGET, so they agree
with each other) and the page checked again. A bump raises the generation once
more after writing its tags, so no process can remember a page as valid at a
generation whose tags were not all written yet.

A page also expires by itself at the next scheduled publish time, so a
scheduled story appears on time without anyone touching anything, and after
``PAGE_CACHE_SECONDS`` at the latest.

Staff are never served a stored page: a browser that has used the admin
carries the ``STAFF_COOKIE_NAME`` cookie (``newsroom.middleware``), and for
such a request the session is consulted; real staff get a fresh page marked
private. Only anonymous renders are stored, and only when they set no cookie
and read no session or CSRF token, so no visitor's state is ever stored.

If the cache is unreachable the site renders every page, logs, and carries on;
after a failure each process leaves the cache alone for a few seconds
(``CacheHealth``), so a Redis that is down or hangs slows no visitor down.
"""

import hashlib
import logging
import math
import os
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from functools import wraps
from urllib.parse import urlencode

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.http import HttpResponse
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.http import http_date

logger = logging.getLogger(__name__)

KEY_PREFIX = "pagecache"
GENERATION_KEY = f"{KEY_PREFIX}:generation"
SCHEDULE_TAG = "schedule"
GLOBAL_TAG = "global"
# The public list: which stories are live, in which order, under which topics.
HOME_TAG = "home"
SITEMAP_TAG = "sitemap"
# Response headers a stored page keeps; the middleware adds the rest on every answer.
KEPT_HEADERS = ("Content-Type", "Content-Language")


def article_tag(article_id: int) -> str:
    return f"article:{article_id}"


def links_tag(article_id: int) -> str:
    """An article's own related links, shown on its page only."""
    return f"links:{article_id}"


def topic_tag(topic_id: int) -> str:
    return f"topic:{topic_id}"


def _tag_key(tag: str) -> str:
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

    def reset(self) -> None:
        self._down_until = 0.0


health = CacheHealth()


# Generations


def _current_generation() -> int:
    generation = cache.get(GENERATION_KEY)
    if generation is None:
        # Started from the clock, so a counter lost with a flushed cache starts
        # above every generation a surviving tag could still hold.
        cache.add(GENERATION_KEY, time.time_ns() // 1000, timeout=None)
        generation = cache.get(GENERATION_KEY)
    return int(generation)


def bump(*tags: str) -> None:
    """Mark every page carrying one of ``tags`` as stale, now."""
    if not tags:
        return
    _current_generation()
    generation = cache.incr(GENERATION_KEY)
    cache.set_many({_tag_key(tag): generation for tag in set(tags)}, timeout=None)
    # Once more, now that the tags are written: a process that read the counter
    # between the two saw tags not yet bumped, and must look again.
    generation = cache.incr(GENERATION_KEY)
    watcher.announce(generation)


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

    def announce(self, generation: int) -> None:
        """Tell this process at once, and the others through the channel."""
        self._heard(generation)
        client = getattr(cache, "redis_client", None)
        if client is not None:
            client().publish(self._channel(), generation)

    def _heard(self, generation: int) -> None:
        with self._lock:
            if self._generation is None or generation > self._generation:
                self._generation = generation

    def _channel(self) -> str:
        # Channels are per server, not per database: name the database in it. Not
        # the URL: processes reaching one server under two host names must meet,
        # and a password in the URL has no business in a channel name.
        database = cache.redis_client().connection_pool.connection_kwargs.get("db", 0)
        return f"{cache.make_key('pagecache:bumps')}@db{database}"

    def _start(self) -> None:
        with self._lock:
            if self._pid == os.getpid():
                return
            self._pid = os.getpid()
            self._generation = None
            self._subscribed = False
        if getattr(cache, "redis_client", None) is None:
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
        pubsub = cache.redis_client().pubsub(ignore_subscribe_messages=True)
        try:
            pubsub.subscribe(self._channel())
            pubsub.get_message(timeout=1.0)  # the subscription's confirmation
            while True:
                # Subscribed first, then read: no bump falls between the two. The
                # counter only grows (a lost one restarts from the clock, above it).
                counter = cache.get(GENERATION_KEY)
                if counter is not None:
                    self._heard(int(counter))
                self._subscribed = counter is not None
                checked = time.monotonic()
                while time.monotonic() - checked < self.RECHECK_SECONDS:
                    message = pubsub.get_message(timeout=1.0)
                    if message is not None and message["type"] == "message":
                        self._heard(int(message["data"]))
        finally:
            pubsub.close()


watcher = GenerationWatcher()


def invalidate(*tags: str) -> None:
    """Bump ``tags`` once the current transaction commits (at once outside one).

    After the commit, so that a page rendered in between from the old rows can
    not be stored as fresh. A cache that is down loses the bump, not the save:
    the error is logged and pages expire after PAGE_CACHE_SECONDS anyway.
    """
    if tags:
        transaction.on_commit(lambda: _bump_logged(tags))


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


def _unbumped_since(generation: int, tags, found: dict) -> bool:
    """No tag in ``found`` (a read of their keys) was bumped after ``generation``."""
    return all(int(found.get(_tag_key(tag), 0)) <= generation for tag in tags)


# Values shared by many pages


# Values this process found valid, with the generation it found them valid at.
_local_values: dict[str, tuple[object, int]] = {}
LOCAL_VALUES_MAX = 1000


# What _kept_value answers when the cache holds no valid copy.
_MISSING = object()


def _kept_value(key: str, tags, valid):
    """The value kept under ``key`` (a full key) if still valid, else ``_MISSING``.

    Reads this process's memory, then the cache (errors propagate).
    """
    local = _local_values.get(key)
    if local is not None and local[1] == watcher.current() and valid(local[0]):
        return local[0]
    if not health.usable():
        return _MISSING
    found = cache.get_many([GENERATION_KEY, key, *(_tag_key(tag) for tag in tags)])
    if key in found and GENERATION_KEY in found:
        generation, value = found[key]
        if valid(value) and _unbumped_since(generation, tags, found):
            if len(_local_values) >= LOCAL_VALUES_MAX:
                _local_values.clear()
            _local_values[key] = (value, int(found[GENERATION_KEY]))
            return value
    return _MISSING


def cached_value(key: str, tags, compute, *, valid=lambda value: True):
    """``compute()``, kept in the cache until one of ``tags`` is bumped.

    Like pages, a value found valid is also kept in this process's memory for as
    long as the generation does not move. Falls back to ``compute()`` when the
    cache is unreachable.
    """
    key = f"{KEY_PREFIX}:value:{key}"
    try:
        value = _kept_value(key, tags, valid)
        if value is not _MISSING:
            return value
        if not health.usable():
            return compute()
        generation = _current_generation()
    except Exception:
        health.failed("could not read %s", key)
        return compute()
    value = compute()
    try:
        cache.set(key, (generation, value), timeout=settings.PAGE_CACHE_SECONDS or None)
    except Exception:
        health.failed("could not keep %s", key)
    return value


def kept_value(key: str, tags, *, default=None, valid=lambda value: True):
    """What ``cached_value`` keeps under ``key``, never computed: ``default`` when
    the cache holds no valid copy or cannot be reached. For pages that must not
    wait for the database (the error pages).
    """
    key = f"{KEY_PREFIX}:value:{key}"
    try:
        value = _kept_value(key, tags, valid)
    except Exception:
        health.failed("could not read %s", key)
        return default
    return default if value is _MISSING else value


def forget_local() -> None:
    """Drop this process's copies of pages and values (tests start from nothing)."""
    local_pages.clear()
    _local_values.clear()
    health.reset()


def next_scheduled_publish() -> float | None:
    """When the next scheduled story goes live (a timestamp), or None."""
    from .models import Article

    def compute():
        publish_at = (
            Article.objects.scheduled()
            .order_by("publish_at")
            .values_list("publish_at", flat=True)
            .first()
        )
        return publish_at.timestamp() if publish_at else None

    return cached_value(
        "next-scheduled",
        [SCHEDULE_TAG],
        compute,
        valid=lambda at: at is None or at > time.time(),
    )


# Stored pages


@dataclass(frozen=True)
class StoredPage:
    content: bytes
    headers: dict
    tags: tuple
    generation: int
    rendered_at: float
    expires_at: float
    etag: str

    def answer(self, request) -> HttpResponse:
        response = HttpResponse(self.content, status=200)
        for name, value in self.headers.items():
            response[name] = value
        return _finish(
            request,
            response,
            etag=self.etag,
            rendered_at=self.rendered_at,
            expires_at=self.expires_at,
        )

    @property
    def size(self) -> int:
        return len(self.content)


def _finish(request, response, *, etag: str, rendered_at: float, expires_at: float):
    """Validators and proxy lifetime on a public answer; 304 when the client is current."""
    response["ETag"] = etag
    response["Last-Modified"] = http_date(rendered_at)
    proxy_seconds = max(0, min(settings.PAGE_CACHE_PROXY_SECONDS, int(expires_at - time.time())))
    if response.has_header("Cache-Control"):
        patch_cache_control(response, public=True, max_age=0, s_maxage=proxy_seconds)
    else:
        response["Cache-Control"] = f"public, max-age=0, s-maxage={proxy_seconds}"
    if "If-None-Match" not in request.headers and "If-Modified-Since" not in request.headers:
        return response
    return get_conditional_response(
        request, etag=etag, last_modified=int(rendered_at), response=response
    )


class LocalPages:
    """This process's copies of the pages it served lately, least recently used first out.

    Each is kept with the generation at which it was last found valid.
    """

    def __init__(self):
        self._pages: OrderedDict[str, tuple[StoredPage, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: str) -> tuple[StoredPage, int] | None:
        with self._lock:
            found = self._pages.get(key)
            if found is not None:
                self._pages.move_to_end(key)
            return found

    def put(self, key: str, page: StoredPage, generation: int) -> None:
        limit = settings.PAGE_CACHE_LOCAL_BYTES
        if page.size > limit:
            return
        with self._lock:
            self._drop(key)
            self._pages[key] = (page, generation)
            self._bytes += page.size
            while self._bytes > limit:
                self._drop(next(iter(self._pages)))

    def discard(self, key: str) -> None:
        with self._lock:
            self._drop(key)

    def _drop(self, key: str) -> None:
        """Under the lock."""
        old = self._pages.pop(key, None)
        if old is not None:
            self._bytes -= old[0].size

    def clear(self) -> None:
        with self._lock:
            self._pages.clear()
            self._bytes = 0


local_pages = LocalPages()


def _page_key(request, view_name: str, params) -> str:
    query = urlencode(
        sorted((name, value) for name in params for value in request.GET.getlist(name))
    )
    digest = hashlib.sha256(f"{request.path}?{query}".encode()).hexdigest()[:32]
    return f"{KEY_PREFIX}:page:{view_name}:{digest}"


def _storable(request, response) -> bool:
    """Only a plain public answer that holds nothing of this visitor's state."""
    session = getattr(request, "session", None)
    return (
        response.status_code == 200
        and not response.streaming
        and not response.cookies
        and not response.has_header("Vary")
        and "no-store" not in response.get("Cache-Control", "")
        and "private" not in response.get("Cache-Control", "")
        and not request.META.get("CSRF_COOKIE_NEEDS_UPDATE")
        and not (session is not None and session.accessed)
    )


def is_staff_visitor(request) -> bool:
    """A signed-in staff member (looked up only for browsers carrying the staff cookie)."""
    if settings.STAFF_COOKIE_NAME not in request.COOKIES:
        return False
    user = request.user
    return user.is_active and user.is_staff


def cached_page(view, *, tags, params=()):
    """Serve ``view`` from the page cache for anonymous GET and HEAD requests.

    ``tags(request, response)`` names what a freshly rendered page shows.
    ``params`` are the query parameters the page depends on; the others (say
    ``utm_source``) share the stored page.
    """

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.method not in ("GET", "HEAD"):
            return view(request, *args, **kwargs)
        if is_staff_visitor(request):
            response = _render(view, request, args, kwargs)
            patch_cache_control(response, private=True, no_cache=True, no_store=True, max_age=0)
            response["X-Page-Cache"] = "bypass"
            return response
        key = _page_key(request, request.resolver_match.view_name, params)
        stored = None
        if health.usable():
            try:
                stored = _lookup(key)
            except Exception:
                health.failed("lookup failed")
        if stored is not None:
            response = stored.answer(request)
            response["X-Page-Cache"] = "hit"
            return response
        return _render_and_store(view, request, args, kwargs, key=key, tags=tags)

    return wrapper


def _lookup(key: str) -> StoredPage | None:
    if not settings.PAGE_CACHE_SECONDS:
        return None
    now = time.time()
    local = local_pages.get(key)
    if local is not None:
        page, valid_at = local
        generation = watcher.current()
        if generation is None:
            generation = cache.get(GENERATION_KEY)
        if generation is not None and int(generation) == valid_at and page.expires_at > now:
            return page
        tag_keys = [_tag_key(tag) for tag in page.tags]
    else:
        tag_keys = []
    # One atomic read: the counter, the page and (when known) its tags agree.
    found = cache.get_many([GENERATION_KEY, key, *tag_keys])
    page = found.get(key)
    if page is None or page.expires_at <= now or GENERATION_KEY not in found:
        local_pages.discard(key)
        return None
    if local is None or page.tags != local[0].tags:
        found.update(cache.get_many([_tag_key(tag) for tag in page.tags]))
    if not _unbumped_since(page.generation, page.tags, found):
        local_pages.discard(key)
        return None
    local_pages.put(key, page, int(found[GENERATION_KEY]))
    return page


def _render(view, request, args, kwargs):
    response = view(request, *args, **kwargs)
    if hasattr(response, "render") and not response.is_rendered:
        response.render()
    return response


def _render_and_store(view, request, args, kwargs, *, key, tags):
    generation = None
    if settings.PAGE_CACHE_SECONDS and health.usable():
        try:
            generation = _current_generation()
        except Exception:
            health.failed("unavailable, not storing")
    rendered_at = time.time()
    response = _render(view, request, args, kwargs)
    response["X-Page-Cache"] = "miss"
    if not _storable(request, response):
        return response
    expires_at = rendered_at + (settings.PAGE_CACHE_SECONDS or settings.PAGE_CACHE_PROXY_SECONDS)
    etag = '"' + hashlib.sha256(response.content).hexdigest()[:32] + '"'
    if generation is not None:
        # After rendering: the querysets the tags read are evaluated by then.
        page_tags = (GLOBAL_TAG, *tags(request, response))
        try:
            scheduled = next_scheduled_publish()
            if scheduled is not None:
                expires_at = min(expires_at, scheduled)
            _store(key, response, page_tags, generation, rendered_at, expires_at, etag)
        except Exception:
            health.failed("could not store %s", request.path)
    response = _finish(request, response, etag=etag, rendered_at=rendered_at, expires_at=expires_at)
    response["X-Page-Cache"] = "miss"
    return response


def _store(key, response, tags, generation, rendered_at, expires_at, etag) -> None:
    timeout = math.ceil(expires_at - time.time())
    if timeout <= 0:
        return
    page = StoredPage(
        content=response.content,
        headers={name: response[name] for name in KEPT_HEADERS if response.has_header(name)},
        tags=tuple(sorted(set(tags))),
        generation=generation,
        rendered_at=rendered_at,
        expires_at=expires_at,
        etag=etag,
    )
    cache.set(key, page, timeout=timeout)


def clear() -> None:
    """Make every stored page stale (after a deploy that changed templates)."""
    bump(GLOBAL_TAG, SCHEDULE_TAG)


# What each public page shows, read from what its view rendered.


def _article_tags(articles) -> list[str]:
    return [article_tag(article.pk) for article in articles or ()]


def article_page_tags(request, response) -> list[str]:
    """The story, every story its cards show or would show (hidden link targets), and
    the public list when it shows suggestions, which any newly published story can join.
    """
    article = response.context_data["article"]
    cards = response.context_data["related_cards"]
    linked = {link.target_article_id for link in article.page_links}
    shown = {card.article_id for card in cards}
    tags = [
        article_tag(article.pk),
        links_tag(article.pk),
        *(article_tag(pk) for pk in linked | shown if pk),
    ]
    if any(card.is_suggested for card in cards):
        tags.append(HOME_TAG)
    return tags


def home_page_tags(request, response) -> list[str]:
    context = response.context_data
    return [
        HOME_TAG,
        *_article_tags(context["articles"]),
        *_article_tags(context.get("top_stories")),
    ]


def topic_page_tags(request, response) -> list[str]:
    context = response.context_data
    return [topic_tag(context["topic"].pk), *_article_tags(context["articles"])]


def feed_tags(request, response) -> list[str]:
    from .feeds import LatestArticlesFeed

    return [HOME_TAG, *(article_tag(pk) for pk in LatestArticlesFeed.item_ids())]


def sitemap_tags(request, response) -> list[str]:
    return [SITEMAP_TAG]
