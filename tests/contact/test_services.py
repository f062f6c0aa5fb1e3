import email
import email.policy
import re
import smtplib
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from contact import services, tasks
from contact.models import Delivery, Message, Verification
from tests.factories import ArticleFactory

pytestmark = pytest.mark.django_db

IP = "203.0.113.7"


def code_from(mail) -> str:
    return re.search(r"\b(\d{6})\b", mail.body).group(1)


@pytest.fixture
def start(django_capture_on_commit_callbacks, mailoutbox):
    """Run step 1 as the site does, with the task run at commit (eagerly)."""

    def start(email="jane@example.com", name="Jane Reader", ip=IP, article=None):
        with django_capture_on_commit_callbacks(execute=True):
            return services.verification_start(
                name=name, email=email, article=article, client_ip=ip
            )

    return start


def record_enqueued(monkeypatch) -> list:
    """What the services hand to the broker, as (task name, kwargs), instead of sending it."""
    enqueued = []
    for task in (tasks.send_verification_code, tasks.notify_editors):
        monkeypatch.setattr(
            task,
            "apply_async",
            lambda kwargs, task=task, **options: enqueued.append((task.name, kwargs)),
        )
    return enqueued


@pytest.fixture
def verified(start, mailoutbox):
    verification = start()
    services.verification_check(
        verification_id=verification.pk, code=code_from(mailoutbox[-1]), client_ip=IP
    )
    return verification


def test_start_mails_a_six_digit_code_that_verifies(start, mailoutbox):
    verification = start(email="Jane+news@EXAMPLE.com")
    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == ["Jane+news@example.com"]
    code = code_from(mail)
    assert re.fullmatch(r"\d{6}", code)
    assert "10 minutes" in mail.body
    assert "did not ask" in mail.body
    assert code in mail.alternatives[0][0]

    verification.refresh_from_db()
    assert verification.delivery_state == Delivery.SENT
    checked = services.verification_check(verification_id=verification.pk, code=code, client_ip=IP)
    assert checked.state == Verification.State.VERIFIED


def test_code_is_never_stored_or_enqueued_in_clear(start, mailoutbox, monkeypatch):
    enqueued = record_enqueued(monkeypatch)
    verification = start()
    code = services._code_for(verification)
    row = Verification.objects.filter(pk=verification.pk).values().get()
    assert not any(code in str(value) for value in row.values())
    assert enqueued == [
        ("contact.send_verification_code", {"verification_id": str(verification.pk)})
    ]


def test_a_redelivered_task_mails_the_same_code(start, mailoutbox):
    verification = start()
    Verification.objects.filter(pk=verification.pk).update(delivery_state=Delivery.QUEUED)
    services.verification_send_code(verification_id=verification.pk)
    assert code_from(mailoutbox[0]) == code_from(mailoutbox[1])


def test_a_sent_row_is_not_sent_again(start, mailoutbox):
    verification = start()
    assert services.verification_send_code(verification_id=verification.pk) is False
    assert len(mailoutbox) == 1


@pytest.mark.parametrize("typed", ["{code}", " {code} ", "{a} {b}", "{a}-{b}"])
def test_codes_may_be_typed_with_spaces_and_dashes(start, mailoutbox, typed):
    verification = start()
    code = code_from(mailoutbox[0])
    typed = typed.format(code=code, a=code[:3], b=code[3:])
    assert (
        services.verification_check(verification_id=verification.pk, code=typed, client_ip=IP).state
        == Verification.State.VERIFIED
    )


def test_wrong_codes_count_down_and_the_fifth_ends_the_verification(start, mailoutbox):
    verification = start()
    wrong = "000000" if code_from(mailoutbox[0]) != "000000" else "111111"
    for left in (4, 3, 2, 1):
        with pytest.raises(services.WrongCode) as excinfo:
            services.verification_check(verification_id=verification.pk, code=wrong, client_ip=IP)
        assert excinfo.value.tries_left == left
    with pytest.raises(services.VerificationEnded) as excinfo:
        services.verification_check(verification_id=verification.pk, code=wrong, client_ip=IP)
    assert excinfo.value.reason == "locked"
    # Even the right code no longer works.
    with pytest.raises(services.VerificationEnded):
        services.verification_check(
            verification_id=verification.pk, code=code_from(mailoutbox[0]), client_ip=IP
        )


