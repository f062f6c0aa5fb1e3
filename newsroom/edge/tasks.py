"""Thin Celery tasks: send an edge's unsent purges, retried on transient errors; the sweep."""

import logging

from celery import shared_task
from django.conf import settings

from . import services

logger = logging.getLogger(__name__)


@shared_task(bind=True, name="edge.purge", ignore_result=True, max_retries=services.RETRIES)
def purge(self, *, edge: str) -> None:
    """Send ``edge`` every purge it has not had yet (``services.purge_send``).

    An edge that is down or answers 5xx is tried again with backoff, ``RETRIES``
    times; then, and for an edge that refuses (a wrong token), the rows stay
    unsent, with their error, for the sweep, ``manage.py edge`` and ``/metrics``.
    """
    if edge not in settings.EDGE_PURGE_URLS:
        logger.info("purge skipped: %s is not in EDGE_PURGE_URLS any more", edge)
        return
    try:
        services.purge_send(edge=edge)
    except services.PurgeFailed as exc:
        if exc.transient and self.request.retries < services.RETRIES:
            delay = services.retry_delay(self.request.retries)
            logger.warning("purge of %s failed: %s; retry in %.1fs", edge, exc, delay)
            raise self.retry(countdown=delay, exc=exc) from exc
        logger.error("purge of %s failed: %s; left for the sweep", edge, exc)


@shared_task(name="edge.purge_sweep", ignore_result=True)
def purge_sweep() -> None:
    services.purge_sweep()
