"""Every rule of the verified contact flow lives here.

Views, tasks, the admin and tests all call these functions, so a rule is
written once. The flow:

1. ``verification_start`` stores a pending verification and, after commit,
   enqueues the task that mails the code.
2. ``verification_check`` compares a typed code; ``verification_resend``
   replaces the code.
3. ``message_submit`` stores the message, uses the verification up and, after
   commit, enqueues the editors' notification.

A code is never stored or enqueued in clear: it is derived from the site's
secret and the verification's random ``code_nonce`` (``_code_for``), so a
retried or redelivered task mails the same code and the database and broker
hold nothing a thief could type in.
"""

import logging
import re
import secrets
import smtplib
import unicodedata
import uuid
from datetime import timedelta
from email.header import Header
from email.utils import formataddr
from typing import TypeVar

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.encoding import punycode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from articles.models import Article
from newsroom import enqueue
from newsroom.observability import mask_email, mask_emails
from newsroom.seo import absolute_url

from . import metrics, throttle
from .models import OUTBOX_MODELS, Delivery, Message, Verification

logger = logging.getLogger(__name__)

CODE_DIGITS = 6
OutboxRow = TypeVar("OutboxRow", Verification, Message)


# Errors the views turn into pages -------------------------------------------------


class ContactError(Exception):
    """A rule refused the visitor's request; ``str()`` is the message to show."""


class Throttled(ContactError):
    """Over a rate limit. Deliberately does not say which one."""

    def __init__(self, retry_after: int) -> None:
        self.retry_after = max(int(retry_after), 1)
        super().__init__(_("Too many attempts. Please try again later."))


class WrongCode(ContactError):
    def __init__(self, tries_left: int) -> None:
        self.tries_left = tries_left
        super().__init__(
            _("That code is not right. You have %(n)d more tries.") % {"n": tries_left}
            if tries_left != 1
            else _("That code is not right. You have 1 more try.")
        )


class VerificationEnded(ContactError):
    """The verification cannot be used any more; the visitor starts again at step 1."""

    MESSAGES = {
        "locked": gettext_lazy("Too many wrong codes. Please start again."),
        "expired": gettext_lazy("Your code has expired. Please start again."),
        "used": gettext_lazy("This verification was already used for a message."),
        "missing": gettext_lazy("Please enter your name and email first."),
    }

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(str(self.MESSAGES[reason]))


class NotVerified(ContactError):
    def __init__(self) -> None:
        super().__init__(_("Please enter the code we emailed you first."))


class ResendRefused(ContactError):
    def __init__(self, *, reason: str, retry_after: int = 0) -> None:
        self.reason = reason
        self.retry_after = retry_after
        if reason == "cooldown":
            message = _("You can ask for a new code in %(s)d seconds.") % {"s": retry_after}
        else:
            message = _("No more new codes for this attempt. Please start again.")
        super().__init__(message)


class DeliveryImpossible(Exception):
    """A mail cannot be sent whatever we retry (nobody to send it to)."""


# Small helpers ----------------------------------------------------------------------


def normalize_email(email: str) -> str:
    """Trim, and lower-case the domain (the local part may be case-sensitive)."""
    local, _, domain = email.strip().rpartition("@")
    return f"{local}@{domain.lower()}" if local else email.strip()


def normalize_code(code: str) -> str:
    """What a person types: allow spaces and dashes between digits."""
    return re.sub(r"[\s-]", "", code or "")


def _code_for(verification: Verification) -> str:
    mac = salted_hmac(
        "newsroom.contact.code",
        f"{verification.pk}:{verification.code_nonce}",
        algorithm="sha256",
    ).digest()
    return f"{int.from_bytes(mac[:8], 'big') % 10**CODE_DIGITS:0{CODE_DIGITS}d}"


def _new_nonce() -> str:
    return secrets.token_hex(16)


def _limit(scope: str, per_hour: int) -> throttle.Limit:
    return throttle.Limit(scope=scope, limit=per_hour)


def _folded(text: str) -> str:
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())


def _unicode_label(label: str) -> str:
    """A domain label as written: ``xn--bcher-kva`` is ``bücher``."""
    if label[:4].lower() != "xn--":
        return label
    try:
        return label[4:].encode("ascii").decode("punycode")
    except UnicodeError:  # not punycode after all: a label like any other
        return label


