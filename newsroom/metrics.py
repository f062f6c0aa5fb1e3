"""Prometheus metrics, served at /metrics to the operators' scraper only.

Counters and the latency histogram live in the process that counts: web
requests in the web process, mails in the Celery worker that sends them. With
``PROMETHEUS_MULTIPROC_DIR`` set (prometheus-client's multiprocess mode) the
processes of one machine write to that folder and /metrics sums them; without
it each process answers with its own counts. The outbox gauges are read from
the database at scrape time, so every process reports the same, global values.
"""

import ipaddress
import logging
import os

import prometheus_client
from django.conf import settings
from django.db import DatabaseError
from django.db.models import Count, Min, Q
from django.http import Http404, HttpResponse
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from prometheus_client import CollectorRegistry, Counter, Histogram, multiprocess
from prometheus_client.core import GaugeMetricFamily

logger = logging.getLogger(__name__)

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
mail_sent = Counter(
    "newsroom_mail_sent",
    "Mails handed to the mail server, by kind (verification, notification).",
    ["kind"],
)
mail_failed = Counter(
    "newsroom_mail_failed",
    "Mails marked failed for good (no more retries), by kind.",
    ["kind"],
)
mail_retries = Counter(
    "newsroom_mail_retries",
    "Transient mail errors that scheduled a retry, by kind.",
    ["kind"],
)


def mail_kind(model) -> str:
    """The ``kind`` label of an outbox model: what the mail is for."""
    return {"Verification": "verification", "Message": "notification"}[model.__name__]


def observe_request(*, method: str, status: int, route: str, seconds: float) -> None:
    method = method if method in HTTP_METHODS else "other"
    http_requests.labels(method=method, status=f"{status // 100}xx", route=route).inc()
    http_request_duration.labels(route=route).observe(seconds)


class OutboxCollector:
    """Queued and failed mails and the age of the oldest queued one, read at scrape time.

    One aggregate query per kind. A queued verification counts only while it is
    pending, as in the outbox sweep: a code for an attempt that has ended is never sent.
    """

    def describe(self):
        # Describing nothing keeps registration from running the queries.
        return []

    def collect(self):
        from contact.models import Delivery, Message, Verification

        now = timezone.now()
        oldest = GaugeMetricFamily(
            "newsroom_outbox_oldest_queued_age_seconds",
            "Seconds since the oldest mail still queued was queued (0: none queued).",
            labels=["kind"],
        )
        queued = GaugeMetricFamily(
            "newsroom_outbox_queued", "Mails waiting to be sent.", labels=["kind"]
        )
        failed = GaugeMetricFamily(
            "newsroom_outbox_failed", "Mails that failed for good.", labels=["kind"]
        )
        kinds = (
            # When the mail in hand was queued: a resend queues a new code.
            (Verification, Q(state=Verification.State.PENDING), "code_issued_at"),
            (Message, Q(), "received_at"),
        )
        try:
            for model, pending, queued_at in kinds:
                is_queued = Q(pending, delivery_state=Delivery.QUEUED)
                row = model.objects.aggregate(
                    queued=Count("pk", filter=is_queued),
                    failed=Count("pk", filter=Q(delivery_state=Delivery.FAILED)),
                    oldest=Min(queued_at, filter=is_queued),
                )
                kind = mail_kind(model)
                age = (now - row["oldest"]).total_seconds() if row["oldest"] else 0.0
                oldest.add_metric([kind], max(age, 0.0))
                queued.add_metric([kind], row["queued"])
                failed.add_metric([kind], row["failed"])
        except DatabaseError as exc:
            # The database is down: /readyz says so; the process metrics still answer.
            logger.warning("metrics: outbox not readable: %s", exc)
            return
        yield from (oldest, queued, failed)


outbox_collector = OutboxCollector()
prometheus_client.REGISTRY.register(outbox_collector)


def _registry():
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return prometheus_client.REGISTRY
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    registry.register(outbox_collector)
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
