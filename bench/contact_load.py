"""Load test of the verified contact flow over real HTTP, on real parts.

Starts, all on 127.0.0.1: a fresh PostgreSQL database (``bench_contact``), a
Redis broker database and a Redis cache database of its own (both flushed),
an SMTP server (aiosmtpd), gunicorn (2 workers, DEBUG off) and a Celery
worker. Then N simulated visitors, each with its own cookie jar and its own
client address, run the whole flow at once: step 1, the code read out of the
mail the SMTP server received, step 2, step 3, the thanks page. Then a burst:
more visitors post step 1 back to back, to measure the requests/s it sustains,
while a few readers load an article page, to compare step 1 with an ordinary
page view under the same load. The throttles and the "faster than a person"
check stay on. Prints what was stored out of what was sent, the 5xx and other
unexpected answers, and latencies. Everything it started is stopped at the end,
also on an error or Ctrl-C.

    .venv/bin/python bench/contact_load.py --visitors 200 --concurrency 50 --burst 200

Exit status: 0 all well; 1 a message was lost or a 5xx happened; 2 otherwise
incomplete (the deadline passed, or an answer was not the expected one).
"""

import argparse
import contextlib
import datetime
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
from dataclasses import dataclass, field
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
from harness import free_port, wait_for  # noqa: E402
from harness.smtp import SMTPServer  # noqa: E402
from harness.visitor import Visitor, form_inputs  # noqa: E402
from harness.worker import worker_env  # noqa: E402

DATABASE_NAME = "bench_contact"
DESK = "desk@bench.test"
# Each visitor's client address, from the benchmarking range (RFC 2544, 198.18.0.0/15).
CLIENT_NETWORK = (198 << 24) | (18 << 16)
# The burst's readers take addresses from here up, after every visitor's.
READERS_FIRST = 130_000
ARTICLE_SLUG = "contact-load-article"


def client_address(n: int) -> str:
    return ".".join(str((CLIENT_NETWORK + n) >> s & 255) for s in (24, 16, 8, 0))


# The SMTP server ---------------------------------------------------------------------


class BenchSMTP(SMTPServer):
    """The harness's SMTP server, also noting when each mail arrived for each recipient."""

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

    def received(self, addresses: set[str]) -> set[str]:
        """Those of ``addresses`` that have had a mail."""
        with self._events_lock:
            return {address for address in addresses if self.arrived.get(address)}

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
        self.visitor = Visitor(base_url, client_ip=client_ip)
        self.stats = stats
        self.deadline = deadline

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
        answer = self.visitor.request(path, data=data, timeout=min(remaining, 60))
        ok = answer.status == expect and (location is None or answer.location == location)
        self.stats.record(step, answer.status, ok)
        if not ok:
            raise Unexpected(f"HTTP {answer.status} {answer.location}".strip())
        return answer.text


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


# The burst: step 1 back to back, and page views at the same time --------------------


@dataclass
class Burst:
    visitors: list[Visit]
    accepted: set[str]  # emails whose step 1 was accepted
    seconds: float = 0.0  # first POST sent to last answer
    alone: list[float] = field(default_factory=list)  # page views before, nothing else running
    views: list[float] = field(default_factory=list)  # page views within the POSTs, s


def read_page(browser: Browser, path: str, *, stop: threading.Event, views: list, lock) -> None:
    """Load ``path`` again and again until ``stop``; (start, end) of each good answer."""
    while not stop.is_set():
        began = time.monotonic()
        try:
            browser.request("page view", path, expect=200)
        except Unexpected:
            stop.wait(0.05)  # counted in the stats; do not spin on a failing page
            continue
        except (TimeoutError, OSError):
            return
        with lock:
            views.append((began, time.monotonic()))


