"""Throughput of the public pages over HTTP, cold and warm, against the floor of the stack.

Serves a database built by ``bench/build.py`` with gunicorn (2 sync workers,
``DEBUG`` off, PostgreSQL, a Redis cache database of its own, flushed) on
127.0.0.1 and drives each page with wrk for a bounded time: an article, the
home page (page 1 and a deep page), a topic, a search, a misspelt search (which
offers "Did you mean") and the feed, each twice:
**cold** (a gunicorn with ``PAGE_CACHE_SECONDS=0``: every request renders) and
**warm** (a gunicorn with the page cache on, each page requested once before wrk
starts). Then the article page through nginx with the micro-cache of
``docs/nginx/newsroom.conf`` in front of the warm gunicorn, and the same bytes
served by that nginx as a static file (the machine's limit). The floor
(``/_bench/floor``, served by ``bench/floor.py``: the same gunicorn, Django and
middleware answering a constant page of the article page's size with no database)
is measured first and last.

Prints one table: SQL queries per page (Django's test client on the same
database, cold: the first render on an empty cache, then the next), response
bytes, what the caches said, requests/s, p50/p99 latency, errors and the ratio
to the floor. Every row is checked first (HTTP 200, the expected size), and
wrk's bytes per request must match, so a row cannot measure an error page.
Everything it starts is stopped at the end, also on an error or Ctrl-C.

    .venv/bin/python bench/build.py --articles 1000
    .venv/bin/python bench/serve.py --duration 10
"""

import argparse
import contextlib
import datetime
import os
import platform
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, replace
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(BASE_DIR))

from bench.common import (  # noqa: E402
    flush_redis,
    require_loopback,
    run_main,
    start_process,
    stop_process,
    with_path,
)
from harness import free_port, wait_for  # noqa: E402
from harness.nginx import NginxServer, nginx_binary  # noqa: E402

SEARCH = "council budget"
# Finds nothing as typed: the page offers "Did you mean council budget" (the word
# list's trigram search, then the corrected search to check it finds stories).
SEARCH_MISSPELT = "councl budget"
FLOOR = "/_bench/floor"
STATIC_ARTICLE = "bench-article.html"
# A row whose answers differ from the checked one by more than this share of
# bytes (wrk's bytes read per request) measured something else: an error page.
SIZE_TOLERANCE = 0.05


@dataclass
class Row:
    name: str
    path: str
    mode: str = "cold"
    queries: int | str = "-"
    size: int = 0  # body bytes, from the check before wrk
    reply_bytes: int = 0  # status line, headers and body of that check
    cache: str = "-"  # what the cache headers said after priming
    rps: float = 0.0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    errors: int = 0
    requests: int = 0
    bytes_per_request: float = 0.0

    @property
    def size_matches(self) -> bool:
        if not self.bytes_per_request:
            return True  # nothing read: the errors column says why
        return abs(self.bytes_per_request - self.reply_bytes) <= SIZE_TOLERANCE * self.reply_bytes


# HTTP --------------------------------------------------------------------------------


def fetch(url: str, *, timeout: float = 30) -> tuple[int | None, dict[str, str], bytes]:
    """(status, headers, body); status None when nothing answered."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=timeout) as response:
            return response.status, dict(response.headers.items()), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers.items()), exc.read()
    except OSError:
        return None, {}, b""


def reply_size(status: int, headers: dict[str, str], body: bytes) -> int:
    """Bytes on the wire of an HTTP/1.1 answer, near enough to compare with wrk's count."""
    head = len(f"HTTP/1.1 {status} OK\r\n") + 2
    return head + sum(len(name) + len(value) + 4 for name, value in headers.items()) + len(body)


def check(base_url: str, row: Row, *, expect_size: int) -> str | None:
    """Fetch the row's page once (which also primes a cache); None when it is what the
    row should measure, else what is wrong."""
    status, headers, body = fetch(base_url + row.path)
    if status != 200:
        return f"HTTP {status}"
    if expect_size and abs(len(body) - expect_size) > SIZE_TOLERANCE * expect_size:
        return f"{len(body)} bytes where {expect_size} were expected"
    row.size, row.reply_bytes = len(body), reply_size(status, headers, body)
    return None


