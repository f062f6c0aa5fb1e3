"""``python manage.py outbox``: what operators read, retry and probe."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from contact.models import Delivery, Message, Verification

pytestmark = pytest.mark.django_db


def verification(*, minutes_ago=0.0, state="pending", **fields):
    issued = timezone.now() - timedelta(minutes=minutes_ago)
    defaults = {
        "name": "Jane",
        "email": "jane@example.com",
        "code_nonce": "nonce",
        "code_issued_at": issued,
        "next_attempt_at": issued,
        "state": state,
    }
    return Verification.objects.create(**{**defaults, **fields})


def message(*, minutes_ago=0.0, **fields):
    received = timezone.now() - timedelta(minutes=minutes_ago)
    defaults = {
        "name": "Jane",
        "email": "jane@example.com",
        "subject": "Hello",
        "body": "Hi",
        "received_at": received,
        "next_attempt_at": received,
    }
    return Message.objects.create(**{**defaults, **fields})


def outbox(*args) -> str:
    out = StringIO()
    call_command("outbox", *args, stdout=out, skip_checks=False)  # as from the shell
    return out.getvalue()


def test_counts_each_kind_and_the_total():
    verification(minutes_ago=3)
    verification(delivery_state=Delivery.SENT)
    verification(delivery_state=Delivery.FAILED, delivery_error="SMTPDataError: 451")
    message(delivery_state=Delivery.SENT)
    message(delivery_state=Delivery.SENT)

    lines = outbox().splitlines()
    assert lines[0].split() == ["queued", "sent", "failed", "total"]
    assert lines[1].split() == ["verification", "codes", "1", "1", "1", "3"]
    assert lines[2].split() == ["editor", "notifications", "0", "2", "0", "2"]
    assert lines[3].split() == ["total", "1", "3", "1", "5"]


def test_shows_the_oldest_queued_mail_and_how_many_wait_for_a_retry():
    old = verification(minutes_ago=7)
    message(minutes_ago=2)
    verification(next_attempt_at=timezone.now() + timedelta(minutes=1))  # backing off
    text = outbox()
    assert "Oldest queued mail: 7m " in text
    assert f"(verification {old.pk})" in text
    assert "Waiting for a retry after an error: 1" in text


def test_nothing_queued_says_so():
    assert "Oldest queued mail: none waiting for a worker" in outbox()
    assert "Failed: 0" in outbox()


def test_lists_failed_mails_with_masked_address_and_last_error():
    code = verification(
        email="jane.reader@example.com",
        delivery_state=Delivery.FAILED,
        delivery_attempts=4,
        delivery_error="SMTPDataError: (451, b'4.3.0 mail\nsystem unavailable')",
    )
    note = message(
        email="bob@example.org",
        delivery_state=Delivery.FAILED,
        delivery_attempts=1,
        delivery_error="DeliveryImpossible: CONTACT_RECIPIENTS is empty",
    )
    text = outbox()
    assert "Failed: 2" in text
    assert "jane.reader" not in text
    assert "bob@" not in text
    rows = {line.split()[0]: line for line in text.splitlines()[-2:]}
    assert rows["verification"].split()[1:5] == [
        str(code.pk),
        "j***@example.com",
        "4",
        "SMTPDataError:",
    ]
    assert "4.3.0 mail system unavailable" in rows["verification"]  # on one line
    assert rows["notification"].split()[1:4] == [str(note.pk), "b***@example.org", "1"]
    assert "CONTACT_RECIPIENTS is empty" in rows["notification"]


def test_the_failed_listing_is_limited():
    for _ in range(3):
        verification(delivery_state=Delivery.FAILED, delivery_error="boom")
    text = outbox("--limit", "2")
    assert "Failed: 3" in text
    assert text.count("boom") == 2
    assert "… and 1 more" in text


def test_retry_sends_failed_mails_again(mailoutbox, settings, django_capture_on_commit_callbacks):
    settings.CONTACT_RECIPIENTS = ["desk@newsroom.test"]
    code = verification(delivery_state=Delivery.FAILED, delivery_error="SMTPDataError: 451")
    note = message(delivery_state=Delivery.FAILED, delivery_error="SMTPDataError: 451")
    used = verification(state="used", delivery_state=Delivery.FAILED, delivery_error="old")

    with django_capture_on_commit_callbacks(execute=True):
        text = outbox("--retry")

    assert "Queued 2 failed mail(s) again." in text
    assert "Left 1 alone" in text
    assert sorted(mail.to[0] for mail in mailoutbox) == ["desk@newsroom.test", "jane@example.com"]
    code.refresh_from_db()
    note.refresh_from_db()
    used.refresh_from_db()
    assert (code.delivery_state, note.delivery_state) == (Delivery.SENT, Delivery.SENT)
    assert used.delivery_state == Delivery.FAILED
    assert "Failed: 1" in text  # the report after the retry


def test_check_passes_while_mails_move():
    assert outbox("--check") == "ok: no mail waiting for a worker\n"
    verification(minutes_ago=1)
    assert outbox("--check", "--max-age", "5").startswith("ok: oldest queued mail waited 1m")


def test_check_fails_with_exit_code_1_when_a_mail_waits_too_long():
    stuck = verification(minutes_ago=6)
    with pytest.raises(CommandError) as failure:
        outbox("--check", "--max-age", "5")
    assert failure.value.returncode == 1
    assert "waited 6m " in str(failure.value)
    assert f"(verification {stuck.pk}), longer than 5m 0s" in str(failure.value)


def test_check_exit_status_from_the_command_line(capsys, monkeypatch):
    from django.db import connections

    from contact.management.commands.outbox import Command

    # The command line closes the connections when done; the test's transaction lives on.
    monkeypatch.setattr(connections, "close_all", lambda: None)

    Command().run_from_argv(["manage.py", "outbox", "--check"])  # exit status 0
    verification(minutes_ago=6)
    with pytest.raises(SystemExit) as exit_:
        Command().run_from_argv(["manage.py", "outbox", "--check", "--max-age", "5"])
    assert exit_.value.code == 1
    assert "is a worker consuming?" in capsys.readouterr().err


def test_check_counts_from_when_the_mail_was_queued_not_from_the_last_sweep():
    # A worker that stopped consuming: the sweep keeps enqueueing the row again,
    # which moves its next attempt to now; the probe must still see it is stuck.
    message(minutes_ago=10, next_attempt_at=timezone.now())
    with pytest.raises(CommandError):
        outbox("--check", "--max-age", "5")


def test_check_ignores_mails_waiting_out_a_retry_and_codes_nobody_waits_for():
    # The mail server refused; restarting the worker would not help.
    verification(minutes_ago=9, next_attempt_at=timezone.now() + timedelta(minutes=2))
    verification(minutes_ago=60, state="locked")  # never swept: nobody waits for this code
    assert outbox("--check", "--max-age", "5").startswith("ok:")
