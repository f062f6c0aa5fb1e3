"""Real parts for integration tests: an SMTP server on loopback and a Celery worker process.

Both bind to 127.0.0.1 only, and every wait here is bounded.
"""

import email
import email.policy
import os
import re
import socket
import subprocess
import sys
import threading
import time
from email.message import EmailMessage
from pathlib import Path

from aiosmtpd.controller import Controller

BASE_DIR = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(predicate, *, timeout: float, interval: float = 0.1, what: str = "condition"):
    """Poll ``predicate`` until it returns something truthy, or fail after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


class SMTPServer:
    """aiosmtpd on loopback that keeps what it receives.

    ``reply`` sets what it answers to DATA: ``None`` accepts, a string such as
    ``"451 4.3.0 try again later"`` refuses.
    """

    def __init__(self) -> None:
        self.port = free_port()
        self.messages: list[EmailMessage] = []
        self.reply: str | None = None
        self.refused = 0
        self._lock = threading.Lock()
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd's handler hook
        with self._lock:
            if self.reply:
                self.refused += 1
                return self.reply
            message = email.message_from_bytes(envelope.content, policy=email.policy.default)
            self.messages.append(message)
        return "250 OK"

    def start(self) -> "SMTPServer":
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    def to(self, address: str) -> list[EmailMessage]:
        with self._lock:
            return [m for m in self.messages if address in str(m.get("To", ""))]

    def wait_for_mail(self, address: str, *, count: int = 1, timeout: float = 30) -> EmailMessage:
        mails = wait_for(
            lambda: len(self.to(address)) >= count and self.to(address),
            timeout=timeout,
            what=f"{count} mail(s) to {address}",
        )
        return mails[count - 1]

    def code_for(self, address: str, *, count: int = 1, timeout: float = 30) -> str:
        """The verification code in the ``count``-th mail to ``address``."""
        mail = self.wait_for_mail(address, count=count, timeout=timeout)
        text = mail.get_body(preferencelist=("plain",)).get_content()
        return re.search(r"\b(\d{6})\b", text).group(1)


class WorkerProcess:
    """``celery -A newsroom worker`` in its own process, with its own environment."""

    def __init__(self, *, env: dict[str, str], log_path: Path, queues: str | None = None):
        self.env = env
        self.log_path = log_path
        self.queues = queues
        self.process: subprocess.Popen | None = None

    def start(self, *, timeout: float = 60) -> "WorkerProcess":
        command = [
            sys.executable, "-m", "celery", "-A", "newsroom", "worker",
            "--pool", "solo", "--loglevel", "INFO",
            "--without-gossip", "--without-mingle", "--without-heartbeat",
        ]  # fmt: skip
        if self.queues:
            command += ["-Q", self.queues]
        self._log = self.log_path.open("ab")
        self.process = subprocess.Popen(  # noqa: S603 - our own worker, fixed argv
            command, cwd=BASE_DIR, env=self.env, stdout=self._log, stderr=subprocess.STDOUT
        )
        wait_for(
            lambda: b" ready." in self.log_path.read_bytes() or self.process.poll() is not None,
            timeout=timeout,
            what="the Celery worker to start",
        )
        if self.process.poll() is not None:
            raise AssertionError(f"worker exited:\n{self.log()}")
        return self

    def stop(self, *, timeout: float = 20) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout)
        if self.process:
            self._log.close()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-5000:]


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
