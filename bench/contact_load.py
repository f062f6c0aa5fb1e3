"""Load test of the verified contact flow over real HTTP, on real parts.

Starts, all on 127.0.0.1: a fresh PostgreSQL database (``bench_contact``), a
Redis broker database and a Redis cache database of its own (both flushed),
an SMTP server (aiosmtpd), gunicorn (2 workers, DEBUG off) and a Celery
worker. Then N simulated visitors, each with its own cookie jar and its own
client address, run the whole flow at once: step 1, the code read out of the
mail the SMTP server received, step 2, step 3, the thanks page. The throttles
and the "faster than a person" check stay on. Prints what was stored out of
what was sent, the 5xx and other unexpected answers, and latencies. Everything
it started is stopped at the end, also on an error or Ctrl-C.

    .venv/bin/python bench/contact_load.py --visitors 200 --concurrency 50

Exit status: 0 all well; 1 a message was lost or a 5xx happened; 2 otherwise
incomplete (the deadline passed, or an answer was not the expected one).
"""

import argparse
import contextlib
import datetime
import http.cookiejar
import math
import os
import platform
import re
import secrets
import statistics
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(BASE_DIR))

from bench.common import (  # noqa: E402
    drop_database,
    flush_redis,
    fresh_database,
    require_loopback,
    run_main,
    start_process,
    stop_process,
    with_path,
)
from tests.services import SMTPServer, form_inputs, free_port, wait_for, worker_env  # noqa: E402

DATABASE_NAME = "bench_contact"
DESK = "desk@bench.test"
# Each visitor's client address, from the benchmarking range (RFC 2544).
CLIENT_NETWORK = (198 << 24) | (18 << 16)


# The SMTP server ---------------------------------------------------------------------


class BenchSMTP(SMTPServer):
    """The tests' SMTP server, also noting when each mail arrived for each recipient."""

    def __init__(self) -> None:
        super().__init__()
        self.arrived: dict[str, list[tuple[float, object]]] = defaultdict(list)
        self._events: dict[str, threading.Event] = defaultdict(threading.Event)
        self._events_lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        reply = await super().handle_DATA(server, session, envelope)
        if reply.startswith("250"):
            # handle_DATA runs on the server's one event-loop thread, so the last
            # message stored is this one.
            arrived, message = time.monotonic(), self.messages[-1]
            for recipient in envelope.rcpt_tos:
                with self._events_lock:
                    self.arrived[recipient.lower()].append((arrived, message))
                    event = self._events[recipient.lower()]
                event.set()
        return reply

    def wait_code(
        self, address: str, *, timeout: float, stop: threading.Event
    ) -> tuple[float, str] | None:
        """(arrival time, code) of the first mail to ``address``; None after ``timeout``
        or once ``stop`` is set."""
        with self._events_lock:
            event = self._events[address]
        give_up = time.monotonic() + timeout
        while not event.wait(min(0.5, max(give_up - time.monotonic(), 0))):
            if stop.is_set() or time.monotonic() >= give_up:
                return None
        with self._events_lock:
            arrived, message = self.arrived[address][0]
        text = message.get_body(preferencelist=("plain",)).get_content()
        match = re.search(r"\b(\d{6})\b", text)
        return (arrived, match.group(1)) if match else None

    def notified(self) -> set[str]:
        """Visitors' addresses named as Reply-To in the editors' notifications."""
        with self._events_lock:
            mails = [message for _, message in self.arrived.get(DESK, [])]
        found = set()
        for mail in mails:
            match = re.search(r"<([^>]+)>", str(mail.get("Reply-To", "")))
            if match:
                found.add(match.group(1).lower())
        return found


# A visitor's browser -----------------------------------------------------------------


class NoRedirect(urllib.request.HTTPRedirectHandler):
    """Redirects come back as answers: the flow checks where each step sends it."""

    def redirect_request(self, *args, **kwargs):
        return None


class Unexpected(Exception):
    """An answer the flow did not expect; the visitor stops there."""


class Stats:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.responses = 0
        self.server_errors: Counter = Counter()
        self.unexpected: Counter = Counter()

    def record(self, step: str, status: int, expected: bool) -> None:
        with self.lock:
            self.responses += 1
            if status >= 500:
                self.server_errors[(step, status)] += 1
            elif not expected:
                self.unexpected[(step, status)] += 1


