"""The purge outbox's rules: record a purge in the edit's transaction, send it, sweep, prune."""

import logging
import urllib.error
import urllib.request
from datetime import timedelta

from django.conf import settings
from django.db.models import F
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from newsroom import enqueue
from newsroom.pagecache.edge import edge_tags, purge_chunks
from newsroom.pagecache.store import GLOBAL_TAG

from . import metrics
from .models import Purge

logger = logging.getLogger(__name__)

# The header Varnish checks (docs/varnish/newsroom.vcl) against the token it was given.
TOKEN_HEADER = "X-Purge-Token"  # noqa: S105 - a header name, not a secret
# A key no page carries: what ``edge --check`` purges to see that an edge answers.
CHECK_TAG = "newsroom-edge-check"
# Rows one send takes at most; a task sends batches until nothing is left, or
# MAX_BATCHES of them while edits keep coming.
BATCH = 500
MAX_BATCHES = 20
# Retries of a task after a transient error, with backoff between half and all of
# min(RETRY_BASE * 2**n, RETRY_MAX) seconds; after them the sweep takes over.
RETRIES = 5
RETRY_BASE = 1.0
RETRY_MAX = 30.0
# Sent rows are kept this long (what ``manage.py edge`` shows), then pruned; so are
# unsent rows of an edge no longer configured.
KEEP = timedelta(days=1)


class PurgeFailed(Exception):
    """An edge did not take a purge. ``transient``: worth retrying soon."""

    def __init__(self, message: str, *, transient: bool):
        super().__init__(message)
        self.transient = transient

    @property
    def outcome(self) -> str:
        return "unavailable" if self.transient else "refused"


def purge_record(tags) -> None:
    """Record a purge of ``tags`` for every configured edge, in the current transaction,
    and send it after the commit. The page cache calls it on each invalidation.

    The editor's save never waits for an edge or fails with the broker: the task is
    handed over after the commit, and a broker that cannot take it leaves the rows
    for the sweep.
    """
    urls = settings.EDGE_PURGE_URLS
    if not urls or not tags:
        return
    text = " ".join(edge_tags(tags))
    Purge.objects.bulk_create([Purge(edge=url, tags=text) for url in urls])
    from . import tasks

    for url in urls:

        def unreachable(exc: Exception, url=url) -> None:
            logger.warning("broker unreachable; purge of %s left for the sweep: %s", url, exc)

        enqueue.after_commit(
            tasks.purge, kwargs={"edge": url}, unreachable=unreachable, robust=True
        )


def send_purge(edge: str, keys: str) -> int:
    """One authenticated ``PURGE`` of ``keys`` (space-separated) at ``edge``; how many
    objects the edge says it dropped (0 when it does not say)."""
    request = urllib.request.Request(  # noqa: S310 - http(s) only (settings.edge_settings)
        edge,
        method="PURGE",
        headers={"xkey": keys, TOKEN_HEADER: settings.EDGE_PURGE_TOKEN},
    )
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=settings.EDGE_PURGE_TIMEOUT) as response:
            body = response.read(200).decode(errors="replace")
    except urllib.error.HTTPError as exc:
        raise PurgeFailed(f"HTTP {exc.code} {exc.reason}", transient=exc.code >= 500) from exc
    except (OSError, urllib.error.URLError) as exc:
        # Refused, reset, timed out, no route: the edge may be back in a moment.
        raise PurgeFailed(f"{type(exc).__name__}: {exc}", transient=True) from exc
    words = body.split()
    return int(words[-1]) if words and words[-1].isdigit() else 0


def purge_send(*, edge: str) -> int:
    """Send every unsent purge of ``edge``: one ``PURGE`` per header's worth of tags.

    Returns how many rows were sent. On failure each row taken counts an attempt and
    keeps the error, stays unsent, and ``PurgeFailed`` propagates to the task. Rows
    are not locked: two sends of one row are harmless, and a sent row is never
    taken again.
    """
    sent = 0
    for _ in range(MAX_BATCHES):
        rows = list(
            Purge.objects.unsent()
            .filter(edge=edge)
            .order_by("pk")
            .values_list("pk", "tags")[:BATCH]
        )
        if not rows:
            return sent
        ids = [pk for pk, _ in rows]
        tags = {tag for _, text in rows for tag in text.split()}
        taken = Purge.objects.filter(pk__in=ids, sent_at__isnull=True)
        try:
            for keys in purge_chunks(tags):
                send_purge(edge, keys)
        except PurgeFailed as exc:
            taken.update(attempts=F("attempts") + 1, last_error=str(exc)[:1000])
            metrics.purge_attempts.labels(edge=edge, outcome=exc.outcome).inc()
            raise
        sent += taken.update(sent_at=timezone.now(), attempts=F("attempts") + 1, last_error="")
        metrics.purge_attempts.labels(edge=edge, outcome="sent").inc()
        logger.info("edge %s purged %d tag(s) of %d row(s)", edge, len(tags), len(ids))
    return sent  # more keep coming: the tasks enqueued with them send the rest


def retry_delay(attempt: int) -> float:
    """Capped exponential backoff with equal jitter before retry ``attempt`` (0-based)."""
    return enqueue.retry_delay(attempt, base=RETRY_BASE, most=RETRY_MAX)


def purge_all() -> dict[str, str]:
    """Purge every page from every edge now (a deploy: pages of the previous release).

    Recorded as rows first, like any purge, so an edge that does not answer now gets
    it from the sweep. Returns each edge's outcome.
    """
    outcomes = {}
    text = " ".join(edge_tags([GLOBAL_TAG]))
    for url in settings.EDGE_PURGE_URLS:
        Purge.objects.create(edge=url, tags=text)
        try:
            purge_send(edge=url)
        except PurgeFailed as exc:
            outcomes[url] = f"not yet ({exc}); the sweep sends it"
        else:
            outcomes[url] = "purged"
    return outcomes


def purge_sweep() -> int:
    """Hand each configured edge with purges left unsent to a new task; prune old rows.

    A row is left for the sweep once it is ``EDGE_PURGE_STALE_AFTER`` old: the broker
    did not take its task, its task was lost, or its retries ran out. Returns how
    many edges were handed over.
    """
    from . import tasks

    now = timezone.now()
    stale = now - timedelta(seconds=settings.EDGE_PURGE_STALE_AFTER)
    edges = set(
        Purge.objects.unsent()
        .filter(created_at__lt=stale, edge__in=settings.EDGE_PURGE_URLS)
        .values_list("edge", flat=True)
        .distinct()
    )
    handed = 0
    for edge in sorted(edges):
        try:
            tasks.purge.apply_async(kwargs={"edge": edge}, retry=False)
        except (BrokerError, OSError) as exc:
            logger.warning("broker unreachable; purge of %s waits for a later sweep: %s", edge, exc)
        else:
            handed += 1
    old = now - KEEP
    Purge.objects.filter(sent_at__lt=old).delete()
    Purge.objects.unsent().filter(created_at__lt=old).exclude(
        edge__in=settings.EDGE_PURGE_URLS
    ).delete()
    return handed
