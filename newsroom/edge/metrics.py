"""The edge purges' Prometheus metrics: attempts by outcome, and the unsent rows per edge.

The counter counts in the process that sends (the Celery worker, or ``manage.py
edge``); the gauges are read from the database when /metrics is scraped, so every
process reports the same values. ``EdgeConfig.ready()`` registers them.
"""

import logging

from django.conf import settings
from django.db import DatabaseError
from django.utils import timezone
from prometheus_client import Counter
from prometheus_client.core import GaugeMetricFamily

from .models import Purge

logger = logging.getLogger(__name__)

purge_attempts = Counter(
    "newsroom_edge_purge_attempts",
    "PURGE requests to an edge, by edge and outcome (sent, unavailable: refused "
    "connection, timeout or 5xx, retried; refused: 4xx, a wrong token or ACL).",
    ["edge", "outcome"],
)


class PurgeCollector:
    """Unsent purges and the age of the oldest per edge (every configured edge, 0 when
    none), read at scrape time in one query (none without edges)."""

    def describe(self):
        # Describing nothing keeps registration from running the query.
        return []

    def collect(self):
        unsent = GaugeMetricFamily(
            "newsroom_edge_purge_unsent", "Purges an edge has not taken yet.", labels=["edge"]
        )
        oldest = GaugeMetricFamily(
            "newsroom_edge_purge_oldest_unsent_age_seconds",
            "Seconds since the oldest purge an edge has not taken was recorded (0: none).",
            labels=["edge"],
        )
        if not settings.EDGE_PURGE_URLS:
            return  # no edge, no query: the sweep prunes what a removed edge left
        try:
            summary = Purge.objects.summary_by_edge()
        except DatabaseError as exc:
            logger.warning("metrics: purge outbox not readable: %s", exc)
            return
        now = timezone.now()
        for edge in sorted({*settings.EDGE_PURGE_URLS, *summary}):
            row = summary.get(edge, {"unsent": 0, "oldest": None})
            unsent.add_metric([edge], row["unsent"])
            age = (now - row["oldest"]).total_seconds() if row["oldest"] else 0.0
            oldest.add_metric([edge], max(age, 0.0))
        yield from (unsent, oldest)


purge_collector = PurgeCollector()
