import time

import pytest
import time_machine

from articles.models import Article
from contact.forms import (
    CodeForm,
    MessageForm,
    StartForm,
    published_article,
    started_age,
    started_token,
)
from tests.factories import ArticleFactory

pytestmark = pytest.mark.django_db


def start_form(**overrides) -> StartForm:
    with time_machine.travel(time.time() - 30):
        started = started_token()
    data = {"name": "Jane Reader", "email": "jane@example.com", "started": started}
    return StartForm(data | overrides)


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
    assert errors_of(start_form(name=name)) == {"name": ["required"]}


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
    token = started_token()
    with time_machine.travel(time.time() + 5):
        assert 4 < started_age(token) < 6
    assert started_age(token + "x") is None
    assert started_age("1795793230.3:abc:def") is None
    with time_machine.travel(time.time() + 7 * 3600):
        assert started_age(token) is None


def test_honeypot_and_timing_errors_are_shown_above_the_form():
    assert errors_of(start_form(website="x")) == {"__all__": ["honeypot"]}
    assert errors_of(start_form(started=started_token())) == {"__all__": ["too_fast"]}
    assert errors_of(start_form(started="nope")) == {"__all__": ["stale"]}


def test_prepare_retry_keeps_input_empties_the_honeypot_and_renews_a_stale_timestamp():
    form = start_form(started="nope", website="bot")
    form.is_valid()

    form.prepare_retry()

    assert form.data["name"] == "Jane Reader"
    assert form.data["website"] == ""
    assert started_age(form.data["started"]) is not None


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


def test_message_normalizes_line_breaks():
    form = MessageForm({"subject": " Hello ", "message": "a\r\nb\rc\n\td"})

    assert form.is_valid()
    assert form.cleaned_data == {"subject": "Hello", "message": "a\nb\nc\n\td"}
