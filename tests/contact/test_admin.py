import importlib
import re
from html import unescape
from types import SimpleNamespace
from urllib.parse import unquote

import pytest
from django.apps import apps as django_apps
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone
from django.utils.html import escape

from contact import services
from contact.models import Delivery, Message, Verification
from tests.factories import (
    EDITORS_CONTACT_PERMISSIONS,
    ArticleFactory,
    MessageFactory,
    UserFactory,
    VerificationFactory,
)

pytestmark = pytest.mark.django_db

INBOX = "/admin/contact/message/"
VERIFICATIONS = "/admin/contact/verification/"


def change_url(row) -> str:
    return f"/admin/contact/{row._meta.model_name}/{row.pk}/change/"


def run_action(client, url: str, action: str, rows) -> object:
    return client.post(
        url,
        {"action": action, "_selected_action": [str(row.pk) for row in rows]},
        follow=True,
    )


def status_of(message: Message) -> str:
    message.refresh_from_db()
    return message.status


# The inbox list


def test_the_inbox_lists_each_message_with_sender_article_status_and_delivery(editor_client):
    article = ArticleFactory(title="Floods in the valley")
    MessageFactory(
        name="Jane Reader",
        email="jane@example.com",
        subject="Your flood story",
        article=article,
    )
    MessageFactory(
        subject="Lost mail",
        status=Message.Status.READ,
        delivery_state=Delivery.FAILED,
        delivery_error="SMTPServerDisconnected: Connection unexpectedly closed",
    )

    html = editor_client.get(INBOX).content.decode()

    headers = ("Received (Europe/London)", "Sender", "Subject", "Article", "Status", "Notification")
    for header in headers:
        assert f">{header}<" in html, header
    assert "Jane Reader<br>jane@example.com" in html
    assert "<strong>Your flood story</strong>" in html  # a new message stands out
    assert '<strong class="contact-new">New</strong>' in html
    assert (
        f'<a href="/admin/articles/article/{article.pk}/change/">Floods in the valley</a>' in html
    )
    assert f'href="{article.get_absolute_url()}"' in html
    assert (
        '<strong class="contact-delivery-failed" '
        'title="SMTPServerDisconnected: Connection unexpectedly closed">Failed</strong>'
    ) in html
    assert "<strong>Lost mail</strong>" not in html


@pytest.mark.parametrize(
    ("query", "shown", "hidden"),
    [
        ({"status__exact": "new"}, "Fresh one", "Old one"),
        ({"status__exact": "read"}, "Old one", "Fresh one"),
        ({"delivery_state__exact": "failed"}, "Old one", "Fresh one"),
        ({"q": "fresh"}, "Fresh one", "Old one"),
        ({"q": "sender@elsewhere.org"}, "Old one", "Fresh one"),
        ({"q": "flood defences"}, "Fresh one", "Old one"),  # the body
        ({"q": "valley"}, "Fresh one", "Old one"),  # the article's headline
    ],
)
def test_filters_and_search_narrow_the_inbox(editor_client, query, shown, hidden):
    MessageFactory(
        subject="Fresh one",
        body="About the flood defences.",
        article=ArticleFactory(title="Floods in the valley"),
    )
    MessageFactory(
        subject="Old one",
        email="sender@elsewhere.org",
        status=Message.Status.READ,
        delivery_state=Delivery.FAILED,
    )

    html = editor_client.get(INBOX, query).content.decode()

    assert shown in html
    assert hidden not in html


def test_the_article_filter_and_the_date_hierarchy_find_a_message(editor_client):
    article = ArticleFactory(title="Floods in the valley")
    MessageFactory(subject="About floods", article=article)
    MessageFactory(subject="Older", received_at=timezone.now() - timezone.timedelta(days=400))
    this_year = timezone.localtime().year

    by_article = editor_client.get(INBOX, {"article__id__exact": article.pk}).content.decode()
    by_year = editor_client.get(INBOX, {"received_at__year": this_year}).content.decode()

    assert "About floods" in by_article and "Older" not in by_article
    assert "About floods" in by_year and "Older" not in by_year


