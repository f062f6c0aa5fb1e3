"""The Celery settings operators rely on: queues, redelivery, limits, shutdown.

Settings are read once at import, so cases that depend on the environment start
a fresh process.
"""

import json
import os
import subprocess
import sys
import warnings
from pathlib import Path
from types import SimpleNamespace

import pytest
from celery.exceptions import SecurityWarning
from celery.platforms import check_privileges
from django.conf import settings

from contact import tasks
from harness import free_port
from newsroom.celery import app, no_root_warning_on_the_embedded_broker

BASE_DIR = Path(__file__).resolve().parents[2]


def celery_conf(tmp_path: Path, **env: str) -> dict:
    """The Celery configuration a process starts with in ``env`` (production-like)."""
    clean = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("CELERY_", "CONTACT_", "EMAIL_", "REDIS_", "DATABASE_"))
    }
    clean.update(SECRET_KEY="not-secret", ALLOWED_HOSTS="news.example.com", VAR_DIR=str(tmp_path))
    clean.update(env)
    code = (
        "import django, json; django.setup(); from django.conf import settings; "
        "from newsroom.celery import app; c = app.conf; print(json.dumps({"
        "'transport': c.broker_transport_options, 'hard': c.task_time_limit, "
        "'soft': c.task_soft_time_limit, 'retry_max': settings.CONTACT_MAIL_RETRY_MAX, "
        "'email_timeout': getattr(settings, 'EMAIL_TIMEOUT', None)}))"
    )
    result = subprocess.run(  # noqa: S603 - fixed argv, our own settings
        [sys.executable, "-c", code],
        cwd=BASE_DIR,
        env={**clean, "DJANGO_SETTINGS_MODULE": "newsroom.settings"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


def queue_of(task_name: str) -> str:
    return app.amqp.router.route({}, task_name)["queue"].name


def test_the_code_a_visitor_waits_for_has_its_own_queue():
    assert queue_of("contact.send_verification_code") == "email"
    for name in ("contact.notify_editors", "contact.outbox_sweep", "contact.purge_verifications"):
        assert queue_of(name) == "default"
    assert app.conf.task_default_queue == "default"
    assert queue_of("some.new_task") == "default"  # nothing lands on an unserved queue


def test_a_worker_started_without_queues_serves_both():
    assert set(app.amqp.queues.consume_from) == {"email", "default"}


def test_every_routed_and_scheduled_task_exists():
    app.loader.import_default_modules()  # what a worker imports as it starts
    for name in [*app.conf.task_routes, *(e["task"] for e in app.conf.beat_schedule.values())]:
        assert name in app.tasks, name


def test_beat_sweeps_the_outbox_every_minute_and_purges_hourly_and_daily():
    schedule = {entry["task"]: entry["schedule"] for entry in app.conf.beat_schedule.values()}
    assert schedule == {
        "contact.outbox_sweep": 60.0,
        "contact.purge_verifications": 3600.0,
        "newsroom.prune_login_records": 86400.0,
        # Pictures a lost task left without sized versions (articles/pictures.py).
        "articles.picture_sizes_sweep": 300.0,
        # Purges of the edge a broker outage or a lost task left unsent (newsroom/edge/).
        "edge.purge_sweep": 30.0,
    }
    # The sweep finds a lost mail after CONTACT_OUTBOX_STALE_AFTER; runs are more frequent.
    assert schedule["contact.outbox_sweep"] < settings.CONTACT_OUTBOX_STALE_AFTER


@pytest.mark.parametrize("task", [tasks.send_verification_code, tasks.notify_editors])
def test_a_mail_task_lost_with_its_worker_is_delivered_again(task):
    assert task.acks_late
    assert task.reject_on_worker_lost
    assert task.ignore_result


def test_a_worker_process_holds_one_task_at_a_time():
    assert app.conf.worker_prefetch_multiplier == 1


def test_a_running_task_is_cancelled_rather_than_run_twice_on_connection_loss():
    assert app.conf.worker_cancel_long_running_tasks_on_connection_loss is True


def test_a_worker_started_before_the_broker_waits_for_it():
    assert app.conf.broker_connection_retry_on_startup is True


def test_time_limits_cut_off_a_hung_send_but_not_a_slow_mail_server(tmp_path):
    conf = celery_conf(tmp_path, EMAIL_HOST="smtp.example.com")
    assert conf["email_timeout"] < conf["soft"] < conf["hard"]


def test_soft_shutdown_finishes_the_mail_in_hand_within_a_process_managers_patience():
    # Kubernetes and most process managers kill after 30 s; systemd after 90 s.
    assert 0 < app.conf.worker_soft_shutdown_timeout < 30


def test_procfile_worker_serves_both_queues_with_soft_shutdown_on_sigterm():
    lines = dict(
        line.split(":", 1) for line in (BASE_DIR / "Procfile").read_text().splitlines() if line
    )
    worker = lines["worker"]
    assert "REMAP_SIGTERM=SIGQUIT" in worker
    assert "-Q ${CELERY_QUEUES:-email,default}" in worker
    assert "beat" in lines


def test_redis_keeps_a_task_invisible_longer_than_it_can_run_or_wait_for_a_retry(tmp_path):
    conf = celery_conf(tmp_path, REDIS_URL="redis://127.0.0.1:6379/0")
    options = conf["transport"]
    assert options["visibility_timeout"] > conf["retry_max"] + conf["hard"]
    assert options["socket_connect_timeout"] <= 5  # a visitor's request waits on enqueue


def test_enqueueing_to_a_broker_that_is_down_fails_at_once(tmp_path):
    """The visitor's request publishes the task; the outbox sweep sends it later."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("CELERY_", "REDIS_", "DATABASE_"))
    }
    env.update(
        DEBUG="1",
        VAR_DIR=str(tmp_path),
        DJANGO_SETTINGS_MODULE="newsroom.settings",
        REDIS_URL=f"redis://127.0.0.1:{free_port()}/0",  # nothing listens there
    )
    code = (
        "import django, time; django.setup(); from contact import tasks; t = time.monotonic()\n"
        "try: tasks.notify_editors.apply_async(kwargs={'message_id': 1}, retry=False)\n"
        "except Exception as exc: print(type(exc).__name__, time.monotonic() - t)"
    )
    result = subprocess.run(  # noqa: S603 - fixed argv, our own settings
        [sys.executable, "-c", code],
        cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    error, seconds = result.stdout.split()
    assert error == "OperationalError"
    assert float(seconds) < 1


def test_the_visibility_timeout_is_configurable(tmp_path):
    conf = celery_conf(
        tmp_path, REDIS_URL="redis://127.0.0.1:6379/0", CELERY_VISIBILITY_TIMEOUT="7200"
    )
    assert conf["transport"]["visibility_timeout"] == 7200


def test_a_visibility_timeout_that_would_duplicate_mail_stops_the_site_and_the_worker(tmp_path):
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("CELERY_", "CONTACT_", "REDIS_"))
    }
    env.update(
        SECRET_KEY="not-secret",
        ALLOWED_HOSTS="news.example.com",
        VAR_DIR=str(tmp_path),
        DJANGO_SETTINGS_MODULE="newsroom.settings",
        CELERY_BROKER_URL="redis://127.0.0.1:1/0",  # never reached
        CELERY_VISIBILITY_TIMEOUT="300",
        CONTACT_MAIL_RETRY_MAX="300",
    )
    check = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert check.returncode != 0
    assert "newsroom.E001" in check.stderr
    worker = subprocess.run(
        [sys.executable, "-m", "celery", "-A", "newsroom", "worker", "--pool", "solo"],
        cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert worker.returncode == 1
    assert "CELERY_VISIBILITY_TIMEOUT (300s) must be longer" in worker.stderr


def test_the_embedded_file_broker_has_no_visibility_timeout_to_check(tmp_path):
    conf = celery_conf(tmp_path)
    assert "visibility_timeout" not in conf["transport"]
    assert conf["transport"]["data_folder_in"].startswith(str(tmp_path))


@pytest.mark.parametrize(
    ("broker", "warned"),
    [("filesystem://localhost/", False), ("redis://127.0.0.1:6379/1", True)],
)
def test_a_root_worker_is_warned_only_when_its_broker_is_not_the_embedded_one(
    monkeypatch, broker, warned
):
    for name in ("getuid", "geteuid", "getgid", "getegid"):
        monkeypatch.setattr(os, name, lambda: 0)
    conf = SimpleNamespace(broker_url=broker, accept_content=["json"])

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        # What a worker does at start: the celeryd_init signal, then Celery's check.
        no_root_warning_on_the_embedded_broker(conf=conf)
        check_privileges(conf.accept_content)

    assert any(issubclass(w.category, SecurityWarning) for w in caught) == warned
