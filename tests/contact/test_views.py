"""The three contact steps through the test client, as a visitor's browser uses them.

Tasks run eagerly (tests/conftest.py) and ``on_commit`` callbacks are run by
``django_capture_on_commit_callbacks``, so a code mail lands in ``mailoutbox``
during the request that asked for it.
"""

import re
import time
from datetime import timedelta
from html import unescape

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from articles.models import Article
from contact.forms import started_age
from contact.models import Delivery, Message, Verification
from contact.views import FORM_COOKIE, SESSION_VERIFICATION
from harness.visitor import form_inputs
from tests.factories import ArticleFactory

pytestmark = pytest.mark.django_db

START = reverse("contact:start")
VERIFY = reverse("contact:verify")
RESEND = reverse("contact:resend")
MESSAGE = reverse("contact:message")
THANKS = reverse("contact:thanks")

NAME = "Jane Reader"
EMAIL = "jane@example.com"


@pytest.fixture(autouse=True)
def _contact_settings(settings):
    settings.CONTACT_RECIPIENTS = ["desk@newsroom.test"]
    settings.DEFAULT_FROM_EMAIL = "Newsroom <newsroom@newsroom.test>"
    settings.SITE_URL = "https://news.example.org"


def served_started(response) -> str:
    return form_inputs(response.content.decode())["started"]


def token(client, age: float = 30) -> str:
    """The step-1 timestamp ``client`` was served with the form ``age`` seconds ago."""
    with time_machine.travel(time.time() - age):
        return served_started(client.get(START))


def binding_of(client) -> str:
    """The value ``client`` keeps for the step-1 form, which its tokens are signed with."""
    return client.cookies[FORM_COOKIE].value


@pytest.fixture
def send(django_capture_on_commit_callbacks):
    """POST like a browser and run what the request queued after commit (the mail tasks)."""

    def post(client, url, data=None, **extra):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(url, data or {}, **extra)

    return post


def start_data(client, **overrides) -> dict:
    """Step 1 as ``client`` fills it in, in a form it was served 30 seconds ago (unless
    ``started`` says which token to send)."""
    started = overrides.pop("started") if "started" in overrides else token(client)
    return {"name": NAME, "email": EMAIL, "website": "", "started": started, "article": ""} | (
        overrides
    )


def code_in(mail) -> str:
    return re.search(r"\b(\d{6})\b", mail.body).group(1)


def html_of(mail) -> str:
    (content, mimetype), *_ = mail.alternatives
    assert mimetype == "text/html"
    return content


def page_text(response) -> str:
    """The visible words of a page, tags dropped and whitespace collapsed."""
    html = response.content.decode()
    main = html[html.index("<main") : html.index("</main>")]
    return " ".join(re.sub(r"<[^>]+>", " ", main).split())


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


@pytest.fixture
def verified(client, send, mailoutbox):
    """A client that has passed steps 1 and 2."""
    assert send(client, START, start_data(client)).url == VERIFY
    assert send(client, VERIFY, {"code": code_in(mailoutbox[-1])}).url == MESSAGE
    return client


# The happy path ---------------------------------------------------------------------


def test_start_page_explains_the_flow(client):
    response = client.get(START)

    assert response.status_code == 200
    text = page_text(response)
    assert "Step 1 of 3" in text
    assert "When you click Next , we send a verification code to your email" in text
    html = response.content.decode()
    assert '<form id="contact-start-form"' in html
    assert 'name="csrfmiddlewaretoken"' in html
    assert html.count('name="csrfmiddlewaretoken"') == 1
    assert '<meta name="robots" content="noindex">' in html
    assert "no-store" in response["Cache-Control"]
    assert 'for="id_name"' in html and 'for="id_email"' in html
    assert 'aria-describedby="id_email_helptext"' in html


def test_honeypot_is_hidden_from_people_and_screen_readers(client):
    html = client.get(START).content.decode()

    wrapper = re.search(r'<div\s+class="contact-hp visually-hidden"\s+aria-hidden="true">', html)
    assert wrapper, "honeypot wrapper"
    field = re.search(r'<input type="text" name="website"[^>]*>', html).group(0)
    assert 'tabindex="-1"' in field
    assert 'autocomplete="off"' in field
    assert "style=" not in html.split("<main", 1)[1]


