"""Real parts for integration tests: an SMTP server and a Redis server on loopback, a
proxy that takes the database away, and Celery worker processes.

Both bind to 127.0.0.1 only, and every wait here is bounded.
"""

import asyncio
import contextlib
import email
import email.policy
import http.cookiejar
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from email.message import EmailMessage
from html.parser import HTMLParser
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


class FormInputs(HTMLParser):
    """The named inputs of the first POST form on a page, with their values."""

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[str, str] = {}
        self._in_form = self._done = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and (attrs.get("method") or "").lower() == "post" and not self._done:
            self._in_form = True
        elif tag == "input" and self._in_form and attrs.get("name"):
            self.values[attrs["name"]] = attrs.get("value") or ""

    def handle_endtag(self, tag):
        if tag == "form" and self._in_form:
            self._in_form, self._done = False, True


def form_inputs(html: str) -> dict[str, str]:
    """What a browser would post from the page's form: its hidden inputs kept."""
    parser = FormInputs()
    parser.feed(html)
    return parser.values


def stop_process(process: subprocess.Popen | None, *, timeout: float) -> None:
    """SIGTERM, then SIGKILL if it does not exit within ``timeout`` seconds."""
    if process and process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout)


class SMTPServer:
    """aiosmtpd on loopback that keeps what it receives.

    ``reply`` sets what it answers to DATA: ``None`` accepts, a string such as
    ``"451 4.3.0 try again later"`` refuses. ``rcpt_reply`` does the same for each
    recipient (RCPT TO), with ``{address}`` standing for the address, which real
    servers name in their answer (``"450 4.2.1 <{address}>: try again later"``).
    ``refused`` counts the refusals of either. ``hold`` (a ``threading.Event``) keeps
    each DATA waiting until it is set, as a mail server that is slow to answer; a
    held mail is kept in ``dropped``, not delivered: its sender is taken to die meanwhile.
    """

    def __init__(self) -> None:
        self.port = free_port()
        self.messages: list[EmailMessage] = []
        self.reply: str | None = None
        self.rcpt_reply: str | None = None
        self.refused = 0
        self.hold: threading.Event | None = None
        self.held = 0
        self.dropped: list[EmailMessage] = []
        self._lock = threading.Lock()
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # aiosmtpd's
        with self._lock:
            if self.rcpt_reply:
                self.refused += 1
                return self.rcpt_reply.format(address=address)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd's handler hook
        hold = self.hold
        if hold is not None:
            with self._lock:
                self.held += 1
                self.dropped.append(
                    email.message_from_bytes(envelope.content, policy=email.policy.default)
                )
            # Waits in a thread, so the server keeps answering other sessions.
            await asyncio.get_running_loop().run_in_executor(None, hold.wait, 60)
            return "421 4.3.0 held and dropped"
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
        return code_in(self.wait_for_mail(address, count=count, timeout=timeout))


def code_in(mail: EmailMessage) -> str:
    """The 6-digit verification code in a mail's plain-text body."""
    text = mail.get_body(preferencelist=("plain",)).get_content()
    return re.search(r"\b(\d{6})\b", text).group(1)


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


NGINX_CONF = BASE_DIR / "docs" / "nginx" / "newsroom.conf"
NGINX_BINARY = Path("/usr/sbin/nginx")


def nginx_binary() -> Path | None:
    """Debian's nginx, or one on PATH; None when neither is installed."""
    if NGINX_BINARY.exists():
        return NGINX_BINARY
    found = shutil.which("nginx")
    return Path(found) if found else None


def render_nginx_conf(**values: str) -> str:
    """docs/nginx/newsroom.conf with its ``${NEWSROOM_…}`` placeholders filled in, as
    ``envsubst`` would fill them; a placeholder left over is an error."""
    text = NGINX_CONF.read_text()
    for name, value in values.items():
        text = text.replace("${NEWSROOM_" + name.upper() + "}", str(value))
    left = sorted(set(re.findall(r"\$\{NEWSROOM_\w+\}", text)))
    if left:
        raise ValueError(f"placeholders not filled in: {', '.join(left)}")
    return text


