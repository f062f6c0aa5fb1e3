"""The mail tasks, called directly (Celery runs them inline in unit tests)."""

import smtplib
import uuid
from datetime import timedelta

import pytest
import time_machine
from celery.exceptions import SoftTimeLimitExceeded
from django.core.mail.backends.locmem import EmailBackend
from django.utils import timezone

from contact import services, tasks
from contact.models import Delivery, Message, Verification

pytestmark = pytest.mark.django_db


@pytest.fixture
def verification():
    return Verification.objects.create(
        name="Jane", email="jane@example.com", code_nonce="abc", next_attempt_at=timezone.now()
    )


@pytest.fixture
def smtp(monkeypatch):
    """A mail server that answers with the errors in ``smtp.errors``, then accepts."""

    class Server:
        errors: list[Exception] = []
        calls = 0

    real_send = EmailBackend.send_messages

    def send_messages(backend, messages):
        Server.calls += 1
        if Server.errors:
            raise Server.errors.pop(0)
        return real_send(backend, messages)

    monkeypatch.setattr(EmailBackend, "send_messages", send_messages)
    return Server


def test_a_gone_row_is_logged_and_skipped(mailoutbox, caplog):
    missing = str(uuid.uuid4())
    tasks.send_verification_code.apply(kwargs={"verification_id": missing}).get()
    tasks.notify_editors.apply(kwargs={"message_id": 987654}).get()
    assert mailoutbox == []
    assert "is gone" in caplog.text


@pytest.mark.parametrize("state", [Verification.State.LOCKED, Verification.State.VERIFIED])
def test_a_code_for_a_verification_that_moved_on_is_not_sent_nor_counted(
    verification, smtp, mailoutbox, caplog, state
):
    Verification.objects.filter(pk=verification.pk).update(state=state)

    tasks.send_verification_code.apply(kwargs={"verification_id": str(verification.pk)})

    verification.refresh_from_db()
    assert (smtp.calls, mailoutbox) == (0, [])
    assert verification.delivery_attempts == 0
    assert "no longer worth sending" in caplog.text


def test_a_transient_error_is_retried_then_delivered(verification, smtp, mailoutbox, settings):
    settings.CONTACT_MAIL_RETRY_BASE = 0.01
    smtp.errors = [smtplib.SMTPServerDisconnected("lost"), ConnectionRefusedError(111, "no")]
    tasks.send_verification_code.apply(kwargs={"verification_id": str(verification.pk)})
    verification.refresh_from_db()
    assert smtp.calls == 3
    assert len(mailoutbox) == 1
    assert verification.delivery_state == Delivery.SENT
    assert verification.delivery_attempts == 3
    assert verification.delivery_error == ""


def test_a_retry_records_the_error_and_when_it_is_due(verification, settings):
    settings.CONTACT_MAIL_RETRY_BASE = 60
    before = timezone.now()
    assert services.delivery_claim(model=Verification, pk=verification.pk, task_id="t1")
    delay = services.delivery_record_failure(
        model=Verification,
        pk=verification.pk,
        task_id="t1",
        error=smtplib.SMTPResponseException(451, b"greylisted"),
    )
    verification.refresh_from_db()
    assert 30 <= delay <= 60  # the first retry: between half and all of the base
    assert verification.delivery_state == Delivery.QUEUED
    assert verification.delivery_attempts == 1
    assert "greylisted" in verification.delivery_error
    assert (verification.next_attempt_at - before).total_seconds() >= delay


def test_retries_end_in_failed_with_the_last_error(verification, smtp, mailoutbox, settings):
    settings.CONTACT_MAIL_RETRY_BASE = 0.001
    settings.CONTACT_MAIL_MAX_RETRIES = 3
    smtp.errors = [ConnectionRefusedError(111, "refused")] * 10
    tasks.send_verification_code.apply(kwargs={"verification_id": str(verification.pk)})
    verification.refresh_from_db()
    assert smtp.calls == 4
    assert mailoutbox == []
    assert verification.delivery_state == Delivery.FAILED
    assert verification.delivery_attempts == 4
    assert "refused" in verification.delivery_error


def test_a_permanent_refusal_fails_at_once(verification, smtp, mailoutbox):
    smtp.errors = [smtplib.SMTPRecipientsRefused({"jane@example.com": (550, b"no such user")})]
    tasks.send_verification_code.apply(kwargs={"verification_id": str(verification.pk)})
    verification.refresh_from_db()
    assert smtp.calls == 1
    assert verification.delivery_state == Delivery.FAILED
    assert "no such user" in verification.delivery_error