def test_whole_flow_from_an_article(client, send, mailoutbox):
    article = ArticleFactory(title="Flood defences fail")

    page = client.get(f"{START}?article={article.slug}")
    assert "Flood defences fail" in page_text(page)
    assert f'name="article" value="{article.slug}"' in page.content.decode()

    response = send(client, START, start_data(client, article=article.slug))
    assert response.status_code == 302
    assert response.url == VERIFY

    (mail,) = mailoutbox
    assert mail.to == [EMAIL]
    code = code_in(mail)
    for part in (mail.body, html_of(mail)):
        assert code in part
        assert "valid for 10 minutes" in part
        assert "If you did not ask for this code, ignore this email" in part

    page = client.get(VERIFY)
    assert "Step 2 of 3" in page_text(page)
    assert f"We sent a 6-digit code to {EMAIL}" in page_text(page)
    html = page.content.decode()
    assert 'inputmode="numeric"' in html
    assert 'autocomplete="one-time-code"' in html
    assert 'maxlength="12"' in html

    response = send(client, VERIFY, {"code": f"{code[:3]} {code[3:]}"})
    assert response.url == MESSAGE

    page = client.get(MESSAGE)
    text = page_text(page)
    assert "Step 3 of 3" in text
    assert NAME in text and EMAIL in text and "Flood defences fail" in text
    html = page.content.decode()
    assert 'name="name"' not in html and 'name="email"' not in html

    response = send(
        client, MESSAGE, {"subject": "A correction", "message": "Line one.\r\nLine two."}
    )
    assert response.url == THANKS

    stored = Message.objects.get()
    assert (stored.name, stored.email, stored.subject) == (NAME, EMAIL, "A correction")
    assert stored.body == "Line one.\nLine two."
    assert stored.article == article
    assert stored.verification.state == Verification.State.USED

    notification = mailoutbox[-1]
    assert notification.to == ["desk@newsroom.test"]
    assert notification.reply_to == [f"{NAME} <{EMAIL}>"]

    thanks = client.get(THANKS)
    assert thanks.status_code == 200
    assert f"will reply to {EMAIL}" in page_text(thanks)
    assert SESSION_VERIFICATION not in client.session


@pytest.mark.parametrize("slug", ["no-such-story", "draft", "x" * 5000, "a\x00b"])
def test_an_article_that_is_not_public_is_ignored_silently(client, send, mailoutbox, slug):
    ArticleFactory(slug="draft", status=Article.Status.DRAFT)

    page = client.get(START, {"article": slug})
    assert page.status_code == 200
    assert "About the story" not in page_text(page)

    response = send(client, START, start_data(client, article=slug))
    assert response.url == VERIFY
    assert Verification.objects.get().article is None
    assert len(mailoutbox) == 1


def test_session_key_changes_when_the_flow_starts(client, send):
    client.get(START)
    client.session.save()
    before = client.cookies["sessionid"].value

    send(client, START, start_data(client))

    assert client.cookies["sessionid"].value != before


def test_email_is_normalized_and_plus_addresses_work(client, send, mailoutbox):
    send(client, START, start_data(client, email="  Jane+news@Example.COM "))

    assert Verification.objects.get().email == "Jane+news@example.com"
    assert mailoutbox[0].to == ["Jane+news@example.com"]


# Step 2: wrong codes, expiry, resend -------------------------------------------------


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def test_a_wrong_code_says_how_many_tries_are_left(client, send, mailoutbox):
    send(client, START, start_data(client))
    bad = wrong(code_in(mailoutbox[0]))

    response = send(client, VERIFY, {"code": bad})

    assert response.status_code == 200
    assert "That code is not right. You have 4 more tries." in page_text(response)
    html = response.content.decode()
    assert f'value="{bad}"' in html
    assert 'aria-invalid="true"' in html
    assert 'aria-describedby="id_code_helptext id_code_error"' in html
    assert 'id="id_code_error"' in html
    assert "<title>Error: " in html


def test_the_fifth_wrong_code_ends_the_verification(client, send, mailoutbox):
    send(client, START, start_data(client))
    bad = wrong(code_in(mailoutbox[0]))
    for tries_left in (4, 3, 2):
        assert f"You have {tries_left} more tries." in page_text(
            send(client, VERIFY, {"code": bad})
        )
    assert "You have 1 more try." in page_text(send(client, VERIFY, {"code": bad}))

    response = send(client, VERIFY, {"code": bad})

    assert response.url == START
    assert SESSION_VERIFICATION not in client.session
    page = client.get(START)
    assert "Too many wrong codes. Please start again." in messages_of(page)
    # What the visitor typed is offered again.
    assert f'value="{NAME}"' in page.content.decode()
    assert client.get(VERIFY).url == START


