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

A hit costs one cache round trip (the page with its tags' generations) and no
query. A page also expires by itself at the next scheduled publish time, so
a scheduled story appears on time without anyone touching anything, and after
``PAGE_CACHE_SECONDS`` at the latest.

Staff are never served a stored page: a browser that has used the admin
carries the ``STAFF_COOKIE_NAME`` cookie (``newsroom.middleware``), and for
such a request the session is consulted; real staff get a fresh page marked
private. Only anonymous renders are stored, and only when they set no cookie
and read no session or CSRF token, so no visitor's state is ever stored.

If the cache is unreachable the site renders every page, logs, and carries on.
"""

import hashlib
import logging
import math
import time
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


def _is_valid(tags, generation: int) -> bool:
    current = cache.get_many([_tag_key(tag) for tag in tags])
    return all(int(current.get(_tag_key(tag), 0)) <= generation for tag in tags)


# Values shared by many pages


def cached_value(key: str, tags, compute, *, valid=lambda value: True):
    """``compute()``, kept in the cache until one of ``tags`` is bumped.

    Falls back to ``compute()`` when the cache is unreachable.
    """
    key = f"{KEY_PREFIX}:value:{key}"
    try:
        stored = cache.get(key)
        if stored is not None:
            generation, value = stored
            if valid(value) and _is_valid(tags, generation):
                return value
        generation = _current_generation()
    except Exception:
        logger.warning("page cache: unavailable, computing %s", key, exc_info=True)
        return compute()
    value = compute()
    try:
        cache.set(key, (generation, value), timeout=settings.PAGE_CACHE_SECONDS or None)
    except Exception:
        logger.warning("page cache: could not keep %s", key, exc_info=True)
    return value


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


def _finish(request, response, *, etag: str, rendered_at: float, expires_at: float):
    """Validators and proxy lifetime on a public answer; 304 when the client is current."""
    response["ETag"] = etag
    response["Last-Modified"] = http_date(rendered_at)
    proxy_seconds = max(0, min(settings.PAGE_CACHE_PROXY_SECONDS, int(expires_at - time.time())))
    patch_cache_control(response, public=True, max_age=0, s_maxage=proxy_seconds)
    return get_conditional_response(
        request, etag=etag, last_modified=int(rendered_at), response=response
    )


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
        try:
            stored = _lookup(key)
        except Exception:
            logger.warning("page cache: lookup failed, rendering", exc_info=True)
            stored = None
        if stored is not None:
            response = stored.answer(request)
            response["X-Page-Cache"] = "hit"
            return response
        return _render_and_store(view, request, args, kwargs, key=key, tags=tags)

    return wrapper


# The tags each page was last stored with, per process, so that a hit fetches the
# page and its tags' generations in one round trip. A page stored since with other
# tags costs a second round trip for those.
_last_known_tags: dict[str, tuple] = {}
LAST_KNOWN_TAGS_MAX = 10_000


def _lookup(key: str) -> StoredPage | None:
    if not settings.PAGE_CACHE_SECONDS:
        return None
    tag_keys = [_tag_key(tag) for tag in _last_known_tags.get(key, ())]
    found = cache.get_many([key, *tag_keys])
    stored = found.get(key)
    if stored is None or stored.expires_at <= time.time():
        return None
    if stored.tags != _last_known_tags.get(key):
        if len(_last_known_tags) >= LAST_KNOWN_TAGS_MAX:
            _last_known_tags.clear()
        _last_known_tags[key] = stored.tags
        found = cache.get_many([_tag_key(tag) for tag in stored.tags])
    valid = all(int(found.get(_tag_key(tag), 0)) <= stored.generation for tag in stored.tags)
    return stored if valid else None


def _render(view, request, args, kwargs):
    response = view(request, *args, **kwargs)
    if hasattr(response, "render") and not response.is_rendered:
        response.render()
    return response


def _render_and_store(view, request, args, kwargs, *, key, tags):
    generation = None
    if settings.PAGE_CACHE_SECONDS:
        try:
            generation = _current_generation()
        except Exception:
            logger.warning("page cache: unavailable, not storing", exc_info=True)
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
            logger.warning("page cache: could not store %s", request.path, exc_info=True)
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
    linked = {link.target_article_id for link in article.related_links.all()}
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