def cache_said(base_url: str, row: Row) -> str:
    """What the caches say on a request after the priming one."""
    _, headers, _ = fetch(base_url + row.path)
    said = [
        f"{name.lower().removeprefix('x-')} {headers[name].lower()}"
        for name in ("X-Cache-Status", "X-Page-Cache")
        if name in headers
    ]
    return ", ".join(said) or "none"


# wrk ---------------------------------------------------------------------------------

UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}
UNITS_BYTES = {"B": 1, "KB": 1024, "MB": 1024**2, "GB": 1024**3, "TB": 1024**4}


def wrk(url: str, row: Row, *, duration: int, connections: int, threads: int) -> None:
    """One bounded wrk run; its numbers go into ``row``."""
    command = [
        "wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--latency",
        "--timeout", "10s", url,
    ]  # fmt: skip
    result = subprocess.run(  # noqa: S603 - fixed argv, loopback URL
        command, capture_output=True, text=True, timeout=duration + 60, check=True
    )
    out = result.stdout

    def latency(percent: str) -> float:
        match = re.search(rf"^\s+{percent}%\s+([\d.]+)(us|ms|s|m)\s*$", out, re.MULTILINE)
        return float(match.group(1)) * UNITS_MS[match.group(2)] if match else float("nan")

    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    errors = 0
    socket = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if socket:
        errors += sum(int(value) for value in socket.groups())
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non_2xx:
        errors += int(non_2xx.group(1))
    read = re.search(r"(\d+) requests in [\d.]+\w+, ([\d.]+)([KMGT]?B) read", out)
    row.rps = float(rps.group(1)) if rps else 0.0
    row.p50_ms, row.p99_ms, row.errors = latency("50"), latency("99"), errors
    row.requests = int(read.group(1)) if read else 0
    if row.requests:
        row.bytes_per_request = float(read.group(2)) * UNITS_BYTES[read.group(3)] / row.requests


def drain(base_url: str, *, timeout: float = 300) -> bool:
    """Wait until gunicorn has worked through what the last wrk run left queued.

    wrk stops after its duration, but the requests its connections had sent are
    still answered, one by one, by the sync workers: on a slow page that is a minute
    of work which the next row would otherwise measure. Done when /healthz, queued
    behind them, answers at once.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        began = time.monotonic()
        status, _, _ = fetch(base_url + "/healthz", timeout=min(30, timeout))
        if status == 200 and time.monotonic() - began < 0.5:
            return True
    return False


# Queries per page --------------------------------------------------------------------


def count_queries(rows: list[Row]) -> None:
    """Each page's SQL queries through Django's test client on the same database:
    "first/again", a render with the cache empty and one with the values every page
    shares (the topic list, the topic menu) kept, as in the cold rows under load."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    for row in rows:
        counts = []
        for _ in range(2):
            with CaptureQueriesContext(connection) as queries:
                response = client.get(row.path)
            counts.append(len(queries))
            if response.status_code != 200:
                raise SystemExit(f"{row.path}: HTTP {response.status_code} from the test client")
        row.queries = "/".join(map(str, counts))
        row.size = len(response.content)


# Processes ---------------------------------------------------------------------------


def start_gunicorn(
    name: str, *, env: dict, port: int, workers: int, logs: Path, stack: contextlib.ExitStack
) -> subprocess.Popen | None:
    """gunicorn on 127.0.0.1:``port``, answering /healthz; None when it exited at start."""
    web = start_process(
        name,
        [
            sys.executable, "-m", "gunicorn", "newsroom.wsgi",
            "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
            "--graceful-timeout", "10",
        ],
        env=env,
        logs=logs,
    )  # fmt: skip
    stack.callback(stop_process, web)
    base_url = f"http://127.0.0.1:{port}"
    wait_for(
        lambda: fetch(base_url + "/healthz")[0] == 200 or web.poll() is not None,
        timeout=60,
        what=f"{name} to answer /healthz",
    )
    if web.poll() is not None:
        print(f"{name} exited at start; see {logs / (name + '.log')}")
        return None
    return web


# The run: set up, measure cold, measure warm, report ---------------------------------