def test_a_code_expires_ten_minutes_after_it_is_sent(start, mailoutbox):
    verification = start()
    code = code_from(mailoutbox[0])
    with (
        time_machine.travel(timezone.now() + timedelta(minutes=10, seconds=1)),
        pytest.raises(services.VerificationEnded) as excinfo,
    ):
        services.verification_check(verification_id=verification.pk, code=code, client_ip=IP)
    assert excinfo.value.reason == "expired"


def test_a_code_still_works_just_before_expiry(start, mailoutbox):
    verification = start()
    with time_machine.travel(timezone.now() + timedelta(minutes=9, seconds=50)):
        services.verification_check(
            verification_id=verification.pk, code=code_from(mailoutbox[0]), client_ip=IP
        )


def test_resend_waits_a_minute_replaces_the_code_and_keeps_wrong_tries(
    start, mailoutbox, django_capture_on_commit_callbacks
):
    verification = start()
    old_code = code_from(mailoutbox[0])
    with pytest.raises(services.WrongCode):
        services.verification_check(
            verification_id=verification.pk,
            code="999999" if old_code != "999999" else "888888",
            client_ip=IP,
        )
    with pytest.raises(services.ResendRefused) as excinfo:
        services.verification_resend(verification_id=verification.pk, client_ip=IP)
    assert excinfo.value.reason == "cooldown"
    assert 0 < excinfo.value.retry_after <= 60

    with time_machine.travel(timezone.now() + timedelta(seconds=61)):
        with django_capture_on_commit_callbacks(execute=True):
            services.verification_resend(verification_id=verification.pk, client_ip=IP)
        new_code = code_from(mailoutbox[1])
        verification.refresh_from_db()
        assert verification.wrong_tries == 1
        if new_code != old_code:  # one in a million they coincide
            with pytest.raises(services.WrongCode):
                services.verification_check(
                    verification_id=verification.pk, code=old_code, client_ip=IP
                )
        services.verification_check(verification_id=verification.pk, code=new_code, client_ip=IP)


def test_resend_is_capped_at_three(start, mailoutbox, django_capture_on_commit_callbacks, settings):
    settings.CONTACT_CODES_PER_EMAIL_PER_HOUR = 100
    verification = start()
    now = timezone.now()
    for n in range(1, 4):
        with (
            time_machine.travel(now + timedelta(minutes=2 * n)),
            django_capture_on_commit_callbacks(execute=True),
        ):
            services.verification_resend(verification_id=verification.pk, client_ip=IP)
    with (
        time_machine.travel(now + timedelta(minutes=9)),
        pytest.raises(services.ResendRefused) as excinfo,
    ):
        services.verification_resend(verification_id=verification.pk, client_ip=IP)
    assert excinfo.value.reason == "cap"
    assert len(mailoutbox) == 4


def test_five_codes_an_hour_per_address(start, mailoutbox):
    for _ in range(5):
        start(email="busy@example.com")
    with pytest.raises(services.Throttled) as excinfo:
        start(email="busy@example.com")
    assert 0 < excinfo.value.retry_after <= 3600
    assert len(mailoutbox) == 5
    start(email="other@example.com")  # another address is not affected
    assert len(mailoutbox) == 6


def test_twenty_verifications_an_hour_per_ip(start, mailoutbox):
    for n in range(20):
        start(email=f"reader{n}@example.com", ip="198.51.100.1")
    with pytest.raises(services.Throttled):
        start(email="reader99@example.com", ip="198.51.100.1")
    assert len(mailoutbox) == 20
    assert Verification.objects.count() == 20
    start(email="reader99@example.com", ip="198.51.100.2")


def test_sixty_code_checks_an_hour_per_ip(start, mailoutbox, settings):
    settings.CONTACT_MAX_WRONG_TRIES = 1000
    verification = start()
    wrong = "000000" if code_from(mailoutbox[0]) != "000000" else "111111"
    for _ in range(60):
        with pytest.raises(services.WrongCode):
            services.verification_check(verification_id=verification.pk, code=wrong, client_ip=IP)
    with pytest.raises(services.Throttled):
        services.verification_check(
            verification_id=verification.pk, code=code_from(mailoutbox[0]), client_ip=IP
        )


