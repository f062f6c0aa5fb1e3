from datetime import timedelta

import pytest
from django.utils import timezone

from contact.models import Verification

NOW = timezone.now()


@pytest.mark.parametrize(
    ("state", "verified_minutes_ago", "step", "ended"),
    [
        ("pending", None, Verification.STEP_CODE, None),
        ("verified", 1, Verification.STEP_MESSAGE, None),
        ("verified", 31, None, "expired"),
        ("used", 1, None, "used"),
        ("locked", None, None, "locked"),
    ],
)
def test_where_a_verification_stands(state, verified_minutes_ago, step, ended, settings):
    settings.CONTACT_VERIFIED_TTL = 30 * 60
    verified_at = NOW - timedelta(minutes=verified_minutes_ago) if verified_minutes_ago else None
    verification = Verification(state=state, verified_at=verified_at, code_issued_at=NOW)

    assert verification.step(NOW) == step
    if ended:
        assert verification.ended_reason(NOW) == ended


def test_the_resend_wait_counts_down_in_whole_seconds_and_the_cap_is_kept(settings):
    settings.CONTACT_RESEND_COOLDOWN = 60
    settings.CONTACT_MAX_RESENDS = 3
    verification = Verification(code_issued_at=NOW, resends=2)

    assert verification.resend_wait(NOW + timedelta(seconds=0.5)) == 60
    assert verification.resend_wait(NOW + timedelta(seconds=59.5)) == 1
    assert verification.resend_wait(NOW + timedelta(seconds=60)) == 0
    assert verification.resends_left() == 1
    verification.resends = 5
    assert verification.resends_left() == 0
