"""Real parts only the tests start: a Redis server of their own, a proxy that takes
the database away, Celery worker processes, the Procfile's processes.

The parts the benchmarks start too (SMTP, nginx, a visitor's browser) are in
``harness/``. Everything binds to 127.0.0.1 only, and every wait here is bounded.
"""

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import threading
from pathlib import Path

from harness import free_port, wait_for

BASE_DIR = Path(__file__).resolve().parents[1]


def stop_process(process: subprocess.Popen | None, *, timeout: float) -> None:
    """SIGTERM, then SIGKILL if it does not exit within ``timeout`` seconds."""
    if process and process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout)


class RedisServer:
    """A ``redis-server`` of the test's own on a loopback port, with no persistence,
    so that stopping it loses what it held, as a crashed Redis without an AOF does.
    """

    def __init__(self, *, folder: Path):
        self.folder = folder
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, *, timeout: float = 10) -> "RedisServer":
        binary = shutil.which("redis-server")
        if binary is None:
            raise AssertionError("redis-server is not installed (apt install redis-server)")
        command = [
            binary, "--port", str(self.port), "--bind", "127.0.0.1",
            "--save", "", "--appendonly", "no", "--dir", str(self.folder),
        ]  # fmt: skip
        self._log = (self.folder / f"redis-{self.port}.log").open("ab")
        self.process = subprocess.Popen(  # noqa: S603 - a fixed argv on loopback
            command, stdout=self._log, stderr=subprocess.STDOUT
        )
        wait_for(self.answers, timeout=timeout, what=f"redis-server on port {self.port}")
        return self

    def answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self, *, timeout: float = 10) -> None:
        """Stop it; everything it held is gone (no persistence)."""
        stop_process(self.process, timeout=timeout)
        if self.process:
            self._log.close()
        self.process = None

    def restart(self) -> "RedisServer":
        """The same port, empty."""
        self.stop()
        return self.start()


class DatabaseProxy:
    """A TCP proxy on loopback in front of the database, to take it away and bring it back.

    ``forward()`` passes connections through to ``upstream`` (``(host, port)``);
    ``refuse()`` stops listening and cuts every connection, as a database server
    that is down; ``hang()`` cuts every connection and accepts new ones without ever
    answering, as a database host that hangs. Without an upstream it can only hang
    or refuse. The port stays the same throughout.
    """

    def __init__(self, upstream: tuple[str, int] | None = None):
        self.upstream = upstream
        self.port = free_port()
        self.mode = "refuse"
        self._listener: socket.socket | None = None
        self._sockets: set[socket.socket] = set()
        self._lock = threading.Lock()

    def forward(self) -> "DatabaseProxy":
        if self.upstream is None:
            raise ValueError("a proxy without an upstream cannot forward")
        return self._switch("forward")

    def hang(self) -> "DatabaseProxy":
        return self._switch("hang")

    def refuse(self) -> "DatabaseProxy":
        return self._switch("refuse")

    def stop(self) -> None:
        self.refuse()

    def __enter__(self) -> "DatabaseProxy":
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def _switch(self, mode: str) -> "DatabaseProxy":
        with self._lock:
            self.mode = mode
            sockets, self._sockets = self._sockets, set()
        for sock in sockets:
            self._cut(sock)
        if mode == "refuse" and self._listener is not None:
            self._cut(self._listener)  # wakes the accept loop, which ends
            self._listener = None
        elif mode != "refuse" and self._listener is None:
            listener = socket.socket()
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind(("127.0.0.1", self.port))
            listener.listen(64)
            self._listener = listener
            threading.Thread(target=self._accept, args=(listener,), daemon=True).start()
        return self

    @staticmethod
    def _cut(sock: socket.socket) -> None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        sock.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # the listener was closed
            with self._lock:
                mode = self.mode
                self._sockets.add(client)
            if mode != "forward":
                continue  # held, and never a word in answer
            try:
                upstream = socket.create_connection(self.upstream, timeout=5)
            except OSError:
                self._cut(client)
                continue
            upstream.settimeout(None)
            with self._lock:
                self._sockets.add(upstream)
            for source, target in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, target), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                target.sendall(data)
        except OSError:
            pass
        finally:
            # One side ended: so does the other, as with a real connection.
            for sock in (source, target):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)


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

    def kill(self) -> None:
        """SIGKILL: the worker dies at once, without acknowledging what it holds."""
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        self.stop()

    def stop(self, *, timeout: float = 20) -> None:
        stop_process(self.process, timeout=timeout)
        if self.process:
            self._log.close()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-5000:]