def step1_burst(
    args: argparse.Namespace,
    *,
    base_url: str,
    stats: Stats,
    first: int,
    article_path: str,
) -> Burst:
    """``args.burst`` visitors open the form, wait the bot check's minimum once, then
    post step 1 back to back, ``args.burst_concurrency`` at a time, while
    ``args.readers`` readers load an article page in a loop."""
    deadline = time.monotonic() + args.timeout
    burst = Burst(
        visitors=[
            Visit(number=n, email=f"burst-{n}@bench.test", client_ip=client_address(n))
            for n in range(first, first + args.burst)
        ],
        accepted=set(),
    )

    def browser(client_ip: str) -> Browser:
        return Browser(base_url=base_url, client_ip=client_ip, stats=stats, deadline=deadline)

    reader = browser(client_address(READERS_FIRST))
    for _ in range(20):
        began = time.monotonic()
        try:
            reader.request("page view", article_path, expect=200)
        except (Unexpected, TimeoutError, OSError):
            continue  # counted in the stats
        burst.alone.append(time.monotonic() - began)

    def open_form(visitor: Visit):
        visitor.started = True
        visiting = browser(visitor.client_ip)
        try:
            page = visiting.request("burst GET /contact/", "/contact/", expect=200)
        except (Unexpected, TimeoutError, OSError) as exc:
            visitor.stopped_at = f"burst GET /contact/: {exc}"
            return None
        return visitor, visiting, form_inputs(page)

    def post(opened) -> None:
        visitor, visiting, inputs = opened
        posted = time.monotonic()
        try:
            visiting.request(
                "burst POST /contact/",
                "/contact/",
                expect=302,
                location="/contact/verify/",
                data={**inputs, "name": f"Visitor {visitor.number}", "email": visitor.email},
            )
        except (Unexpected, TimeoutError, OSError) as exc:
            visitor.stopped_at = f"burst POST /contact/: {exc}"
            return
        visitor.step1_seconds = time.monotonic() - posted
        visitor.completed = True

    stop = threading.Event()
    lock = threading.Lock()
    spans: list[tuple[float, float]] = []
    readers = [
        threading.Thread(
            target=read_page,
            args=(browser(client_address(READERS_FIRST + 1 + i)), article_path),
            kwargs={"stop": stop, "views": spans, "lock": lock},
            name=f"reader-{i}",
        )
        for i in range(args.readers)
    ]
    pool = ThreadPoolExecutor(max_workers=args.burst_concurrency, thread_name_prefix="burst")
    try:
        opened = [form for form in pool.map(open_form, burst.visitors) if form]
        # Every form was handed out at least the bot check's minimum ago.
        time.sleep(args.think)
        for thread in readers:
            thread.start()
        time.sleep(0.5)  # the readers are under way before the first POST
        began = time.monotonic()
        list(pool.map(post, opened))
        ended = time.monotonic()
    finally:
        stop.set()
        pool.shutdown(wait=True, cancel_futures=True)
        for thread in readers:
            if thread.ident:  # started
                thread.join(70)
    burst.seconds = ended - began
    burst.accepted = {v.email for v in burst.visitors if v.completed}
    burst.views = [end - start for start, end in spans if start >= began and end <= ended]
    return burst


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


def create_article() -> str:
    """One published article for the burst's readers; its path."""
    from django.utils import timezone

    from articles.models import Article, Author

    author = Author.objects.create(name="Bench Reporter", slug="bench-reporter")
    paragraph = "<p>" + " ".join(["The council met to discuss the budget."] * 12) + "</p>"
    article = Article.objects.create(
        title="Council approves the budget after a long debate",
        slug=ARTICLE_SLUG,
        standfirst="The city's budget passed on the second vote.",
        body="\n".join([paragraph] * 8),
        why_it_matters="Fares and rents depend on it.",
        impact_score=60,
        status=Article.Status.PUBLISHED,
        publish_at=timezone.now() - timezone.timedelta(hours=1),
    )
    article.authors.add(author, through_defaults={"position": 1})
    return article.get_absolute_url()


# Numbers -----------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1))]


def spread(values: list[float], *, unit: float = 1.0, suffix: str = "s") -> str:
    if not values:
        return "none measured"
    p50, p99 = statistics.median(values) * unit, percentile(values, 0.99) * unit
    return f"p50 {p50:.2f} {suffix}, p99 {p99:.2f} {suffix}, max {max(values) * unit:.2f} {suffix}"


def report_burst(args: argparse.Namespace, burst: Burst, *, codes: set, article_path: str):
    step1 = [v.step1_seconds for v in burst.visitors if v.step1_seconds is not None]
    print(
        f"step 1 burst: {len(burst.accepted)} of {args.burst} visitors' step 1 accepted, posted "
        f"back to back {args.burst_concurrency} at a time in {burst.seconds:.1f} s: "
        f"{len(burst.accepted) / burst.seconds if burst.seconds else 0:.1f} requests/s; "
        f"their codes: {len(codes)} received"
    )
    print(f"  step 1 POST response time: {spread(step1, unit=1000, suffix='ms')}")
    print(
        f"  page view (GET {article_path}, {args.readers} readers at the same time, "
        f"{len(burst.views)} views): {spread(burst.views, unit=1000, suffix='ms')}"
    )
    print(f"  page view alone before the burst: {spread(burst.alone, unit=1000, suffix='ms')}")
    if step1 and burst.views:
        ratio = statistics.median(step1) / statistics.median(burst.views)
        print(
            f"  step 1 p50 / page view p50 under the same load: {ratio:.2f}x (target: 2x or less)"
        )
    stopped = Counter(v.stopped_at.split(":")[0] for v in burst.visitors if not v.completed)
    for where, count in stopped.most_common():
        print(f"  {count} burst visitors stopped at {where}")


# Setting up --------------------------------------------------------------------------