class NginxServer:
    """The documented nginx configuration, rendered into ``folder`` and run there with
    a wrapper of its own (pid, logs, temporary files in ``folder``), on a free
    loopback port, in front of ``upstream`` (``host:port``).

    ``static_root`` defaults to an empty ``folder/static``; ``error.log`` and, unless
    ``access_log`` is off, ``access.log`` (with the cache status) stay in ``folder``.
    """

    def __init__(
        self,
        *,
        folder: Path,
        upstream: str,
        static_root: Path | None = None,
        workers: int = 1,
        access_log: bool = True,
    ):
        self.folder = folder
        self.upstream = upstream
        self.static_root = static_root or folder / "static"
        self.workers = workers
        self.access_log = access_log
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def write_conf(self) -> Path:
        for name in ("cache", "temp", "media", "static"):
            (self.folder / name).mkdir(parents=True, exist_ok=True)
        site = self.folder / "newsroom.conf"
        site.write_text(
            render_nginx_conf(
                listen=f"127.0.0.1:{self.port}",
                server_name="127.0.0.1 localhost",
                upstream=self.upstream,
                cache_dir=self.folder / "cache",
                static_root=self.static_root,
                media_root=self.folder / "media",
            )
        )
        temp = self.folder / "temp"
        mime_types = Path("/etc/nginx/mime.types")
        access = (
            f'log_format cache \'$remote_addr "$request" $status $body_bytes_sent '
            f"$upstream_cache_status $request_time';\n"
            f"    access_log {self.folder / 'access.log'} cache;"
            if self.access_log
            else "access_log off;"
        )
        wrapper = self.folder / "nginx.conf"
        wrapper.write_text(
            # As root, nginx would hand its workers to "nobody", who cannot read
            # a private temporary folder.
            ("user root;\n" if os.geteuid() == 0 else "") + f"worker_processes {self.workers};\n"
            f"pid {self.folder / 'nginx.pid'};\n"
            f"error_log {self.folder / 'error.log'} warn;\n"
            "events { worker_connections 1024; }\n"
            "http {\n"
            + (f"    include {mime_types};\n" if mime_types.exists() else "")
            + "    default_type application/octet-stream;\n"
            "    sendfile on;\n"
            f"    {access}\n"
            f"    client_body_temp_path {temp / 'body'};\n"
            f"    proxy_temp_path {temp / 'proxy'};\n"
            f"    fastcgi_temp_path {temp / 'fastcgi'};\n"
            f"    uwsgi_temp_path {temp / 'uwsgi'};\n"
            f"    scgi_temp_path {temp / 'scgi'};\n"
            f"    include {site};\n"
            "}\n"
        )
        return wrapper

    def start(self, *, timeout: float = 10) -> "NginxServer":
        binary = nginx_binary()
        if binary is None:
            raise AssertionError("nginx is not installed (apt install nginx)")
        wrapper = self.write_conf()
        command = [
            str(binary), "-p", str(self.folder), "-e", str(self.folder / "error.log"),
            "-c", str(wrapper), "-g", "daemon off;",
        ]  # fmt: skip
        self._log = (self.folder / "nginx.out").open("ab")
        self.process = subprocess.Popen(  # noqa: S603 - a fixed argv on loopback
            command,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            # Ctrl-C in a bench reaches only the script, which stops nginx in order.
            start_new_session=True,
        )
        wait_for(
            lambda: self.answers() or self.process.poll() is not None,
            timeout=timeout,
            what=f"nginx on port {self.port}",
        )
        if self.process.poll() is not None:
            self.stop()
            raise AssertionError(f"nginx exited at start:\n{self.log()}")
        return self

    def answers(self) -> bool:
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
        except OSError:
            return False
        return True

    def stop(self, *, timeout: float = 10) -> None:
        """SIGTERM (nginx's fast shutdown), then SIGKILL to its whole group."""
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, 9)
                self.process.wait(timeout)
        if self.process:
            self._log.close()
        self.process = None

    def log(self) -> str:
        parts = []
        for name in ("nginx.out", "error.log"):
            path = self.folder / name
            if path.exists():
                parts.append(path.read_text(errors="replace")[-3000:])
        return "\n".join(parts)


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
        self._log = self.log_path.open("ab")
        self.process = subprocess.Popen(  # noqa: S603 - the Procfile's own line
            ["bash", "-c", procfile_line(self.name)],  # noqa: S607 - bash from PATH
            cwd=BASE_DIR,
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
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


@dataclass
class Answer:
    status: int
    headers: dict
    text: str

    @property
    def location(self) -> str:
        return self.headers.get("Location", "")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a redirect is an answer: the tests check where it goes


class Visitor:
    """A browser with its own cookies, speaking to a site on loopback.

    Requests say they came through the TLS proxy (``X-Forwarded-Proto: https``), so
    a site with production settings sets and takes its Secure cookies.
    """

    def __init__(self, base_url: str, *, client_ip: str | None = None):
        self.base_url = base_url
        self.origin = "https://" + urllib.parse.urlsplit(base_url).netloc
        self.client_ip = client_ip
        policy = http.cookiejar.DefaultCookiePolicy(secure_protocols=("https", "http"))
        self._opener = urllib.request.build_opener(
            urllib.request.ProxyHandler({}),  # never an http_proxy from the environment
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar(policy)),
            _NoRedirect(),
        )

    def request(
        self, path: str, *, data: dict | None = None, method: str | None = None, timeout=30
    ) -> Answer:
        headers = {"X-Forwarded-Proto": "https"}
        if self.client_ip:
            headers["X-Forwarded-For"] = self.client_ip
        body = None
        if data is not None:
            body = urllib.parse.urlencode(data).encode()
            headers.update(Origin=self.origin, Referer=self.origin + path)
        request = urllib.request.Request(  # noqa: S310 - a loopback http URL of the test's
            self.base_url + path, data=body, headers=headers, method=method
        )
        try:
            with self._opener.open(request, timeout=timeout) as response:
                status, reply, content = response.status, response.headers, response.read()
        except urllib.error.HTTPError as exc:
            status, reply, content = exc.code, exc.headers, exc.read()
        return Answer(status, dict(reply.items()), content.decode(errors="replace"))

    def get(self, path: str) -> Answer:
        return self.request(path)

    def post_form(self, path: str, **fields) -> Answer:
        """Post ``fields`` with the hidden inputs of the form ``path`` serves now."""
        return self.submit(path, self.get(path).text, **fields)

    def submit(self, path: str, page: str, **fields) -> Answer:
        """Post ``fields`` with the hidden inputs of ``page``, a form fetched earlier."""
        return self.request(path, data={**form_inputs(page), **fields})
