import uuid
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Count, ExpressionWrapper, Min, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Delivery(models.TextChoices):
    """Where an email stands in the outbox."""

    QUEUED = "queued", _("Queued")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class OutboxQuerySet(models.QuerySet):
    """The outbox rules, written once: the sweep, ``manage.py outbox`` and ``/metrics``
    ask these, so they agree on which mails are waiting and which failed."""

    def _is_sendable(self) -> Q:
        return Q(self.model.outbox_worth_sending(), delivery_state=Delivery.QUEUED)

    _IS_FAILED = Q(delivery_state=Delivery.FAILED)

    def sendable(self):
        """Queued and still worth sending (a code only while its verification is pending)."""
        return self.filter(self._is_sendable())

    def failed(self):
        return self.filter(self._IS_FAILED)

    def summary(self) -> dict:
        """``queued`` (sendable) and ``failed`` counts and the ``oldest`` sendable mail's
        queued time, in one query."""
        sendable = self._is_sendable()
        return self.aggregate(
            queued=Count("pk", filter=sendable),
            failed=Count("pk", filter=self._IS_FAILED),
            oldest=Min(self.model.OUTBOX_QUEUED_AT, filter=sendable),
        )

    def with_worth_sending(self):
        """Each row with ``worth_sending``: the model's rule, read along with the row."""
        return self.annotate(
            worth_sending=ExpressionWrapper(
                self.model.outbox_worth_sending(), output_field=models.BooleanField()
            )
        )

    def retrying(self, now):
        """Queued and waiting out a retry's backoff (or an attempt in progress)."""
        return self.filter(delivery_state=Delivery.QUEUED, next_attempt_at__gt=now)

    def waiting_for_worker(self, now):
        """Sendable and due: what a worker should be sending now."""
        return self.sendable().filter(Q(next_attempt_at__lte=now) | Q(next_attempt_at__isnull=True))

    def unheld(self, now):
        """Sendable rows no task holds, which the outbox sweep gives to a new task.

        No owner (the broker was unreachable when the row was enqueued), or an owner
        that has not taken the row up ``CONTACT_OUTBOX_STALE_AFTER`` after it was due
        (the task was lost with the broker's data or with its worker). A row its task
        holds, for an attempt or while its retry waits, is not one of them.
        """
        overdue = now - timedelta(seconds=settings.CONTACT_OUTBOX_STALE_AFTER)
        return self.sendable().filter(Q(delivery_task_id="") | Q(next_attempt_at__lt=overdue))


class OutboxFields(models.Model):
    """An email to send is a row first: its delivery state is data, not a log line.

    Each outbox model names its mail: ``OUTBOX_KIND`` (the label of its metrics and
    of ``manage.py outbox``), ``OUTBOX_LABEL`` (plural, for people) and
    ``OUTBOX_QUEUED_AT`` (the field saying when the mail in hand was queued).
    """

    OUTBOX_KIND: str
    OUTBOX_LABEL: str
    OUTBOX_QUEUED_AT: str

    delivery_state = models.CharField(
        _("delivery"), max_length=10, choices=Delivery.choices, default=Delivery.QUEUED
    )
    # Send attempts made, counted as each one starts: the retry budget
    # (CONTACT_MAIL_MAX_RETRIES) is spent here, whichever task makes them.
    delivery_attempts = models.PositiveIntegerField(_("delivery attempts"), default=0)
    # Masked: the address in a mail server's answer is shown as j***@example.com.
    delivery_error = models.TextField(_("last delivery error"), blank=True)
    # The Celery task that owns the row: the one enqueued last, and its retries, which
    # keep its id. Only the owner sends or records an attempt; a task the outbox sweep
    # replaced finds another id here and stops. Empty: no task has it (the broker was
    # unreachable), and the next sweep enqueues one.
    delivery_task_id = models.CharField(max_length=64, blank=True, editable=False)
    # Until when the owner holds the row: when enqueued, now; during an attempt, until
    # the task's hard time limit; while a retry waits out its backoff, until the retry
    # is due. A queued row still unclaimed CONTACT_OUTBOX_STALE_AFTER later lost its
    # task, and the outbox sweep gives it to a new one.
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)

    objects = OutboxQuerySet.as_manager()

    class Meta:
        abstract = True

    @classmethod
    def outbox_worth_sending(cls) -> Q:
        """Which queued rows are still worth sending: all, unless a model says otherwise."""
        return Q(pk__isnull=False)

    def delivery_delayed(self) -> bool:
        """Still queued after a failed attempt or a broker outage: it may take minutes."""
        return self.delivery_state == Delivery.QUEUED and bool(self.delivery_error)