# Opening a message


def test_opening_a_new_message_marks_it_read(editor_client):
    message = MessageFactory()

    response = editor_client.get(change_url(message))

    assert response.status_code == 200
    assert status_of(message) == Message.Status.READ
    assert "Marked as read on opening." in history_of(editor_client, message)


def test_opening_leaves_an_answered_message_answered(editor_client):
    message = MessageFactory(status=Message.Status.ANSWERED)

    editor_client.get(change_url(message))

    assert status_of(message) == Message.Status.ANSWERED


def test_a_viewer_without_change_permission_leaves_it_new(https_client):
    viewer = UserFactory(is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_message"))
    https_client.force_login(viewer)
    message = MessageFactory(subject="Untouched")

    response = https_client.get(change_url(message))

    assert response.status_code == 200
    assert "Untouched" in response.content.decode()
    assert status_of(message) == Message.Status.NEW


def test_the_reply_link_mails_the_verified_sender_with_an_encoded_subject(editor_client):
    message = MessageFactory(email="jane+news@example.com", subject="Fish & chips? 100% yes")

    html = editor_client.get(change_url(message)).content.decode()

    href = "mailto:jane%2Bnews@example.com?subject=Re%3A%20Fish%20%26%20chips%3F%20100%25%20yes"
    assert f'<a href="{href}" class="contact-reply">Reply by email</a>' in html
    assert unquote(href.partition("subject=")[2]) == "Re: Fish & chips? 100% yes"


def test_the_reply_link_does_not_stack_re_or_carry_line_breaks():
    from contact.admin import reply_mailto

    message = MessageFactory.build(email="a@example.com", subject="RE: Your\r\nstory")

    assert reply_mailto(message) == "mailto:a@example.com?subject=RE%3A%20Your%20story"


def test_only_the_status_can_be_changed(editor_client):
    message = MessageFactory(
        name="Jane", email="jane@example.com", subject="Original words", body="Original body"
    )

    response = editor_client.post(
        change_url(message),
        {
            "subject": "Rewritten",
            "body": "Rewritten body",
            "name": "Someone else",
            "email": "else@example.com",
            "status": Message.Status.ANSWERED,
            "_save": "Save",
        },
    )

    assert response.status_code == 302
    message.refresh_from_db()
    assert (message.name, message.email, message.subject, message.body) == (
        "Jane",
        "jane@example.com",
        "Original words",
        "Original body",
    )
    assert message.status == Message.Status.ANSWERED


def test_messages_cannot_be_added_in_the_admin(editor_client, admin_client):
    assert editor_client.get(f"{INBOX}add/").status_code == 403
    admin_client.defaults["HTTP_X_FORWARDED_PROTO"] = "https"
    assert admin_client.get(f"{INBOX}add/").status_code == 403


# Actions


@pytest.mark.parametrize(
    ("action", "status"),
    [
        ("mark_read", Message.Status.READ),
        ("mark_answered", Message.Status.ANSWERED),
        ("mark_spam", Message.Status.SPAM),
    ],
)
def test_triage_actions_set_the_status(editor_client, action, status):
    chosen = [MessageFactory(), MessageFactory(status=Message.Status.READ)]
    other = MessageFactory()

    response = run_action(editor_client, INBOX, action, chosen)

    assert response.status_code == 200
    assert [status_of(message) for message in chosen] == [status, status]
    assert status_of(other) == Message.Status.NEW


def history_of(client, message: Message) -> str:
    return client.get(f"/admin/contact/message/{message.pk}/history/").content.decode()


def test_triage_is_written_into_each_messages_history(editor_client, editor):
    fresh, seen = MessageFactory(), MessageFactory(status=Message.Status.READ)
    already_spam = MessageFactory(status=Message.Status.SPAM)

    run_action(editor_client, INBOX, "mark_spam", [fresh, seen, already_spam])

    for message in (fresh, seen):
        history = history_of(editor_client, message)
        assert "Marked as spam." in history
        assert f"<td>{editor.username}</td>" in history  # who did it
    assert "Marked as spam." not in history_of(editor_client, already_spam)


def test_message_mark_refuses_an_unknown_status():
    with pytest.raises(ValueError, match="Unknown message status"):
        services.message_mark(messages=Message.objects.all(), status="deleted")


def test_retrying_a_failed_notification_sends_it(
    editor_client, settings, mailoutbox, django_capture_on_commit_callbacks
):
    settings.CONTACT_RECIPIENTS = ["desk@newsroom.test"]
    failed = MessageFactory(
        subject="Please call me",
        delivery_state=Delivery.FAILED,
        delivery_error="SMTPDataError: 554 no",
        sent_at=None,
    )
    sent = MessageFactory(subject="Already sent")

    with django_capture_on_commit_callbacks(execute=True):
        response = run_action(editor_client, INBOX, "retry_notification", [failed, sent])

    assert "1 mail is queued to be sent again." in response.content.decode()
    assert "1 selected mail was left alone" in response.content.decode()
    assert [mail.to for mail in mailoutbox] == [["desk@newsroom.test"]]
    assert "Please call me" in mailoutbox[0].subject
    failed.refresh_from_db()
    assert failed.delivery_state == Delivery.SENT
    assert failed.delivery_error == ""


# Verifications


def test_verifications_never_show_the_code_or_its_nonce(editor_client):
    verification = VerificationFactory(email="jane@example.com", wrong_tries=2, resends=1)
    code = services._code_for(verification)

    listing = editor_client.get(VERIFICATIONS).content.decode()
    detail = editor_client.get(change_url(verification)).content.decode()
    searched = editor_client.get(VERIFICATIONS, {"q": verification.code_nonce}).content.decode()

    assert "jane@example.com" in listing and "jane@example.com" in detail
    for html in (listing, detail):
        assert code not in html
        assert verification.code_nonce not in html
        assert "nonce" not in html.lower()
    assert "jane@example.com" not in searched  # the nonce is not searchable either


def column_headers(html: str) -> list[str]:
    start = html.index('<table id="result_list">')
    head = html[start : html.index("</thead>", start)]
    return [unescape(text) for text in re.findall(r"<a [^>]*>([^<]+)</a>", head)]


def test_the_verification_list_shows_state_tries_time_and_delivery(editor_client):
    error = "SMTPRecipientsRefused: {'locked@example.com': (550, b'no such user')}"
    VerificationFactory(
        email="locked@example.com",
        state=Verification.State.LOCKED,
        wrong_tries=5,
        delivery_state=Delivery.FAILED,
        delivery_error=error,
    )
    VerificationFactory(
        email="slow@example.com",
        delivery_state=Delivery.QUEUED,
        delivery_error="SMTPServerDisconnected: Connection unexpectedly closed",
    )

    html = editor_client.get(VERIFICATIONS).content.decode()

    # Six columns: the list fits an editor's screen without scrolling sideways.
    assert column_headers(html) == [
        "Email", "Name", "State", "Wrong tries", "Created (Europe/London)", "Delivery"
    ]  # fmt: skip
    assert "Ended: too many wrong codes" in html
    # The last error shows on hover, for a failed send and for one being retried.
    assert f'title="{escape(error)}">Failed</strong>' in html
    assert 'title="SMTPServerDisconnected: Connection unexpectedly closed">Queued</span>' in html


def test_a_verifications_page_shows_every_step_and_the_whole_error(editor_client):
    verification = VerificationFactory(
        wrong_tries=2,
        resends=1,
        delivery_state=Delivery.FAILED,
        delivery_error="SMTPRecipientsRefused: " + "x" * 300,
    )

    html = editor_client.get(
        f"/admin/contact/verification/{verification.pk}/change/"
    ).content.decode()

    for label in ("Wrong tries", "Resends", "Created", "Code issued", "Verified", "Used", "Sent"):
        assert f">{label}" in html, label
    assert "x" * 300 in html


@pytest.mark.parametrize(
    ("query", "shown", "hidden"),
    [
        ({"state__exact": "pending"}, "waiting@example.com", "done@example.com"),
        ({"delivery_state__exact": "failed"}, "done@example.com", "waiting@example.com"),
        ({"q": "waiting@"}, "waiting@example.com", "done@example.com"),
    ],
)
def test_verifications_filter_and_search(editor_client, query, shown, hidden):
    VerificationFactory(email="waiting@example.com")
    VerificationFactory(
        email="done@example.com", state=Verification.State.USED, delivery_state=Delivery.FAILED
    )

    html = editor_client.get(VERIFICATIONS, query).content.decode()

    assert shown in html
    assert hidden not in html


def test_verifications_are_read_only(editor_client, admin_client):
    verification = VerificationFactory(name="Before")
    admin_client.defaults["HTTP_X_FORWARDED_PROTO"] = "https"

    for client in (editor_client, admin_client):
        assert client.get(f"{VERIFICATIONS}add/").status_code == 403
        assert client.get(f"{change_url(verification)[:-7]}delete/").status_code == 403
        client.post(change_url(verification), {"name": "After", "email": "x@example.com"})
    verification.refresh_from_db()
    assert verification.name == "Before"


def test_retrying_a_failed_code_mail_sends_the_same_code(
    editor_client, mailoutbox, django_capture_on_commit_callbacks
):
    failed = VerificationFactory(
        delivery_state=Delivery.FAILED, delivery_error="SMTPDataError: 451 later", sent_at=None
    )
    used = VerificationFactory(
        state=Verification.State.USED, delivery_state=Delivery.FAILED, sent_at=None
    )

    with django_capture_on_commit_callbacks(execute=True):
        response = run_action(editor_client, VERIFICATIONS, "retry_delivery", [failed, used])

    html = response.content.decode()
    assert "1 mail is queued to be sent again." in html
    assert "1 selected mail was left alone" in html
    assert [mail.to for mail in mailoutbox] == [[failed.email]]
    assert services._code_for(failed) in mailoutbox[0].body
    failed.refresh_from_db()
    used.refresh_from_db()
    assert failed.delivery_state == Delivery.SENT
    assert used.delivery_state == Delivery.FAILED


def test_retry_needs_the_retry_permission(https_client):
    viewer = UserFactory(is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_verification"))
    https_client.force_login(viewer)
    failed = VerificationFactory(delivery_state=Delivery.FAILED, sent_at=None)

    page = https_client.get(VERIFICATIONS).content.decode()
    run_action(https_client, VERIFICATIONS, "retry_delivery", [failed])

    assert "retry_delivery" not in page
    failed.refresh_from_db()
    assert failed.delivery_state == Delivery.FAILED


# Who sees the inbox


def test_the_editors_group_has_exactly_the_contact_permissions():
    group = Group.objects.get(name="Editors")

    granted = {
        f"{permission.content_type.app_label}.{permission.codename}"
        for permission in group.permissions.filter(content_type__app_label="contact")
    }

    assert granted == EDITORS_CONTACT_PERMISSIONS


def test_an_editor_sees_the_inbox_on_the_admin_index(editor_client):
    message = MessageFactory()
    verification = VerificationFactory()

    index = editor_client.get("/admin/").content.decode()

    assert 'href="/admin/contact/message/"' in index
    assert 'href="/admin/contact/verification/"' in index
    for url in (INBOX, change_url(message), VERIFICATIONS, change_url(verification)):
        assert editor_client.get(url).status_code == 200, url


def test_staff_without_the_contact_permissions_are_refused(https_client):
    https_client.force_login(UserFactory(is_staff=True))
    message = MessageFactory()
    verification = VerificationFactory()

    for url in (INBOX, change_url(message), VERIFICATIONS, change_url(verification)):
        assert https_client.get(url).status_code == 403, url
    assert status_of(message) == Message.Status.NEW


def test_the_notification_mail_links_to_the_message_in_the_admin(settings, mailoutbox):
    settings.CONTACT_RECIPIENTS = ["desk@newsroom.test"]
    settings.SITE_URL = "https://news.example"
    message = MessageFactory(delivery_state=Delivery.QUEUED, sent_at=None)

    services.message_notify_editors(message_id=message.pk)

    assert f"https://news.example{change_url(message)}" in mailoutbox[0].body


def test_the_permissions_migration_reverses_and_reapplies():
    migration = importlib.import_module("contact.migrations.0002_editors_contact_permissions")
    state_apps = (
        MigrationExecutor(connection)
        .loader.project_state(("contact", "0002_editors_contact_permissions"))
        .apps
    )
    schema_editor = SimpleNamespace(connection=connection)
    group = Group.objects.get(name="Editors")
    article_permissions = group.permissions.exclude(content_type__app_label="contact").count()

    migration.revoke_contact_permissions(state_apps, schema_editor)
    assert not group.permissions.filter(content_type__app_label="contact").exists()
    assert group.permissions.count() == article_permissions
    migration.grant_contact_permissions(state_apps, schema_editor)

    assert group.permissions.filter(content_type__app_label="contact").count() == len(
        EDITORS_CONTACT_PERMISSIONS
    )


# The outbox fields


def test_a_sent_notification_shows_no_next_attempt(editor_client, settings, mailoutbox):
    settings.CONTACT_RECIPIENTS = ["desk@newsroom.test"]
    # As message_submit leaves it: queued, its first attempt due now.
    message = MessageFactory(
        subject="Sent at once",
        delivery_state=Delivery.QUEUED,
        delivery_attempts=0,
        sent_at=None,
        next_attempt_at=timezone.now(),
    )
    MessageFactory(
        subject="Waiting to retry",
        delivery_state=Delivery.QUEUED,
        delivery_error="SMTPServerDisconnected: Connection unexpectedly closed",
        sent_at=None,
        next_attempt_at=timezone.now() + timezone.timedelta(minutes=2),
    )

    assert services.message_notify_editors(message_id=message.pk)

    message.refresh_from_db()
    assert message.delivery_state == Delivery.SENT
    assert message.next_attempt_at is None
    listing = editor_client.get(INBOX).content.decode()
    rows = {
        subject: row
        for row in re.findall(r"<tr>.*?</tr>", listing, re.S)
        for subject in ("Sent at once", "Waiting to retry")
        if subject in row
    }
    assert "next attempt" not in rows["Sent at once"]
    assert "next attempt" in rows["Waiting to retry"]  # the list does show one when due
    detail = editor_client.get(change_url(message)).content.decode()
    field = re.search(r'<div class="[^"]*field-next_attempt_at.*?</div>\s*</div>', detail, re.S)
    assert re.search(r'<div class="readonly">-</div>', field.group(0))


def test_the_migration_clears_the_next_attempt_of_mails_already_sent():
    now = timezone.now()
    sent = MessageFactory(next_attempt_at=now)
    queued = MessageFactory(delivery_state=Delivery.QUEUED, sent_at=None, next_attempt_at=now)
    code_sent = VerificationFactory(next_attempt_at=now)
    migration = importlib.import_module("contact.migrations.0003_sent_mails_have_no_next_attempt")

    migration.clear_next_attempt(django_apps, SimpleNamespace(connection=connection))

    for row in (sent, queued, code_sent):
        row.refresh_from_db()
    assert sent.next_attempt_at is None and code_sent.next_attempt_at is None
    assert queued.next_attempt_at == now