class Browser:
    """One visitor's browser behind the site's TLS proxy.

    The proxy is simulated: every request carries ``X-Forwarded-For`` (the
    visitor's own address, which the site trusts with TRUSTED_PROXY_COUNT=1)
    and ``X-Forwarded-Proto: https``, so the site runs with its production
    security settings (Secure cookies, CSRF Origin/Referer checks). The cookie
    jar returns Secure cookies over the loopback connection, as the proxy would.
    """

    def __init__(self, *, base_url: str, client_ip: str, stats: Stats, deadline: float):
        self.base_url = base_url
        self.origin = "https://" + urllib.parse.urlsplit(base_url).netloc
        self.client_ip = client_ip
        self.stats = stats
        self.deadline = deadline
        policy = http.cookiejar.DefaultCookiePolicy(secure_protocols=("https", "http"))
        self.opener = urllib.request.build_opener(
            urllib.request.ProxyHandler({}),  # never an http_proxy from the environment
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar(policy)),
            NoRedirect(),
        )

    def request(
        self,
        step: str,
        path: str,
        *,
        expect: int,
        location: str | None = None,
        data: dict | None = None,
    ) -> str:
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError(f"deadline before {step}")
        headers = {"X-Forwarded-For": self.client_ip, "X-Forwarded-Proto": "https"}
        body = None
        if data is not None:
            body = urllib.parse.urlencode(data).encode()
            headers.update(Origin=self.origin, Referer=self.origin + path)
        url = self.base_url + path
        request = urllib.request.Request(url, data=body, headers=headers)  # noqa: S310 - our loopback http URL
        try:
            with self.opener.open(request, timeout=min(remaining, 60)) as response:
                status, reply_headers, content = response.status, response.headers, response.read()
        except urllib.error.HTTPError as exc:
            status, reply_headers, content = exc.code, exc.headers, exc.read()
        ok = status == expect and (location is None or reply_headers.get("Location") == location)
        self.stats.record(step, status, ok)
        if not ok:
            raise Unexpected(f"HTTP {status} {reply_headers.get('Location') or ''}".strip())
        return content.decode()


@dataclass
class Visit:
    number: int
    email: str
    client_ip: str
    started: bool = False
    completed: bool = False
    message_accepted: bool = False
    stopped_at: str = ""
    step1_seconds: float | None = None
    code_seconds: float | None = None


def visit(
    visitor: Visit,
    *,
    base_url: str,
    smtp: BenchSMTP,
    stats: Stats,
    think: float,
    deadline: float,
    stop: threading.Event,
) -> Visit:
    """The whole flow, as a person in a browser would go through it."""
    if stop.is_set() or time.monotonic() >= deadline:
        visitor.stopped_at = "not started (deadline)"
        return visitor
    visitor.started = True
    browser = Browser(
        base_url=base_url, client_ip=visitor.client_ip, stats=stats, deadline=deadline
    )
    step = "GET /contact/"
    try:
        inputs = form_inputs(browser.request(step, "/contact/", expect=200))
        # A person takes longer than the site's bot minimum to type a name and address.
        if stop.wait(think):
            raise TimeoutError("stopped")
        step = "POST /contact/"
        posted = time.monotonic()
        browser.request(
            step,
            "/contact/",
            expect=302,
            location="/contact/verify/",
            data={
                **inputs,
                "name": f"Visitor {visitor.number}",
                "email": visitor.email,
            },
        )
        visitor.step1_seconds = time.monotonic() - posted

        step = "code mail"
        got = smtp.wait_code(visitor.email, timeout=deadline - time.monotonic(), stop=stop)
        if got is None:
            raise TimeoutError("no code before the deadline")
        arrived, code = got
        visitor.code_seconds = arrived - posted

        step = "GET /contact/verify/"
        inputs = form_inputs(browser.request(step, "/contact/verify/", expect=200))
        step = "POST /contact/verify/"
        browser.request(
            step,
            "/contact/verify/",
            expect=302,
            location="/contact/message/",
            data={**inputs, "code": code},
        )

        step = "GET /contact/message/"
        inputs = form_inputs(browser.request(step, "/contact/message/", expect=200))
        step = "POST /contact/message/"
        browser.request(
            step,
            "/contact/message/",
            expect=302,
            location="/contact/thanks/",
            data={
                **inputs,
                "subject": f"Load test {visitor.number}",
                "message": f"Message {visitor.number} from the contact load test.\nSecond line.",
            },
        )
        visitor.message_accepted = True

        step = "GET /contact/thanks/"
        browser.request(step, "/contact/thanks/", expect=200)
        visitor.completed = True
    except (Unexpected, TimeoutError, OSError) as exc:
        visitor.stopped_at = f"{step}: {exc}"
    return visitor