# The Procfile's processes ------------------------------------------------------------

PROCFILE = BASE_DIR / "Procfile"


def procfile_line(name: str) -> str:
    """The command of one Procfile entry (``web``, ``worker``, ``beat``), as written."""
    for line in PROCFILE.read_text().splitlines():
        entry, _, command = line.partition(":")
        if entry.strip() == name:
            return command.strip()
    raise KeyError(f"no {name!r} line in the Procfile")


def layout_env(*, var_dir: Path, **values) -> dict[str, str]:
    """This environment without any of the site's settings, plus ``values``.

    Nothing set is the embedded default of ``make run``: SQLite, the shared disk
    cache and the file broker under ``var_dir``, mail as files there.
    """
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("EMAIL_", "CELERY_", "CONTACT_", "DJANGO_ALLOW_ASYNC", "PYTEST"))
        and key not in {"DATABASE_URL", "REDIS_URL", "TEST_BROKER_URL", "SECRET_KEY", "DEBUG"}
    }
    env.update(
        VAR_DIR=str(var_dir),
        DJANGO_SETTINGS_MODULE="newsroom.settings",
        # Where the Procfile's commands are found, as `make run` arranges.
        PATH=f"{Path(sys.executable).parent}:{env.get('PATH', '')}",
    )
    env.update({key: str(value) for key, value in values.items()})
    return env


def embedded_env(var_dir: Path, **values) -> dict[str, str]:
    """The environment ``make run`` gives its processes when nothing is configured:
    ``layout_env``'s embedded default with ``make run``'s own DEBUG and recipients.
    """
    return layout_env(var_dir=var_dir, DEBUG="1", CONTACT_RECIPIENTS="desk@localhost", **values)


def manage(*args: str, env: dict[str, str], timeout: float = 120) -> str:
    """``manage.py`` in a process of its own; its output, or an error with it."""
    result = subprocess.run(  # noqa: S603 - our own manage.py, fixed argv
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip
    if result.returncode != 0:
        raise AssertionError(f"manage.py {' '.join(args)} failed:\n{result.stderr[-3000:]}")
    return result.stdout


class ProcfileProcess:
    """One Procfile entry, started with ``bash -c`` exactly as written there.

    It runs in a process group of its own, so stopping it stops gunicorn's or
    Celery's children too. ``web`` is ready when ``/healthz`` answers; the others
    when their log says they started.
    """

    READY = {"worker": b" ready.", "beat": b"beat: Starting"}

    def __init__(self, name: str, *, env: dict[str, str], log_path: Path):
        self.name = name
        self.env = dict(env)
        self.log_path = log_path
        self.process: subprocess.Popen | None = None
        if name == "web":
            self.port = free_port()
            self.env["BIND"] = f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, *, timeout: float = 60) -> "ProcfileProcess":
        return self.spawn().wait_ready(timeout=timeout)

    def spawn(self) -> "ProcfileProcess":
        """Start it without waiting for it to be ready (``wait_ready``), so that several
        processes can start side by side."""
        self._log = self.log_path.open("ab")
        self.process = subprocess.Popen(  # noqa: S603 - the Procfile's own line
            ["bash", "-c", procfile_line(self.name)],  # noqa: S607 - bash from PATH
            cwd=BASE_DIR,
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        return self

    def wait_ready(self, *, timeout: float = 60) -> "ProcfileProcess":
        wait_for(
            lambda: self._ready() or self.process.poll() is not None,
            timeout=timeout,
            what=f"the Procfile's {self.name} to start",
        )
        if self.process.poll() is not None:
            raise AssertionError(f"{self.name} exited at start:\n{self.log()}")
        return self

    def _ready(self) -> bool:
        if self.name != "web":
            return self.READY[self.name] in self.log_path.read_bytes()
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                sock.sendall(b"GET /healthz HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
                return sock.recv(16).startswith(b"HTTP/1.")
        except OSError:
            return False

    def kill(self) -> None:
        """SIGKILL to the whole group: the machine it ran on is gone, at once, holding
        whatever it held (requests, tasks it had not acknowledged)."""
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, 9)
            self.process.wait(10)
        self.stop()

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, *, timeout: float = 30) -> None:
        """SIGTERM to the whole group, SIGKILL if it outstays ``timeout``."""
        if self.process is None:
            return
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, 15)
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, 9)
                self.process.wait(timeout)
            except ProcessLookupError:
                pass
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, 9)  # a child that outlived its parent
        self._log.close()
        self.process = None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-6000:]