class Logs:
    """The folder of gunicorn's and the worker's logs, removed at the end of a run that
    passed and kept (its name printed) otherwise."""

    def __init__(self) -> None:
        self.path = Path(tempfile.mkdtemp(prefix="bench-contact-"))
        self.keep = True  # until the run has passed

    def close(self) -> None:
        if self.keep:
            print(f"logs of gunicorn and the worker kept in {self.path}")
            return
        for path in self.path.rglob("*"):
            if path.is_file():
                path.unlink()
        for path in sorted(self.path.rglob("*"), reverse=True):
            path.rmdir()
        self.path.rmdir()


@dataclass
class Site:
    """The parts a run set up, all on loopback."""

    base_url: str
    smtp: BenchSMTP
    logs: Logs
    queues: str | None  # the worker's -Q; None: the default queue
    article_path: str  # the burst's readers' page


def site_env(
    *, database_url: str, broker_url: str, cache_url: str, smtp_port: int, base_url: str, logs: Logs
) -> dict[str, str]:
    """The environment of gunicorn, the worker and this process: production settings
    behind one trusted proxy, on the run's database, Redis databases and SMTP server."""
    env = worker_env(
        database_url=database_url,
        broker_url=broker_url,
        smtp_port=smtp_port,
        var_dir=logs.path / "var",
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
    return env


def start_site(
    args: argparse.Namespace,
    *,
    env: dict[str, str],
    port: int,
    queues: str | None,
    logs: Logs,
    stack: contextlib.ExitStack,
) -> bool:
    """The Celery worker and gunicorn, started and answering; False when one exited."""
    worker_command = [
        sys.executable, "-m", "celery", "-A", "newsroom", "worker", "--hostname", "bench@%h",
        "--pool", args.worker_pool, "--concurrency", str(args.worker_concurrency),
        "--loglevel", "INFO", "--without-gossip", "--without-mingle", "--without-heartbeat",
    ]  # fmt: skip
    if queues:
        worker_command += ["-Q", queues]
    worker = start_process("worker", worker_command, env=env, logs=logs.path)
    stack.callback(stop_process, worker)
    web = start_process(
        "gunicorn",
        [
            sys.executable, "-m", "gunicorn", "newsroom.wsgi", "--bind", f"127.0.0.1:{port}",
            "--workers", str(args.web_workers), "--graceful-timeout", "10",
        ],
        env=env,
        logs=logs.path,
    )  # fmt: skip
    stack.callback(stop_process, web)

    worker_log = logs.path / "worker.log"
    wait_for(
        lambda: b" ready." in worker_log.read_bytes() or worker.poll() is not None,
        timeout=60,
        what="the Celery worker to start",
    )
    wait_for(
        lambda: http_status(f"http://127.0.0.1:{port}/healthz") == 200 or web.poll() is not None,
        timeout=60,
        what="gunicorn to answer /healthz",
    )
    for name, process in (("worker", worker), ("gunicorn", web)):
        if process.poll() is not None:
            print(f"{name} exited at start; see {logs.path / (name + '.log')}")
            return False
    return True


def set_up(args: argparse.Namespace, stack: contextlib.ExitStack) -> Site | None:
    """A fresh database, flushed Redis databases, the SMTP server, this process on the
    site's settings (migrated, one article), the worker and gunicorn; None when a
    process exited at start. Everything is undone by ``stack``."""
    for url in (args.postgres, args.redis):
        require_loopback(url)
    logs = Logs()
    stack.callback(logs.close)

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
    env = site_env(
        database_url=database_url,
        broker_url=broker_url,
        cache_url=cache_url,
        smtp_port=smtp.port,
        base_url=base_url,
        logs=logs,
    )

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
    article_path = create_article()

    if not start_site(args, env=env, port=port, queues=queues, logs=logs, stack=stack):
        return None
    return Site(base_url=base_url, smtp=smtp, logs=logs, queues=queues, article_path=article_path)


# The load ----------------------------------------------------------------------------


def run_visitors(args: argparse.Namespace, site: Site, stats: Stats) -> tuple[list[Visit], float]:
    """``args.visitors`` visitors through the whole flow, ``args.concurrency`` at a time;
    they and the seconds they took."""
    visitors = [
        Visit(
            number=n,
            email=f"visitor-{n}@bench.test",
            client_ip=client_address(n),
        )
        for n in range(1, args.visitors + 1)
    ]
    stop = threading.Event()
    started = time.monotonic()
    deadline = started + args.timeout
    pool = ThreadPoolExecutor(max_workers=args.concurrency, thread_name_prefix="visitor")
    try:
        futures = [
            pool.submit(
                visit,
                v,
                base_url=site.base_url,
                smtp=site.smtp,
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
    return visitors, time.monotonic() - started


@dataclass
class Outcome:
    """What the site made of the visitors' messages and the burst's step 1."""

    accepted: set[str]  # emails whose message the site accepted
    stored: set[str]  # emails of the messages in the database
    notified: set[str]  # accepted emails named in an editors' notification
    message_states: Counter
    code_states: Counter
    burst_codes: set[str]  # burst emails that received a code


def collect(
    args: argparse.Namespace, site: Site, visitors: list[Visit], burst: Burst | None
) -> Outcome:
    """Wait (``args.settle`` at most) for the notifications and the burst's codes, then
    read what the database holds."""
    smtp = site.smtp
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
    burst_codes: set[str] = set()
    if burst:
        with contextlib.suppress(AssertionError):
            wait_for(
                lambda: burst.accepted <= smtp.received(burst.accepted),
                timeout=args.settle,
                interval=0.5,
                what="the burst's codes",
            )
        burst_codes = smtp.received(burst.accepted)

    from django.db import connections

    from contact.models import Message, Verification

    stored = set(Message.objects.values_list("email", flat=True))
    message_states = Counter(Message.objects.values_list("delivery_state", flat=True))
    code_states = Counter(Verification.objects.values_list("delivery_state", flat=True))
    connections.close_all()
    return Outcome(
        accepted=accepted,
        stored=stored,
        notified=notified,
        message_states=message_states,
        code_states=code_states,
        burst_codes=burst_codes,
    )


# The report --------------------------------------------------------------------------


def print_header(args: argparse.Namespace, site: Site, *, setup_seconds: float) -> None:
    from django.conf import settings

    print(
        f"contact flow load test, {datetime.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}, "
        f"{platform.node()} ({os.cpu_count()} CPUs), Python {platform.python_version()}"
    )
    print(
        f"parts on 127.0.0.1: PostgreSQL db {DATABASE_NAME}, Redis broker db {args.broker_db} "
        f"and cache db {args.cache_db}, gunicorn {args.web_workers} sync workers (DEBUG off), "
        f"Celery {args.worker_pool} x{args.worker_concurrency} "
        f"(queues: {site.queues or 'default'}), aiosmtpd; set up in {setup_seconds:.1f} s"
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


def report(
    args: argparse.Namespace,
    site: Site,
    *,
    visitors: list[Visit],
    stats: Stats,
    burst: Burst | None,
    outcome: Outcome,
    wall: float,
    setup_seconds: float,
    flow_seconds: float,
) -> int:
    """What happened, and the exit status: 0 all well, 1 a message lost or a 5xx,
    2 something else did not finish. ``wall``: when the run began."""
    from contact.models import Delivery

    accepted, stored, notified = outcome.accepted, outcome.stored, outcome.notified
    message_states, burst_codes = outcome.message_states, outcome.burst_codes
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
    print(
        f"verification codes: {len(codes)} received by these visitors; delivery states "
        f"{dict(outcome.code_states)} (with the burst's)"
    )
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
    if burst:
        report_burst(args, burst, codes=burst_codes, article_path=site.article_path)
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
        or (burst and (len(burst.accepted) < args.burst or burst_codes < burst.accepted))
    ):
        print("INCOMPLETE: not every visitor finished, or an answer was unexpected")
        return 2
    site.logs.keep = False
    print("OK: every message stored and notified, no 5xx")
    return 0


# The run -----------------------------------------------------------------------------


def run(args: argparse.Namespace, stack: contextlib.ExitStack) -> int:
    wall = time.monotonic()
    site = set_up(args, stack)
    if site is None:
        return 2
    setup_seconds = time.monotonic() - wall
    print_header(args, site, setup_seconds=setup_seconds)

    stats = Stats()
    visitors, flow_seconds = run_visitors(args, site, stats)
    burst = None
    if args.burst:
        burst = step1_burst(
            args,
            base_url=site.base_url,
            stats=stats,
            first=args.visitors + 1,
            article_path=site.article_path,
        )

    outcome = collect(args, site, visitors, burst)
    return report(
        args,
        site,
        visitors=visitors,
        stats=stats,
        burst=burst,
        outcome=outcome,
        wall=wall,
        setup_seconds=setup_seconds,
        flow_seconds=flow_seconds,
    )


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
        help="seconds each visitor spends on step 1 (the site's minimum is 1)",
    )
    parser.add_argument(
        "--burst",
        type=int,
        default=200,
        help="visitors who then post step 1 back to back, for its requests/s (0: none)",
    )
    parser.add_argument(
        "--burst-concurrency", type=int, default=50, help="step 1 POSTs at a time in the burst"
    )
    parser.add_argument(
        "--readers", type=int, default=4, help="readers loading an article during the burst"
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
    if args.visitors + args.burst >= READERS_FIRST:
        parser.error(f"--visitors + --burst: fewer than {READERS_FIRST} (one address each)")

    run_main(run, args)


if __name__ == "__main__":
    main()