def test_letter_case_and_plus_tags_share_one_allowance(start, mailoutbox, settings):
    settings.CONTACT_CODES_PER_EMAIL_PER_HOUR = 2
    start(email="rs1@example.com", ip="198.51.100.1")
    start(email="RS1@Example.com", ip="198.51.100.2")
    for variant in ("rs1+x@example.com", "Rs1+news@EXAMPLE.COM"):
        with pytest.raises(services.Throttled):
            start(email=variant, ip="198.51.100.3")
    assert len(mailoutbox) == 2


@pytest.mark.parametrize(
    "variants",
    [
        ("jane@bücher.example", "jane@xn--bcher-kva.example", "Jane+x@XN--BCHER-KVA.Example"),
        ("jane@BÜCHER.example", "JANE@bücher.EXAMPLE", "jane+news@xn--bcher-kva.example"),
        # Python's IDNA codec, which Django's mail uses, spells straße as strasse.
        ("jane@straße.example", "jane@STRASSE.example", "jane+x@strasse.example"),
    ],
)
def test_an_international_domain_in_any_spelling_shares_one_allowance(
    start, mailoutbox, settings, variants
):
    settings.CONTACT_CODES_PER_EMAIL_PER_HOUR = 2
    first, second, third = variants
    start(email=first, ip="198.51.100.1")
    start(email=second, ip="198.51.100.2")
    with pytest.raises(services.Throttled):
        start(email=third, ip="198.51.100.3")
    assert len(mailoutbox) == 2


def test_limits_hold_with_the_cache_down(start, mailoutbox, settings):
    """The limits are counted in the database: a cache outage opens no door."""
    from harness import free_port

    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",
        }
    }
    settings.CONTACT_CODES_PER_EMAIL_PER_HOUR = 2
    start(email="busy@example.com")
    start(email="busy@example.com")
    with pytest.raises(services.Throttled):
        start(email="busy@example.com")
    assert len(mailoutbox) == 2


def test_message_needs_a_verified_verification(start):
    verification = start()
    with pytest.raises(services.NotVerified):
        services.message_submit(verification_id=verification.pk, subject="Hi", body="Hello")
    assert not Message.objects.exists()


def test_message_is_stored_once_and_notifies_the_editors(
    verified, mailoutbox, settings, django_capture_on_commit_callbacks
):
    settings.CONTACT_RECIPIENTS = ["desk@newsroom.test", "editor@newsroom.test"]
    with django_capture_on_commit_callbacks(execute=True):
        message = services.message_submit(
            verification_id=verified.pk, subject="A tip", body="Line one\nLine two"
        )
    again = services.message_submit(verification_id=verified.pk, subject="A tip", body="again")
    assert again.pk == message.pk
    assert Message.objects.count() == 1
    verified.refresh_from_db()
    assert verified.state == Verification.State.USED

    notification = mailoutbox[-1]
    assert notification.to == settings.CONTACT_RECIPIENTS
    assert notification.reply_to == ["Jane Reader <jane@example.com>"]
    assert notification.from_email == settings.DEFAULT_FROM_EMAIL
    assert "Line one\nLine two" in notification.body
    assert f"/admin/contact/message/{message.pk}/change/" in notification.body
    message.refresh_from_db()
    assert message.delivery_state == Delivery.SENT


def test_message_records_the_article(start, mailoutbox):
    article = ArticleFactory()
    verification = start(article=article)
    services.verification_check(
        verification_id=verification.pk, code=code_from(mailoutbox[0]), client_ip=IP
    )
    message = services.message_submit(verification_id=verification.pk, subject="S", body="B")
    assert message.article == article


def test_verified_verification_expires_for_writing(verified):
    with (
        time_machine.travel(timezone.now() + timedelta(minutes=31)),
        pytest.raises(services.VerificationEnded) as excinfo,
    ):
        services.verification_for_message(verification_id=verified.pk)
    assert excinfo.value.reason == "expired"


def submit_as(*, name: str, address: str, subject: str) -> Message:
    """A message from a verification made straight in the database, past the forms' checks."""
    verification = Verification.objects.create(
        name=name,
        email=address,
        code_nonce="n",
        state=Verification.State.VERIFIED,
        verified_at=timezone.now(),
    )
    return services.message_submit(verification_id=verification.pk, subject=subject, body="x")


