"""Whole pages: the view decorator, stored pages, validators and 304s, Cache-Control, staff.

A view wrapped in ``cached_page`` names what it shows with ``shows(request, *tags)``
while it renders, from what it actually read; ``cached_page`` stores the page
with those tags and answers later requests from the cache until one is bumped.
"""

import hashlib
import math
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from functools import wraps
from urllib.parse import urlencode

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.http import http_date

from . import store
from .release import release_id

# Response headers a stored page keeps; the middleware adds the rest on every answer.
KEPT_HEADERS = ("Content-Type", "Content-Language")


def shows(request, *tags: str) -> None:
    """Declare that the page being rendered for ``request`` shows what ``tags`` name.

    Call it from the view with what it has read (never with a query of its own):
    ``cached_page`` stores the page with these tags, and bumping any of them makes
    it stale. It does nothing when the page is not going to be stored (staff, the
    page cache off or unreachable, a view not wrapped in ``cached_page``).
    """
    shown = getattr(request, "page_cache_tags", None)
    if shown is not None:
        shown.update(tags)


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


local_pages = LocalPages()


def _page_key(request, view_name: str, params) -> str:
    query = urlencode(
        sorted((name, value) for name in params for value in request.GET.getlist(name))
    )
    digest = hashlib.sha256(f"{request.path}?{query}".encode()).hexdigest()[:32]
    return f"{store.KEY_PREFIX}:page:{release_id()}:{view_name}:{digest}"


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


def cached_page(view, *, tags=(), params=(), expires=None):
    """Serve ``view`` from the page cache for anonymous GET and HEAD requests.

    A stored page carries ``GLOBAL_TAG``, ``tags`` (what every answer of ``view``
    shows) and what the view declared with ``shows()`` while it rendered.
    ``params`` are the query parameters the page depends on; the others (say
    ``utm_source``) share the stored page. ``expires()``, when given, names the
    moment (a timestamp, or None) after which no page stored now may be served;
    it is asked only when a page is stored.

    Every answer says how it came about in ``X-Page-Cache``: ``hit``, ``miss``
    (rendered, and stored when it could be) or ``bypass`` (staff).
    """

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.method not in ("GET", "HEAD"):
            return view(request, *args, **kwargs)
        if is_staff_visitor(request):
            response = _render(view, request, args, kwargs)
            patch_cache_control(response, private=True, no_cache=True, no_store=True, max_age=0)
            state = "bypass"
        else:
            key = _page_key(request, request.resolver_match.view_name, params)
            stored = None
            if store.health.usable():
                try:
                    stored = _lookup(key)
                except Exception:
                    store.health.failed("lookup failed")
            if stored is not None:
                response, state = stored.answer(request), "hit"
            else:
                response = _render_and_store(
                    view, request, args, kwargs, key=key, tags=tags, expires=expires
                )
                state = "miss"
        response["X-Page-Cache"] = state
        return response

    return wrapper


def _lookup(key: str) -> StoredPage | None:
    if not settings.PAGE_CACHE_SECONDS:
        return None
    now = time.time()
    local = local_pages.get(key)
    if local is not None:
        page, valid_at = local
        generation = store.watcher.current()
        if generation is None:
            generation = cache.get(store.GENERATION_KEY)
        if generation is not None and int(generation) == valid_at and page.expires_at > now:
            return page
        tag_keys = [store.tag_key(tag) for tag in page.tags]
    else:
        tag_keys = []
    # One atomic read: the counter, the page and (when known) its tags agree.
    found = cache.get_many([store.GENERATION_KEY, key, *tag_keys])
    page = found.get(key)
    if page is None or page.expires_at <= now or store.GENERATION_KEY not in found:
        local_pages.discard(key)
        return None
    if local is None or page.tags != local[0].tags:
        found.update(cache.get_many([store.tag_key(tag) for tag in page.tags]))
    if not store.unbumped_since(page.generation, page.tags, found):
        local_pages.discard(key)
        return None
    local_pages.put(key, page, int(found[store.GENERATION_KEY]))
    return page


def _render(view, request, args, kwargs):
    response = view(request, *args, **kwargs)
    if hasattr(response, "render") and not response.is_rendered:
        response.render()
    return response


def _render_and_store(view, request, args, kwargs, *, key, tags, expires):
    generation = None
    if settings.PAGE_CACHE_SECONDS and store.health.usable():
        try:
            generation = store.current_generation()
        except Exception:
            store.health.failed("unavailable, not storing")
    if generation is not None:
        # Gathers what the view declares with shows() while it renders.
        request.page_cache_tags = {store.GLOBAL_TAG, *tags}
    rendered_at = time.time()
    response = _render(view, request, args, kwargs)
    if not _storable(request, response):
        return response
    expires_at = rendered_at + (settings.PAGE_CACHE_SECONDS or settings.PAGE_CACHE_PROXY_SECONDS)
    etag = '"' + hashlib.sha256(response.content).hexdigest()[:32] + '"'
    if generation is not None:
        try:
            ends = expires() if expires is not None else None
            if ends is not None:
                expires_at = min(expires_at, ends)
            _store(
                key, response, request.page_cache_tags, generation, rendered_at, expires_at, etag
            )
        except Exception:
            store.health.failed("could not store %s", request.path)
    return _finish(request, response, etag=etag, rendered_at=rendered_at, expires_at=expires_at)


def _store(key, response, tags, generation, rendered_at, expires_at, etag) -> None:
    timeout = math.ceil(expires_at - time.time())
    if timeout <= 0:
        return
    page = StoredPage(
        content=response.content,
        headers={name: response[name] for name in KEPT_HEADERS if response.has_header(name)},
        tags=tuple(sorted(tags)),
        generation=generation,
        rendered_at=rendered_at,
        expires_at=expires_at,
        etag=etag,
    )
    cache.set(key, page, timeout=timeout)
