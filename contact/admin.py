"""The editors' inbox: triage visitors' messages, watch the mail outbox.

Editors sort messages (new, read, answered, spam) but never rewrite a visitor's
words, so only the status is editable. Verifications are shown read-only, and
nothing here ever shows a code or the nonce it is derived from.
"""

from urllib.parse import quote

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.admin.utils import unquote
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.functional import lazy
from django.utils.html import format_html
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from . import services
from .models import Delivery, Message, Verification


def _in_site_time(label) -> str:
    """A column heading that names the time zone its times are shown in."""
    return format_lazy("{} ({})", label, lazy(lambda: settings.TIME_ZONE, str)())


def _delivery_badge(row: Message | Verification) -> str:
    """The outbox state, with the last error on hover: a failed send's, or one being retried.

    Only a queued mail has a next attempt; a sent or failed one shows none.
    """
    label = row.get_delivery_state_display()
    if row.delivery_state == Delivery.FAILED:
        return format_html(
            '<strong class="contact-delivery-failed" title="{}">{}</strong>',
            row.delivery_error or _("No error recorded."),
            label,
        )
    if row.delivery_error:
        label = format_html('<span title="{}">{}</span>', row.delivery_error, label)
    if row.delivery_state == Delivery.QUEUED and row.next_attempt_at is not None:
        return format_html(
            '{}<br><span class="contact-next-attempt">{} {}</span>',
            label,
            _("next attempt"),
            date_format(timezone.localtime(row.next_attempt_at), "DATETIME_FORMAT"),
        )
    return label


def _report_retry(
    model_admin: admin.ModelAdmin, request, *, queued: int, selected: int, rule: str
) -> None:
    if queued:
        model_admin.message_user(
            request,
            ngettext(
                "%(count)d mail is queued to be sent again.",
                "%(count)d mails are queued to be sent again.",
                queued,
            )
            % {"count": queued},
            messages.SUCCESS,
        )
    if selected > queued:
        model_admin.message_user(
            request,
            ngettext(
                "%(count)d selected mail was left alone: %(rule)s",
                "%(count)d selected mails were left alone: %(rule)s",
                selected - queued,
            )
            % {"count": selected - queued, "rule": rule},
            messages.WARNING,
        )


