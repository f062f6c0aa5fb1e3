import time

import pytest
import time_machine

from articles.models import Article
from articles.selectors import published_article
from contact.forms import (
    CodeForm,
    MessageForm,
    StartForm,
    started_age,
    started_token,
)
from tests.factories import ArticleFactory

pytestmark = pytest.mark.django_db


# What the visitor's browser keeps for the form (the view's cookie).
BINDING = "this-browser"


def start_form(**overrides) -> StartForm:
    with time_machine.travel(time.time() - 30):
        started = started_token(binding=BINDING)
    data = {"name": "Jane Reader", "email": "jane@example.com", "started": started}
    return StartForm(data | overrides, binding=BINDING)


def errors_of(form) -> dict[str, list[str]]:
    form.is_valid()
    return {
        field: [error.code for error in errors.as_data()] for field, errors in form.errors.items()
    }


@pytest.mark.parametrize(
    "name",
    [
        "José Ñúñez",
        "Zoë O'Brien-Smith",
        "李小龙",
        "محمد",
        "  Jane Reader  ",
        "Jane\u00a0Reader",
        "مهسا نیک\u200cپور",  # Persian: a zero-width non-joiner inside the surname
        "\u0dc1\u0dca\u200d\u0dbb\u0dd3 \u0dbd\u0d82\u0d9a\u0dcf",  # Sinhala, a joiner
        "अनुष्का शर्मा",  # Devanagari: letters with combining vowel signs
        "김민준",
        "Ｊａｎｅ　Ｒｅａｄｅｒ",  # fullwidth, as Japanese keyboards type  # noqa: RUF001
        "Zoë \U0001f33b",
        "Jane \u2764\ufe0f",  # an emoji with its variation selector
        "R2-D2",
        "Jane\u3164Reader",  # a Hangul filler between visible letters hides nothing
    ],
)
def test_ordinary_names_pass_trimmed(name):
    form = start_form(name=name)

    assert form.is_valid(), form.errors
    assert form.cleaned_data["name"] == name.strip()


@pytest.mark.parametrize(
    "name",
    [
        "a\nb",
        "a\rb",
        "a\tb",
        "a\x7fb",
        "a\x85b",  # NEL, a line break to some software
        "a\u2028b",
        "a\u2029b",
        "a\u200bb",  # zero-width space (Cf)
        "a\u202eb",  # right-to-left override (Cf)
        "a\ufeffb",
    ],
)
def test_names_with_control_or_format_characters_are_refused(name):
    assert errors_of(start_form(name=name)) == {"name": ["control_characters"]}


@pytest.mark.parametrize("name", ["\u200c", " \u200d\u200c "])
def test_a_name_of_joiners_alone_is_empty(name):
    assert errors_of(start_form(name=name)) == {"name": ["shows_nothing"]}


# Characters that show nothing, though Python sees letters or symbols in them.
INVISIBLE = [
    "\u3164",  # HANGUL FILLER: a letter (Lo) that is drawn as nothing
    "\u2800",  # BRAILLE PATTERN BLANK
    "\u034f\ufe0f",  # COMBINING GRAPHEME JOINER, VARIATION SELECTOR-16
    "\u115f\u1160",  # HANGUL CHOSEONG and JUNGSEONG FILLER
    "\uffa0",  # HALFWIDTH HANGUL FILLER
    "\u3164 \u2800 \u3164",
    "\u200d\u3164\u200c",
    "\U000e0101",  # VARIATION SELECTOR-18
    "\u17b4\u17b5",  # KHMER VOWEL INHERENT AQ and AA
    "\u180b\u180c",  # MONGOLIAN FREE VARIATION SELECTORS
    "\u0301\u0308",  # combining accents on nothing
]


@pytest.mark.parametrize("name", INVISIBLE)
def test_a_name_that_shows_nothing_is_empty(name):
    assert errors_of(start_form(name=name)) == {"name": ["shows_nothing"]}