@dataclass
class Bench:
    """What one run measures and where: the rows, in the order the table shows them,
    and the site's environment, port and log folder."""

    args: argparse.Namespace
    env: dict[str, str]
    port: int
    logs: Path
    cache_url: str
    database_articles: int
    home_pages: int
    floor: Row
    page_rows: list[Row]  # cold
    warm: list[Row]
    via_nginx: Row
    as_file: Row
    floor_again: Row

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def article(self) -> Row:
        return self.page_rows[0]

    @property
    def table(self) -> list[Row]:
        return [
            self.floor, *self.page_rows, *self.warm, self.via_nginx, self.as_file,
            self.floor_again,
        ]  # fmt: skip


def site_env(*, database_url: str, cache_url: str, base_url: str, logs: Path) -> dict[str, str]:
    """The environment of gunicorn and this process: production settings (DEBUG off)
    with the floor's URLconf, on the bench database and the run's Redis database."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.lower().endswith("_proxy") and key != "DJANGO_ALLOW_ASYNC_UNSAFE"
    }
    env.update(
        # The site's settings with bench/floor.py as the URLconf: the site plus the floor.
        DJANGO_SETTINGS_MODULE="bench.floor_settings",
        DATABASE_URL=database_url,
        REDIS_URL=cache_url,
        CACHE_KEY_PREFIX="bench",
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="127.0.0.1,testserver",
        SITE_URL=base_url,
        SECURE_SSL_REDIRECT="0",
        STATIC_NO_MANIFEST="1",
        VAR_DIR=str(logs / "var"),
        LOG_LEVEL="WARNING",
        # Cold: every request renders. measure_warm gives the warm gunicorn its own value.
        PAGE_CACHE_SECONDS="0",
    )
    return env


def set_up(args: argparse.Namespace, stack: contextlib.ExitStack) -> Bench:
    """Check the tools, flush the cache, set this process up on the site's settings,
    choose the pages and count their queries through the test client."""
    for url in (args.postgres, args.redis):
        require_loopback(url)
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed (Debian: apt-get install wrk)")
    if nginx_binary() is None:
        raise SystemExit("nginx is not installed (Debian: apt-get install nginx)")
    database_url = with_path(args.postgres, "/" + args.database)
    cache_url = with_path(args.redis, f"/{args.cache_db}")
    flush_redis(cache_url)
    stack.callback(flush_redis, cache_url)

    port = free_port()
    logs = Path(tempfile.mkdtemp(prefix="bench-serve-"))
    env = site_env(
        database_url=database_url,
        cache_url=cache_url,
        base_url=f"http://127.0.0.1:{port}",
        logs=logs,
    )
    os.environ.clear()
    os.environ.update(env)
    import django

    django.setup()
    from django.conf import settings
    from django.db import connections

    from articles.models import Article

    stack.callback(connections.close_all)
    articles = Article.objects.published().count()
    if not articles:
        raise SystemExit(f"{args.database} has no published articles: run bench/build.py first")
    pages = -(-articles // settings.ARTICLES_PER_PAGE)
    deep = max(2, pages * 9 // 10)
    newest_first = Article.objects.published().order_by("-publish_at", "-id")
    middle = newest_first[articles // 2]
    # Page ``deep`` as a reader reaches it, clicking "Older stories" from the home
    # page: it starts after the last story of the page before it.
    cursor = newest_first.values_list("pk", flat=True)[(deep - 1) * settings.ARTICLES_PER_PAGE - 1]
    rows = [
        Row("floor", FLOOR),
        Row("article", middle.get_absolute_url()),
        Row("home", "/"),
        Row(f"home p.{deep}", f"/?before={cursor}"),
        Row("topic", "/topics/politics/"),
        Row("search", "/search/?" + urllib.parse.urlencode({"q": SEARCH})),
        Row("search misspelt", "/search/?" + urllib.parse.urlencode({"q": SEARCH_MISSPELT})),
        Row("feed", "/feed/"),
        Row("floor (again)", FLOOR),
    ]
    count_queries(rows)
    connections.close_all()
    env["BENCH_FLOOR_BYTES"] = str(rows[1].size)
    floor, page_rows, floor_again = rows[0], rows[1:-1], rows[-1]
    floor.size = floor_again.size = rows[1].size
    article = page_rows[0]
    floor_again.mode = floor.mode = "floor"
    return Bench(
        args=args,
        env=env,
        port=port,
        logs=logs,
        cache_url=cache_url,
        database_articles=articles,
        home_pages=pages,
        floor=floor,
        page_rows=page_rows,
        warm=[replace(row, mode="warm", queries="-") for row in page_rows],
        via_nginx=replace(article, mode="nginx cache", queries="-"),
        as_file=replace(article, path=f"/static/{STATIC_ARTICLE}", mode="nginx file", queries=0),
        floor_again=floor_again,
    )


def failed(bench: Bench, row: Row, problem: str, name: str) -> int:
    print(f"{row.mode} {row.path}: {problem}; see the logs in {bench.logs} ({name}.log)")
    return 2


def prime(bench: Bench, rows: list[Row], name: str) -> int | None:
    """Each worker loads its code and fills its connection (and the cache, if on) before
    wrk starts; an exit status when a row's page is not what it should measure."""
    for row in rows:
        for _ in range(bench.args.workers * 2):
            if problem := check(bench.base_url, row, expect_size=row.size):
                return failed(bench, row, problem, name)
        row.cache = cache_said(bench.base_url, row)
    return None