def test_after_the_fifth_wrong_code_step_one_keeps_name_address_and_story(
    client, send, mailoutbox, settings
):
    article = ArticleFactory(title="Flood defences fail")
    send(client, START, start_data(client, article=article.slug))
    bad = wrong(code_in(mailoutbox[0]))
    for _ in range(settings.CONTACT_MAX_WRONG_TRIES):
        response = send(client, VERIFY, {"code": bad})

    page = client.get(response.url)

    assert "Too many wrong codes. Please start again." in messages_of(page)
    assert "About the story: Flood defences fail" in page_text(page)
    fields = form_inputs(page.content.decode())
    assert (fields["name"], fields["email"], fields["article"]) == (NAME, EMAIL, article.slug)
    # Nothing is left to type: pressing Next at once starts again, about the same story.
    assert send(client, START, fields).url == VERIFY
    assert len(mailoutbox) == 2
    again = Verification.objects.get(state=Verification.State.PENDING)
    assert (again.name, again.email, again.article) == (NAME, EMAIL, article)


def test_a_step_one_page_nobody_filled_in_still_has_to_wait(client, send, mailoutbox):
    fields = form_inputs(client.get(START).content.decode())

    response = send(client, START, fields | {"name": NAME, "email": EMAIL})

    assert "Please wait a moment and press Next again." in page_text(response)
    assert mailoutbox == []


def test_a_malformed_code_is_an_error_without_costing_a_try(client, send, mailoutbox):
    send(client, START, start_data(client))

    response = send(client, VERIFY, {"code": "12ab56"})

    assert response.status_code == 200
    assert "Enter the 6-digit code from the email." in page_text(response)
    assert Verification.objects.get().wrong_tries == 0


def test_a_code_expires_after_ten_minutes(client, send, mailoutbox):
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        send(client, START, start_data(client))
        code = code_in(mailoutbox[0])
        traveller.shift(timedelta(minutes=10, seconds=1))

        response = send(client, VERIFY, {"code": code})

    assert response.url == START
    assert "Your code has expired. Please start again." in messages_of(client.get(START))


def test_a_new_code_replaces_an_expired_one_and_verifies(client, send, mailoutbox):
    # An expired code ends nothing: the verify page still offers a new code, which works.
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        send(client, START, start_data(client))
        traveller.shift(timedelta(minutes=10, seconds=1))

        assert client.get(VERIFY).status_code == 200
        assert send(client, RESEND).url == VERIFY
        assert len(mailoutbox) == 2

        assert send(client, VERIFY, {"code": code_in(mailoutbox[1])}).url == MESSAGE


@pytest.mark.parametrize("method", ["get", "post"])
def test_step_two_sends_a_verification_verified_too_long_ago_back_to_step_one(
    verified, send, settings, method
):
    later = timezone.now() + timedelta(seconds=settings.CONTACT_VERIFIED_TTL + 1)
    with time_machine.travel(later):
        response = verified.get(VERIFY) if method == "get" else send(verified, RESEND)
        assert response.url == START
        assert messages_of(verified.get(START)) == ["Your code has expired. Please start again."]


def test_resend_obeys_the_cooldown_and_replaces_the_code(client, send, mailoutbox):
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        send(client, START, start_data(client))
        old_code = code_in(mailoutbox[0])

        page = client.get(VERIFY)
        assert "You can ask for a new code in 61 seconds." in page_text(page)
        response = send(client, RESEND)
        assert response.url == VERIFY
        assert len(mailoutbox) == 1
        assert messages_of(client.get(VERIFY)) == ["No new code was sent yet."]

        traveller.shift(timedelta(seconds=61))
        assert "You can ask for a new code in" not in page_text(client.get(VERIFY))
        response = send(client, RESEND)
        assert response.url == VERIFY
        assert f"We sent a new code to {EMAIL}." in messages_of(client.get(VERIFY))
        assert len(mailoutbox) == 2
        new_code = code_in(mailoutbox[1])

        assert new_code != old_code
        assert "That code is not right" in page_text(send(client, VERIFY, {"code": old_code}))
        assert send(client, VERIFY, {"code": new_code}).url == MESSAGE


def resend_button(response) -> str:
    return re.search(r"<button [^>]*name=\"resend\"[^>]*>", response.content.decode()).group(0)


