"""Fault tests: parts fail under the contact flow, and no mail is lost.

Each test runs a ``redis-server`` of its own on a loopback port (so it can stop
it), Celery worker processes pointed at it, and the loopback SMTP server, on the
PostgreSQL test database. Select them with ``-m faults``.
"""

import os
import subprocess
import sys
import threading
import time
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from contact import services, tasks
from contact.models import Delivery, Message, Verification
from harness import wait_for
from harness.smtp import code_in
from harness.worker import worker_env
from tests.conftest import INTEGRATION_RECIPIENT, need_postgres_and_redis, switch_broker
from tests.contact.test_integration import post_form
from tests.factories import UserFactory
from tests.services import BASE_DIR, RedisServer, WorkerProcess

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.faults]


@pytest.fixture
def redis_server(tmp_path):
    """A Redis of this test's own, stopped at the end whatever happened."""
    need_postgres_and_redis()
    server = RedisServer(folder=tmp_path)
    try:
        server.start()
    except AssertionError as exc:
        if os.environ.get("REQUIRE_SERVICES") == "1" or "not installed" not in str(exc):
            raise
        pytest.skip(str(exc))
    yield server
    server.stop()


@pytest.fixture
def start_worker(redis_server, smtp, tmp_path):
    """Start Celery workers on ``redis_server``; each is stopped at the end of the test."""
    from django.db import connection

    db = connection.settings_dict
    database_url = (
        f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"
    )
    workers = []

    def start(**extra) -> WorkerProcess:
        options = {
            # Short backoff so the "SMTP down for good" case ends within seconds.
            "CONTACT_MAIL_RETRY_BASE": 0.2,
            "CONTACT_MAIL_RETRY_MAX": 1,
            "CONTACT_MAIL_MAX_RETRIES": 3,
            "CONTACT_RECIPIENTS": INTEGRATION_RECIPIENT,
        } | extra
        env = worker_env(
            database_url=database_url,
            broker_url=redis_server.url,
            smtp_port=smtp.port,
            var_dir=tmp_path,
            **options,
        )
        worker = WorkerProcess(env=env, log_path=tmp_path / f"worker-{len(workers)}.log")
        workers.append(worker)
        return worker.start()

    yield start
    for worker in workers:
        worker.stop()


@pytest.fixture
def broker(redis_server, settings):
    """This process publishes to ``redis_server`` instead of running tasks inline."""
    from newsroom.celery import app

    original = app.conf.broker_url
    switch_broker(redis_server.url)
    app.conf.task_always_eager = False
    yield redis_server
    app.conf.task_always_eager = True
    switch_broker(original)


@pytest.fixture
def smtp_hold(smtp):
    """Make the SMTP server keep each mail waiting until the test releases it."""
    smtp.hold, smtp.held = threading.Event(), 0
    smtp.dropped.clear()
    yield smtp
    hold, smtp.hold = smtp.hold, None
    if hold is not None:
        hold.set()


@pytest.fixture
def visitor(settings):
    settings.CONTACT_MIN_FORM_SECONDS = 0
    return Client()


def sweep_as_beat_does() -> None:
    """Make every queued row overdue, then run the sweep on the worker, as beat would."""
    overdue = timezone.now() - timedelta(minutes=3)
    Verification.objects.filter(delivery_state=Delivery.QUEUED).update(next_attempt_at=overdue)
    Message.objects.filter(delivery_state=Delivery.QUEUED).update(next_attempt_at=overdue)
    tasks.outbox_sweep.delay()


