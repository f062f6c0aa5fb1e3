"""The mail tasks, called directly (Celery runs them inline in unit tests)."""

import smtplib
import uuid

import pytest
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


def test_a_retry_records_the_error_and_when_it_is_due(verification, smtp, settings):
    settings.CONTACT_MAIL_RETRY_BASE = 60
    smtp.errors = [smtplib.SMTPResponseException(451, b"greylisted")]
    before = timezone.now()
    services.delivery_record_failure(
        model=Verification, pk=verification.pk, error=smtp.errors[0], retry_in=45
    )
    verification.refresh_from_db()
    assert verification.delivery_state == Delivery.QUEUED
    assert "greylisted" in verification.delivery_error
    assert (verification.next_attempt_at - before).total_seconds() >= 45


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
