"""The one Celery app. Settings come from Django's settings under the CELERY_ namespace."""

import os

from celery import Celery

from . import observability  # noqa: F401 - connects the log context to task signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "newsroom.settings")

app = Celery("newsroom")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
