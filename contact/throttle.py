"""The contact limits, counted in the database: they hold in every layout.

A limit counts what one sender (an address, a client address) did in windows of
an hour, one row per sender and window. The rows live next to the verifications
they limit, so the limits need no cache: they hold across every web process of
``make run`` and stay in force while Redis is down, when a cache-held count
would have been lost or refused every visitor.

Windows slide. The previous window's count still weighs on the current one in
proportion to the part of it that falls within the last hour, so a sender cannot
take a whole allowance just before a window boundary and another right after.

Counting is one statement (``INSERT … ON CONFLICT … DO UPDATE … WHERE … RETURNING``,
on PostgreSQL and SQLite alike): two requests can never both take the last slot,
and an attempt that is refused is not counted.
"""

import math
import time
from dataclasses import dataclass

from django.db import connection
from django.utils.crypto import salted_hmac

from .models import LimitCount

HOUR = 60 * 60


@dataclass(frozen=True)
class Limit:
    scope: str
    limit: int
    window: int = HOUR


def _digest(limit: Limit, identity: str) -> str:
    # Keyed with the site's secret: the table never holds an address, nor a plain
    # hash of one that a list of addresses would reverse.
    return salted_hmac(f"newsroom.contact.limit.{limit.scope}", identity).hexdigest()


def _weighted_previous(previous: int, elapsed: float, window: int) -> float:
    return previous * (1 - elapsed / window)


def wait_after_refusal(*, limit: Limit, previous: int, current: int, elapsed: float) -> int:
    """Seconds until one more action fits, with ``previous`` and ``current`` counted."""
    window = limit.window
    allowed = limit.limit - 1  # what may already be counted for one more to fit
    if allowed < 0:
        wait = window - elapsed  # a limit of 0 allows nothing
    elif current > allowed:
        # Wait for the next window, then for this window's weight in it to shrink enough.
        wait = (window - elapsed) + window * (1 - allowed / current)
    elif previous:
        # Wait for the previous window's weight to shrink enough.
        wait = window * (1 - (allowed - current) / previous) - elapsed
    else:
        wait = window - elapsed
    return max(math.ceil(round(wait, 6)), 1)  # round: no extra second for a float error


def take(limit: Limit, identity: str) -> int:
    """Count one action of ``identity``; return 0 if allowed, else seconds to wait."""
    now = time.time()
    start = int(now // limit.window * limit.window)
    elapsed = now - start
    digest = _digest(limit, identity)
    counts = dict(
        LimitCount.objects.filter(
            scope=limit.scope,
            identity=digest,
            window_start__in=[start - limit.window, start],
        ).values_list("window_start", "used")
    )
    previous, current = counts.get(start - limit.window, 0), counts.get(start, 0)
    # The most this window may hold after this action, the previous one's weight included.
    ceiling = math.floor(limit.limit - _weighted_previous(previous, elapsed, limit.window))
    if ceiling >= 1 and _count(limit.scope, digest, start, ceiling):
        return 0
    return wait_after_refusal(limit=limit, previous=previous, current=current, elapsed=elapsed)


def _count(scope: str, digest: str, window_start: int, ceiling: int) -> bool:
    """Add one to the window's count unless that would pass ``ceiling``; True if added."""
    table = connection.ops.quote_name(LimitCount._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (scope, identity, window_start, used) "  # noqa: S608 - the table name is ours
            "VALUES (%s, %s, %s, 1) "
            "ON CONFLICT (scope, identity, window_start) "
            f"DO UPDATE SET used = {table}.used + 1 WHERE {table}.used < %s "
            "RETURNING used",
            [scope, digest, window_start, ceiling],
        )
        return cursor.fetchone() is not None


def purge() -> int:
    """Delete the counts of windows that no longer weigh on any limit (with an hour to spare)."""
    cutoff = int(time.time()) - 3 * HOUR
    return LimitCount.objects.filter(window_start__lt=cutoff).delete()[0]