def mailbox_key(email: str) -> str:
    """The mailbox an address reaches: two addresses are one sender when their keys match.

    ``Jane+x@Bücher.example``, ``jane@xn--bcher-kva.example`` and ``JANE@BÜCHER.EXAMPLE``
    reach one person almost everywhere, so letter case (case-folded: ß is ss, as the
    IDNA spelling Django's mail uses makes it), a plus tag and the spelling of an
    international domain must not buy a fresh allowance. The per-address limit counts
    by this key; anything else that compares addresses must use it too.
    """
    local, _, domain = email.strip().rpartition("@")
    if not local:
        return _folded(email.strip())
    unicode_domain = ".".join(_unicode_label(label) for label in domain.split("."))
    return f"{_folded(local.split('+', 1)[0])}@{_folded(unicode_domain)}"


# Step 1: identify -------------------------------------------------------------------


def verification_start(
    *, name: str, email: str, article: Article | None, client_ip: str
) -> Verification:
    """Store a pending verification and have its code mailed.

    Every well-formed address takes the same path, so the answer does not tell
    whether an address was seen before. Raises ``Throttled``.
    """
    email = normalize_email(email)
    wait = throttle.take(
        _limit("ip-verifications", settings.CONTACT_VERIFICATIONS_PER_IP_PER_HOUR), client_ip
    ) or throttle.take(
        _limit("email-codes", settings.CONTACT_CODES_PER_EMAIL_PER_HOUR), mailbox_key(email)
    )
    if wait:
        logger.info("verification refused: throttled email=%s", mask_email(email))
        raise Throttled(wait)

    now = timezone.now()
    with transaction.atomic():
        verification = Verification(
            name=name,
            email=email,
            article=article,
            code_nonce=_new_nonce(),
            code_issued_at=now,
            next_attempt_at=now,
        )
        verification.full_clean()
        verification.save()
        _enqueue_row(verification)
    logger.info("verification started id=%s email=%s", verification.pk, mask_email(email))
    return verification


# Step 2: verify ---------------------------------------------------------------------


def verification_get(*, verification_id) -> Verification:
    """The verification a session points at. Raises ``VerificationEnded("missing")``."""
    verification = (
        Verification.objects.filter(pk=verification_id).first() if verification_id else None
    )
    if verification is None:
        raise VerificationEnded("missing")
    return verification


def _locked(verification_id) -> Verification:
    """The verification, locked until the transaction ends (two tabs cannot race)."""
    verification = Verification.objects.select_for_update().filter(pk=verification_id).first()
    if verification is None:
        raise VerificationEnded("missing")
    return verification


def verification_step(*, verification: Verification, now=None) -> int:
    """The step the visitor is at: ``Verification.STEP_CODE`` or ``STEP_MESSAGE``.

    Raises ``VerificationEnded`` when the verification is over (``Verification.step``).
    """
    now = now or timezone.now()
    step = verification.step(now)
    if step is None:
        raise VerificationEnded(verification.ended_reason(now))
    return step


def verification_check(*, verification_id, code: str, client_ip: str) -> Verification:
    """Compare a typed code, in constant time.

    Raises ``Throttled``, ``WrongCode`` (with the tries left) or
    ``VerificationEnded`` (locked after the last wrong try, expired, used).
    """
    wait = throttle.take(_limit("ip-checks", settings.CONTACT_CHECKS_PER_IP_PER_HOUR), client_ip)
    if wait:
        raise Throttled(wait)

    now = timezone.now()
    with transaction.atomic():
        verification = _locked(verification_id)
        if verification_step(verification=verification, now=now) == Verification.STEP_MESSAGE:
            return verification  # a double click on "Verify"
        if verification.code_expired(now):
            raise VerificationEnded("expired")

        if constant_time_compare(normalize_code(code), _code_for(verification)):
            verification.state = Verification.State.VERIFIED
            verification.verified_at = now
            verification.save(update_fields=["state", "verified_at"])
            logger.info("verification verified id=%s", verification.pk)
            return verification

        verification.wrong_tries += 1
        tries_left = settings.CONTACT_MAX_WRONG_TRIES - verification.wrong_tries
        if tries_left <= 0:
            verification.state = Verification.State.LOCKED
        verification.save(update_fields=["wrong_tries", "state"])
    # Raised after the block so the counted try is committed, not rolled back.
    logger.info("verification wrong code id=%s tries_left=%d", verification.pk, max(tries_left, 0))
    if tries_left <= 0:
        raise VerificationEnded("locked")
    raise WrongCode(tries_left)