@pytest.mark.parametrize("name", ["!!!", "\U0001f600", "- . -", "\u2800?"])
def test_a_name_needs_a_letter_or_a_digit(name):
    assert errors_of(start_form(name=name)) == {"name": ["no_letters"]}


# RFC 2047 encoded words: a mail client decodes them, so they could show anything.
ENCODED_WORDS = [
    "=?utf-8?q?Boss_=3Cceo=40newsroom.test=3E?=",
    "=?utf-8?q?Invoice_=E2=80=AEfdp.exe?=",
    "=?UTF-8?B?SW52b2ljZQ==?=",
    "Jane =?iso-8859-1?q?M=FCller?=",
    '"=?utf-8?q?Boss?="',
    "=?utf-8*en?Q?Boss?=",  # with an RFC 2231 language tag
    "x=?utf-8?b??=y",
]


@pytest.mark.parametrize("name", ENCODED_WORDS)
def test_encoded_words_in_a_name_are_refused(name):
    assert errors_of(start_form(name=name)) == {"name": ["encoded_word"]}


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("Jane@Example.COM", "Jane@example.com"),
        ("jane+news@example.com", "jane+news@example.com"),
        (" jane@example.com\n", "jane@example.com"),
    ],
)
def test_email_is_normalized(typed, stored):
    form = start_form(email=typed)

    assert form.is_valid(), form.errors
    assert form.cleaned_data["email"] == stored


@pytest.mark.parametrize(
    "email", ['"jane doe"@example.com', '"a\\\tb"@example.com', "jane@@example.com", "a@b"]
)
def test_unusual_or_invalid_addresses_are_refused(email):
    assert errors_of(start_form(email=email)) == {"email": ["invalid"]}


@pytest.mark.parametrize(
    "email",
    [
        "jane@bücher.example",
        "jane@xn--bcher-kva.example",
        "jane@例え.テスト",
        "jane.o'neil@mail.example.co.uk",
        "jane@example.test",  # the names tests and documentation use
        "desk@newsroom.test",
        "jane@example.com",
    ],
)
def test_ordinary_and_international_addresses_pass(email):
    form = start_form(email=email)

    assert form.is_valid(), form.errors
    assert form.cleaned_data["email"] == email


@pytest.mark.parametrize(
    "email",
    [
        "root@localhost",  # Django's EmailValidator allows it by name
        "x@[127.0.0.1]",  # IP literals, which Django's EmailValidator accepts
        "x@[::1]",
        "x@[10.0.0.1]",
        "jane@mail.localhost",
        "jane@localhost.localdomain",
        "jane@printer.local",
        "jane@db.internal",
        "jane@router.home.arpa",
        "jane@1.0.0.127.in-addr.arpa",
        "jane@example.invalid",
        "jane@abcdefghijklmnop.onion",
    ],
)
def test_addresses_outside_the_public_internet_are_refused(email):
    assert errors_of(start_form(email=email)) == {"email": ["not_public"]}


@pytest.mark.parametrize(
    "email",
    [
        "\u212aate@example.com",  # KELVIN SIGN, which case-folds to k
        "jane@\u212aelvin.example",
        "\u017fam@example.com",  # LATIN SMALL LETTER LONG S
        "\u0131nfo@example.com",  # LATIN SMALL LETTER DOTLESS I
        "jane@ｅｘａｍｐｌｅ.com",  # fullwidth  # noqa: RUF001
        "jane@example.ｃｏｍ",  # noqa: RUF001
        "jane@exa\u0301mple.com",  # a combining accent NFKC would join to the letter
    ],
)
def test_addresses_with_look_alike_characters_are_refused(email):
    assert errors_of(start_form(email=email)) == {"email": ["lookalike"]}


def test_a_domain_no_mail_server_could_be_asked_for_is_refused():
    # 60 letters fit a label, but not once spelled for DNS (xn--…): the code mail could
    # never be sent.
    assert errors_of(start_form(email="jane@" + "ü" * 60 + ".example")) == {"email": ["invalid"]}


