"""Request ids, task ids and what the logs may hold.

The context and masking filters live on the console handler in ``LOGGING``; these
tests put the same filters on pytest's capture handler, or run a record through
them, to read what each line would say.
"""

import logging
import re
import smtplib
import sys
import time

import pytest
import time_machine
from django.conf import settings
from django.urls import reverse
from django.utils.module_loading import import_string

from contact import services, tasks
from harness.visitor import form_inputs
from newsroom.observability import (
    REQUEST_ID_HEADER,
    ContextFilter,
    LogContext,
    MaskEmailsFilter,
    log_context,
)
from tests.factories import VerificationFactory

HEX_ID = re.compile(r"[0-9a-f]{32}")


@pytest.fixture
def records(caplog):
    """Captured log records, each with the context its line would be written with."""
    caplog.handler.addFilter(ContextFilter())
    caplog.set_level(logging.DEBUG)
    yield caplog
    caplog.handler.filters.clear()


def line_of(record: logging.LogRecord) -> str:
    """The line the configured formatter writes for ``record``."""
    return logging.Formatter(settings.LOGGING["formatters"]["line"]["format"]).format(record)


def request_lines(caplog) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.name == "newsroom.request"]


# Request ids ------------------------------------------------------------------------


def test_a_request_gets_an_id_on_the_response_and_in_its_log_lines(client, records):
    response = client.get("/healthz")

    request_id = response["X-Request-ID"]
    assert HEX_ID.fullmatch(request_id)
    (record,) = request_lines(records)
    assert record.request_id == request_id
    assert record.context == f"req={request_id}"
    assert log_context.get() == LogContext(), "the context ends with the request"


def test_the_request_log_line(client, records):
    response = client.get("/healthz")

    (record,) = request_lines(records)
    line = line_of(record)
    pattern = (
        r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} DEBUG newsroom.request "
        rf"\[req={response['X-Request-ID']}\] GET /healthz 200 \d+\.\dms"
    )
    assert re.fullmatch(pattern, line), line


@pytest.mark.django_db
def test_pages_are_logged_at_info_without_query_string_or_cookies(client, records):
    client.cookies["sessionid"] = "cookie-value-for-the-log-test"
    client.get("/search/", {"q": "jane.doe@example.com"})

    (record,) = request_lines(records)
    assert record.levelno == logging.INFO
    assert record.getMessage().startswith("GET /search/ 200 ")
    assert "jane.doe" not in records.text
    assert "cookie-value-for-the-log-test" not in records.text


@pytest.mark.django_db
def test_a_control_character_in_the_path_cannot_break_the_log_line(client, records):
    client.get("/no-such-page%0A2026-01-01 FAKE line/")

    (record,) = request_lines(records)
    assert "\n" not in record.getMessage()
    assert record.getMessage().startswith("GET /no-such-page%0A2026-01-01%20FAKE%20line/ 404 ")


@pytest.mark.parametrize("incoming", ["4f1c2b", "edge-proxy.1234_abcd", "A" * 64])
def test_a_sane_incoming_request_id_is_kept(client, incoming):
    response = client.get("/healthz", headers={"X-Request-ID": incoming})
    assert response["X-Request-ID"] == incoming


@pytest.mark.parametrize(
    "hostile",
    ["abc\ndef", "abc\r\nX-Evil: 1", "A" * 65, "has space", "<script>", "jane@example.com", ""],
)
def test_a_hostile_incoming_request_id_is_replaced(client, records, hostile):
    response = client.get("/healthz", headers={"X-Request-ID": hostile})

    assert HEX_ID.fullmatch(response["X-Request-ID"])
    assert request_lines(records)[0].request_id == response["X-Request-ID"]


@pytest.mark.django_db
def test_public_pages_stay_free_of_per_visitor_state(client):
    response = client.get("/")
    assert response.status_code == 200
    assert not response.cookies
    assert "Cookie" not in response.get("Vary", "")


# Celery tasks ------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_task_logs_with_its_task_id_and_name(records):
    verification = VerificationFactory()

    result = tasks.send_verification_code.apply(kwargs={"verification_id": str(verification.pk)})

    (record,) = [r for r in records.records if r.name == "contact.services"]
    assert record.task_id == result.id
    assert record.task_name == "contact.send_verification_code"
    assert record.request_id == ""
    assert record.context == f"task={result.id} contact.send_verification_code"
    assert log_context.get() == LogContext(), "the context ends with the task"