def verification_resend(*, verification_id, client_ip: str) -> Verification:
    """Replace the code with a new one and mail it; the old code stops working.

    At most ``CONTACT_MAX_RESENDS`` times, ``CONTACT_RESEND_COOLDOWN`` seconds
    apart, within the per-address hourly limit. Wrong tries are not reset.
    """
    now = timezone.now()
    with transaction.atomic():
        verification = _locked(verification_id)
        if verification_step(verification=verification, now=now) == Verification.STEP_MESSAGE:
            return verification  # verified meanwhile (another tab): no new code needed
        # An expired code may be replaced: that is what a new code is for.
        if not verification.resends_left():
            raise ResendRefused(reason="cap")
        wait = verification.resend_wait(now)
        if wait:
            raise ResendRefused(reason="cooldown", retry_after=wait)
        wait = throttle.take(
            _limit("email-codes", settings.CONTACT_CODES_PER_EMAIL_PER_HOUR),
            mailbox_key(verification.email),
        )
        if wait:
            raise Throttled(wait)

        verification.code_nonce = _new_nonce()
        verification.code_issued_at = now
        verification.resends += 1
        verification.delivery_state = Delivery.QUEUED
        verification.delivery_attempts = 0
        verification.delivery_error = ""
        verification.sent_at = None
        verification.next_attempt_at = now
        verification.save()
        _enqueue_row(verification)
    logger.info("verification code resent id=%s resends=%d", verification.pk, verification.resends)
    return verification


# Step 3: write ----------------------------------------------------------------------


def verification_for_message(*, verification_id) -> Verification:
    """The verified, unexpired, unused verification a message may be written with.

    Raises ``VerificationEnded`` or ``NotVerified``, which tell the view which
    step to send the visitor back to.
    """
    verification = verification_get(verification_id=verification_id)
    _require_verified(verification, now=timezone.now())
    return verification


def _require_verified(verification: Verification, *, now) -> None:
    if verification_step(verification=verification, now=now) == Verification.STEP_CODE:
        raise NotVerified()


def message_submit(*, verification_id, subject: str, body: str) -> Message:
    """Store the message, use the verification up, and have the editors notified.

    A second submit with the same verification (double click, browser resubmit)
    returns the message already stored instead of storing another.
    """
    now = timezone.now()
    with transaction.atomic():
        verification = _locked(verification_id)
        if verification.state == Verification.State.USED:
            existing = Message.objects.filter(verification=verification).first()
            if existing is not None:
                return existing
        _require_verified(verification, now=now)

        message = Message(
            verification=verification,
            name=verification.name,
            email=verification.email,
            subject=subject,
            body=body,
            article=verification.article,
            received_at=now,
            next_attempt_at=now,
        )
        message.full_clean()
        message.save()
        verification.state = Verification.State.USED
        verification.used_at = now
        verification.save(update_fields=["state", "used_at"])
        _enqueue_row(message)
    logger.info("message stored id=%s verification=%s", message.pk, verification.pk)
    return message


# Editors' inbox ---------------------------------------------------------------------


def message_mark(*, messages, status: str) -> int:
    """Set the editors' triage status (new, read, answered, spam) of ``messages``.

    Only rows whose status differs are written, so marking a message it already
    has changes nothing. Returns how many changed.
    """
    if status not in Message.Status.values:
        raise ValueError(f"Unknown message status: {status!r}")
    return messages.exclude(status=status).update(status=status)


# Mail: what the tasks call ----------------------------------------------------------


def _one_line(text: str) -> str:
    """Collapse anything that could break a mail header to single spaces."""
    return " ".join(re.sub(r"[\x00-\x1f\x7f]", " ", text).split())


def _header_text(text: str) -> str:
    """Visitor text for a mail header: one line, shown as the visitor typed it.

    A mail program decodes RFC 2047 encoded words (``=?utf-8?q?…?=``) wherever it
    finds them, into any characters: a right-to-left override, a made-up address.
    Django encodes only text that is not ASCII and sends ASCII as it is, so ASCII
    text holding ``=?`` is encoded here, as UTF-8 encoded words of its own: decoded
    once, they show the ``=?…?=`` the visitor typed, never what it spells. The forms
    refuse such text; this covers anything stored before or past them.
    """
    text = _one_line(text)
    if "=?" in text and text.isascii():
        # Encoded words at most 75 characters long, as RFC 2047 asks, one space apart
        # (Django refuses a line break in a header; it folds the header itself).
        return Header(text, "utf-8").encode(linesep=" ")
    return text


