"""/metrics: who may read it, what it says, and that the numbers move."""

import os
import smtplib
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.utils import timezone
from prometheus_client import REGISTRY

from contact import services, tasks
from contact.models import Delivery, Verification
from tests.factories import MessageFactory, VerificationFactory

pytestmark = pytest.mark.django_db

OUTSIDE = "203.0.113.7"
METRIC_NAMES = [
    "newsroom_http_requests_total",
    "newsroom_http_request_duration_seconds",
    "newsroom_mail_sent_total",
    "newsroom_mail_failed_total",
    "newsroom_mail_retries_total",
    "newsroom_outbox_oldest_queued_age_seconds",
    "newsroom_outbox_queued",
    "newsroom_outbox_failed",
]


def sample(name: str, **labels) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def scrape(client) -> str:
    response = client.get("/metrics")
    assert response.status_code == 200
    return response.content.decode()


# Who may read it ----------------------------------------------------------------------


def test_loopback_reads_the_metrics_in_the_text_format(client):
    response = client.get("/metrics")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    assert "no-cache" in response["Cache-Control"]
    text = response.content.decode()
    for name in METRIC_NAMES:
        assert f"\n# TYPE {name} " in text, name


@pytest.mark.parametrize("method", ["get", "post", "head"])
def test_anyone_else_gets_the_ordinary_not_found(client, method):
    response = getattr(client, method)("/metrics", REMOTE_ADDR=OUTSIDE)
    assert response.status_code == 404


@pytest.mark.parametrize("headers", [{"X-Forwarded-For": OUTSIDE}, {"X-Forwarded-Proto": "https"}])
def test_a_request_relayed_by_the_proxy_is_not_judged_by_its_loopback_address(client, headers):
    assert client.get("/metrics", headers=headers).status_code == 404


def test_configured_networks_may_read_it(client, settings):
    settings.METRICS_ALLOWED_IPS = ["10.0.0.0/8", "2001:db8::/32"]

    assert client.get("/metrics", REMOTE_ADDR="10.20.30.40").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="2001:db8::5").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 404
    assert client.get("/metrics", REMOTE_ADDR="not-an-address").status_code == 404


def test_the_bearer_token_opens_it_from_anywhere(client, settings):
    settings.METRICS_TOKEN = "scrape-token-for-tests"

    def status(authorization: str) -> int:
        response = client.get(
            "/metrics",
            REMOTE_ADDR=OUTSIDE,
            headers={"Authorization": authorization, "X-Forwarded-Proto": "https"},
        )
        return response.status_code

    assert status("Bearer scrape-token-for-tests") == 200
    assert status("Bearer wrong") == 404
    assert status("scrape-token-for-tests") == 404
    assert status("") == 404


def test_without_a_token_configured_no_bearer_opens_it(client, settings):
    settings.METRICS_TOKEN = ""
    response = client.get("/metrics", REMOTE_ADDR=OUTSIDE, headers={"Authorization": "Bearer "})
    assert response.status_code == 404


def test_it_sets_no_cookie_and_leaves_the_session_alone(client):
    response = client.get("/metrics")
    assert not response.cookies
    assert "Cookie" not in response.get("Vary", "")