def reply_mailto(message: Message) -> str:
    """A ``mailto:`` link to the verified sender with "Re: <subject>", URL-encoded."""
    subject = " ".join(message.subject.split())  # no line breaks into the mail client
    if not subject.lower().startswith("re:"):
        subject = f"Re: {subject}"
    return f"mailto:{quote(message.email, safe='@')}?subject={quote(subject, safe='')}"


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = [
        "received",
        "sender",
        "subject_line",
        "article_link",
        "status_label",
        "notification",
    ]
    list_display_links = ["subject_line"]
    list_filter = [
        "status",
        "delivery_state",
        "received_at",
        ("article", admin.RelatedOnlyFieldListFilter),
    ]
    list_select_related = ["article"]
    search_fields = ["name", "email", "subject", "body", "article__title"]
    date_hierarchy = "received_at"
    actions = ["mark_read", "mark_answered", "mark_spam", "retry_notification"]
    fieldsets = [
        (None, {"fields": ["sender", "received_at", "article_link", "subject", "body", "status"]}),
        (
            _("Notification to the editors"),
            {
                "fields": [
                    "delivery_state",
                    "delivery_attempts",
                    "delivery_error",
                    "next_attempt_at",
                    "sent_at",
                ]
            },
        ),
    ]
    # The visitor's words and the outbox record are facts; editors only triage.
    readonly_fields = [
        "sender",
        "received_at",
        "article_link",
        "subject",
        "body",
        "delivery_state",
        "delivery_attempts",
        "delivery_error",
        "next_attempt_at",
        "sent_at",
    ]

    def has_add_permission(self, request) -> bool:
        return False  # messages come only from the contact form

    # The list and the form

    @admin.display(description=_in_site_time(_("received")), ordering="received_at")
    def received(self, message: Message):
        return message.received_at

    @admin.display(description=_("sender"), ordering="name")
    def sender(self, message: Message) -> str:
        return format_html("{}<br>{}", message.name, message.email)

    @admin.display(description=_("subject"), ordering="subject")
    def subject_line(self, message: Message) -> str:
        if message.status == Message.Status.NEW:
            return format_html("<strong>{}</strong>", message.subject)
        return message.subject

    @admin.display(description=_("article"), ordering="article__title")
    def article_link(self, message: Message) -> str:
        article = message.article
        if article is None:
            return "—"
        admin_link = format_html(
            '<a href="{}">{}</a>',
            reverse("admin:articles_article_change", args=[article.pk]),
            article.title,
        )
        if not article.is_published():
            return admin_link
        return format_html(
            '{} (<a href="{}" target="_blank" rel="noopener">{}</a>)',
            admin_link,
            article.get_absolute_url(),
            _("on site"),
        )

    @admin.display(description=_("status"), ordering="status")
    def status_label(self, message: Message) -> str:
        if message.status == Message.Status.NEW:
            return format_html('<strong class="contact-new">{}</strong>', _("New"))
        return message.get_status_display()

    @admin.display(description=_("notification"), ordering="delivery_state")
    def notification(self, message: Message) -> str:
        return _delivery_badge(message)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        message = self.get_object(request, unquote(object_id))
        if message is not None:
            # Opening a new message is reading it, for those who may triage it.
            if (
                request.method == "GET"
                and message.status == Message.Status.NEW
                and self.has_change_permission(request, message)
            ):
                services.message_mark(
                    messages=Message.objects.filter(pk=message.pk), status=Message.Status.READ
                )
                self._log_triage(request, [message], _("Marked as read on opening."))
            extra_context = {**(extra_context or {}), "reply_url": reply_mailto(message)}
        return super().change_view(request, object_id, form_url, extra_context)

    # Actions

    def _mark(self, request, queryset, status: str) -> None:
        changing = list(queryset.exclude(status=status))
        changed = services.message_mark(
            messages=Message.objects.filter(pk__in=[message.pk for message in changing]),
            status=status,
        )
        label = Message.Status(status).label.lower()
        self._log_triage(request, changing, _("Marked as %(status)s.") % {"status": label})
        self.message_user(
            request,
            ngettext(
                "%(count)d message marked %(status)s.",
                "%(count)d messages marked %(status)s.",
                changed,
            )
            % {"count": changed, "status": label},
            messages.SUCCESS,
        )

    def _log_triage(self, request, changed: list[Message], text: str) -> None:
        """A line in each message's History, as a save through the form writes."""
        if changed:
            LogEntry.objects.log_actions(
                user_id=request.user.pk, queryset=changed, action_flag=CHANGE, change_message=text
            )

    @admin.action(description=_("Mark as read"), permissions=["change"])
    def mark_read(self, request, queryset):
        self._mark(request, queryset, Message.Status.READ)

    @admin.action(description=_("Mark as answered"), permissions=["change"])
    def mark_answered(self, request, queryset):
        self._mark(request, queryset, Message.Status.ANSWERED)

    @admin.action(description=_("Mark as spam"), permissions=["change"])
    def mark_spam(self, request, queryset):
        self._mark(request, queryset, Message.Status.SPAM)

    @admin.action(description=_("Retry failed notification"), permissions=["change"])
    def retry_notification(self, request, queryset):
        rows = list(queryset)
        queued = services.delivery_retry(rows=rows)
        _report_retry(
            self,
            request,
            queued=queued,
            selected=len(rows),
            rule=_("only failed deliveries are retried."),
        )


# Everything but ``code_nonce``: with the site's secret it gives the code away.
VERIFICATION_FIELDS = [
    "email",
    "name",
    "article",
    "state",
    "wrong_tries",
    "resends",
    "created_at",
    "code_issued_at",
    "verified_at",
    "used_at",
    "delivery_state",
    "delivery_attempts",
    "delivery_error",
    "next_attempt_at",
    "sent_at",
]


@admin.register(Verification)
class VerificationAdmin(admin.ModelAdmin):
    # What tells one attempt from another at a glance; the times of each step,
    # the resends and the full delivery error are on the attempt's own page.
    list_display = ["email", "name", "state", "wrong_tries", "created", "delivery"]
    list_filter = ["state", "delivery_state"]
    search_fields = ["email"]
    date_hierarchy = "created_at"
    fields = VERIFICATION_FIELDS
    readonly_fields = VERIFICATION_FIELDS
    exclude = ["code_nonce"]
    actions = ["retry_delivery"]

    # A record of what happened: nobody adds, edits or deletes one here. The
    # periodic purge removes old verifications.
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_retry_permission(self, request) -> bool:
        return request.user.has_perm("contact.retry_delivery")

    @admin.display(description=_in_site_time(_("created")), ordering="created_at")
    def created(self, verification: Verification):
        return verification.created_at

    @admin.display(description=_("delivery"), ordering="delivery_state")
    def delivery(self, verification: Verification) -> str:
        return _delivery_badge(verification)

    @admin.action(description=_("Retry failed code mail"), permissions=["retry"])
    def retry_delivery(self, request, queryset):
        # delivery_retry mails a code only while the visitor can still type it in.
        selected = list(queryset)
        queued = services.delivery_retry(rows=selected)
        _report_retry(
            self,
            request,
            queued=queued,
            selected=len(selected),
            rule=_("only failed mails of codes still waiting to be typed in are retried."),
        )
