"""The contact app's Prometheus metrics: mails sent, failed and retried, and the outbox.

The counters count in the process that sends (the Celery worker); the outbox
gauges are read from the database when /metrics is scraped, so every process
reports the same, global values. ``ContactConfig.ready()`` registers the gauges
with ``newsroom.metrics``, which serves them.
"""

import logging

from django.db import DatabaseError
from django.utils import timezone
from prometheus_client import Counter
from prometheus_client.core import GaugeMetricFamily

from .models import OUTBOX_MODELS

logger = logging.getLogger(__name__)

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


class OutboxCollector:
    """Queued and failed mails and the age of the oldest queued one, read at scrape time.

    One aggregate query per kind, asked of the outbox QuerySet (``contact.models``), so
    "queued" means what the sweep and ``manage.py outbox`` mean: a code for an
    attempt that has ended is never sent and is not counted.
    """

    def describe(self):
        # Describing nothing keeps registration from running the queries.
        return []

    def collect(self):
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
        try:
            for model in OUTBOX_MODELS:
                row = model.objects.summary()
                kind = model.OUTBOX_KIND
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