@pytest.mark.django_db
def test_a_task_picks_up_the_request_id_from_its_message_header(records):
    verification = VerificationFactory()

    result = tasks.send_verification_code.apply(
        kwargs={"verification_id": str(verification.pk)},
        headers={REQUEST_ID_HEADER: "4f1c2b"},
    )

    (record,) = [r for r in records.records if r.name == "contact.services"]
    assert record.context == f"task={result.id} contact.send_verification_code req=4f1c2b"


def test_publishing_a_task_in_a_request_puts_the_request_id_in_its_headers():
    from celery import signals

    headers = {}
    token = log_context.set(LogContext(request_id="4f1c2b"))
    try:
        signals.before_task_publish.send(sender="contact.notify_editors", headers=headers, body={})
    finally:
        log_context.reset(token)
    assert headers[REQUEST_ID_HEADER] == "4f1c2b"

    headers = {}
    signals.before_task_publish.send(sender="contact.notify_editors", headers=headers, body={})
    assert REQUEST_ID_HEADER not in headers


def test_errors_are_written_with_their_traceback(records):
    try:
        raise ValueError("boom")
    except ValueError:
        logging.getLogger("newsroom.test").exception("it failed")

    line = line_of(records.records[-1])
    assert line.splitlines()[0].endswith("ERROR newsroom.test [-] it failed")
    assert "Traceback (most recent call last)" in line
    assert "ValueError: boom" in line


# What the logs may hold ---------------------------------------------------------------


# Transactional, so the commit happens, and the task runs, inside the request as in
# production; captured on_commit callbacks would run after the request has ended.
@pytest.mark.django_db(transaction=True)
def test_one_request_id_follows_a_submission_from_the_form_to_the_mail(client, records, mailoutbox):
    response = client.post(reverse("contact:start"), start_data(client))

    request_id = response["X-Request-ID"]
    (sent,) = [r for r in records.records if r.getMessage().startswith("verification mail sent")]
    assert sent.task_name == "contact.send_verification_code"
    assert sent.context == f"task={sent.task_id} contact.send_verification_code req={request_id}"
    started = [r for r in records.records if r.getMessage().startswith("verification started")]
    assert started[0].context == f"req={request_id}"


@pytest.mark.django_db
def test_the_whole_contact_flow_logs_neither_the_address_nor_the_code(
    client, records, django_capture_on_commit_callbacks, mailoutbox, settings
):
    """At every level, including the request log: masked addresses and ids only."""
    settings.CONTACT_RECIPIENTS = ["desk@newsroom.test"]
    email = "jane.doe@example.com"

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("contact:start"), start_data(client, email=email))
    code = re.search(r"\b(\d{6})\b", mailoutbox[0].body).group(1)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("contact:verify"), {"code": "000000" if code != "000000" else "1"})
        client.post(reverse("contact:verify"), {"code": code})
        client.get(reverse("contact:message"))
        response = client.post(
            reverse("contact:message"), {"subject": "A correction", "message": "Hello."}
        )
    assert response.url == reverse("contact:thanks")
    assert len(mailoutbox) == 2, "the code and the editors' notification"

    lines = [line_of(record) for record in records.records]
    text = "\n".join(lines)
    assert "verification started" in text and "notification sent" in text
    assert len(request_lines(records)) == 6
    assert "j***@example.com" in text
    assert email not in text
    assert "jane.doe" not in text
    assert code not in text


def start_data(client, **overrides) -> dict:
    """Step 1 filled in by ``client`` in the form it loaded 30 seconds ago."""
    with time_machine.travel(time.time() - 30):
        page = client.get(reverse("contact:start")).content.decode()
    data = {"name": "Jane Reader", "email": "jane@example.com", "website": ""}
    return form_inputs(page) | data | {"article": ""} | overrides


# No full address in any line -----------------------------------------------------------

ADDRESS = "jane.doe@example.com"
MASKED = "j***@example.com"
REFUSED = smtplib.SMTPRecipientsRefused(
    {ADDRESS: (450, f"4.2.1 <{ADDRESS}>: Recipient address rejected".encode())}
)


def console_line(record: logging.LogRecord) -> str:
    """The line the console handler in ``LOGGING`` writes: its filters, then its format."""
    config = settings.LOGGING
    for name in config["handlers"]["console"]["filters"]:
        assert import_string(config["filters"][name]["()"])().filter(record)
    return line_of(record)


def record(msg, *args, exc_info=None, **fields) -> logging.LogRecord:
    made = logging.LogRecord("contact.tasks", logging.WARNING, __file__, 1, msg, args, exc_info)
    made.__dict__.update(fields)
    return made


def refused_exc_info():
    try:
        raise REFUSED
    except smtplib.SMTPRecipientsRefused:
        return sys.exc_info()


