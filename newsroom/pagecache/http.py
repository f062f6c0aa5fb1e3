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

from . import edge, store
from .release import release_id

# Response headers a stored page keeps; the middleware adds the rest on every answer.
KEPT_HEADERS = ("Content-Type", "Content-Language")


def shows(request, *tags: str) -> None:
    """Declare that the page being rendered for ``request`` shows what ``tags`` name.

    Call it from the view with what it has read (never with a query of its own):
    ``cached_page`` stores the page with these tags, and bumping any of them makes
    it stale; the edge is told them too (``edge``), also when the page is not stored
    (the page cache off or unreachable). It does nothing for staff and for a view
    not wrapped in ``cached_page``.
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
    # The tag headers for the edge (None: too many tags to name), and the page's own
    # next scheduled change (``cached_page(expires=…)``), which caps its edge lifetime.
    edge_headers: dict | None = None
    changes_at: float | None = None

    def answer(self, request) -> HttpResponse:
        response = HttpResponse(self.content, status=200)
        for name, value in self.headers.items():
            response[name] = value
        # Found valid, so none of its tags was bumped since its render began: the
        # purge of any later edit reaches it (see ``_edge_seconds`` for the window).
        seconds = (
            edge.edge_seconds(self.changes_at)
            if self.edge_headers is not None and edge.edge_caching()
            else 0
        )
        return _finish(
            request,
            response,
            etag=self.etag,
            rendered_at=self.rendered_at,
            expires_at=self.expires_at,
            edge_headers=self.edge_headers,
            edge_seconds=seconds,
        )

    @property
    def size(self) -> int:
        return len(self.content)


def _finish(
    request,
    response,
    *,
    etag: str,
    rendered_at: float,
    expires_at: float,
    edge_headers: dict | None,
    edge_seconds: int,
):
    """Validators and proxy lifetime on a public answer; 304 when the client is current.

    The edge's headers go on the 304 too, so a cache revalidating its copy keeps them.
    """
    response["ETag"] = etag
    response["Last-Modified"] = http_date(rendered_at)
    proxy_seconds = max(0, min(settings.PAGE_CACHE_PROXY_SECONDS, int(expires_at - time.time())))
    if response.has_header("Cache-Control"):
        patch_cache_control(response, public=True, max_age=0, s_maxage=proxy_seconds)
    else:
        response["Cache-Control"] = f"public, max-age=0, s-maxage={proxy_seconds}"
    if "If-None-Match" in request.headers or "If-Modified-Since" in request.headers:
        response = get_conditional_response(
            request, etag=etag, last_modified=int(rendered_at), response=response
        )
    for name, value in (edge_headers or {}).items():
        response[name] = value
    if edge_seconds > 0:
        response["Surrogate-Control"] = f"max-age={edge_seconds}"
    return response


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
    storing = bool(settings.PAGE_CACHE_SECONDS)
    if (storing or edge.edge_caching()) and store.health.usable():
        try:
            generation = store.current_generation()
        except Exception:
            store.health.failed("unavailable, not storing")
    # Gathers what the view declares with shows() while it renders: stored with the
    # page, and named to the edge even when the page cannot be stored.
    request.page_cache_tags = {store.GLOBAL_TAG, *tags}
    rendered_at = time.time()
    response = _render(view, request, args, kwargs)
    if not _storable(request, response):
        return response
    expires_at = rendered_at + (settings.PAGE_CACHE_SECONDS or settings.PAGE_CACHE_PROXY_SECONDS)
    etag = '"' + hashlib.sha256(response.content).hexdigest()[:32] + '"'
    shown = request.page_cache_tags
    edge_headers = edge.tag_headers(shown)
    seconds = 0
    if generation is not None:
        try:
            changes_at = expires() if expires is not None else None
            if changes_at is not None:
                expires_at = min(expires_at, changes_at)
            if storing:
                page = StoredPage(
                    content=response.content,
                    headers={
                        name: response[name] for name in KEPT_HEADERS if response.has_header(name)
                    },
                    tags=tuple(sorted(shown)),
                    generation=generation,
                    rendered_at=rendered_at,
                    expires_at=expires_at,
                    etag=etag,
                    edge_headers=edge_headers,
                    changes_at=changes_at,
                )
                _store(key, page)
            if edge_headers is not None and edge.edge_caching():
                seconds = _edge_seconds(generation, shown, changes_at)
        except Exception:
            store.health.failed("could not store %s", request.path)
    return _finish(
        request,
        response,
        etag=etag,
        rendered_at=rendered_at,
        expires_at=expires_at,
        edge_headers=edge_headers,
        edge_seconds=seconds,
    )


def _edge_seconds(generation: int, tags, changes_at: float | None) -> int:
    """The edge lifetime of a page rendered from ``generation`` on: 0 when one of its
    tags was bumped since (one read of the tags' keys, after rendering).

    A render that read the database before an editor's commit may reach the edge
    after that edit's purge: kept for an hour, it would be stale for an hour. The
    bump comes before the purge (both after the commit, the purge through a task),
    so such a render finds its tag bumped here, and gets ``s-maxage`` only.

    What is left: this check passes, and between it and the edge storing the
    answer (the time the answer takes to travel to the edge, a millisecond on a
    local network) an edit commits, bumps, and its purge task reaches the edge
    first. The purge needs a broker round trip and a worker's HTTP request, so it
    loses that race almost always; when it wins, the page is stale until the next
    purge of one of its tags or EDGE_CACHE_SECONDS. A stored page found valid and
    served as a hit has the same window, from its lookup on. A bump that fails (the
    cache down in the editing process) is retried later (``store.PendingBumps``)
    while its purge goes out at once: a render meanwhile passes this check.
    """
    found = cache.get_many([store.tag_key(tag) for tag in tags])
    if not store.unbumped_since(generation, tags, found):
        return 0
    return edge.edge_seconds(changes_at)


def _store(key, page: StoredPage) -> None:
    timeout = math.ceil(page.expires_at - time.time())
    if timeout <= 0:
        return
    cache.set(key, page, timeout=timeout)