def ping() -> int:
    """The documented liveness check, ``celery inspect ping``, against the test's broker."""
    from newsroom.celery import app

    env = {**os.environ, "CELERY_BROKER_URL": app.conf.broker_url}
    result = subprocess.run(
        [sys.executable, "-m", "celery", "-A", "newsroom", "inspect", "ping", "--timeout", "2"],
        cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    return result.returncode


def test_broker_down_at_step_one_then_back_the_code_arrives(broker, start_worker, smtp, visitor):
    start_worker()
    broker.stop()

    response = post_form(visitor, "/contact/", name="Jane", email="jane@example.com")
    assert response.status_code == 302  # the visitor still reaches step 2
    assert visitor.get("/contact/verify/").status_code == 200
    assert Verification.objects.get().delivery_state == Delivery.QUEUED

    broker.start()  # the same port, empty; the worker reconnects by itself
    switch_broker(broker.url)  # drop this process's dead connections
    from newsroom.celery import app

    wait_for(lambda: app.control.ping(timeout=0.5), timeout=30, what="the worker to reconnect")
    sweep_as_beat_does()
    code = smtp.code_for("jane@example.com", timeout=20)
    assert post_form(visitor, "/contact/verify/", code=code)["Location"] == "/contact/message/"


def test_a_worker_killed_mid_send_the_task_is_redelivered_with_the_same_code(
    broker, start_worker, smtp_hold, visitor
):
    smtp = smtp_hold
    first = start_worker()
    post_form(visitor, "/contact/", name="Jane", email="jane@example.com")
    wait_for(lambda: smtp.held == 1, timeout=20, what="the worker to be sending the mail")
    nonce = Verification.objects.get().code_nonce

    first.kill()  # SIGKILL between receiving the task and acknowledging it
    assert ping() != 0  # the liveness check sees no worker
    hold, smtp.hold = smtp.hold, None
    hold.set()
    assert smtp.to("jane@example.com") == []  # the half-sent mail was never delivered

    # A new worker; Redis hands it the unacknowledged task once the visibility
    # timeout (short here) has passed.
    start_worker(
        CELERY_VISIBILITY_TIMEOUT=5,
        CELERY_TASK_TIME_LIMIT=3,
        CELERY_TASK_SOFT_TIME_LIMIT=2,
        DJANGO_SETTINGS_MODULE="tests.contact.fault_settings",
    )
    assert ping() == 0
    code = smtp.code_for("jane@example.com", timeout=30)

    verification = Verification.objects.get()
    assert verification.code_nonce == nonce  # not regenerated
    assert code == code_in(smtp.dropped[0]) == services._code_for(verification)
    assert verification.delivery_state == Delivery.SENT
    assert post_form(visitor, "/contact/verify/", code=code)["Location"] == "/contact/message/"


def test_smtp_refusing_then_accepting_is_retried_and_delivered(broker, start_worker, smtp, visitor):
    start_worker()
    smtp.reply = "451 4.3.0 try again later"
    post_form(visitor, "/contact/", name="Jane", email="jane@example.com")
    wait_for(lambda: smtp.refused >= 1, timeout=20, what="the first refused attempt")
    smtp.reply = None

    code = smtp.code_for("jane@example.com", timeout=20)
    verification = wait_for(
        lambda: Verification.objects.filter(delivery_state=Delivery.SENT).first(),
        timeout=10,
        what="the delivery to be recorded",
    )
    assert verification.delivery_attempts >= 2
    assert len(smtp.to("jane@example.com")) == 1
    assert post_form(visitor, "/contact/verify/", code=code)["Location"] == "/contact/message/"


def test_smtp_down_for_good_is_failed_and_shown_in_outbox_and_admin(
    broker, start_worker, smtp, visitor
):
    start_worker()
    smtp.reply = "451 4.3.0 mail system unavailable"
    post_form(visitor, "/contact/", name="Jane", email="jane.reader@example.com")
    verification = wait_for(
        lambda: Verification.objects.filter(delivery_state=Delivery.FAILED).first(),
        timeout=30,
        what="the verification mail to be marked failed",
    )
    assert smtp.refused == 4  # the first try and three retries
    assert verification.delivery_attempts == 4

    out = StringIO()
    call_command("outbox", stdout=out)
    report = out.getvalue()
    assert "Failed: 1" in report
    failed_line = next(line for line in report.splitlines() if str(verification.pk) in line)
    assert "j***@example.com" in failed_line
    assert "451" in failed_line
    assert "jane.reader" not in report

    admin = Client()
    admin.force_login(UserFactory(is_staff=True, is_superuser=True))
    page = admin.get(
        "/admin/contact/verification/?delivery_state__exact=failed",
        headers={"X-Forwarded-Proto": "https"},
    )
    assert page.status_code == 200
    assert "Failed" in page.content.decode()
    assert "4.3.0 mail system unavailable" in page.content.decode()


def test_redis_restarted_empty_the_sweep_brings_every_queued_mail_back(
    broker, start_worker, smtp, visitor
):
    addresses = [f"reader{n}@example.com" for n in range(3)]
    for address in addresses:
        post_form(Client(), "/contact/", name="Reader", email=address)
    Message.objects.create(
        name="Jane",
        email="jane@example.com",
        subject="Lost notification",
        body="Hello",
        next_attempt_at=timezone.now(),
    )
    from newsroom.celery import app

    with app.connection_for_write() as conn:
        assert conn.default_channel.client.llen("email") == 3  # waiting for a worker

    broker.restart()  # no persistence: the queued tasks are gone
    switch_broker(broker.url)
    with app.connection_for_write() as conn:
        assert conn.default_channel.client.llen("email") == 0
    start_worker()
    assert Verification.objects.filter(delivery_state=Delivery.QUEUED).count() == 3

    sweep_as_beat_does()
    for address in addresses:
        assert len(smtp.code_for(address, timeout=20)) == 6
    notification = smtp.wait_for_mail(INTEGRATION_RECIPIENT, timeout=20)
    assert "Lost notification" in notification["Subject"]
    wait_for(
        lambda: (
            not Verification.objects.exclude(delivery_state=Delivery.SENT).exists()
            and not Message.objects.exclude(delivery_state=Delivery.SENT).exists()
        ),
        timeout=10,
        what="every mail to be recorded as sent",
    )


def test_the_worker_outlives_a_broker_outage_while_it_holds_a_task(
    broker, start_worker, smtp, visitor
):
    """Redis goes while a mail waits for its retry in the worker, unacknowledged: the
    worker must reconnect by itself when Redis is back, not exit for good."""
    worker = start_worker(CONTACT_MAIL_RETRY_BASE=5, CONTACT_MAIL_RETRY_MAX=5)
    smtp.reply = "451 4.3.0 try again later"
    post_form(visitor, "/contact/", name="Jane", email="jane@example.com")
    wait_for(lambda: smtp.refused >= 1, timeout=20, what="the first refused attempt")

    broker.stop()
    smtp.reply = None
    wait_for(
        lambda: "Connection to broker lost" in worker.log(), timeout=20, what="the worker to notice"
    )
    broker.start()  # the same port, empty
    switch_broker(broker.url)
    from newsroom.celery import app

    wait_for(lambda: app.control.ping(timeout=0.5), timeout=40, what="the worker to reconnect")
    assert worker.process.poll() is None, worker.log()
    sweep_as_beat_does()
    code = smtp.code_for("jane@example.com", timeout=30)
    assert post_form(visitor, "/contact/verify/", code=code)["Location"] == "/contact/message/"
    assert len(smtp.to("jane@example.com")) == 1


@pytest.mark.parametrize(
    ("rcpt_reply", "attempts"),
    [
        # The first attempt and CONTACT_MAIL_MAX_RETRIES (4, below) retries, then failed.
        pytest.param("450 4.2.1 <{address}>: Recipient address rejected: busy", 5, id="450"),
        pytest.param("550 5.1.1 <{address}>: Recipient address rejected: unknown", 1, id="550"),
    ],
)
def test_a_refused_recipient_ends_failed_within_the_budget_and_no_log_holds_the_address(
    broker, start_worker, smtp, visitor, settings, rcpt_reply, attempts
):
    """The mail server refuses the recipient at RCPT, naming the address as real servers
    do: a 4xx for ever fails the mail after exactly the configured attempts, a 5xx after
    one, while beat's sweep runs all along. Operators see it failed in ``outbox``, the
    admin and /metrics; no log line at any level, Celery's own included, and no output
    holds the address in full."""
    address = "rosa.refused@example.com"
    worker = start_worker(
        CONTACT_MAIL_MAX_RETRIES=4,
        CONTACT_MAIL_RETRY_BASE=0.2,
        CONTACT_MAIL_RETRY_MAX=0.4,
        LOG_LEVEL="DEBUG",
    )
    smtp.rcpt_reply = rcpt_reply
    # The sweep below, as beat runs it, would take a lost task's mail over within a second.
    settings.CONTACT_OUTBOX_STALE_AFTER = 1
    post_form(visitor, "/contact/", name="Rosa", email=address)

    def failed_while_beat_sweeps():
        services.outbox_sweep()
        return Verification.objects.filter(delivery_state=Delivery.FAILED).first()

    verification = wait_for(
        failed_while_beat_sweeps, timeout=30, interval=0.25, what="the code mail to be failed"
    )
    deadline = time.monotonic() + 2
    while time.monotonic() < deadline:  # a failed mail is not tried again
        services.outbox_sweep()
        time.sleep(0.25)
    assert smtp.refused == attempts
    assert smtp.to(address) == []
    verification.refresh_from_db()
    assert verification.delivery_state == Delivery.FAILED
    assert verification.delivery_attempts == attempts
    assert "r***@example.com" in verification.delivery_error
    assert address not in verification.delivery_error

    out = StringIO()
    call_command("outbox", stdout=out)
    report = out.getvalue()
    assert "Failed: 1" in report
    failed_line = next(line for line in report.splitlines() if str(verification.pk) in line)
    assert failed_line.split()[2:4] == ["r***@example.com", str(attempts)]
    assert f"({rcpt_reply[:3]}, b'{rcpt_reply[4:9]}" in failed_line  # the server's answer
    assert address not in report

    metrics = Client().get("/metrics").content.decode()
    assert 'newsroom_outbox_failed{kind="verification"} 1.0' in metrics
    assert 'newsroom_outbox_queued{kind="verification"} 0.0' in metrics
    assert address not in metrics

    admin = Client()
    admin.force_login(UserFactory(is_staff=True, is_superuser=True))
    page = admin.get(
        "/admin/contact/verification/?delivery_state__exact=failed",
        headers={"X-Forwarded-Proto": "https"},
    ).content.decode()
    assert "contact-delivery-failed" in page
    assert "Recipient address rejected" in page

    log = worker.log_path.read_text(errors="replace")
    assert address not in log
    assert "rosa" not in log
    masked = [line for line in log.splitlines() if "r***@example.com" in line]
    assert any(f"failed after {attempts} attempt(s)" in line for line in masked), log[-3000:]
    if attempts > 1:  # Celery's own retry line, with the error it retries
        assert any("celery.app.trace" in line and "Retry in" in line for line in masked)