def test_retry_of_a_failed_row_sends_it(
    verification, smtp, mailoutbox, django_capture_on_commit_callbacks
):
    Verification.objects.filter(pk=verification.pk).update(
        delivery_state=Delivery.FAILED, delivery_error="earlier"
    )
    verification.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        assert services.delivery_retry(rows=[verification]) == 1
    verification.refresh_from_db()
    assert verification.delivery_state == Delivery.SENT
    assert len(mailoutbox) == 1


def test_notification_task_sends_once(settings, mailoutbox):
    settings.CONTACT_RECIPIENTS = ["desk@newsroom.test"]
    message = Message.objects.create(name="Jane", email="jane@example.com", subject="S", body="B")
    tasks.notify_editors.apply(kwargs={"message_id": message.pk})
    tasks.notify_editors.apply(kwargs={"message_id": message.pk})
    assert len(mailoutbox) == 1


def test_periodic_tasks_are_scheduled(settings):
    schedule = {
        entry["task"]: entry["schedule"] for entry in settings.CELERY_BEAT_SCHEDULE.values()
    }
    assert schedule["contact.outbox_sweep"] == 60
    assert schedule["contact.purge_verifications"] == 3600
    assert tasks.outbox_sweep.name in schedule and tasks.purge_verifications.name in schedule


def test_retry_leaves_a_code_alone_once_its_verification_is_over(
    verification, smtp, mailoutbox, django_capture_on_commit_callbacks
):
    Verification.objects.filter(pk=verification.pk).update(
        delivery_state=Delivery.FAILED, state=Verification.State.LOCKED
    )
    verification.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        assert services.delivery_retry(rows=[verification]) == 0
    verification.refresh_from_db()
    assert verification.delivery_state == Delivery.FAILED
    assert mailoutbox == []


# One retry budget, kept on the row --------------------------------------------------------

BUSY = smtplib.SMTPRecipientsRefused({"jane@example.com": (450, b"4.2.1 mailbox busy")})


def test_retries_go_on_to_the_configured_count_then_fail(verification, smtp, settings):
    """More retries than Celery's own default of 3: the row's budget decides, not Celery."""
    settings.CONTACT_MAIL_RETRY_BASE = 0.001
    settings.CONTACT_MAIL_MAX_RETRIES = 5
    smtp.errors = [BUSY] * 20
    tasks.send_verification_code.apply(kwargs={"verification_id": str(verification.pk)})
    verification.refresh_from_db()
    assert smtp.calls == 6
    assert verification.delivery_state == Delivery.FAILED
    assert verification.delivery_attempts == 6
    assert "j***@example.com" in verification.delivery_error
    assert "jane@example.com" not in verification.delivery_error


def sweep_after(minutes: float, django_capture_on_commit_callbacks) -> int:
    """Run beat's outbox sweep ``minutes`` from now; the tasks it enqueues run at once."""
    with (
        time_machine.travel(timezone.now() + timedelta(minutes=minutes)),
        django_capture_on_commit_callbacks(execute=True),
    ):
        return services.outbox_sweep()


def test_a_task_the_sweep_starts_again_goes_on_counting(
    verification, smtp, settings, django_capture_on_commit_callbacks
):
    settings.CONTACT_MAIL_RETRY_BASE = 0.001
    settings.CONTACT_MAIL_MAX_RETRIES = 3
    # Two refusals, then the task is cut off (its hard time limit): the row stays queued.
    smtp.errors = [BUSY, BUSY, SoftTimeLimitExceeded()]
    tasks.send_verification_code.apply(kwargs={"verification_id": str(verification.pk)})
    assert smtp.calls == 3

    smtp.errors = [BUSY] * 10
    assert sweep_after(10, django_capture_on_commit_callbacks) == 1  # a new task...
    verification.refresh_from_db()
    assert smtp.calls == 4  # ...makes the one attempt left of four
    assert verification.delivery_state == Delivery.FAILED
    assert verification.delivery_attempts == 4
    assert sweep_after(20, django_capture_on_commit_callbacks) == 0


