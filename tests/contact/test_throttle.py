"""The contact limits, counted in the database (contact/throttle.py)."""

import hashlib
import threading
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from hypothesis import given, settings
from hypothesis import strategies as st

from contact import throttle
from contact.models import LimitRecord
from tests.conftest import need_postgres_and_redis

pytestmark = pytest.mark.django_db

LIMIT = throttle.Limit(scope="test", limit=3)
# A clock hour's boundary, where a fixed hourly window would start afresh.
BOUNDARY = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def take_at(moment: datetime, identity: str = "jane@example.com", limit=LIMIT) -> int:
    with time_machine.travel(moment, tick=False):
        return throttle.take(limit, identity)


def test_the_limit_is_exact_and_a_refusal_is_not_counted():
    moment = BOUNDARY + timedelta(minutes=5)
    assert [take_at(moment) for _ in range(3)] == [0, 0, 0]
    refusals = [take_at(moment) for _ in range(5)]
    assert all(wait > 0 for wait in refusals)
    assert len(LimitRecord.objects.get().times) == 3
    assert take_at(moment, "someone.else@example.com") == 0  # another sender is not affected


def test_no_double_burst_across_a_clock_hour():
    for _ in range(3):
        assert take_at(BOUNDARY - timedelta(minutes=10)) == 0
    # A fixed window would allow three more right after the boundary; these three
    # are within the last hour until 50 minutes past it.
    wait = take_at(BOUNDARY + timedelta(minutes=5))
    assert wait == 45 * 60
    assert take_at(BOUNDARY + timedelta(minutes=5, seconds=wait - 1)) > 0
    assert take_at(BOUNDARY + timedelta(minutes=5, seconds=wait)) == 0


def test_a_whole_allowance_taken_at_once_is_back_an_hour_later():
    moment = BOUNDARY + timedelta(minutes=1)
    assert [take_at(moment) for _ in range(3)] == [0, 0, 0]
    wait = take_at(moment)
    assert wait == 3600
    assert take_at(moment + timedelta(seconds=wait - 1)) > 0
    assert take_at(moment + timedelta(seconds=wait)) == 0


@pytest.mark.parametrize(
    ("minutes", "now", "wait"),
    [
        # Minutes of the counted actions, the minute of the attempt, the wait named.
        ([0, 0, 0], 1, 59 * 60),
        ([10, 30, 50], 59, 11 * 60),  # the first of the three leaves at 70
        ([-50, -10, 2], 5, 5 * 60),  # one from the previous clock hour leaves at 10
        ([-20, -5, 20], 25, 15 * 60),  # the first leaves at 40
    ],
)
def test_the_wait_named_is_when_one_more_fits(minutes, now, wait):
    for minute in minutes:
        assert take_at(BOUNDARY + timedelta(minutes=minute)) == 0
    moment = BOUNDARY + timedelta(minutes=now)
    assert take_at(moment) == wait
    assert take_at(moment + timedelta(seconds=wait - 1)) > 0
    assert take_at(moment + timedelta(seconds=wait)) == 0


@settings(max_examples=40, deadline=None, database=None)
@given(gaps=st.lists(st.integers(min_value=0, max_value=1800), min_size=1, max_size=25))
def test_no_hour_ever_holds_more_than_the_limit(gaps):
    """Whenever a sender tries: allowed exactly while the last hour holds fewer than
    the limit, and a refusal names the moment one more fits."""
    LimitRecord.objects.all().delete()
    moment, allowed = BOUNDARY, []
    for gap in gaps:
        moment += timedelta(seconds=gap)
        in_last_hour = [t for t in allowed if t > moment - timedelta(hours=1)]
        wait = take_at(moment)
        if len(in_last_hour) < LIMIT.limit:
            assert wait == 0
            allowed.append(moment)
        else:
            fits = in_last_hour[-LIMIT.limit] + timedelta(hours=1)
            assert wait == (fits - moment).total_seconds()


def test_a_limit_of_zero_refuses_everything():
    assert take_at(BOUNDARY, limit=throttle.Limit(scope="off", limit=0)) > 0
    assert not LimitRecord.objects.exists()


def test_the_table_holds_no_address():
    take_at(BOUNDARY, "jane@example.com")
    row = LimitRecord.objects.get()
    assert "jane" not in row.identity
    assert row.identity != hashlib.sha256(b"jane@example.com").hexdigest()


def test_purge_keeps_the_records_that_still_count():
    take_at(BOUNDARY - timedelta(hours=5), "old@example.com")
    take_at(BOUNDARY - timedelta(minutes=30), "recent@example.com")
    with time_machine.travel(BOUNDARY, tick=False):
        assert throttle.purge() == 1
    assert LimitRecord.objects.count() == 1


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
    assert all(0 < wait <= 3600 for wait in results if wait)
