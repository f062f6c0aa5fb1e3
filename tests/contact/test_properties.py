"""Whatever a browser or a robot posts to the contact steps: never a 500, never a
message without a verified verification, never a line break in a mail header.

Each example starts from a clean slate (rows, cache, outbox, a new browser),
because Hypothesis runs many examples inside one test and its database
transaction.
"""

import email
import email.policy
import re
import time

import pytest
import time_machine
from django.core import mail
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, assume, event, example, given, settings
from hypothesis import strategies as st

from contact import services
from contact.forms import StartForm, started_token
from contact.models import LimitRecord, Message, Verification
from contact.views import SESSION_VERIFICATION
from harness.visitor import form_inputs

pytestmark = pytest.mark.django_db

START = reverse("contact:start")
VERIFY = reverse("contact:verify")
MESSAGE = reverse("contact:message")

# Bounded and fast; database=None keeps Hypothesis from writing a .hypothesis/ folder.
bounded = settings(
    max_examples=50,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

HOSTILE = [
    "x\nBcc: victim@example.com",
    "x\r\nBcc: victim@example.com",
    "=?utf-8?q?x=0ABcc=3A_victim=40example=2Ecom?=",
    "=?utf-8?q?Invoice_=E2=80=AEfdp.exe?=",
    "=?utf-8?q?Boss_=3Cceo=40newsroom.test=3E?=",
    "\u3164",
    "\u2800\u034f\ufe0f",
    "root@localhost",
    "x@[127.0.0.1]",
    "\u212aate@example.com",
    "\u2028Bcc: victim@example.com",
    "a\x00b",
    "\ud7ff\ue000\uffff",
    "x" * 6000,
    "",
]
# Surrogates cannot be sent in a UTF-8 request body, so a browser never sends them.
text = st.one_of(
    st.text(st.characters(exclude_categories=["Cs"]), max_size=300),
    st.sampled_from(HOSTILE),
)
# What people type: letters, digits, punctuation, symbols (emoji) and spaces.
plausible = st.text(st.characters(categories=["L", "M", "N", "P", "S", "Zs"]), min_size=1)
# Half plausible, half anything: enough examples get through to send mail.
anything = st.one_of(plausible, text)
empty_mostly = st.one_of(st.just(""), st.just(""), st.just(""), text)
ALLOWED_HEADERS = {
    "content-type",
    "mime-version",
    "content-transfer-encoding",
    "subject",
    "from",
    "to",
    "reply-to",
    "date",
    "message-id",
}


@pytest.fixture
def fresh(django_capture_on_commit_callbacks, settings):
    """Reset everything an example leaves behind; POST and run on-commit tasks."""
    settings.CONTACT_RECIPIENTS = ["desk@newsroom.test"]

    def reset() -> Client:
        Message.objects.all().delete()
        Verification.objects.all().delete()
        LimitRecord.objects.all().delete()
        cache.clear()
        mail.outbox = []
        return Client()

    def post(client, url, data):
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(url, data)
        assert response.status_code in (200, 302, 429), response.status_code
        return response

    return reset, post


def valid_started(client: Client) -> str:
    """The step-1 token ``client`` was served with the form 30 seconds ago."""
    with time_machine.travel(time.time() - 30):
        return form_inputs(client.get(START).content.decode())["started"]


def assert_headers_are_single_lines() -> None:
    """On the wire, as an SMTP server reads it: no header the site did not write.

    Encoded words (``=?utf-8?q?...?=``) may decode to anything for display, but
    headers are split before decoding, so only raw line breaks could add one.
    """
    for sent in mail.outbox:
        raw = sent.message().as_bytes()
        head = raw.split(b"\n\n", 1)[0].decode("ascii")  # headers are 7-bit on the wire
        lines = re.sub(r"\r?\n[ \t]+", " ", head).split("\n")
        names = [line.split(":", 1)[0].lower() for line in lines]
        assert set(names) <= ALLOWED_HEADERS, names
        assert len(names) == len(set(names)), names
        parsed = email.message_from_bytes(raw, policy=email.policy.compat32)
        # A long address is folded onto a continuation line, as RFC 5322 allows.
        to = [" ".join(value.split()) for value in parsed.get_all("to")]
        assert to == [", ".join(sent.to)]


def verified_client(reset, post) -> Client:
    client = reset()
    post(
        client,
        START,
        {"name": "Jane", "email": "jane@example.com", "started": valid_started(client)},
    )
    code = re.search(r"\b(\d{6})\b", mail.outbox[-1].body).group(1)
    assert post(client, VERIFY, {"code": code}).url == MESSAGE
    return client


@bounded
@given(
    name=anything,
    address=st.one_of(st.emails(), st.emails(), text),
    website=empty_mostly,
    article=text,
    started=st.one_of(st.none(), st.none(), st.none(), text),
)
# An address too long for one header line: the mail folds it (found by Hypothesis).
@example(name="0", address="0@" + "a." * 40 + "com", website="", article="", started=None)
def test_step_one_never_fails_and_mails_only_safe_headers(
    fresh, name, address, website, article, started
):
    reset, post = fresh
    client = reset()
    data = {"name": name, "email": address, "website": website, "article": article}
    data["started"] = valid_started(client) if started is None else started

    response = post(client, START, data)

    event(f"status {response.status_code}")
    if response.status_code == 302:
        assert response.url == VERIFY
        verification = Verification.objects.get()
        assert client.session[SESSION_VERIFICATION] == str(verification.pk)
        # Every accepted visitor gets exactly one mail, with nothing added to its headers.
        assert len(mail.outbox) == 1
        assert mail.outbox[0].to == [verification.email]
    else:
        assert Verification.objects.count() == 0
        assert mail.outbox == []
    assert_headers_are_single_lines()


@bounded
@given(code=text)
def test_step_two_never_fails_and_only_the_mailed_code_verifies(fresh, code):
    reset, post = fresh
    client = reset()
    post(
        client,
        START,
        {"name": "Jane", "email": "jane@example.com", "started": valid_started(client)},
    )
    mailed = re.search(r"\b(\d{6})\b", mail.outbox[-1].body).group(1)

    response = post(client, VERIFY, {"code": code})

    verification = Verification.objects.get()
    if services.normalize_code(code) == mailed:
        assert response.url == MESSAGE
    else:
        assert verification.state != Verification.State.VERIFIED
        assert response.status_code == 200 or response.url == START


@bounded
@given(subject=anything, body=anything, verify_first=st.booleans())
def test_step_three_never_fails_and_stores_only_verified_messages(
    fresh, subject, body, verify_first
):
    reset, post = fresh
    if verify_first:
        client = verified_client(reset, post)
    else:
        client = reset()
        post(
            client,
            START,
            {"name": "Jane", "email": "jane@example.com", "started": valid_started(client)},
        )

    response = post(client, MESSAGE, {"subject": subject, "message": body})
    event(f"verified={verify_first} status {response.status_code}")

    for message in Message.objects.select_related("verification"):
        assert message.verification.verified_at is not None
        assert message.verification.state == Verification.State.USED
    if not verify_first:
        assert Message.objects.count() == 0
        assert response.url == VERIFY
    elif response.status_code == 302:
        assert Message.objects.count() == 1
    else:
        assert Message.objects.count() == 0
    assert_headers_are_single_lines()


# Hostile families at the form, in any surroundings ------------------------------------


def start_form(**fields) -> StartForm:
    with time_machine.travel(time.time() - 30):
        started = started_token(binding="b")
    data = {"name": "Jane Reader", "email": "jane@example.com", "started": started}
    return StartForm(data | fields, binding="b")


# Characters that show nothing: blank letters, blank symbols, default-ignorable marks.
SHOWS_NOTHING = (
    "\u3164\u2800\u034f\ufe0f\u115f\u1160\uffa0\u17b4\u17b5\u180b\U000e0100 \u200c\u200d"
)
blank_names = st.text(st.sampled_from(SHOWS_NOTHING), min_size=1, max_size=20)
letters = st.text(st.characters(categories=["L", "N", "Zs"]), max_size=20)
encoded_words = st.builds(
    "=?{}?{}?{}?=".format,
    st.sampled_from(["utf-8", "UTF-8", "iso-8859-1", "us-ascii", "utf-8*en", ""]),
    st.sampled_from("bBqQ"),
    st.text(st.characters(codec="ascii", exclude_characters="?\r\n\x00"), max_size=30),
)


@bounded
@given(name=blank_names)
def test_a_name_that_shows_nothing_is_never_accepted(name):
    assert not start_form(name=name).is_valid()


@bounded
@given(before=letters, word=encoded_words, after=letters)
def test_an_encoded_word_anywhere_in_a_name_is_refused(before, word, after):
    form = start_form(name=before + word + after)

    assert not form.is_valid()
    assert "name" in form.errors


mailbox = st.text("abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=12)
local_network = st.sampled_from(
    ["localhost", "local", "internal", "home.arpa", "invalid", "onion", "in-addr.arpa"]
)
ipv4 = st.tuples(*[st.integers(0, 255)] * 4).map(lambda parts: ".".join(map(str, parts)))


@bounded
@given(
    user=mailbox,
    domain=st.one_of(
        st.builds("{}.{}".format, mailbox, local_network),
        ipv4.map("[{}]".format),
        st.just("localhost"),
    ),
)
def test_an_address_off_the_public_internet_is_never_accepted(user, domain):
    form = start_form(email=f"{user}@{domain}")

    assert not form.is_valid()
    assert "email" in form.errors


# Characters whose NFKC form is other (ASCII) characters: a second spelling of a name.
# (The dotless i, a look-alike only before the @, is among the examples in test_forms.)
LOOK_ALIKES = "\u212a\u017fｅｘａ\ufb01\u00b2\u2160\u2170"  # noqa: RUF001


@bounded
@given(
    user=mailbox,
    host=mailbox,
    odd=st.sampled_from(LOOK_ALIKES),
    in_domain=st.booleans(),
    at=st.integers(min_value=0),
)
def test_an_address_with_a_look_alike_letter_is_never_accepted(user, host, odd, in_domain, at):
    if in_domain:
        host = host[: at % (len(host) + 1)] + odd + host[at % (len(host) + 1) :]
    else:
        user = user[: at % (len(user) + 1)] + odd + user[at % (len(user) + 1) :]
    form = start_form(email=f"{user}@{host}.example")

    assert not form.is_valid()
    assert "email" in form.errors


# The per-address limit's key -----------------------------------------------------------

# Letters that are already case-folded, NFKC-stable and left alone by IDNA, so an address
# built from them is in its canonical spelling.
LOCAL_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789._-"
CYRILLIC = "".join(map(chr, range(0x430, 0x44F)))  # Cyrillic: not their Latin twins
LABEL_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789äöüéçñøåłžš中文日本語例" + CYRILLIC
locals_ = st.text(LOCAL_CHARS, min_size=1, max_size=16)
domains = st.lists(st.text(LABEL_CHARS, min_size=1, max_size=12), min_size=2, max_size=3).map(
    ".".join
)
tags = st.one_of(st.just(""), st.text(LOCAL_CHARS + "+", max_size=8).map("+{}".format))


@st.composite
def spelled(draw, local: str, domain: str) -> str:
    """The same mailbox as a person might type it: a plus tag, any letter in either case,
    each label of the domain as written or as DNS spells it (``xn--…``)."""
    labels = [
        label.encode("idna").decode("ascii") if draw(st.booleans()) else label
        for label in domain.split(".")
    ]
    address = f"{local}{draw(tags)}@{'.'.join(labels)}"
    upper = draw(st.lists(st.booleans(), min_size=len(address), max_size=len(address)))
    return "".join(ch.upper() if up else ch for ch, up in zip(address, upper, strict=True))


@bounded
@given(data=st.data(), local=locals_, domain=domains)
def test_every_spelling_of_a_mailbox_has_one_limit_key(data, local, domain):
    first = data.draw(spelled(local, domain))
    second = data.draw(spelled(local, domain))
    event(first)

    assert services.mailbox_key(first) == services.mailbox_key(second)
    assert services.mailbox_key(first) == services.mailbox_key(f"{local}@{domain}")


@bounded
@given(data=st.data(), one=st.tuples(locals_, domains), other=st.tuples(locals_, domains))
def test_different_mailboxes_have_different_limit_keys(data, one, other):
    assume(one != other)

    assert services.mailbox_key(data.draw(spelled(*one))) != services.mailbox_key(
        data.draw(spelled(*other))
    )


@bounded
@given(address=st.one_of(text, st.emails()))
def test_the_limit_key_of_anything_is_text(address):
    assert isinstance(services.mailbox_key(address), str)