def load(bench: Bench, url: str, row: Row) -> bool:
    """wrk on ``url``, then wait for gunicorn to finish what wrk left queued."""
    args = bench.args
    wrk(
        url + row.path,
        row,
        duration=args.duration,
        connections=args.connections,
        threads=args.threads,
    )
    if drain(bench.base_url):
        return True
    print(f"gunicorn still busy 300 s after the {row.mode} {row.path} row; stopping")
    return False


def print_header(bench: Bench) -> None:
    args = bench.args
    print(
        f"public pages over HTTP, {datetime.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}, "
        f"{platform.node()} ({os.cpu_count()} CPUs), Python {platform.python_version()}"
    )
    print(
        f"{args.database}: {bench.database_articles} published articles ({bench.home_pages} "
        f"home pages); gunicorn {args.workers} sync workers (DEBUG off) on 127.0.0.1, "
        f"PostgreSQL, Redis cache db {args.cache_db} (flushed); wrk -t{args.threads} "
        f"-c{args.connections} -d{args.duration}s per row, on the same machine"
    )
    print(
        "cold: gunicorn with PAGE_CACHE_SECONDS=0 (every request renders); warm: a second "
        f"gunicorn with PAGE_CACHE_SECONDS={args.page_cache_seconds}, each page requested once "
        "before wrk; nginx cache: docs/nginx/newsroom.conf in front of the warm gunicorn; "
        "nginx file: the article page's bytes as a static file from that nginx"
    )
    print()


def measure_cold(bench: Bench, stack: contextlib.ExitStack) -> int | None:
    """The floor, then every page rendered on each request; an exit status on failure."""
    cold = start_gunicorn(
        "gunicorn-cold",
        env=bench.env,
        port=bench.port,
        workers=bench.args.workers,
        logs=bench.logs,
        stack=stack,
    )
    if cold is None:
        return 2
    rows = [bench.floor, *bench.page_rows]
    if (status := prime(bench, rows, "gunicorn-cold")) is not None:
        return status
    print_header(bench)
    for row in rows:
        if not load(bench, bench.base_url, row):
            return 2
    stop_process(cold)
    return None


