"""The one Celery app. Settings come from Django's settings under the CELERY_ namespace."""

import os

from celery import Celery
from celery.signals import worker_init
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