def test_the_resend_button_is_disabled_and_counts_down_until_the_cooldown_ends(client, send):
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        send(client, START, start_data(client))

        page = client.get(VERIFY)
        button = resend_button(page)
        assert " disabled" in button
        assert "btn-outline-secondary" in button
        html = page.content.decode()
        # The wait in words for everyone, the seconds for the script to count down.
        assert 'data-seconds="61"' in html
        assert "You can ask for a new code in 61 seconds. Reload this page then." in page_text(page)
        assert '<script src="/static/contact/resend.js" defer></script>' in html
        assert "<script>" not in html  # the CSP allows no inline script

        traveller.shift(timedelta(seconds=59.5))
        assert "You can ask for a new code in 1 second." in page_text(client.get(VERIFY))

        traveller.shift(timedelta(seconds=0.5))
        page = client.get(VERIFY)
        button = resend_button(page)
        assert "disabled" not in button
        assert "btn-outline-dark" in button
        assert "You can ask for a new code in" not in page_text(page)
        assert "resend.js" not in page.content.decode()


def test_an_early_resend_says_the_wait_once(client, send, mailoutbox):
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        send(client, START, start_data(client))
        traveller.shift(timedelta(seconds=20))

        send(client, RESEND)  # a stale page or a second tab: the button was not enabled
        page = client.get(VERIFY)

    text = page_text(page)
    assert text.count("You can ask for a new code in 41 seconds.") == 1
    assert text.count("new code in") == 1
    assert messages_of(page) == ["No new code was sent yet."]
    assert len(mailoutbox) == 1


def test_resend_is_capped(client, send, mailoutbox, settings):
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        send(client, START, start_data(client))
        for _ in range(settings.CONTACT_MAX_RESENDS):
            traveller.shift(timedelta(seconds=61))
            send(client, RESEND)
        assert len(mailoutbox) == 1 + settings.CONTACT_MAX_RESENDS
        page = client.get(VERIFY)
        assert "We cannot send more codes for this attempt" in page_text(page)
        assert 'id="contact-resend-form"' not in page.content.decode()

        traveller.shift(timedelta(seconds=61))
        response = send(client, RESEND)

    assert response.url == VERIFY
    assert len(mailoutbox) == 1 + settings.CONTACT_MAX_RESENDS
    page = client.get(VERIFY)
    assert messages_of(page) == ["No new code was sent."]
    assert page_text(page).count("We cannot send more codes for this attempt") == 1


def test_resend_is_post_only(client, send):
    send(client, START, start_data(client))

    assert client.get(RESEND).status_code == 405


def test_a_verified_visitor_skips_step_two(verified, send, mailoutbox):
    assert verified.get(VERIFY).url == MESSAGE
    assert send(verified, RESEND).url == MESSAGE
    assert len(mailoutbox) == 1


# Throttles ---------------------------------------------------------------------------


def assert_throttled(response):
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    text = page_text(response)
    assert "Too many attempts" in text
    assert "email" not in text.lower().replace("latest stories", "")
    assert "address" not in text.lower()


def test_per_email_limit(client, send, mailoutbox, settings):
    settings.CONTACT_CODES_PER_EMAIL_PER_HOUR = 2
    for n in range(2):
        assert send(client, START, start_data(client), REMOTE_ADDR=f"10.0.0.{n}").url == VERIFY

    response = send(
        client, START, start_data(client, email="jane@EXAMPLE.com"), REMOTE_ADDR="10.0.0.9"
    )

    assert_throttled(response)
    assert len(mailoutbox) == 2
    assert Verification.objects.count() == 2


def test_per_ip_limit(client, send, mailoutbox, settings):
    settings.CONTACT_VERIFICATIONS_PER_IP_PER_HOUR = 2
    for n in range(2):
        assert send(client, START, start_data(client, email=f"reader{n}@example.com")).url == VERIFY

    response = send(client, START, start_data(client, email="someone.else@example.com"))

    assert_throttled(response)
    assert len(mailoutbox) == 2


def test_per_ip_code_check_limit(client, send, mailoutbox, settings):
    settings.CONTACT_CHECKS_PER_IP_PER_HOUR = 1
    send(client, START, start_data(client))
    code = code_in(mailoutbox[0])
    send(client, VERIFY, {"code": wrong(code)})

    response = send(client, VERIFY, {"code": code})

    assert_throttled(response)
    assert Verification.objects.get().state == Verification.State.PENDING


def test_forwarded_for_is_ignored_unless_proxies_are_configured(client, send, settings):
    settings.CONTACT_VERIFICATIONS_PER_IP_PER_HOUR = 1
    first = send(
        client, START, start_data(client, email="a@example.com"), HTTP_X_FORWARDED_FOR="1.1.1.1"
    )
    second = send(
        client, START, start_data(client, email="b@example.com"), HTTP_X_FORWARDED_FOR="2.2.2.2"
    )

    assert first.url == VERIFY
    assert_throttled(second)