@pytest.mark.parametrize(
    ("made", "expected"),
    [
        (lambda: record(f"refused {ADDRESS}"), f"refused {MASKED}"),
        (
            lambda: record("mail to %s: %r", ADDRESS, REFUSED),
            f"mail to {MASKED}: SMTPRecipientsRefused",
        ),
        # Celery's own retry line: its arguments are a mapping.
        (
            lambda: record(
                "Task %(name)s[%(id)s] retry: %(exc)s",
                {
                    "name": "contact.send_verification_code",
                    "id": "9b2e",
                    "exc": f"Retry in 5s: {REFUSED!r}",
                },
            ),
            f"retry: Retry in 5s: SMTPRecipientsRefused({{'{MASKED}': (450, b'4.2.1 <{MASKED}>:",
        ),
        # A bad format string: written as it is, with its arguments, masked.
        (lambda: record("%s %s", ADDRESS), f"%s %s (arguments not formatted: ('{MASKED}',))"),
        (
            lambda: record(
                "stack", stack_info=f"Stack (most recent call last):\n  mail({ADDRESS!r})"
            ),
            MASKED,
        ),
    ],
    ids=["message", "arguments", "celery-mapping", "bad-format", "stack"],
)
def test_the_masking_filter_masks_every_address_a_record_would_write(made, expected):
    line = console_line(made())
    assert expected in line
    assert ADDRESS not in line
    assert "jane.doe" not in line


def test_the_masking_filter_masks_the_traceback():
    made = record("send failed", exc_info=refused_exc_info())
    line = console_line(made)
    assert "Traceback (most recent call last)" in line
    assert f"smtplib.SMTPRecipientsRefused: {{'{MASKED}': (450" in line
    assert ADDRESS not in line


def test_a_traceback_another_handler_already_formatted_is_masked_too():
    made = record("send failed", exc_info=refused_exc_info())
    made.exc_text = logging.Formatter().formatException(made.exc_info)
    assert ADDRESS not in console_line(made)


def test_a_line_without_an_address_is_left_as_it_was():
    args = ("celery@worker-7", "j***@example.com")
    made = record("%s ready; mailed %s", *args)
    assert MaskEmailsFilter().filter(made)
    assert made.msg == "%s ready; mailed %s" and made.args == args
    assert made.getMessage() == "celery@worker-7 ready; mailed j***@example.com"


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("<jane@example.com>", "<j***@example.com>"),
        ("email=jane@example.com&next=/", "email=j***@example.com&next=/"),
        ("{'jane@example.com': 1}", "{'j***@example.com': 1}"),
        ("o'brien@example.co.uk.", "o***@example.co.uk."),
        ('"jane doe"@example.com', '"***@example.com'),
        ("jane@[192.0.2.1]", "j***@[192.0.2.1]"),
        ("josé@exämple.de", "j***@exämple.de"),
    ],
)
def test_addresses_in_any_spelling_are_masked(text, masked):
    assert console_line(record(text)).endswith(f"] {masked}")


@pytest.mark.django_db
def test_celery_s_own_failure_line_is_masked(records, monkeypatch):
    """``Task … raised unexpected: …`` with its traceback, as Celery writes it."""

    def refuse(**kwargs):
        raise RuntimeError(f"cannot mail {ADDRESS}")

    monkeypatch.setattr(services, "verification_send_code", refuse)
    verification = VerificationFactory(delivery_state="queued", sent_at=None, delivery_attempts=0)
    tasks.send_verification_code.apply(kwargs={"verification_id": str(verification.pk)})

    lines = [console_line(made) for made in records.records]
    (failure,) = [line for line in lines if "raised unexpected" in line]
    assert f"RuntimeError('cannot mail {MASKED}')" in failure
    assert f"RuntimeError: cannot mail {MASKED}" in failure  # the traceback's last line
    assert ADDRESS not in "\n".join(lines)


def test_every_handler_the_site_logs_through_masks_addresses():
    """The console handler, and none left by Django's defaults or added by a library
    (redis-py adds one when a pubsub starts)."""
    import redis

    redis.Redis().pubsub().close()  # as the page cache's listener starts one; no connection
    loggers = [logging.getLogger()] + [
        logger for logger in logging.Logger.manager.loggerDict.values()
        if isinstance(logger, logging.Logger)
    ]  # fmt: skip
    handlers = {
        handler
        for logger in loggers
        for handler in logger.handlers
        if not isinstance(handler, logging.NullHandler)
        and not type(handler).__module__.startswith("_pytest")  # pytest's capture
    }
    assert handlers
    for handler in handlers:
        assert any(isinstance(f, MaskEmailsFilter) for f in handler.filters), handler
