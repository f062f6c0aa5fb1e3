"""The environment of a process that shares a database, a broker and an SMTP server."""

import os
from pathlib import Path


def worker_env(*, database_url: str, broker_url: str, smtp_port: int, var_dir: Path, **extra):
    """The environment of a worker that shares the tests' database, broker and SMTP server."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("EMAIL_", "CELERY_", "CONTACT_", "DJANGO_ALLOW_ASYNC"))
    }
    env.update(
        DATABASE_URL=database_url,
        CELERY_BROKER_URL=broker_url,
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=str(smtp_port),
        EMAIL_TIMEOUT="5",
        VAR_DIR=str(var_dir),
        DJANGO_SETTINGS_MODULE="newsroom.settings",
    )
    env.update({key: str(value) for key, value in extra.items()})
    return env