def test_forwarded_for_counts_behind_a_configured_proxy(client, send, settings):
    settings.CONTACT_VERIFICATIONS_PER_IP_PER_HOUR = 1
    settings.CONTACT_TRUSTED_PROXY_COUNT = 1

    for n, email in enumerate(["a@example.com", "b@example.com"]):
        response = send(
            client, START, start_data(client, email=email), HTTP_X_FORWARDED_FOR=f"1.1.1.{n}"
        )
        assert response.url == VERIFY
    # The visitor may prepend anything; the proxy's entry is the one that counts.
    response = send(
        client,
        START,
        start_data(client, email="c@example.com"),
        HTTP_X_FORWARDED_FOR="9.9.9.9, 1.1.1.1",
    )
    assert_throttled(response)


# No enumeration ------------------------------------------------------------------------


def test_a_known_address_gets_the_same_answer_as_a_new_one(verified, send):
    send(verified, MESSAGE, {"subject": "Hello", "message": "First message."})
    assert Message.objects.filter(email=EMAIL).exists()

    known, fresh = Client(), Client()
    known_response = send(known, START, start_data(known, email=EMAIL))
    fresh_response = send(fresh, START, start_data(fresh, email="never.seen@example.com"))

    assert known_response.status_code == fresh_response.status_code == 302
    assert known_response.url == fresh_response.url == VERIFY
    assert known_response.content == fresh_response.content
    known_page = page_text(known.get(VERIFY)).replace(EMAIL, "ADDRESS")
    fresh_page = page_text(fresh.get(VERIFY)).replace("never.seen@example.com", "ADDRESS")
    assert known_page == fresh_page


# Hostile and bad input ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("name", "Jane\nReader", "must be on one line"),
        ("name", "Jane\rReader", "must be on one line"),
        ("name", "Jane\x00Reader", "Null characters are not allowed"),
        ("name", "Jane\u2028Reader", "must be on one line"),
        ("name", "Jane\u202eReader", "must be on one line"),
        ("name", "Jane\x1bReader", "must be on one line"),
        ("name", "x\nBcc: victim@example.com", "must be on one line"),
        ("name", "Jane\n", "must be on one line"),
        ("name", "   ", "This field is required"),
        ("name", "", "This field is required"),
        ("name", "J" * 101, "at most 100 characters"),
        ("email", "", "This field is required"),
        ("email", "not-an-address", "Enter a valid email address"),
        ("email", "jane@example.com\nBcc: victim@example.com", "Enter a valid email address"),
        ("email", "jane@example.com,victim@example.com", "Enter a valid email address"),
        ("email", '"jane\x01"@example.com', "Enter a valid email address"),
        ("email", "jane@exa mple.com", "Enter a valid email address"),
        ("email", "j" * 250 + "@example.com", "at most 254 characters"),
        ("name", "\u3164", "only blank or invisible characters"),
        ("name", "\u2800\u2800", "only blank or invisible characters"),
        ("name", "\u034f\ufe0f", "only blank or invisible characters"),
        ("name", "!!!", "at least one letter or digit"),
        ("name", "=?utf-8?q?Boss_=3Cceo=40newsroom.test=3E?=", "mail programs would show"),
        ("email", "root@localhost", "public mail domain"),
        ("email", "x@[127.0.0.1]", "public mail domain"),
        ("email", "jane@printer.local", "public mail domain"),
        ("email", "\u212aate@example.com", "ordinary letters"),
        ("email", "jane@ｅｘａｍｐｌｅ.com", "ordinary letters"),  # noqa: RUF001
    ],
)
def test_bad_details_are_refused_clearly_and_nothing_is_sent(
    client, send, mailoutbox, field, value, error
):
    data = start_data(client, **{field: value})

    response = send(client, START, data)

    assert response.status_code == 200
    assert error in field_error(response, field)
    assert Verification.objects.count() == 0
    assert mailoutbox == []
    # What the visitor typed in the other field is still there.
    other = "email" if field == "name" else "name"
    assert f'value="{data[other]}"' in response.content.decode()