# The parts of the site ---------------------------------------------------------------


def http_status(url: str) -> int | None:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=2) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return None


def worker_queues() -> str | None:
    """The queues the worker must serve: every routed queue and the default one."""
    from newsroom.celery import app

    routes = app.conf.task_routes
    if not routes:
        return None
    names = {app.conf.task_default_queue}
    for route in routes.values() if isinstance(routes, dict) else []:
        queue = route.get("queue") if isinstance(route, dict) else route
        if isinstance(queue, str):
            names.add(queue)
    # task_queues is a dict of names (as in our settings) or a list of kombu Queues.
    names.update(getattr(queue, "name", queue) for queue in app.conf.task_queues or [])
    return ",".join(sorted(names))


# Numbers -----------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1))]


def spread(values: list[float], *, unit: float = 1.0, suffix: str = "s") -> str:
    if not values:
        return "none measured"
    p50, p99 = statistics.median(values) * unit, percentile(values, 0.99) * unit
    return f"p50 {p50:.2f} {suffix}, p99 {p99:.2f} {suffix}, max {max(values) * unit:.2f} {suffix}"


# The run -----------------------------------------------------------------------------


def run(args: argparse.Namespace, stack: contextlib.ExitStack) -> int:
    wall = time.monotonic()
    for url in (args.postgres, args.redis):
        require_loopback(url)
    logs = Path(tempfile.mkdtemp(prefix="bench-contact-"))
    keep_logs = [True]  # until the run has passed

    def remove_logs() -> None:
        if keep_logs[0]:
            print(f"logs of gunicorn and the worker kept in {logs}")
        else:
            for path in logs.rglob("*"):
                if path.is_file():
                    path.unlink()
            for path in sorted(logs.rglob("*"), reverse=True):
                path.rmdir()
            logs.rmdir()

    stack.callback(remove_logs)

    database_url = fresh_database(args.postgres, DATABASE_NAME)
    if not args.keep_database:
        stack.callback(drop_database, args.postgres, DATABASE_NAME)
    broker_url = with_path(args.redis, f"/{args.broker_db}")
    cache_url = with_path(args.redis, f"/{args.cache_db}")
    for url in (broker_url, cache_url):
        flush_redis(url)
        stack.callback(flush_redis, url)

    smtp = BenchSMTP().start()
    stack.callback(smtp.stop)

    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = worker_env(
        database_url=database_url,
        broker_url=broker_url,
        smtp_port=smtp.port,
        var_dir=logs / "var",
        REDIS_URL=cache_url,
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="127.0.0.1",
        SITE_URL=base_url,
        SECURE_SSL_REDIRECT="0",
        STATIC_NO_MANIFEST="1",
        CONTACT_RECIPIENTS=DESK,
        TRUSTED_PROXY_COUNT="1",
        CACHE_KEY_PREFIX="bench",
    )
    for name in (
        "DJANGO_ALLOW_ASYNC_UNSAFE",
        "http_proxy",
        "https_proxy",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "all_proxy",
        "ALL_PROXY",
    ):
        env.pop(name, None)

    # This process uses Django too: to migrate, to read the Celery routes and
    # to count what was stored.
    # Its log stays at WARNING: only the numbers are wanted here (at INFO,
    # aiosmtpd would log every SMTP command).
    os.environ.clear()
    os.environ.update(env, LOG_LEVEL="WARNING")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections

    stack.callback(connections.close_all)
    call_command("migrate", verbosity=0)
    queues = args.queues or worker_queues()

    worker_command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "newsroom",
        "worker",
        "--hostname",
        "bench@%h",
        "--pool",
        args.worker_pool,
        "--concurrency",
        str(args.worker_concurrency),
        "--loglevel",
        "INFO",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
    ]
    if queues:
        worker_command += ["-Q", queues]
    worker = start_process("worker", worker_command, env=env, logs=logs)
    stack.callback(stop_process, worker)
    web = start_process(
        "gunicorn",
        [
            sys.executable,
            "-m",
            "gunicorn",
            "newsroom.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(args.web_workers),
            "--graceful-timeout",
            "10",
        ],
        env=env,
        logs=logs,
    )
    stack.callback(stop_process, web)

    worker_log = logs / "worker.log"
    wait_for(
        lambda: b" ready." in worker_log.read_bytes() or worker.poll() is not None,
        timeout=60,
        what="the Celery worker to start",
    )
    wait_for(
        lambda: http_status(base_url + "/healthz") == 200 or web.poll() is not None,
        timeout=60,
        what="gunicorn to answer /healthz",
    )
    for name, process in (("worker", worker), ("gunicorn", web)):
        if process.poll() is not None:
            print(f"{name} exited at start; see {logs / (name + '.log')}")
            return 2
    setup_seconds = time.monotonic() - wall

    from django.conf import settings

    print(
        f"contact flow load test, {datetime.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}, "
        f"{platform.node()} ({os.cpu_count()} CPUs), Python {platform.python_version()}"
    )
    print(
        f"parts on 127.0.0.1: PostgreSQL db {DATABASE_NAME}, Redis broker db {args.broker_db} "
        f"and cache db {args.cache_db}, gunicorn {args.web_workers} sync workers (DEBUG off), "
        f"Celery {args.worker_pool} x{args.worker_concurrency} "
        f"(queues: {queues or 'default'}), aiosmtpd; set up in {setup_seconds:.1f} s"
    )
    print(
        f"throttles on: each visitor has its own client address (198.18.x.y) in "
        f"X-Forwarded-For, trusted with TRUSTED_PROXY_COUNT=1, and its own email; limits "
        f"unchanged ({settings.CONTACT_VERIFICATIONS_PER_IP_PER_HOUR} verifications and "
        f"{settings.CONTACT_CHECKS_PER_IP_PER_HOUR} code checks per address an hour, "
        f"{settings.CONTACT_CODES_PER_EMAIL_PER_HOUR} codes per email an hour)"
    )
    print(
        f"bot check on: each visitor waits {args.think:.1f} s on step 1 "
        f"(the site refuses under {settings.CONTACT_MIN_FORM_SECONDS} s)"
    )

    visitors = [
        Visit(
            number=n,
            email=f"visitor-{n}@bench.test",
            client_ip=".".join(str((CLIENT_NETWORK + n) >> s & 255) for s in (24, 16, 8, 0)),
        )
        for n in range(1, args.visitors + 1)
    ]
    stats = Stats()
    stop = threading.Event()
    started = time.monotonic()
    deadline = started + args.timeout
    pool = ThreadPoolExecutor(max_workers=args.concurrency, thread_name_prefix="visitor")
    try:
        futures = [
            pool.submit(
                visit,
                v,
                base_url=base_url,
                smtp=smtp,
                stats=stats,
                think=args.think,
                deadline=deadline,
                stop=stop,
            )
            for v in visitors
        ]
        for future in as_completed(futures):
            future.result()
    finally:
        stop.set()  # on Ctrl-C: the visitors stop at their next step
        pool.shutdown(wait=True, cancel_futures=True)
    flow_seconds = time.monotonic() - started

    # The editors' notifications are sent after the visitors are done; give them time.
    accepted = {v.email for v in visitors if v.message_accepted}
    with contextlib.suppress(AssertionError):
        wait_for(
            lambda: accepted <= smtp.notified(),
            timeout=args.settle,
            interval=0.5,
            what="the notifications",
        )
    notified = smtp.notified() & accepted

    from contact.models import Delivery, Message, Verification

    stored = set(Message.objects.values_list("email", flat=True))
    message_states = Counter(Message.objects.values_list("delivery_state", flat=True))
    code_states = Counter(Verification.objects.values_list("delivery_state", flat=True))
    connections.close_all()

    started_count = sum(v.started for v in visitors)
    completed = sum(v.completed for v in visitors)
    codes = [v.code_seconds for v in visitors if v.code_seconds is not None]
    step1 = [v.step1_seconds for v in visitors if v.step1_seconds is not None]
    lost = len(accepted - stored) + len(accepted - notified)
    server_errors = sum(stats.server_errors.values())
    unexpected = sum(stats.unexpected.values())

    print(
        f"visitors: {started_count} started, {completed} completed, of {args.visitors} "
        f"(concurrency {args.concurrency}, deadline {args.timeout:.0f} s)"
    )
    print(
        f"messages: {len(accepted & stored)} stored in the database out of {len(accepted)} "
        f"sent ({len(stored)} rows); {len(notified)} editor notifications received "
        f"at the SMTP server; delivery states {dict(message_states)}"
    )
    print(f"verification codes: {len(codes)} received; delivery states {dict(code_states)}")
    print(f"HTTP: {stats.responses} responses, {server_errors} 5xx, {unexpected} other unexpected")
    for (step, status), count in sorted({**stats.server_errors, **stats.unexpected}.items()):
        print(f"  {count} x HTTP {status} at {step}")
    print(f"step 1 POST response time: {spread(step1, unit=1000, suffix='ms')}")
    print(f"step 1 POST to code mail arriving: {spread(codes)}")
    # The part of that the worker and the mail server take (negative: the mail
    # arrived before the visitor had the answer).
    after_answer = [
        v.code_seconds - v.step1_seconds for v in visitors if v.code_seconds is not None
    ]
    print(f"step 1 answer to code mail arriving: {spread(after_answer)}")
    print(
        f"wall time: {time.monotonic() - wall:.1f} s (set-up {setup_seconds:.1f} s, visitors "
        f"{flow_seconds:.1f} s)"
    )
    stopped = Counter(v.stopped_at.split(":")[0] for v in visitors if not v.completed)
    for where, count in stopped.most_common():
        print(f"  {count} visitors stopped at {where}")
    for v in [v for v in visitors if not v.completed][:5]:
        print(f"  e.g. visitor {v.number}: {v.stopped_at}")

    if lost or server_errors:
        print(f"FAIL: {lost} message(s) lost, {server_errors} 5xx")
        return 1
    if (
        completed < args.visitors
        or unexpected
        or message_states.get(Delivery.SENT, 0) < len(accepted)
    ):
        print("INCOMPLETE: not every visitor finished, or an answer was unexpected")
        return 2
    keep_logs[0] = False
    print("OK: every message stored and notified, no 5xx")
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visitors", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=50, help="visitors at a time")
    parser.add_argument("--timeout", type=float, default=300, help="deadline for the visitors, s")
    parser.add_argument(
        "--settle",
        type=float,
        default=60,
        help="longest wait for the last notifications after the visitors, s",
    )
    parser.add_argument(
        "--think",
        type=float,
        default=2.2,
        help="seconds each visitor spends on step 1 (the site's minimum is 2)",
    )
    parser.add_argument("--web-workers", type=int, default=2)
    parser.add_argument("--worker-pool", default="prefork", choices=["prefork", "threads", "solo"])
    parser.add_argument("--worker-concurrency", type=int, default=4)
    parser.add_argument("--queues", help="the worker's -Q (default: every routed queue)")
    parser.add_argument(
        "--postgres",
        default="postgres://postgres@127.0.0.1:5432/postgres",
        help=f"a database to connect to while creating {DATABASE_NAME}",
    )
    parser.add_argument("--redis", default="redis://127.0.0.1:6379")
    parser.add_argument("--broker-db", type=int, default=14)
    parser.add_argument("--cache-db", type=int, default=15)
    parser.add_argument(
        "--keep-database", action="store_true", help=f"leave {DATABASE_NAME} for inspection"
    )
    args = parser.parse_args()

    run_main(run, args)


if __name__ == "__main__":
    main()
