"""Project-wide housekeeping tasks (app tasks live in each app's ``tasks.py``)."""

import logging

from axes.handlers.proxy import AxesProxyHandler
from celery import shared_task
from django.conf import settings

logger = logging.getLogger(__name__)


@shared_task(name="newsroom.prune_login_records", ignore_result=True)
def prune_login_records() -> None:
    """Delete django-axes' records of admin logins older than ``LOGIN_RECORD_DAYS``.

    django-axes keeps a row per successful login (who, from which address, with
    which browser) and never drops one by itself; lockouts use other rows.
    """
    removed = AxesProxyHandler.reset_logs(age_days=settings.LOGIN_RECORD_DAYS)
    logger.info("pruned %d admin login records", removed)
