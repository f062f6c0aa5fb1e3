"""The contact limits, counted in the database (contact/throttle.py)."""

import hashlib
import threading
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection

from contact import throttle
from contact.models import LimitCount
from tests.conftest import need_postgres_and_redis

pytestmark = pytest.mark.django_db

LIMIT = throttle.Limit(scope="test", limit=3)
# A window boundary: windows are whole hours of Unix time.
BOUNDARY = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def take_at(moment: datetime, identity: str = "jane@example.com", limit=LIMIT) -> int:
    with time_machine.travel(moment, tick=False):
        return throttle.take(limit, identity)


def test_the_limit_is_exact_and_a_refusal_is_not_counted():
    moment = BOUNDARY + timedelta(minutes=5)
    assert [take_at(moment) for _ in range(3)] == [0, 0, 0]
    refusals = [take_at(moment) for _ in range(5)]
    assert all(wait > 0 for wait in refusals)
    assert LimitCount.objects.get().used == 3
    assert take_at(moment, "someone.else@example.com") == 0  # another sender is not affected


def test_no_double_burst_across_a_window_boundary():
    for _ in range(3):
        assert take_at(BOUNDARY - timedelta(minutes=10)) == 0
    # A fixed window would allow three more right after the boundary.
    wait = take_at(BOUNDARY + timedelta(minutes=5))
    # Three counted 10 minutes before the boundary weigh 3 x 55/60 then; one more fits
    # once they weigh no more than 2, at 20 minutes past.
    assert wait == 15 * 60
    assert take_at(BOUNDARY + timedelta(minutes=5, seconds=wait - 2)) > 0
    assert take_at(BOUNDARY + timedelta(minutes=5, seconds=wait)) == 0


@pytest.mark.parametrize(
    ("previous", "current", "minute"),
    [(0, 3, 1), (0, 3, 59), (3, 0, 1), (3, 1, 30), (2, 2, 45), (6, 0, 10), (1, 3, 0)],
)
def test_the_wait_named_is_when_one_more_fits(previous, current, minute):
    digest = throttle._digest(LIMIT, "jane@example.com")
    start = int(BOUNDARY.timestamp())
    for window_start, used in ((start - 3600, previous), (start, current)):
        if used:
            LimitCount.objects.create(
                scope=LIMIT.scope, identity=digest, window_start=window_start, used=used
            )
    moment = BOUNDARY + timedelta(minutes=minute)
    wait = take_at(moment)
    assert wait > 0
    assert take_at(moment + timedelta(seconds=wait - 2)) > 0
    assert take_at(moment + timedelta(seconds=wait)) == 0


def test_a_limit_of_zero_refuses_everything():
    assert take_at(BOUNDARY, limit=throttle.Limit(scope="off", limit=0)) > 0
    assert not LimitCount.objects.exists()


def test_the_table_holds_no_address():
    take_at(BOUNDARY, "jane@example.com")
    row = LimitCount.objects.get()
    assert "jane" not in row.identity
    assert row.identity != hashlib.sha256(b"jane@example.com").hexdigest()


def test_purge_keeps_the_counts_that_still_weigh():
    take_at(BOUNDARY - timedelta(hours=5), "old@example.com")
    take_at(BOUNDARY - timedelta(minutes=30), "recent@example.com")
    with time_machine.travel(BOUNDARY, tick=False):
        assert throttle.purge() == 1
    assert LimitCount.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_never_share_the_last_slot():
    need_postgres_and_redis()
    limit = throttle.Limit(scope="race", limit=5)
    barrier = threading.Barrier(12)
    results = []

    def attempt():
        barrier.wait()
        try:
            results.append(throttle.take(limit, "203.0.113.5"))
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(results) == 12
    assert results.count(0) == 5