def _reply_to(name: str, email: str) -> str:
    """``Name <address>`` for the editors' Reply-To; formataddr quotes or encodes the name,
    so it can never add a header. An international domain is spelled as Django's mail
    spells the To header (``xn--…``): an address header must be ASCII."""
    local, _, domain = email.rpartition("@")
    return formataddr((_header_text(name), f"{local}@{punycode(domain)}"))


def _send_mail(template: str, context: dict, *, subject: str, to: list[str], **headers) -> None:
    """Send ``template``.txt with ``template``.html as its alternative, From the site."""
    mail = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string(f"{template}.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=to,
        **headers,
    )
    mail.attach_alternative(render_to_string(f"{template}.html", context), "text/html")
    mail.send(fail_silently=False)


def _record_sent(rows) -> None:
    """Mark outbox ``rows`` sent and count the mail for /metrics."""
    rows.update(
        delivery_state=Delivery.SENT,
        sent_at=timezone.now(),
        delivery_error="",
        next_attempt_at=None,  # nothing is due any more
    )
    metrics.mail_sent.labels(kind=rows.model.OUTBOX_KIND).inc()


def verification_send_code(*, verification_id) -> bool:
    """Mail the current code of a pending verification. True when a mail was sent.

    Idempotent: a row gone, already sent or no longer worth sending (the outbox's
    ``sendable()``) is skipped. Mail errors propagate to the task, which decides
    about retrying.
    """
    verification = Verification.objects.sendable().filter(pk=verification_id).first()
    if verification is None:
        logger.info("verification mail skipped: id=%s is not sendable", verification_id)
        return False

    context = {
        "name": verification.name,
        "code": _code_for(verification),
        "minutes": settings.CONTACT_CODE_TTL // 60,
        "verify_url": absolute_url(reverse("contact:verify")),
        "site_name": settings.SITE_NAME,
    }
    _send_mail(
        "emails/verification_code",
        context,
        subject=_("Your %(site)s verification code") % {"site": settings.SITE_NAME},
        to=[verification.email],
    )
    # Matched on the nonce: if a resend replaced the code meanwhile, that newer
    # code's own task records its delivery.
    _record_sent(
        Verification.objects.filter(pk=verification.pk, code_nonce=verification.code_nonce)
    )
    logger.info(
        "verification mail sent id=%s email=%s", verification.pk, mask_email(verification.email)
    )
    return True


def message_notify_editors(*, message_id) -> bool:
    """Mail the editors a new message, Reply-To the verified sender. True when sent."""
    message = Message.objects.sendable().select_related("article").filter(pk=message_id).first()
    if message is None:
        logger.info("notification skipped: message id=%s is not sendable", message_id)
        return False
    if not settings.CONTACT_RECIPIENTS:
        raise DeliveryImpossible("CONTACT_RECIPIENTS is empty: nobody to notify.")

    context = {
        "message": message,
        "article_url": absolute_url(message.article.get_absolute_url()) if message.article else "",
        "admin_url": absolute_url(reverse("admin:contact_message_change", args=[message.pk])),
        "site_name": settings.SITE_NAME,
    }
    _send_mail(
        "emails/contact_notification",
        context,
        subject=_header_text(
            _("[%(site)s contact] %(subject)s")
            % {"site": settings.SITE_NAME, "subject": message.subject}
        ),
        to=settings.CONTACT_RECIPIENTS,
        reply_to=[_reply_to(message.name, message.email)],
    )
    _record_sent(Message.objects.filter(pk=message.pk))
    logger.info("notification sent message=%s", message.pk)
    return True


def is_transient(exc: BaseException) -> bool:
    """Whether a mail error may go away by itself (retry) or not (fail now).

    4xx SMTP replies and connection trouble are transient; 5xx replies are not.
    """
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(400 <= code < 500 for code, _msg in exc.recipients.values())
    if isinstance(exc, smtplib.SMTPResponseException):
        return 400 <= exc.smtp_code < 500
    return isinstance(exc, (smtplib.SMTPServerDisconnected, OSError))


