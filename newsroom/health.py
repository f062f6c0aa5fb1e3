"""Health endpoints for load balancers and process managers.

``/healthz`` says the process answers; ``/readyz`` says whether it can do its work:
the database, the cache and the broker each answer, within a bounded time.

With several web nodes behind a load balancer, both name the node that answered
(``X-Node``: ``NODE_NAME``), and ``/readyz`` says whether this process hears the
page cache's bumps over pub/sub (``X-Page-Cache-Bumps``): ``subscribed``, or
``polling`` while it is cut off and reads the counter on each hit instead (pages
stay fresh, each hit costs a cache call), or ``off`` when the cache is not Redis.
Headers, so that the JSON stays one state per part for whatever reads it.
"""

import logging
import os
import uuid
from concurrent.futures import ThreadPoolExecutor, wait

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.templatetags.static import static
from django.views.decorators.cache import never_cache

from newsroom.pagecache import store

logger = logging.getLogger(__name__)

# The longest /readyz waits for any part: a probe must get an answer, not hang with
# a black-holed host. The broker check connects with a timeout of its own, shorter.
READYZ_TIMEOUT = 3.0
BROKER_CONNECT_TIMEOUT = 2.0

# Checks run side by side, so the slowest one bounds the answer. A check that hangs
# holds one of these threads until its own socket gives up; later probes report a
# timeout meanwhile instead of piling up threads.
_checks_pool = ThreadPoolExecutor(max_workers=6, thread_name_prefix="readyz")


@never_cache
def healthz(request):
    """Liveness: the process answers. Deliberately touches no database, cache or broker."""
    response = HttpResponse("ok\n", content_type="text/plain")
    response["X-Node"] = settings.NODE_NAME
    return response


def check_database() -> None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    finally:
        # This thread's own connection: a probe proves a new one can be made.
        connection.close()


def check_cache() -> None:
    key, value = f"readyz:{uuid.uuid4().hex}", uuid.uuid4().hex
    cache.set(key, value, timeout=10)
    if cache.get(key) != value:
        raise RuntimeError("cache did not return what was stored")
    cache.delete(key)


def check_broker() -> None:
    from newsroom.celery import app

    if app.conf.broker_url.startswith("filesystem://"):
        options = app.conf.broker_transport_options or {}
        # The embedded broker is folders that the web and worker processes share.
        for option in ("data_folder_in", "data_folder_out", "control_folder"):
            folder = options.get(option)
            if folder and not os.access(folder, os.R_OK | os.W_OK | os.X_OK):
                raise OSError(f"{option} is not a writable folder")
        return
    timeouts = {
        "socket_connect_timeout": BROKER_CONNECT_TIMEOUT,
        "socket_timeout": BROKER_CONNECT_TIMEOUT,
    }
    with app.connection_for_write(
        connect_timeout=BROKER_CONNECT_TIMEOUT, transport_options=timeouts
    ) as conn:
        conn.ensure_connection(max_retries=1, interval_start=0, timeout=BROKER_CONNECT_TIMEOUT)


CHECKS = {"database": check_database, "cache": check_cache, "broker": check_broker}


def _outcome(name: str, future) -> str:
    if not future.done():
        future.cancel()  # not started yet: do not queue behind the check that hangs
        logger.warning("readyz: %s did not answer within %.0fs", name, READYZ_TIMEOUT)
        return "timeout"
    exc = future.exception()
    if exc is None:
        return "ok"
    # The class names the failure; the details (hosts, ports) stay in the log.
    logger.warning("readyz: %s failed: %r", name, exc)
    return f"error: {type(exc).__name__}"


@never_cache
def readyz(request):
    """Readiness: ``{"database": "ok", "cache": "ok", "broker": "ok"}``, 503 when one is not."""
    futures = {name: _checks_pool.submit(check) for name, check in CHECKS.items()}
    wait(futures.values(), timeout=READYZ_TIMEOUT)
    result = {name: _outcome(name, future) for name, future in futures.items()}
    ready = all(state == "ok" for state in result.values())
    response = JsonResponse(result, status=200 if ready else 503)
    response["X-Node"] = settings.NODE_NAME
    response["X-Page-Cache-Bumps"] = BUMPS[store.watcher.hearing()]
    return response


BUMPS = {True: "subscribed", False: "polling", None: "off"}


def favicon(request):
    """Browsers ask for /favicon.ico on pages that name no icon (the admin)."""
    return redirect(static("articles/favicon.svg"))
