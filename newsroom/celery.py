"""The one Celery app. Settings come from Django's settings under the CELERY_ namespace."""

import os
import warnings

from celery import Celery
from celery.exceptions import SecurityWarning
from celery.signals import celeryd_init, worker_init
from django.core import checks

from . import observability  # noqa: F401 - connects the log context to task signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "newsroom.settings")

app = Celery("newsroom")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def visibility_timeout_problem() -> str:
    """Why the Redis visibility timeout is too short, or "" when it is long enough.

    Redis redelivers a task nobody acknowledged within the timeout. A task still
    running (up to the hard time limit) or holding a retry countdown (up to
    ``CONTACT_MAIL_RETRY_MAX``) would then run a second time.
    """
    from django.conf import settings

    options = app.conf.broker_transport_options or {}
    if "visibility_timeout" not in options:
        return ""  # not a Redis broker
    timeout = options["visibility_timeout"]
    longest = settings.CONTACT_MAIL_RETRY_MAX + (app.conf.task_time_limit or 0)
    if timeout > longest:
        return ""
    return (
        f"CELERY_VISIBILITY_TIMEOUT ({timeout}s) must be longer than CONTACT_MAIL_RETRY_MAX "
        f"plus CELERY_TASK_TIME_LIMIT ({longest:g}s), or Redis hands tasks still in hand "
        "to a second worker."
    )


@checks.register(checks.Tags.compatibility)
def check_visibility_timeout(app_configs, **kwargs):
    problem = visibility_timeout_problem()
    return [checks.Error(problem, id="newsroom.E001")] if problem else []


@worker_init.connect
def refuse_a_short_visibility_timeout(**kwargs):
    """A worker is what redelivers, so it will not start on a timeout that duplicates mail."""
    problem = visibility_timeout_problem()
    if problem:
        # Celery logs and swallows an Exception raised by a signal handler.
        raise SystemExit(f"ImproperlyConfigured: {problem}")


@celeryd_init.connect
def no_root_warning_on_the_embedded_broker(conf, **kwargs):
    """Let ``make run`` start its worker as root without Celery's superuser warning.

    Celery warns when a worker runs as root because a root worker that accepts
    pickle runs, as root, whatever code anyone who can write to the broker sends
    it. Here neither half holds: the worker accepts JSON only, and the embedded
    broker is a folder under VAR_DIR that only the user who owns the database
    and the code can write to. A container or VM where a developer is root gets
    only noise from it, and the cure Celery suggests, ``--uid``, would leave the
    worker unable to write the root-owned SQLite database and mail folder.
    (C_FORCE_ROOT lifts the refusal to run pickle as root, not the warning.)
    With any other broker, reachable over a network, the warning stays: run
    production workers as an unprivileged user. Sent just before Celery checks.
    """
    embedded = conf.broker_url.startswith("filesystem://")
    if embedded and set(conf.accept_content) <= {"json", "application/json"}:
        warnings.filterwarnings(
            "ignore",
            message="You're running the worker with superuser privileges",
            category=SecurityWarning,
        )