def retry_delay(attempt: int) -> float:
    """Capped exponential backoff with equal jitter, in seconds, before retry ``attempt`` (0-based).

    Between half and all of ``CONTACT_MAIL_RETRY_BASE * 2**attempt``, and never more
    than ``CONTACT_MAIL_RETRY_MAX``: the longest a queued mail waits once the mail
    server takes mail again.
    """
    return enqueue.retry_delay(
        attempt, base=settings.CONTACT_MAIL_RETRY_BASE, most=settings.CONTACT_MAIL_RETRY_MAX
    )


def delivery_attempt_budget() -> int:
    """Send attempts a mail gets in all: the first and ``CONTACT_MAIL_MAX_RETRIES`` retries."""
    return settings.CONTACT_MAIL_MAX_RETRIES + 1


def delivery_error_text(error: BaseException) -> str:
    """What the outbox row keeps of a mail error: class and text, addresses masked.

    A mail server names the address it refuses; the row's error is shown in
    ``manage.py outbox``, the admin and the logs, which never show one in full.
    """
    return mask_emails(f"{type(error).__name__}: {error}")[:2000]


# The error of a mail failed because its last attempt never reported back.
ATTEMPT_LOST = "The last attempt ended without a result (its worker was lost)."


def _fail(model: type[OutboxRow], pk, *, error: str, attempts: int) -> None:
    model.objects.filter(pk=pk).update(
        delivery_state=Delivery.FAILED, delivery_error=error, next_attempt_at=None
    )
    kind = model.OUTBOX_KIND
    metrics.mail_failed.labels(kind=kind).inc()
    logger.error("%s mail id=%s failed after %d attempt(s): %s", kind, pk, attempts, error)


def delivery_claim(*, model: type[OutboxRow], pk, task_id: str) -> bool:
    """Start a send attempt by task ``task_id``; False when that task must not send.

    Only the row's owner (``delivery_task_id``; any task while there is none) sends,
    and only while the row is queued, still worth sending, with attempts left. The
    attempt counts from here, so an attempt lost with its worker counts too; the
    owner holds the row for the task's hard time limit, during which the outbox
    sweep leaves it alone.
    """
    kind = model.OUTBOX_KIND
    with transaction.atomic():
        row = (
            model.objects.select_for_update()
            .with_worth_sending()
            .filter(pk=pk)
            .only("delivery_state", "delivery_task_id", "delivery_attempts", "delivery_error")
            .first()
        )
        if row is None:
            logger.info("%s mail skipped: id=%s is gone", kind, pk)
            return False
        if row.delivery_state != Delivery.QUEUED:
            logger.info("%s mail skipped: id=%s is %s", kind, pk, row.delivery_state)
            return False
        if not row.worth_sending:
            # A code for a verification that ended: no attempt is counted or made.
            logger.info("%s mail skipped: id=%s is no longer worth sending", kind, pk)
            return False
        if row.delivery_task_id not in ("", task_id):
            logger.info(
                "%s mail skipped: id=%s was given to task %s", kind, pk, row.delivery_task_id
            )
            return False
        if row.delivery_attempts >= delivery_attempt_budget():
            # The last attempt was made but never recorded: its worker died with it.
            error = f"{ATTEMPT_LOST} Before it: {row.delivery_error or '-'}"
            _fail(model, pk, error=error[:2000], attempts=row.delivery_attempts)
            return False
        model.objects.filter(pk=pk).update(
            delivery_task_id=task_id,
            delivery_attempts=F("delivery_attempts") + 1,
            next_attempt_at=timezone.now() + timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT),
        )
    return True