@pytest.mark.parametrize(
    ("name", "subject"),
    [
        ("Eve\nBcc: victim@example.org", "Hello"),
        ("Eve", "Hello\r\nBcc: victim@example.org"),
        ('"Evil, Inc." <x@y.z>', "=?utf-8?q?encoded?="),
    ],
)
def test_no_visitor_text_reaches_a_mail_header_unescaped(
    name, subject, mailoutbox, settings, django_capture_on_commit_callbacks
):
    """Forms refuse line breaks; the services hold even if something slipped through."""
    settings.CONTACT_RECIPIENTS = ["desk@newsroom.test"]
    with django_capture_on_commit_callbacks(execute=True):
        submit_as(name=name, address="eve@example.com", subject=subject)
    raw = mailoutbox[-1].message().as_bytes().decode()
    headers = raw.split("\n\n", 1)[0]
    assert "\nBcc:" not in headers
    assert mailoutbox[-1].bcc == []
    assert mailoutbox[-1].recipients() == ["desk@newsroom.test"]


def decoded_as_a_mail_client_would(mail) -> email.message.EmailMessage:
    return email.message_from_bytes(mail.message().as_bytes(), policy=email.policy.default)


def test_names_written_with_joiners_reach_the_editors_mail_intact(
    mailoutbox, settings, django_capture_on_commit_callbacks
):
    settings.CONTACT_RECIPIENTS = ["desk@newsroom.test"]
    # Persian, with zero-width non-joiners.
    name, subject = "مهسا نیک\u200cپور", "گزارش\u200cها"  # noqa: RUF001
    with django_capture_on_commit_callbacks(execute=True):
        submit_as(name=name, address="mahsa@example.com", subject=subject)

    parsed = decoded_as_a_mail_client_would(mailoutbox[-1])
    assert parsed["Subject"].endswith(subject)
    (reply_to,) = parsed["Reply-To"].addresses
    assert (reply_to.display_name, reply_to.addr_spec) == (name, "mahsa@example.com")


@pytest.mark.parametrize(
    ("name", "subject"),
    [
        ("=?utf-8?q?Boss_=3Cceo=40newsroom.test=3E?=", "=?utf-8?q?Invoice_=E2=80=AEfdp.exe?="),
        ("Jane =?utf-8?b?4oCu?= Reader", "Re: =?UTF-8?B?4oCuZXhlLnBkZg==?= as asked"),
        ('"=?utf-8?q?Boss?=" <boss@newsroom.test>', "a=?b?q?c?=d"),
        ("Jöhn =?utf-8?q?Boss?=", "Grüße =?utf-8?q?=E2=80=AE?="),
    ],
)
def test_encoded_words_a_visitor_typed_reach_the_editors_as_typed(
    name, subject, mailoutbox, settings, django_capture_on_commit_callbacks
):
    """Forms refuse them; a message stored before that rule still shows literally."""
    settings.CONTACT_RECIPIENTS = ["desk@newsroom.test"]
    with django_capture_on_commit_callbacks(execute=True):
        submit_as(name=name, address="eve@example.com", subject=subject)

    parsed = decoded_as_a_mail_client_would(mailoutbox[-1])
    # Django folds a long encoded subject onto the next line; clients drop that space.
    assert parsed["Subject"].strip() == f"[{settings.SITE_NAME} contact] {subject}"
    (reply_to,) = parsed["Reply-To"].addresses
    assert (reply_to.display_name, reply_to.addr_spec) == (name, "eve@example.com")


def test_a_visitor_at_an_international_domain_can_be_replied_to(
    mailoutbox, settings, django_capture_on_commit_callbacks
):
    settings.CONTACT_RECIPIENTS = ["desk@newsroom.test"]
    with django_capture_on_commit_callbacks(execute=True):
        message = submit_as(name="Jana Müller", address="jana@bücher.example", subject="Hallo")

    message.refresh_from_db()
    assert message.delivery_state == Delivery.SENT
    (reply_to,) = decoded_as_a_mail_client_would(mailoutbox[-1])["Reply-To"].addresses
    assert (reply_to.display_name, reply_to.addr_spec) == (
        "Jana Müller",
        "jana@xn--bcher-kva.example",
    )


def test_no_recipients_configured_fails_the_notification(
    verified, settings, mailoutbox, django_capture_on_commit_callbacks
):
    settings.CONTACT_RECIPIENTS = []
    with django_capture_on_commit_callbacks(execute=True):  # the notification task runs
        message = services.message_submit(verification_id=verified.pk, subject="S", body="B")
    message.refresh_from_db()
    assert message.delivery_state == Delivery.FAILED
    assert "CONTACT_RECIPIENTS" in message.delivery_error


