"""Handing a task to the broker once the transaction commits, never failing the request.

The rule the outboxes share (DESIGN.md: enqueue after commit, and keep an outbox):
the work is already stored in the database, so a broker that cannot be reached
must not break the editor's save or the visitor's step. The caller says what
happens instead (``unreachable``); a periodic sweep enqueues the work again.
"""

import random
from collections.abc import Callable

from django.db import transaction
from kombu.exceptions import OperationalError as BrokerError


def after_commit(
    task,
    *,
    kwargs: dict,
    unreachable: Callable[[Exception], None],
    task_id: str | None = None,
    robust: bool = False,
) -> None:
    """Send ``task`` with ``kwargs`` (and ``task_id``) when the current transaction
    commits; ``unreachable(error)`` when the broker cannot take it. ``robust``: an
    error of any other kind is logged by Django, not raised to the caller."""

    def publish() -> None:
        try:
            # retry=False: fail at once rather than keep a person waiting.
            task.apply_async(kwargs=kwargs, task_id=task_id, retry=False)
        except (BrokerError, OSError) as exc:
            unreachable(exc)

    transaction.on_commit(publish, robust=robust)


def retry_delay(attempt: int, *, base: float, most: float) -> float:
    """Capped exponential backoff with equal jitter, in seconds, before retry ``attempt``
    (0-based): between half and all of ``base * 2**attempt``, never more than ``most``.

    The jitter keeps tasks that failed together (a mail server or an edge that went
    away) from all coming back at the same moment.
    """
    ceiling = min(most, base * 2**attempt)
    return random.uniform(ceiling / 2, ceiling)  # noqa: S311 - jitter, not security
