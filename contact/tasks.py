"""Thin Celery tasks: load the row, call the service, retry transient mail errors.

Both mail tasks are idempotent (a row already sent is skipped, and a code is
derived, not generated, so a redelivered task mails the same code), which is
what makes late acknowledgement and redelivery after a lost worker safe.

The retry budget is the row's, not Celery's: each attempt is counted on the row
(``services.delivery_claim``), which says when the next is due or that the mail
has failed (``services.delivery_record_failure``), whichever task makes it, so a
task the outbox sweep starts again cannot start the count again. Celery's own
limit is off (``max_retries: None``); a retry keeps its task's id, which is how
the row knows its owner.
"""

import logging
import smtplib

from celery import shared_task

from . import services
from .models import Message, Verification

logger = logging.getLogger(__name__)

MAIL_ERRORS = (smtplib.SMTPException, OSError)
MAIL_TASK_OPTIONS = {
    "acks_late": True,
    "reject_on_worker_lost": True,
    "ignore_result": True,
    "max_retries": None,
}


def _send(task, *, model, pk, send) -> None:
    task_id = task.request.id or ""
    if not services.delivery_claim(model=model, pk=pk, task_id=task_id):
        return
    try:
        send()
    except services.DeliveryImpossible as exc:
        services.delivery_record_failure(
            model=model, pk=pk, task_id=task_id, error=exc, permanent=True
        )
    except MAIL_ERRORS as exc:
        delay = services.delivery_record_failure(model=model, pk=pk, task_id=task_id, error=exc)
        if delay is not None:
            raise task.retry(countdown=delay, exc=exc) from exc


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