def field_error(response, field: str) -> str:
    """The error shown under ``field``, where the visitor looks for it."""
    html = response.content.decode()
    found = re.search(rf'<div id="id_{field}_error"[^>]*>(.*?)</div>', html, re.DOTALL)
    return " ".join(re.sub(r"<[^>]+>", " ", found.group(1)).split()) if found else ""


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", "\u3164"),
        ("name", "=?utf-8?q?Boss_=3Cceo=40newsroom.test=3E?="),
        ("email", "root@localhost"),
        ("email", "x@[127.0.0.1]"),
        ("email", "\u212aate@example.com"),
    ],
)
def test_a_refused_detail_comes_back_as_typed_to_be_corrected(client, send, field, value):
    data = start_data(client, name="Jane Reader", email="jane@example.com") | {field: value}

    response = send(client, START, data)

    kept = form_inputs(response.content.decode())
    assert (kept["name"], kept["email"]) == (data["name"], data["email"])


def test_a_filled_honeypot_is_refused_and_nothing_is_sent(client, send, mailoutbox):
    response = send(client, START, start_data(client, website="https://spam.example"))

    assert response.status_code == 200
    assert "could not be sent" in page_text(response)
    assert "spam.example" not in response.content.decode()
    assert Verification.objects.count() == 0
    assert mailoutbox == []


def test_the_fill_time_is_measured_from_when_the_form_was_served(client):
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        first = served_started(client.get(START))
        traveller.shift(timedelta(minutes=5))
        second = served_started(client.get(START))

        assert started_age(second, binding=binding_of(client)) == 0
        assert started_age(first, binding=binding_of(client)) == 5 * 60


def test_a_form_the_browser_filled_in_goes_through_a_second_after_it_was_served(
    client, send, mailoutbox
):
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        started = served_started(client.get(START))
        traveller.shift(timedelta(seconds=1.3))  # autofill, then a click on Next

        response = send(client, START, start_data(client, started=started))

    assert response.url == VERIFY
    assert len(mailoutbox) == 1


def test_a_form_sent_faster_than_autofill_is_refused_with_what_to_do_and_keeps_the_fields(
    client, send, mailoutbox
):
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        started = served_started(client.get(START))
        traveller.shift(timedelta(seconds=0.2))

        response = send(client, START, start_data(client, started=started))
        assert response.status_code == 200
        text = page_text(response)
        assert "Please wait a moment and press Next again." in text
        assert "quicker than a person types" not in text
        assert mailoutbox == []
        kept = form_inputs(response.content.decode())
        assert (kept["name"], kept["email"], kept["started"]) == (NAME, EMAIL, started)

        # Doing what the page says works: the same form, a moment later.
        traveller.shift(timedelta(seconds=1))
        assert send(client, START, kept).url == VERIFY

    assert len(mailoutbox) == 1


STALE_TOKENS = {
    "missing": lambda client: "",
    "garbage": lambda client: "garbage",
    "bad-signature": lambda client: token(client)[:-2] + "xx",
    "tampered": lambda client: token(client).replace(":", "0:", 1),
    "too-old": lambda client: token(client, age=7 * 3600),
}


@pytest.mark.parametrize("kind", STALE_TOKENS)
def test_a_tampered_or_stale_timestamp_is_refused(client, send, mailoutbox, kind):
    started = STALE_TOKENS[kind](client)
    response = send(client, START, start_data(client, started=started))

    assert response.status_code == 200
    assert "Please click Next again" in page_text(response)
    assert mailoutbox == []
    # A fresh timestamp comes with the page: after a pause the visitor gets through.
    fresh = re.search(r'name="started" value="([^"]+)"', response.content.decode()).group(1)
    assert fresh != started
    with time_machine.travel(time.time() + 5):
        assert send(client, START, start_data(client, started=fresh)).url == VERIFY


@pytest.mark.parametrize("this_browser_loaded_the_form", [True, False])
def test_a_form_token_from_another_browser_is_refused_and_keeps_what_was_typed(
    client, send, mailoutbox, this_browser_loaded_the_form
):
    """The fill-time token is bound to the browser that was served the form: a robot
    cannot load the form once and post its token from many fresh sessions."""
    with time_machine.travel(time.time() - 30):
        foreign = served_started(Client().get(START))
        if this_browser_loaded_the_form:
            client.get(START)
    typed = start_data(client, name="Jane Reader", email="jane@example.com", started=foreign)

    response = send(client, START, typed)

    assert response.status_code == 200
    assert "Please click Next again" in page_text(response)
    assert Verification.objects.count() == 0
    assert mailoutbox == []
    kept = form_inputs(response.content.decode())
    assert (kept["name"], kept["email"]) == ("Jane Reader", "jane@example.com")
    assert kept["started"] != foreign
    # The page came with a token of this browser's own: after a pause it goes through.
    with time_machine.travel(time.time() + 5):
        assert send(client, START, kept).url == VERIFY
    assert len(mailoutbox) == 1


