"""The production layouts as the tests run them, with the Procfile's real processes.

- ``Stack``: one node: web, worker and beat on PostgreSQL, a cache and a broker.
- ``Nodes``: several nodes: web nodes (each a gunicorn master of its own, on a port
  of its own, with its own in-memory page copies) behind one nginx ``upstream``,
  worker nodes, one beat, all on one Redis (cache db 0, broker db 1) and PostgreSQL.

Both take the test database's URL from this process's connection, so they need
pytest-django's database set up, and the loopback SMTP server's port.
"""

from pathlib import Path

from django.db import connection

from harness.nginx import NginxServer
from tests.conftest import INTEGRATION_RECIPIENT
from tests.services import ProcfileProcess, RedisServer, layout_env


def database_url() -> str:
    """The URL of the database this process's tests use (the test database)."""
    db = connection.settings_dict
    return (
        f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"
    )


def production_env(
    folder: Path, *, cache_url: str, broker_url: str, smtp_port: int, **values
) -> dict[str, str]:
    """Production settings (DEBUG off) on the test database, ``cache_url`` and
    ``broker_url``, mailing through the loopback SMTP server; ``values`` on top."""
    return layout_env(
        var_dir=folder / "var",
        DATABASE_URL=database_url(),
        REDIS_URL=cache_url,
        CELERY_BROKER_URL=broker_url,
        SECRET_KEY="layout-test-not-a-secret",
        ALLOWED_HOSTS="127.0.0.1",
        SITE_URL="https://news.example.test",
        STATIC_NO_MANIFEST=1,  # no collectstatic for a test
        TRUSTED_PROXY_COUNT=1,
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=smtp_port,
        EMAIL_TIMEOUT=5,
        CONTACT_RECIPIENTS=INTEGRATION_RECIPIENT,
        # The outbox sweep as in production, on a shorter clock.
        CONTACT_OUTBOX_STALE_AFTER=3,
        OUTBOX_SWEEP_SECONDS=2,
        CELERY_WORKER_SOFT_SHUTDOWN_TIMEOUT=2,
        **values,
    )


class Stack:
    """web, worker and beat as the Procfile runs them, on the given cache and broker."""

    def __init__(self, folder, *, cache_url: str, broker_url: str, smtp_port: int, **values):
        self.env = production_env(
            folder, cache_url=cache_url, broker_url=broker_url, smtp_port=smtp_port, **values
        )
        self.folder = folder
        self.processes = {}

    def start(self) -> "Stack":
        for name in ("web", "worker", "beat"):
            process = ProcfileProcess(name, env=self.env, log_path=self.folder / f"{name}.log")
            self.processes[name] = process.start()
        return self

    @property
    def url(self) -> str:
        return self.processes["web"].url

    def alive(self) -> dict[str, bool]:
        return {name: p.process.poll() is None for name, p in self.processes.items()}

    def stop(self) -> None:
        for process in self.processes.values():
            process.stop()

    def logs(self) -> str:
        return "\n".join(f"--- {name}\n{p.log()}" for name, p in self.processes.items())


# What a worker node needs so that a dead node's task reaches another within seconds,
# not kombu's hour: a short visibility timeout, looked for every second
# (tests/contact/fault_settings.py), and time limits inside it, as the site's own
# check (newsroom/celery.py) demands.
FAST_REDELIVERY = {
    "DJANGO_SETTINGS_MODULE": "tests.contact.fault_settings",
    "CELERY_VISIBILITY_TIMEOUT": 5,
    "CELERY_TASK_TIME_LIMIT": 3,
    "CELERY_TASK_SOFT_TIME_LIMIT": 2,
    "CONTACT_MAIL_RETRY_BASE": 0.2,
    "CONTACT_MAIL_RETRY_MAX": 1,
}


class Nodes:
    """Several web and worker nodes, one beat, one Redis, PostgreSQL, nginx in front.

    Each web node runs the Procfile's ``web`` with one gunicorn worker
    (``WEB_CONCURRENCY=1``) and a ``NODE_NAME`` of its own (``web-a``, ``web-b``…);
    each worker node the Procfile's ``worker`` (``worker-a``…). nginx runs
    ``docs/nginx/newsroom.conf`` with every web node in its upstream; the app marks
    pages ``s-maxage=0`` (``PAGE_CACHE_PROXY_SECONDS=0``), so nginx keeps none and
    what a reader gets through it is what a node served. Redis is the test's own
    (``self.redis``), so a test may restart it empty.
    """

    def __init__(self, folder: Path, *, smtp_port: int, web: int = 2, workers: int = 2):
        self.folder = folder
        self.redis = RedisServer(folder=folder)
        self.smtp_port = smtp_port
        self.web: dict[str, ProcfileProcess] = {}
        self.workers: dict[str, ProcfileProcess] = {}
        self.beats: list[ProcfileProcess] = []
        self.nginx: NginxServer | None = None
        self._web_count, self._worker_count = web, workers

    @property
    def cache_url(self) -> str:
        return self.redis.url  # db 0

    @property
    def broker_url(self) -> str:
        return self.redis.url.removesuffix("/0") + "/1"

    def env(self, **values) -> dict[str, str]:
        return production_env(
            self.folder,
            cache_url=self.cache_url,
            broker_url=self.broker_url,
            smtp_port=self.smtp_port,
            PAGE_CACHE_PROXY_SECONDS=0,
            **FAST_REDELIVERY,
            **values,
        )

    def start(self) -> "Nodes":
        self.redis.start()
        letters = "abcdefgh"
        for letter in letters[: self._web_count]:
            name = f"web-{letter}"
            env = self.env(NODE_NAME=name, WEB_CONCURRENCY=1)
            self.web[name] = ProcfileProcess("web", env=env, log_path=self.folder / f"{name}.log")
        for letter in letters[: self._worker_count]:
            name = f"worker-{letter}"
            self.workers[name] = ProcfileProcess(
                "worker", env=self.env(), log_path=self.folder / f"{name}.log"
            )
        started = [*self.web.values(), *self.workers.values()]
        for process in started:
            process.spawn()  # side by side: each takes seconds to import the site
        self.beats.append(self.beat(self.folder / "beat-0"))
        for process in [*started, *self.beats]:
            process.wait_ready()
        nginx_folder = self.folder / "nginx"
        nginx_folder.mkdir(exist_ok=True)
        self.nginx = NginxServer(
            folder=nginx_folder, upstream=[f"127.0.0.1:{web.port}" for web in self.web.values()]
        ).start()
        return self

    def beat(self, folder: Path) -> ProcfileProcess:
        """A beat with its schedule file under ``folder``; started, not yet ready."""
        folder.mkdir(parents=True, exist_ok=True)
        env = {**self.env(), "VAR_DIR": str(folder / "var")}
        log_path = folder / f"beat-{len(self.beats)}.log"
        return ProcfileProcess("beat", env=env, log_path=log_path).spawn()

    @property
    def url(self) -> str:
        return self.nginx.url

    def processes(self) -> dict[str, ProcfileProcess]:
        beats = {f"beat-{n}": beat for n, beat in enumerate(self.beats)}
        return {**self.web, **self.workers, **beats}

    def stop(self) -> None:
        if self.nginx is not None:
            self.nginx.stop()
        for process in self.processes().values():
            if process.process is not None:
                process.stop()
        self.redis.stop()

    def logs(self) -> str:
        parts = [f"--- {name}\n{p.log()}" for name, p in self.processes().items()]
        if self.nginx is not None:
            parts.append(f"--- nginx\n{self.nginx.log()}")
        return "\n".join(parts)
