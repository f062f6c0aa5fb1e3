"""Request ids, task ids and what the logs may hold.

The context filter lives on the console handler in ``LOGGING``; these tests put
the same filter on pytest's capture handler to read what each line would say.
"""

import logging
import re
import time

import pytest
import time_machine
from django.conf import settings
from django.urls import reverse

from contact import tasks
from harness.visitor import form_inputs
from newsroom.observability import REQUEST_ID_HEADER, ContextFilter, LogContext, log_context
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