def measure_warm(bench: Bench, stack: contextlib.ExitStack) -> int | None:
    """Every page from a fresh cache primed by one request, the article through nginx and
    as nginx's file, the floor again; an exit status on failure."""
    flush_redis(bench.cache_url)
    warm_env = {**bench.env, "PAGE_CACHE_SECONDS": str(bench.args.page_cache_seconds)}
    if not start_gunicorn(
        "gunicorn-warm",
        env=warm_env,
        port=bench.port,
        workers=bench.args.workers,
        logs=bench.logs,
        stack=stack,
    ):
        return 2
    if (status := prime(bench, [*bench.warm, bench.floor_again], "gunicorn-warm")) is not None:
        return status

    # nginx in front of the warm gunicorn, serving the article's bytes as a file too.
    static_root = bench.logs / "nginx-static"
    static_root.mkdir()
    _, _, body = fetch(bench.base_url + bench.article.path)
    (static_root / STATIC_ARTICLE).write_bytes(body)
    nginx = NginxServer(
        folder=bench.logs / "nginx",
        upstream=f"127.0.0.1:{bench.port}",
        static_root=static_root,
        workers=bench.args.workers,
        access_log=False,
    )
    stack.callback(nginx.stop)
    try:
        nginx.start()
    except AssertionError as exc:
        print(exc)
        return 2
    for row in (bench.via_nginx, bench.as_file):
        if problem := check(nginx.url, row, expect_size=bench.article.size):
            return failed(bench, row, problem, "nginx/error")
        row.cache = cache_said(nginx.url, row)

    for url, row in [
        *((bench.base_url, row) for row in bench.warm),
        (nginx.url, bench.via_nginx),
        (nginx.url, bench.as_file),
        (bench.base_url, bench.floor_again),
    ]:
        if not load(bench, url, row):
            return 2
    nginx.stop()
    return None


def report(bench: Bench, *, wall: float) -> int:
    """The table and what its columns mean; 1 when a row has errors, else 0."""
    table = bench.table
    floor_rps = bench.floor.rps or float("nan")
    header = (
        "page", "mode", "path", "queries", "bytes", "cache", "req/s", "p50 ms", "p99 ms",
        "errors", "÷ floor",
    )  # fmt: skip
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in table:
        errors = str(row.errors) + ("" if row.size_matches else " (size!)")
        if not row.requests:
            errors += " (no answer)"
        cells = (
            row.name, row.mode, f"`{row.path}`", str(row.queries), f"{row.size:,}", row.cache,
            f"{row.rps:,.0f}", f"{row.p50_ms:.1f}", f"{row.p99_ms:.1f}", errors,
            f"{row.rps / floor_rps:.1%}",
        )  # fmt: skip
        print("| " + " | ".join(cells) + " |")
    print()
    print(
        "queries: cold renders through Django's test client, the first on an empty cache/"
        "the next with the topic list and menu kept; cache: the X-Page-Cache (app) "
        "and X-Cache-Status (nginx) headers on a request after the priming one (none: no "
        "cache answered); errors: non-2xx/3xx answers plus socket errors, (size!) when "
        "wrk's bytes per request differ from the checked answer's by more than "
        f"{SIZE_TOLERANCE:.0%}, (no answer) when no request finished within the row's time; "
        "after each row gunicorn works through what wrk left queued before the next; "
        "÷ floor: requests/s against the first floor row (the last floor row, on the warm "
        "gunicorn, shows the drift during the run)"
    )
    uncached = [row.name for row in bench.warm if row.cache == "none"]
    if uncached:
        print(
            f"not cached by the app ({', '.join(uncached)}): warm measures the same work as "
            "cold there"
        )
    if "hit" not in bench.via_nginx.cache:
        print(
            "nginx did not keep the article page (the app does not mark it public yet): that "
            "row measures nginx passing the page's concurrent misses to gunicorn one at a "
            "time (proxy_cache_lock), not the micro-cache"
        )
    print(f"wall time {time.monotonic() - wall:.0f} s")
    if any(row.errors or not row.size_matches or not row.requests for row in table):
        print(f"errors: logs kept in {bench.logs}")
        return 1
    shutil.rmtree(bench.logs, ignore_errors=True)
    return 0


def run(args: argparse.Namespace, stack: contextlib.ExitStack) -> int:
    wall = time.monotonic()
    bench = set_up(args, stack)
    for measure in (measure_cold, measure_warm):
        if (status := measure(bench, stack)) is not None:
            return status
    return report(bench, wall=wall)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default="bench_pages", help="built by bench/build.py")
    parser.add_argument("--postgres", default="postgres://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379")
    parser.add_argument("--cache-db", type=int, default=13)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    parser.add_argument("--duration", type=int, default=10, help="seconds of wrk per row")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--page-cache-seconds",
        type=int,
        default=600,
        help="PAGE_CACHE_SECONDS of the warm gunicorn",
    )
    args = parser.parse_args()

    run_main(run, args)


if __name__ == "__main__":
    main()