def test_one_served_token_does_not_open_the_form_to_many_sessions(send, mailoutbox):
    with time_machine.travel(time.time() - 30):
        started = served_started(Client().get(START))

    answers = [
        send(bot, START, start_data(bot, email=f"bot{n}@example.com", started=started))
        for n, bot in enumerate([Client(), Client(), Client()])
    ]

    assert [answer.status_code for answer in answers] == [200, 200, 200]
    assert Verification.objects.count() == 0
    assert mailoutbox == []


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"subject": "Hi\nBcc: victim@example.com", "message": "x"}, "must be on one line"),
        ({"subject": "Hi\r\nX-Spam: yes", "message": "x"}, "must be on one line"),
        ({"subject": "Hi\u2029there", "message": "x"}, "must be on one line"),
        ({"subject": "S" * 201, "message": "x"}, "at most 200 characters"),
        ({"subject": "", "message": "x"}, "This field is required"),
        ({"subject": "Hi", "message": ""}, "This field is required"),
        ({"subject": "Hi", "message": "bell\x07"}, "special characters"),
        ({"subject": "Hi", "message": "M" * 5001}, "under 5000 characters"),
        ({"subject": "Hi", "message": "null\x00"}, "Null characters are not allowed"),
        ({"subject": "=?utf-8?q?Invoice_=E2=80=AEfdp.exe?=", "message": "x"}, "mail programs"),
        ({"subject": "\u3164", "message": "x"}, "only blank or invisible characters"),
        ({"subject": "Hi", "message": "\u2800\n\u3164"}, "only blank or invisible characters"),
    ],
)
def test_a_bad_message_is_refused_and_keeps_what_was_typed(verified, send, mailoutbox, data, error):
    response = send(verified, MESSAGE, data)

    assert response.status_code == 200
    assert any(error in field_error(response, field) for field in ("subject", "message"))
    assert Message.objects.count() == 0
    assert len(mailoutbox) == 1  # the code only
    assert verified.session[SESSION_VERIFICATION]
    assert form_inputs(response.content.decode())["subject"] == data["subject"]
    textarea = re.search(r"<textarea[^>]*>(.*?)</textarea>", response.content.decode(), re.DOTALL)
    assert unescape(textarea.group(1)).strip("\n") == data["message"].strip("\n")


def test_a_message_may_hold_line_breaks_tabs_and_emoji(verified, send):
    head = "Line one\r\n\tindented \U0001f469\u200d\U0001f4bb\r\n"
    # CRLF counts as one character, as a browser's maxlength does.
    body = head + "x" * (5000 - len(head.replace("\r\n", "\n")))

    assert send(verified, MESSAGE, {"subject": "Hi", "message": body}).url == THANKS
    assert Message.objects.get().body == body.replace("\r\n", "\n")


def title_and_heading(response) -> tuple[str, str]:
    html = response.content.decode()
    title = re.search(r"<title>([^<]*)</title>", html).group(1)
    heading = re.search(r"<h1[^>]*>([^<]*)</h1>", html).group(1)
    return title, heading


def test_thanks_without_a_sent_message_says_nothing_was_sent(client):
    response = client.get(THANKS)

    assert response.status_code == 200
    assert title_and_heading(response) == ("Nothing sent yet | Newsroom", "Nothing sent yet")
    text = page_text(response)
    assert "You have not sent us a message from this browser yet." in text
    assert "Thank you" not in text and "reached the newsroom" not in text
    assert f'<a class="contact-start-link" href="{START}">' in response.content.decode()
    assert "no-store" in response["Cache-Control"]


def test_only_the_session_that_sent_the_message_is_thanked(verified, send):
    send(verified, MESSAGE, {"subject": "Hello", "message": "A question."})

    mine = verified.get(THANKS)
    stranger = Client().get(THANKS)

    assert title_and_heading(mine) == ("Thank you | Newsroom", "Thank you")
    assert "Your message reached the newsroom." in page_text(mine)
    assert title_and_heading(stranger) == ("Nothing sent yet | Newsroom", "Nothing sent yet")


# Steps out of order, double submit, CSRF, session binding --------------------------------


def test_steps_two_and_three_send_a_newcomer_to_step_one(client):
    for url in (VERIFY, MESSAGE):
        response = client.get(url)
        assert response.url == START
    assert client.post(RESEND).url == START
    assert "Please enter your name and email first." in messages_of(client.get(START))


