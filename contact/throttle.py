"""The contact limits, counted in the database: they hold in every layout.

A limit allows one sender (an address, a client address) a number of actions in
any window of an hour. Each sender has one row per limit, holding the times of the
actions that still count; the rows live next to the verifications they limit, so
the limits need no cache. They hold across every web process of ``make run`` and
stay in force while Redis is down, when a cache-held count would have been lost
or refused every visitor.

The window slides and is exact: no hour, wherever it starts, holds more than the
limit, so no burst across a clock boundary gets a second allowance, and a sender
who used a whole allowance at once is let in again exactly an hour later.

Taking a slot locks the sender's row for the rest of the transaction (``SELECT …
FOR UPDATE`` on PostgreSQL; on SQLite every write transaction takes the database's
write lock when it begins), so two requests never both take the last slot. An
attempt that is refused is not counted.
"""

import math
import time
from dataclasses import dataclass

from django.db import transaction
from django.utils.crypto import salted_hmac

from .models import LimitRecord

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


def wait_for_slot(times: list[float], *, limit: Limit, now: float) -> int:
    """Seconds until one more action fits, ``times`` being those within the window."""
    if limit.limit <= 0:
        return limit.window  # a limit of 0 allows nothing
    # One more fits once no more than limit - 1 remain: when the limit-th latest leaves.
    leaves_at = sorted(times)[-limit.limit] + limit.window
    return max(math.ceil(round(leaves_at - now, 6)), 1)  # round: no extra second for a float error


def take(limit: Limit, identity: str) -> int:
    """Count one action of ``identity``; return 0 if allowed, else seconds to wait."""
    if limit.limit <= 0:
        return wait_for_slot([], limit=limit, now=time.time())
    digest = _digest(limit, identity)
    with transaction.atomic():
        LimitRecord.objects.bulk_create(
            [LimitRecord(scope=limit.scope, identity=digest, times=[], last_at=time.time())],
            ignore_conflicts=True,
        )
        record = LimitRecord.objects.select_for_update().get(scope=limit.scope, identity=digest)
        now = time.time()  # read once the row is ours, after any request that held it
        times = [moment for moment in record.times if moment > now - limit.window]
        if len(times) >= limit.limit:
            return wait_for_slot(times, limit=limit, now=now)
        record.times = [*times, now]
        record.last_at = max(record.last_at, now)  # processes' clocks differ a little
        record.save(update_fields=["times", "last_at"])
    return 0


def purge() -> int:
    """Delete the records of senders whose actions no longer count (an hour to spare)."""
    cutoff = time.time() - 2 * HOUR
    return LimitRecord.objects.filter(last_at__lt=cutoff).delete()[0]
