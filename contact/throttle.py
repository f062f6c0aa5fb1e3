"""Fixed-window rate limits in the cache (Redis in production, shared by all processes)."""

import hashlib
import time
from dataclasses import dataclass

from django.core.cache import cache

HOUR = 60 * 60


@dataclass(frozen=True)
class Limit:
    scope: str
    limit: int
    window: int = HOUR


def _key(limit: Limit, identity: str, window_start: int) -> str:
    # Hash the identity: the cache never holds an email address or IP in clear.
    digest = hashlib.sha256(identity.encode()).hexdigest()[:32]
    return f"throttle:{limit.scope}:{digest}:{window_start}"


def _window(limit: Limit) -> tuple[int, int]:
    now = int(time.time())
    start = now - now % limit.window
    return start, start + limit.window - now


def take(limit: Limit, identity: str) -> int:
    """Count one action of ``identity``; return 0 if allowed, else seconds to wait.

    Counting first and comparing after keeps the limit exact across processes:
    ``incr`` is atomic on Redis, so two requests can never both take the last slot.
    """
    start, remaining = _window(limit)
    key = _key(limit, identity, start)
    if cache.add(key, 1, timeout=remaining + 5):
        used = 1
    else:
        try:
            used = cache.incr(key)
        except ValueError:  # expired between add() and incr()
            cache.add(key, 1, timeout=remaining + 5)
            used = 1
    return 0 if used <= limit.limit else remaining


def peek(limit: Limit, identity: str) -> int:
    """Seconds ``identity`` must wait before its next action, without counting one."""
    start, remaining = _window(limit)
    return remaining if cache.get(_key(limit, identity, start), 0) >= limit.limit else 0