def test_article_is_a_published_story_or_nothing():
    public = ArticleFactory()
    draft = ArticleFactory(status=Article.Status.DRAFT)

    assert published_article(public.slug) == public
    for slug in (draft.slug, "missing", "", None, ["a"], "x\x00"):
        assert published_article(slug) is None
    form = start_form(article=draft.slug)
    assert form.is_valid()
    assert form.cleaned_data["article"] is None


def test_started_token_measures_age_and_rejects_tampering():
    token = started_token(binding=BINDING)
    with time_machine.travel(time.time() + 5):
        assert 4 < started_age(token, binding=BINDING) < 6
    assert started_age(token + "x", binding=BINDING) is None
    assert started_age("1795793230.3:abc:def", binding=BINDING) is None
    with time_machine.travel(time.time() + 7 * 3600):
        assert started_age(token, binding=BINDING) is None


def test_a_started_token_is_good_only_for_the_browser_it_was_served_to():
    with time_machine.travel(time.time() - 30):
        token = started_token(binding="another-browser")

    assert started_age(token, binding=BINDING) is None
    assert errors_of(start_form(started=token)) == {"__all__": ["stale"]}


def test_honeypot_and_timing_errors_are_shown_above_the_form():
    assert errors_of(start_form(website="x")) == {"__all__": ["honeypot"]}
    assert errors_of(start_form(started=started_token(binding=BINDING))) == {
        "__all__": ["too_fast"]
    }
    assert errors_of(start_form(started="nope")) == {"__all__": ["stale"]}


def test_prepare_retry_keeps_input_empties_the_honeypot_and_renews_a_stale_timestamp():
    form = start_form(started="nope", website="bot")
    form.is_valid()

    form.prepare_retry()

    assert form.data["name"] == "Jane Reader"
    assert form.data["website"] == ""
    assert started_age(form.data["started"], binding=BINDING) is not None


@pytest.mark.parametrize(
    ("typed", "code"), [("123456", "123456"), (" 123 456 ", "123456"), ("123-456", "123456")]
)
def test_code_allows_spaces_and_dashes(typed, code):
    form = CodeForm({"code": typed})

    assert form.is_valid()
    assert form.cleaned_data["code"] == code


@pytest.mark.parametrize("typed", ["12345", "1234567", "12345a", "١٢٣٤٥٦", "1 2 3 4 5 6 7", ""])
def test_code_must_be_six_ascii_digits(typed):
    assert errors_of(CodeForm({"code": typed})) in (
        {"code": ["invalid"]},
        {"code": ["required"]},
        {"code": ["max_length"]},
    )


@pytest.mark.parametrize("subject", ENCODED_WORDS)
def test_encoded_words_in_a_subject_are_refused(subject):
    assert errors_of(MessageForm({"subject": subject, "message": "Hello"})) == {
        "subject": ["encoded_word"]
    }


@pytest.mark.parametrize(
    "subject",
    [
        "Is 2+2=?",
        "a=?b",
        "Re: =? and ?=",
        "こんにちは",
        "\u2764\ufe0f Great story",
        "A \u2192 B",
        "?",
    ],
)
def test_ordinary_subjects_pass(subject):
    form = MessageForm({"subject": subject, "message": "Hello"})

    assert form.is_valid(), form.errors
    assert form.cleaned_data["subject"] == subject


@pytest.mark.parametrize("subject", INVISIBLE)
def test_a_subject_that_shows_nothing_is_empty(subject):
    assert errors_of(MessageForm({"subject": subject, "message": "Hello"})) == {
        "subject": ["shows_nothing"]
    }


@pytest.mark.parametrize("message", [*INVISIBLE, "\u200b\u200b", "\u3164\n\u2800\n\t\u034f"])
def test_a_message_that_shows_nothing_is_empty(message):
    assert errors_of(MessageForm({"subject": "Hello", "message": message})) == {
        "message": ["shows_nothing"]
    }


def test_message_normalizes_line_breaks():
    form = MessageForm({"subject": " Hello ", "message": "a\r\nb\rc\n\td"})

    assert form.is_valid()
    assert form.cleaned_data == {"subject": "Hello", "message": "a\nb\nc\n\td"}