def delivery_record_failure(
    *, model: type[OutboxRow], pk, task_id: str, error: BaseException, permanent: bool = False
) -> float | None:
    """Record a failed attempt of task ``task_id``: seconds until its retry, or None.

    A transient error (``is_transient``) with attempts left keeps the row queued and
    held by the task until the retry is due (``retry_delay``). A permanent error, or
    the last attempt's, marks the row failed with the error. A task that no longer
    owns the row (a resend or the sweep gave it to another) records nothing: None.
    """
    error_text = delivery_error_text(error)
    kind = model.OUTBOX_KIND
    with transaction.atomic():
        row = (
            model.objects.select_for_update()
            .filter(pk=pk, delivery_state=Delivery.QUEUED, delivery_task_id=task_id)
            .first()
        )
        if row is None:
            return None
        attempts = row.delivery_attempts
        if permanent or not is_transient(error) or attempts >= delivery_attempt_budget():
            _fail(model, pk, error=error_text, attempts=attempts)
            return None
        delay = retry_delay(max(attempts - 1, 0))
        model.objects.filter(pk=pk).update(
            delivery_error=error_text, next_attempt_at=timezone.now() + timedelta(seconds=delay)
        )
    metrics.mail_retries.labels(kind=kind).inc()
    logger.warning(
        "%s mail id=%s attempt %d of %d failed: %s; retry %d in %.1fs",
        kind, pk, attempts, delivery_attempt_budget(), error_text, attempts, delay,
    )  # fmt: skip
    return delay


def delivery_retry(*, rows) -> int:
    """Queue failed rows again (editors' admin action, ``outbox --retry``); return how many.

    Each gets a whole new retry budget. A code mail is worth sending only while its
    verification is pending: the visitor can still type the code in, and the send
    task skips any other.
    """
    count = 0
    for row in rows:
        model = type(row)
        # Failed and still worth sending, by the outbox's own rules (contact/models.py).
        requeued = (
            model.objects.failed()
            .filter(model.outbox_worth_sending(), pk=row.pk)
            .update(delivery_state=Delivery.QUEUED, delivery_attempts=0, delivery_error="")
        )
        if requeued:
            _enqueue_row(row)
            count += 1
    return count


# What the outbox row of a mail says while no worker has it.
NOT_ENQUEUED = "Not handed to a worker yet: the broker was unreachable. The outbox sweep retries."


def _enqueue_row(row: Verification | Message) -> None:
    """Give the row to a new task, handed to the broker once the transaction commits.

    The new task owns the row from now on (``delivery_task_id``): one enqueued
    before it finds another id there and stops. An unreachable broker must not
    break the visitor's request: the row is already stored as queued, says so, is
    left without an owner, and the next outbox sweep enqueues it again.
    """
    tasks = _tasks()
    if isinstance(row, Verification):
        task, kwargs = tasks.send_verification_code, {"verification_id": str(row.pk)}
    else:
        task, kwargs = tasks.notify_editors, {"message_id": row.pk}
    model, task_id = type(row), str(uuid.uuid4())
    model.objects.filter(pk=row.pk).update(delivery_task_id=task_id, next_attempt_at=timezone.now())

    def unreachable(exc: Exception) -> None:
        logger.warning("broker unreachable; %s %s stays queued: %s", task.name, kwargs, exc)
        model.objects.filter(
            pk=row.pk, delivery_state=Delivery.QUEUED, delivery_task_id=task_id
        ).update(delivery_error=NOT_ENQUEUED, delivery_task_id="")

    enqueue.after_commit(task, kwargs=kwargs, task_id=task_id, unreachable=unreachable)


# Housekeeping (periodic tasks) --------------------------------------------------------


def outbox_sweep(*, batch: int = 500) -> int:
    """Give every queued mail that no task holds to a new task (``unheld``). Returns how many.

    The sweep never starts a second task for a mail a task still holds.
    """
    now = timezone.now()
    count = 0
    for model in OUTBOX_MODELS:
        with transaction.atomic():
            rows = list(
                model.objects.unheld(now)
                .select_for_update(skip_locked=True)
                .order_by("next_attempt_at")[:batch]
            )
            for row in rows:
                _enqueue_row(row)
        count += len(rows)
    if count:
        logger.info("outbox sweep re-enqueued %d mails", count)
    return count


def verifications_purge() -> int:
    """Delete verifications nobody can use any more, and the limit counts that no longer
    weigh on a limit. Messages are kept."""
    now = timezone.now()
    dead = Verification.objects.filter(
        ~Q(state=Verification.State.USED), created_at__lt=now - timedelta(days=1)
    )
    used = Verification.objects.filter(
        state=Verification.State.USED, used_at__lt=now - timedelta(days=30)
    )
    count = dead.delete()[0] + used.delete()[0]
    if count:
        logger.info("purged %d verifications", count)
    throttle.purge()
    return count


def _tasks():
    # Tasks import this module; importing them lazily keeps the dependency one-way.
    from . import tasks

    return tasks
