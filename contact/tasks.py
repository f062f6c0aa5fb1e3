"""Thin Celery tasks: load the row, call the service, retry transient mail errors.

Both mail tasks are idempotent (a row already sent is skipped, and a code is
derived, not generated, so a redelivered task mails the same code), which is
what makes late acknowledgement and redelivery after a lost worker safe.
"""

import logging
import smtplib

from celery import shared_task
from django.conf import settings

from . import services
from .models import Message, Verification

logger = logging.getLogger(__name__)

MAIL_ERRORS = (smtplib.SMTPException, OSError)
MAIL_TASK_OPTIONS = {"acks_late": True, "reject_on_worker_lost": True, "ignore_result": True}


def _send(task, *, model, pk, send) -> None:
    try:
        send()
    except services.DeliveryImpossible as exc:
        logger.error("%s %s failed for good: %s", task.name, pk, exc)
        services.delivery_record_failure(model=model, pk=pk, error=exc, retry_in=None)
    except MAIL_ERRORS as exc:
        attempt = task.request.retries
        if not services.is_transient(exc) or attempt >= settings.CONTACT_MAIL_MAX_RETRIES:
            logger.error("%s %s failed after %d tries: %r", task.name, pk, attempt + 1, exc)
            services.delivery_record_failure(model=model, pk=pk, error=exc, retry_in=None)
            return
        delay = services.retry_delay(attempt)
        logger.warning("%s %s: %r; retry %d in %.1fs", task.name, pk, exc, attempt + 1, delay)
        services.delivery_record_failure(model=model, pk=pk, error=exc, retry_in=delay)
        raise task.retry(countdown=delay, exc=exc, max_retries=None) from exc


@shared_task(bind=True, name="contact.send_verification_code", **MAIL_TASK_OPTIONS)
def send_verification_code(self, *, verification_id: str) -> None:
    _send(
        self,
        model=Verification,
        pk=verification_id,
        send=lambda: services.verification_send_code(verification_id=verification_id),
    )


@shared_task(bind=True, name="contact.notify_editors", **MAIL_TASK_OPTIONS)
def notify_editors(self, *, message_id: int) -> None:
    _send(
        self,
        model=Message,
        pk=message_id,
        send=lambda: services.message_notify_editors(message_id=message_id),
    )


@shared_task(name="contact.outbox_sweep", ignore_result=True)
def outbox_sweep() -> None:
    services.outbox_sweep()


@shared_task(name="contact.purge_verifications", ignore_result=True)
def purge_verifications() -> None:
    services.verifications_purge()
