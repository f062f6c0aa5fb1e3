import logging
import time
from urllib.parse import quote

from django.conf import settings
from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.functional import SimpleLazyObject, empty

from . import db, metrics
from .observability import LogContext, log_context, request_id_from

request_logger = logging.getLogger("newsroom.request")
logger = logging.getLogger(__name__)

# Probes come every few seconds; their request log lines are for debugging only.
QUIET_ROUTES = {"healthz", "readyz", "metrics"}


class HeadWithoutBodyMiddleware:
    """Answer a HEAD request with the headers a GET gets and no body.

    Django answers HEAD by running the GET view, body and all, and leaves it to
    the server to drop the body; gunicorn drops it but logs a warning for each
    such request, and monitors and link checkers send many. Placed outermost, so
    Content-Length and ETag stay those of the GET, as RFC 9110 asks of HEAD.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.method == "HEAD":
            if response.streaming:
                # A file's handle is still closed with the response (its closers).
                response.streaming_content = []
            else:
                response.content = b""
        return response


class RequestObservabilityMiddleware:
    """Give each request an id, log one line for it, and count it for /metrics.

    The id is the ``X-Request-ID`` the proxy or client sent, when it is short and
    plain, else a new one; it is sent back in ``X-Request-ID`` and named in every
    log line written while the request is handled (``newsroom.observability``).
    The request log names the path only: a query string may hold an address, and
    neither cookies nor the session are looked at, so public pages stay cacheable.
    Placed first, so redirects and refusals of the other middleware count too.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = request_id_from(request.headers.get("X-Request-ID"))
        request.request_id = request_id
        token = log_context.set(LogContext(request_id=request_id))
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            seconds = time.perf_counter() - started
            route = self._route(request)
            metrics.observe_request(
                method=request.method, status=response.status_code, route=route, seconds=seconds
            )
            request_logger.log(
                logging.DEBUG if route in QUIET_ROUTES else logging.INFO,
                "%s %s %d %.1fms",
                request.method if request.method in metrics.HTTP_METHODS else "OTHER",
                # Quoted: a decoded path could hold a line break or a control character.
                quote(request.path[:300], safe="/:@!$&'()*+,;=-._~"),
                response.status_code,
                seconds * 1000,
            )
        finally:
            log_context.reset(token)
        response["X-Request-ID"] = request_id
        return response

    @staticmethod
    def _route(request) -> str:
        """A bounded label: the URL name, never the raw path."""
        match = getattr(request, "resolver_match", None)
        if match is not None and match.view_name:
            return match.view_name
        if request.path.startswith(settings.STATIC_URL):
            return "static"  # answered by whitenoise before URL resolution
        return "unresolved"


class StaffCookieMiddleware:
    """Keep the staff cookie in step with who is signed in, without loading a session.

    The cookie tells the page cache and the reverse proxy to skip their caches for
    this browser (``newsroom.pagecache``). It is a hint, not a credential: the page
    cache still asks the session, so a forged cookie only costs its sender fresh
    renders. It is set or removed only on requests that looked at the user anyway
    (the admin, a login, a logout), so public pages never touch the session for it.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = self._known_user(request)
        if user is None:
            return response
        name = settings.STAFF_COOKIE_NAME
        is_staff = user.is_active and user.is_staff
        if is_staff and name not in request.COOKIES:
            response.set_cookie(
                name,
                "1",
                max_age=None
                if settings.SESSION_EXPIRE_AT_BROWSER_CLOSE
                else settings.SESSION_COOKIE_AGE,
                secure=settings.SESSION_COOKIE_SECURE,
                httponly=True,
                samesite=settings.SESSION_COOKIE_SAMESITE,
            )
        elif not is_staff and name in request.COOKIES:
            response.delete_cookie(name, samesite=settings.SESSION_COOKIE_SAMESITE)
        return response

    @staticmethod
    def _known_user(request):
        """``request.user`` when something already loaded it, else None."""
        user = request.__dict__.get("user")
        if user is None:
            return None
        if isinstance(user, SimpleLazyObject) and user._wrapped is empty:
            return None
        return user


class DatabaseMiddleware:
    """Give public requests the statement budget, and answer 503 when the database cannot.

    Every request but the admin's runs its statements under
    ``DATABASE_STATEMENT_TIMEOUT_MS`` (``newsroom.db``). A view (or the template it
    renders) that meets a database that refuses, does not answer within
    ``DATABASE_CONNECT_TIMEOUT`` or cancels a statement at the budget gets the
    maintenance page, HTTP 503 with ``Retry-After``, instead of the 500 page and a
    traceback: the fault is the database's and passes, and a proxy may stand in
    with a stale copy (nginx does, for 503). The page itself needs no database.
    """

    RETRY_AFTER_SECONDS = 30

    def __init__(self, get_response):
        self.get_response = get_response
        self._admin_prefix = None

    def __call__(self, request):
        budget = None if self._is_admin(request) else settings.DATABASE_STATEMENT_TIMEOUT_MS
        with db.statement_budget(budget):
            return self.get_response(request)

    def _is_admin(self, request) -> bool:
        if self._admin_prefix is None:
            self._admin_prefix = reverse("admin:index")
        return request.path_info.startswith(self._admin_prefix)

    def process_exception(self, request, exception):
        if not db.unavailable(exception):
            return None
        lines = str(exception).strip().splitlines()
        logger.warning(
            "database unavailable, answering 503: %s",
            lines[0] if lines else type(exception).__name__,
            # Which query ran out of time is worth a traceback; a database that is
            # down is said well enough in one line per request.
            exc_info=db.timed_out(exception),
        )
        response = render(request, "503.html", status=503)
        response["Retry-After"] = str(self.RETRY_AFTER_SECONDS)
        add_never_cache_headers(response)
        return response