def test_it_is_exempt_from_the_https_redirect(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/metrics").status_code == 200
    assert client.get("/").status_code == 301


# The numbers move ----------------------------------------------------------------------


def test_requests_are_counted_by_method_status_class_and_route(client):
    labels = {"method": "GET", "status": "2xx", "route": "healthz"}
    before = sample("newsroom_http_requests_total", **labels)
    latency_before = sample("newsroom_http_request_duration_seconds_count", route="healthz")
    missing_before = sample(
        "newsroom_http_requests_total", method="GET", status="4xx", route="unresolved"
    )

    client.get("/healthz")
    client.get("/healthz")
    client.get("/no-such-page/2026")

    assert sample("newsroom_http_requests_total", **labels) == before + 2
    assert sample("newsroom_http_request_duration_seconds_count", route="healthz") == (
        latency_before + 2
    )
    assert (
        sample("newsroom_http_requests_total", method="GET", status="4xx", route="unresolved")
        == missing_before + 1
    )
    text = scrape(client)
    assert 'newsroom_http_requests_total{method="GET",route="healthz",status="2xx"}' in text
    assert "no-such-page" not in text, "a raw path never becomes a label"


def test_an_unknown_method_does_not_make_a_new_label(client):
    before = sample("newsroom_http_requests_total", method="other", status="4xx", route="healthz")
    client.generic("BREW", "/healthz")
    after = sample("newsroom_http_requests_total", method="other", status="4xx", route="healthz")
    assert after in {before, before + 1}
    assert 'method="BREW"' not in scrape(client)


def test_a_sent_code_mail_is_counted(django_capture_on_commit_callbacks, mailoutbox):
    before = sample("newsroom_mail_sent_total", kind="verification")

    with django_capture_on_commit_callbacks(execute=True):
        services.verification_start(
            name="Jane", email="jane@example.com", article=None, client_ip=OUTSIDE
        )

    assert len(mailoutbox) == 1
    assert sample("newsroom_mail_sent_total", kind="verification") == before + 1


def test_a_sent_notification_is_counted(settings, mailoutbox):
    settings.CONTACT_RECIPIENTS = ["desk@newsroom.test"]
    message = MessageFactory(delivery_state=Delivery.QUEUED, sent_at=None, delivery_attempts=0)
    before = sample("newsroom_mail_sent_total", kind="notification")

    tasks.notify_editors.apply(kwargs={"message_id": message.pk})

    assert sample("newsroom_mail_sent_total", kind="notification") == before + 1


def test_a_notification_nobody_can_receive_is_counted_as_failed(settings):
    settings.CONTACT_RECIPIENTS = []
    message = MessageFactory(delivery_state=Delivery.QUEUED, sent_at=None, delivery_attempts=0)
    before = sample("newsroom_mail_failed_total", kind="notification")

    tasks.notify_editors.apply(kwargs={"message_id": message.pk})

    assert sample("newsroom_mail_failed_total", kind="notification") == before + 1


def test_code_mail_retries_and_failures_are_counted(monkeypatch, settings):
    settings.CONTACT_MAIL_MAX_RETRIES = 1
    settings.CONTACT_MAIL_RETRY_BASE = 0
    settings.CONTACT_MAIL_RETRY_MAX = 0
    verification = VerificationFactory(
        delivery_state=Delivery.QUEUED, sent_at=None, delivery_attempts=0
    )

    def refuse(**kwargs):
        raise smtplib.SMTPServerDisconnected("gone")

    monkeypatch.setattr(services, "verification_send_code", refuse)
    retries = sample("newsroom_mail_retries_total", kind="verification")
    failed = sample("newsroom_mail_failed_total", kind="verification")

    tasks.send_verification_code.apply(kwargs={"verification_id": str(verification.pk)})

    assert sample("newsroom_mail_retries_total", kind="verification") == retries + 1
    assert sample("newsroom_mail_failed_total", kind="verification") == failed + 1
    verification.refresh_from_db()
    assert verification.delivery_state == Delivery.FAILED


def test_a_failure_recorded_for_a_mail_already_sent_is_not_counted():
    verification = VerificationFactory(delivery_state=Delivery.SENT)
    before = sample("newsroom_mail_failed_total", kind="verification")

    services.delivery_record_failure(
        model=Verification,
        pk=verification.pk,
        task_id=verification.delivery_task_id,
        error=OSError("late"),
        permanent=True,
    )

    assert sample("newsroom_mail_failed_total", kind="verification") == before


# The outbox, read at scrape time ---------------------------------------------------------


def test_the_outbox_gauges_show_the_oldest_queued_mail_and_the_counts(client):
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        # Queued and waiting: the task never ran (no commit in this test).
        services.verification_start(
            name="Jane", email="jane@example.com", article=None, client_ip=OUTSIDE
        )
        traveller.shift(timedelta(seconds=30))
        services.verification_start(
            name="John", email="john@example.com", article=None, client_ip=OUTSIDE
        )
        MessageFactory(delivery_state=Delivery.FAILED)
        # An ended attempt's code is never sent, so it does not count as waiting.
        VerificationFactory(delivery_state=Delivery.QUEUED, state=Verification.State.LOCKED)
        traveller.shift(timedelta(seconds=60))

        text = scrape(client)

    assert 'newsroom_outbox_oldest_queued_age_seconds{kind="verification"} 90.0' in text
    assert 'newsroom_outbox_oldest_queued_age_seconds{kind="notification"} 0.0' in text
    assert 'newsroom_outbox_queued{kind="verification"} 2.0' in text
    assert 'newsroom_outbox_queued{kind="notification"} 0.0' in text
    assert 'newsroom_outbox_failed{kind="verification"} 0.0' in text
    assert 'newsroom_outbox_failed{kind="notification"} 1.0' in text


def test_the_outbox_gauges_cost_one_query_per_kind(client, django_assert_max_num_queries):
    with django_assert_max_num_queries(2):
        scrape(client)


# Several processes ---------------------------------------------------------------------


def test_multiprocess_mode_sums_what_each_process_counted(tmp_path):
    """With PROMETHEUS_MULTIPROC_DIR, /metrics in one process reports the others' counts."""
    (tmp_path / "prometheus").mkdir()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "newsroom.settings",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prometheus"),
        "VAR_DIR": str(tmp_path / "var"),  # no outbox tables there: those gauges are skipped
    }
    env.pop("DATABASE_URL", None)
    setup = (
        "import django; django.setup(); from newsroom import metrics; "
        "from contact.metrics import mail_sent; "
    )

    def run(code: str) -> str:
        return subprocess.run(  # noqa: S603 - our own interpreter, fixed code
            [sys.executable, "-c", setup + code],
            env=env,
            cwd=Path(__file__).resolve().parents[2],
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        ).stdout

    for _ in range(2):
        run("mail_sent.labels(kind='verification').inc()")
    scrape_code = (
        "import prometheus_client as p; print(p.generate_latest(metrics._registry()).decode())"
    )
    text = run(scrape_code)

    assert 'newsroom_mail_sent_total{kind="verification"} 2.0' in text