@pytest.mark.parametrize(
    ("exc", "transient"),
    [
        (smtplib.SMTPServerDisconnected("gone"), True),
        (ConnectionRefusedError(111, "refused"), True),
        (TimeoutError(), True),
        (smtplib.SMTPResponseException(451, b"try later"), True),
        (smtplib.SMTPResponseException(554, b"no"), False),
        (smtplib.SMTPRecipientsRefused({"a@b.c": (450, b"busy")}), True),
        (smtplib.SMTPRecipientsRefused({"a@b.c": (550, b"no such user")}), False),
    ],
)
def test_which_mail_errors_are_retried(exc, transient):
    assert services.is_transient(exc) is transient


def test_retry_delays_grow_with_jitter_and_a_cap(settings):
    settings.CONTACT_MAIL_RETRY_BASE = 10
    settings.CONTACT_MAIL_RETRY_MAX = 300
    for attempt, (low, high) in enumerate([(5, 10), (10, 20), (20, 40), (40, 80)]):
        delays = {services.retry_delay(attempt) for _ in range(20)}
        assert all(low <= delay <= high for delay in delays)
        assert len(delays) > 1  # jitter
    assert all(services.retry_delay(20) <= 300 for _ in range(20))


def test_outbox_sweep_re_enqueues_only_overdue_queued_rows(
    start, monkeypatch, django_capture_on_commit_callbacks
):
    enqueued = record_enqueued(monkeypatch)
    fresh = start(email="fresh@example.com")
    stale = start(email="stale@example.com")
    locked = start(email="locked@example.com")
    long_ago = timezone.now() - timedelta(minutes=3)
    Verification.objects.filter(pk__in=[stale.pk, locked.pk]).update(next_attempt_at=long_ago)
    Verification.objects.filter(pk=locked.pk).update(state=Verification.State.LOCKED)
    enqueued.clear()

    with django_capture_on_commit_callbacks(execute=True):
        assert services.outbox_sweep() == 1
    assert enqueued == [("contact.send_verification_code", {"verification_id": str(stale.pk)})]
    assert services.outbox_sweep() == 0  # its next attempt is now due again, not overdue
    fresh.refresh_from_db()
    assert fresh.delivery_state == Delivery.QUEUED


def test_a_mail_the_broker_never_took_goes_at_the_next_sweep(
    monkeypatch, django_capture_on_commit_callbacks
):
    """Not CONTACT_OUTBOX_STALE_AFTER later: no task holds it, so nothing can send it twice."""

    def unreachable(*args, **kwargs):
        raise BrokerError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(tasks.send_verification_code, "apply_async", unreachable)
    with django_capture_on_commit_callbacks(execute=True):
        verification = services.verification_start(
            name="Jane", email="jane@example.com", article=None, client_ip=IP
        )
    verification.refresh_from_db()
    assert verification.delivery_error == services.NOT_ENQUEUED

    enqueued = record_enqueued(monkeypatch)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.outbox_sweep() == 1
    assert enqueued == [
        ("contact.send_verification_code", {"verification_id": str(verification.pk)})
    ]
    with django_capture_on_commit_callbacks(execute=True):
        assert services.outbox_sweep() == 0  # its new task holds it


def test_purge_keeps_messages_and_fresh_verifications(verified, start):
    message = services.message_submit(verification_id=verified.pk, subject="S", body="B")
    pending = start(email="pending@example.com")
    old_pending = start(email="old@example.com")
    Verification.objects.filter(pk=old_pending.pk).update(
        created_at=timezone.now() - timedelta(days=1, minutes=1)
    )
    assert services.verifications_purge() == 1
    with time_machine.travel(timezone.now() + timedelta(days=31)):
        assert services.verifications_purge() == 2  # the used one and the now-old pending one
    assert Message.objects.filter(pk=message.pk).exists()
    assert not Verification.objects.filter(pk__in=[pending.pk, verified.pk]).exists()


def test_logs_mask_addresses_and_never_show_a_code(start, mailoutbox, caplog):
    caplog.set_level("DEBUG")
    verification = start(email="jane.doe@example.com")
    code = code_from(mailoutbox[0])
    services.verification_check(verification_id=verification.pk, code=code, client_ip=IP)
    text = caplog.text
    assert "j***@example.com" in text
    assert "jane.doe@example.com" not in text
    assert code not in text
