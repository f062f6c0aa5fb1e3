"""Prometheus metrics, served at /metrics to the operators' scraper only.

Counters and the latency histogram live in the process that counts: web
requests in the web process, mails in the Celery worker that sends them. With
``PROMETHEUS_MULTIPROC_DIR`` set (prometheus-client's multiprocess mode) the
processes of one machine write to that folder and /metrics sums them; without
it each process answers with its own counts. Gauges read from the database at
scrape time (``register_collector``) report the same, global values everywhere.

This module has the web requests' metrics and the endpoint; an app keeps its own
metrics in its ``metrics.py`` (``contact/metrics.py``: mails and the outbox).
"""

import ipaddress
import os

import prometheus_client
from django.conf import settings
from django.http import Http404, HttpResponse
from django.utils.crypto import constant_time_compare
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from prometheus_client import CollectorRegistry, Counter, Histogram, multiprocess

# A counter's "_created" series doubles every series and no dashboard here reads it.
prometheus_client.disable_created_metrics()

HTTP_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}

http_requests = Counter(
    "newsroom_http_requests",
    "Web requests answered, by method, status class (2xx…5xx) and route (URL name).",
    ["method", "status", "route"],
)
http_request_duration = Histogram(
    "newsroom_http_request_duration_seconds",
    "Time to answer a web request, by route (URL name).",
    ["route"],
)


def observe_request(*, method: str, status: int, route: str, seconds: float) -> None:
    method = method if method in HTTP_METHODS else "other"
    http_requests.labels(method=method, status=f"{status // 100}xx", route=route).inc()
    http_request_duration.labels(route=route).observe(seconds)


# Collectors that read their values when /metrics is scraped (an app's gauges of rows in
# the database), registered by the apps that own them.
_scrape_time_collectors: list = []


def register_collector(collector) -> None:
    """Have ``collector`` answer at /metrics, in multiprocess mode too.

    For an app's collectors that read at scrape time; an app registers them from
    its ``AppConfig.ready()``, so this package names no app. Counters need no
    call: prometheus-client registers them when they are made.
    """
    if collector in _scrape_time_collectors:
        return
    _scrape_time_collectors.append(collector)
    prometheus_client.REGISTRY.register(collector)


def _registry():
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return prometheus_client.REGISTRY
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    for collector in _scrape_time_collectors:
        registry.register(collector)
    return registry


def _allowed(request) -> bool:
    token = settings.METRICS_TOKEN
    authorization = request.headers.get("Authorization", "")
    if token and constant_time_compare(authorization, f"Bearer {token}"):
        return True
    # A request relayed by the reverse proxy shows the proxy's address, which may
    # well be loopback: only a direct request is judged by its address.
    if "X-Forwarded-For" in request.headers or "X-Forwarded-Proto" in request.headers:
        return False
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(network) for network in settings.METRICS_ALLOWED_IPS)


# Exempt from CSRF so that a POST from outside gets the same 404 as a GET, not a
# 403 that would give the endpoint away. It only reads.
@csrf_exempt
@never_cache
def metrics_view(request):
    """The scrape target. Anyone not allowed gets the site's ordinary 404."""
    if not _allowed(request):
        raise Http404
    body = prometheus_client.generate_latest(_registry())
    return HttpResponse(body, content_type=prometheus_client.CONTENT_TYPE_LATEST)