def test_step_three_before_the_code_sends_the_visitor_to_step_two(client, send):
    send(client, START, start_data(client))

    response = client.get(MESSAGE)

    assert response.url == VERIFY
    assert "Please enter the code we emailed you first." in messages_of(client.get(VERIFY))
    assert send(client, MESSAGE, {"subject": "Hi", "message": "x"}).url == VERIFY
    assert Message.objects.count() == 0


def test_an_expired_verification_sends_step_three_back_to_step_one(verified, send, settings):
    with time_machine.travel(timezone.now() + timedelta(seconds=settings.CONTACT_VERIFIED_TTL + 1)):
        response = send(verified, MESSAGE, {"subject": "Hi", "message": "Late."})
        assert response.url == START
        assert "Your code has expired. Please start again." in messages_of(verified.get(START))
    assert Message.objects.count() == 0


def test_a_double_submit_stores_one_message(verified, send, mailoutbox):
    data = {"subject": "Twice", "message": "Clicked twice."}

    first = send(verified, MESSAGE, data)
    second = send(verified, MESSAGE, data)

    assert first.url == second.url == THANKS
    assert Message.objects.count() == 1
    assert len(mailoutbox) == 2  # the code, and one notification
    assert verified.get(MESSAGE).url == THANKS


def test_a_second_tab_that_submits_after_the_first_lands_on_thanks(verified, send):
    # Two tabs share the session; the second loaded step 3 before the first submitted.
    verification_id = verified.session[SESSION_VERIFICATION]
    send(verified, MESSAGE, {"subject": "Tab one", "message": "x"})
    session = verified.session
    session[SESSION_VERIFICATION] = verification_id
    session.save()

    response = send(verified, MESSAGE, {"subject": "Tab two", "message": "y"})

    assert response.url == THANKS
    assert list(Message.objects.values_list("subject", flat=True)) == ["Tab one"]


def test_step_three_is_bound_to_the_browser_session(verified):
    stranger = Client()

    assert stranger.get(MESSAGE).url == START
    assert stranger.post(MESSAGE, {"subject": "Hi", "message": "x"}).url == START
    assert Message.objects.count() == 0


def test_every_form_needs_a_csrf_token(send, mailoutbox):
    browser = Client(enforce_csrf_checks=True)
    for url, data in (
        (START, start_data(browser)),
        (VERIFY, {"code": "123456"}),
        (RESEND, {}),
        (MESSAGE, {"subject": "Hi", "message": "x"}),
    ):
        assert browser.post(url, data).status_code == 403
    assert mailoutbox == []

    html = browser.get(START).content.decode()
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    response = send(browser, START, start_data(browser, csrfmiddlewaretoken=csrf))
    assert response.url == VERIFY


def test_no_code_in_clear_in_the_database(client, send, mailoutbox):
    send(client, START, start_data(client))
    code = code_in(mailoutbox[0])

    row = Verification.objects.values().get()
    assert not [key for key, value in row.items() if code in str(value)]


def test_throttled_page_looks_like_the_site(client, send, settings):
    settings.CONTACT_VERIFICATIONS_PER_IP_PER_HOUR = 0

    response = send(client, START, start_data(client))

    assert response.status_code == 429
    html = response.content.decode()
    assert 'class="site-header' in html
    assert '<meta name="robots" content="noindex">' in html
    assert "Nothing was sent." in page_text(response)


# Broker outage -------------------------------------------------------------------------


@pytest.fixture
def broker_down():
    """Tasks go to a broker that nothing listens on, as while Redis is down."""
    from harness import free_port
    from newsroom.celery import app
    from tests.conftest import switch_broker

    original = app.conf.broker_url
    switch_broker(f"redis://127.0.0.1:{free_port()}/1")
    app.conf.task_always_eager = False
    yield
    app.conf.task_always_eager = True
    switch_broker(original)


def test_step_one_with_the_broker_down_keeps_the_visitor_going_and_says_so(
    client, send, mailoutbox, broker_down
):
    assert send(client, START, start_data(client)).url == VERIFY
    verification = Verification.objects.get()
    assert verification.delivery_state == Delivery.QUEUED
    assert "broker was unreachable" in verification.delivery_error  # the editors see why

    page = page_text(client.get(VERIFY))
    assert "may take a few minutes" in page
    assert mailoutbox == []


def test_a_code_on_its_way_as_usual_is_not_announced_as_late(client, send, mailoutbox):
    assert send(client, START, start_data(client)).url == VERIFY
    assert "may take a few minutes" not in page_text(client.get(VERIFY))