class Verification(OutboxFields):
    """A visitor proving they own an email address before they may write to us.

    The code is never stored: it is derived from the site's secret and
    ``code_nonce`` (see ``contact.services``), so the database and the broker
    only ever hold a random value that is useless without the secret.
    """

    OUTBOX_KIND = "verification"
    OUTBOX_LABEL = "verification codes"
    OUTBOX_QUEUED_AT = "code_issued_at"  # a resend queues a new code

    class State(models.TextChoices):
        PENDING = "pending", _("Waiting for the code")
        VERIFIED = "verified", _("Verified")
        USED = "used", _("Used for a message")
        LOCKED = "locked", _("Ended: too many wrong codes")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(_("name"), max_length=100)
    email = models.EmailField(_("email"), max_length=254)
    article = models.ForeignKey(
        "articles.Article",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("article"),
    )
    state = models.CharField(
        _("state"), max_length=10, choices=State.choices, default=State.PENDING
    )
    code_nonce = models.CharField(max_length=64, editable=False)
    code_issued_at = models.DateTimeField(_("code issued"), default=timezone.now)
    wrong_tries = models.PositiveSmallIntegerField(_("wrong tries"), default=0)
    resends = models.PositiveSmallIntegerField(_("resends"), default=0)
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)
    verified_at = models.DateTimeField(_("verified"), null=True, blank=True)
    used_at = models.DateTimeField(_("used"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("verification")
        verbose_name_plural = _("verifications")
        # The admin shows verifications read-only; mailing a code again is its one action.
        permissions = [("retry_delivery", _("Can retry a failed code mail"))]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(delivery_state="queued"),
                name="verification_queued_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_state_display()} ({self.created_at:%Y-%m-%d %H:%M})"

    @classmethod
    def outbox_worth_sending(cls) -> Q:
        # A code for an attempt that has ended is never sent.
        return Q(state=cls.State.PENDING)

    # A verification's life, and where each rule of it is written:
    #
    #   pending ──right code──▶ verified ──message──▶ used
    #      └──last wrong code──▶ locked
    #
    # ``step()`` says where a visitor stands and when the verification is over;
    # ``code_expired()``, ``resends_left()`` and ``resend_wait()`` say what step 2 may
    # still do. ``contact.services`` makes the transitions and raises what the views
    # turn into pages.

    # The contact steps a verification is good for (step 1 makes it).
    STEP_CODE = 2
    STEP_MESSAGE = 3

    def step(self, now) -> int | None:
        """The contact step this verification is at: ``STEP_CODE`` or ``STEP_MESSAGE``;
        None once it is over (locked, used, or verified too long ago)."""
        if self.state == self.State.PENDING:
            return self.STEP_CODE
        if self.state == self.State.VERIFIED and now <= self.verified_expires_at():
            return self.STEP_MESSAGE
        return None

    def ended_reason(self, now) -> str:
        """Why ``step()`` is None, as ``VerificationEnded`` names it: locked, used, expired."""
        return "expired" if self.state == self.State.VERIFIED else self.state

    def code_expires_at(self):
        """A code is valid for CONTACT_CODE_TTL seconds after it is sent."""
        start = self.sent_at or self.code_issued_at
        return start + timezone.timedelta(seconds=settings.CONTACT_CODE_TTL)

    def code_expired(self, now) -> bool:
        """The code mailed last can no longer be typed in; a new code (a resend) can."""
        return now > self.code_expires_at()

    def verified_expires_at(self):
        if self.verified_at is None:
            return None
        return self.verified_at + timezone.timedelta(seconds=settings.CONTACT_VERIFIED_TTL)

    def resends_left(self) -> int:
        """New codes the visitor may still ask for (CONTACT_MAX_RESENDS in all)."""
        return max(settings.CONTACT_MAX_RESENDS - self.resends, 0)

    def resend_wait(self, now) -> int:
        """Seconds before the visitor may ask for a new code (0: now), whole and rounded
        up: CONTACT_RESEND_COOLDOWN after the last code was issued."""
        waited = (now - self.code_issued_at).total_seconds()
        if waited >= settings.CONTACT_RESEND_COOLDOWN:
            return 0
        return int(settings.CONTACT_RESEND_COOLDOWN - waited) + 1


class Message(OutboxFields):
    """A visitor's message, accepted only with a verified verification.

    The outbox fields track the editors' notification mail.
    """

    OUTBOX_KIND = "notification"
    OUTBOX_LABEL = "editor notifications"
    OUTBOX_QUEUED_AT = "received_at"

    class Status(models.TextChoices):
        NEW = "new", _("New")
        READ = "read", _("Read")
        ANSWERED = "answered", _("Answered")
        SPAM = "spam", _("Spam")

    # One message per verification: a double click or a resubmit cannot store two.
    verification = models.OneToOneField(
        Verification,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="message",
        verbose_name=_("verification"),
    )
    name = models.CharField(_("name"), max_length=100)
    email = models.EmailField(_("email"), max_length=254)
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("message"), max_length=5000)
    article = models.ForeignKey(
        "articles.Article",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="contact_messages",
        verbose_name=_("article"),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.NEW, db_index=True
    )
    received_at = models.DateTimeField(_("received"), default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-received_at"]
        verbose_name = _("contact message")
        verbose_name_plural = _("contact messages")
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(delivery_state="queued"),
                name="message_queued_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.subject


# Every kind of mail the outbox holds, in the order people read about them.
OUTBOX_MODELS = (Verification, Message)


class LimitRecord(models.Model):
    """When one sender last did one limited thing (contact/throttle.py).

    The sender is a keyed hash of their address or client address, never the value.
    """

    scope = models.CharField(max_length=40)
    identity = models.CharField(max_length=64)
    times = models.JSONField(default=list)  # Unix times of the actions that still count
    last_at = models.FloatField()  # Unix time of the latest; old records are purged by it

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["scope", "identity"], name="limitrecord_unique"),
        ]
        indexes = [models.Index(fields=["last_at"], name="limitrecord_last_idx")]

    def __str__(self) -> str:
        return f"{self.scope} {self.identity[:8]}…: {len(self.times)}"