def test_attempts_lost_with_their_worker_count_too(
    verification, smtp, settings, django_capture_on_commit_callbacks
):
    """A mail whose every attempt dies with its worker ends failed, not retried for ever."""
    settings.CONTACT_MAIL_MAX_RETRIES = 1
    smtp.errors = [SoftTimeLimitExceeded()] * 10
    tasks.send_verification_code.apply(kwargs={"verification_id": str(verification.pk)})
    assert sweep_after(10, django_capture_on_commit_callbacks) == 1
    assert smtp.calls == 2
    assert sweep_after(20, django_capture_on_commit_callbacks) == 1
    assert smtp.calls == 2  # no third attempt
    verification.refresh_from_db()
    assert verification.delivery_state == Delivery.FAILED
    assert verification.delivery_attempts == 2
    assert verification.delivery_error.startswith(services.ATTEMPT_LOST)
    assert sweep_after(30, django_capture_on_commit_callbacks) == 0


def started_with_its_task_in_the_broker(django_capture_on_commit_callbacks):
    """Step 1 done; its code mail's task waits in the broker: call the result to deliver it."""
    with django_capture_on_commit_callbacks() as callbacks:
        services.verification_start(
            name="Jane", email="jane@example.com", article=None, client_ip="203.0.113.7"
        )
    (publish,) = callbacks
    return publish


def test_a_sweep_while_the_task_is_sending_starts_no_second_task(
    mailoutbox, monkeypatch, django_capture_on_commit_callbacks
):
    """The task began late (its worker was busy) and is still talking to the mail
    server when beat's sweep runs: a second task would mail the code twice."""
    sweeps = []
    real_send = EmailBackend.send_messages

    def send_while_beat_sweeps(backend, messages):
        if not sweeps:
            with django_capture_on_commit_callbacks(execute=True):
                sweeps.append(services.outbox_sweep())
        return real_send(backend, messages)

    monkeypatch.setattr(EmailBackend, "send_messages", send_while_beat_sweeps)
    with time_machine.travel(timezone.now(), tick=False) as clock:
        publish = started_with_its_task_in_the_broker(django_capture_on_commit_callbacks)
        clock.shift(timedelta(minutes=3))
        publish()

    assert sweeps == [0]
    assert len(mailoutbox) == 1


def test_a_lost_task_redelivered_after_the_sweep_replaced_it_sends_nothing(
    mailoutbox, monkeypatch, django_capture_on_commit_callbacks
):
    """Redis hands a dead worker's task to another one only after the visibility
    timeout; by then the sweep has given the mail to a new task, which sends it."""
    first = started_with_its_task_in_the_broker(django_capture_on_commit_callbacks)
    with (
        time_machine.travel(timezone.now() + timedelta(minutes=3)),
        django_capture_on_commit_callbacks() as callbacks,
    ):
        assert services.outbox_sweep() == 1
    (second,) = callbacks
    redelivered = []
    real_send = EmailBackend.send_messages

    def send_as_the_old_task_comes_back(backend, messages):
        if not redelivered:
            redelivered.append(True)
            first()  # the old task, handed to another worker meanwhile
        return real_send(backend, messages)

    monkeypatch.setattr(EmailBackend, "send_messages", send_as_the_old_task_comes_back)
    second()
    assert redelivered
    assert len(mailoutbox) == 1


def test_a_sweep_leaves_a_mail_alone_while_its_retry_waits_out_the_backoff(
    verification, settings, django_capture_on_commit_callbacks
):
    settings.CONTACT_MAIL_RETRY_BASE = 60
    assert services.delivery_claim(model=Verification, pk=verification.pk, task_id="t1")
    delay = services.delivery_record_failure(
        model=Verification, pk=verification.pk, task_id="t1", error=BUSY
    )
    stale = settings.CONTACT_OUTBOX_STALE_AFTER
    # Held until the retry is due, and CONTACT_OUTBOX_STALE_AFTER longer for it to start.
    assert sweep_after((delay + stale - 5) / 60, django_capture_on_commit_callbacks) == 0
    verification.refresh_from_db()
    assert verification.delivery_task_id == "t1"
    # The retry never came (its worker and the broker's copy were lost): a new task.
    with (
        time_machine.travel(timezone.now() + timedelta(seconds=delay + stale + 5)),
        django_capture_on_commit_callbacks() as callbacks,
    ):
        assert services.outbox_sweep() == 1
    assert len(callbacks) == 1
    verification.refresh_from_db()
    assert verification.delivery_task_id not in ("", "t1")
