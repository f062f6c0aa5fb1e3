"""Throughput of the public pages over HTTP, against the floor of the same stack.

Serves a database built by ``bench/build.py`` with gunicorn (2 sync workers,
``DEBUG`` off, PostgreSQL, a Redis cache database of its own, flushed) on
127.0.0.1 and drives each page with wrk for a bounded time: an article, the
home page (page 1 and a deep page), a topic, a search, the feed, and the floor
(``/_bench/floor``: the same gunicorn, Django and middleware answering a
constant page of the article page's size with no database). Prints one table:
SQL queries per page (Django's test client on the same database), response
bytes, requests/s, p50/p99 latency, errors and the ratio to the floor.
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
from dataclasses import dataclass
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
from tests.services import free_port, wait_for  # noqa: E402

SEARCH = "council budget"
FLOOR = "/_bench/floor"


@dataclass
class Row:
    name: str
    path: str
    queries: int | str = "-"
    size: int = 0
    rps: float = 0.0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    errors: int = 0


# Processes ---------------------------------------------------------------------------


def fetch(url: str) -> tuple[int | None, bytes]:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()
    except OSError:
        return None, b""


# wrk ---------------------------------------------------------------------------------

UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def wrk(
    url: str, *, duration: int, connections: int, threads: int
) -> tuple[float, float, float, int]:
    """(requests/s, p50 ms, p99 ms, errors) of one bounded wrk run."""
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
    return float(rps.group(1)) if rps else 0.0, latency("50"), latency("99"), errors


# Queries per page --------------------------------------------------------------------


def count_queries(rows: list[Row]) -> None:
    """Each page's SQL queries through Django's test client on the same database,
    counted before the next request clears the connection's query log."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    for row in rows:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(row.path)
        row.queries = len(queries)
        if response.status_code != 200:
            raise SystemExit(f"{row.path}: HTTP {response.status_code} from the test client")
        row.size = len(response.content)


# The run -----------------------------------------------------------------------------


def run(args: argparse.Namespace, stack: contextlib.ExitStack) -> int:
    wall = time.monotonic()
    for url in (args.postgres, args.redis):
        require_loopback(url)
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed (Debian: apt-get install wrk)")
    database_url = with_path(args.postgres, "/" + args.database)
    cache_url = with_path(args.redis, f"/{args.cache_db}")
    flush_redis(cache_url)
    stack.callback(flush_redis, cache_url)

    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    logs = Path(tempfile.mkdtemp(prefix="bench-serve-"))
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.lower().endswith("_proxy") and key != "DJANGO_ALLOW_ASYNC_UNSAFE"
    }
    env.update(
        DJANGO_SETTINGS_MODULE="newsroom.settings",
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
        BENCH_FLOOR="1",
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
        Row("feed", "/feed/"),
        Row("floor (again)", FLOOR),
    ]
    count_queries(rows)
    connections.close_all()
    env["BENCH_FLOOR_BYTES"] = str(rows[1].size)

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
            str(args.workers),
            "--graceful-timeout",
            "10",
        ],
        env=env,
        logs=logs,
    )
    stack.callback(stop_process, web)
    wait_for(
        lambda: fetch(base_url + "/healthz")[0] == 200 or web.poll() is not None,
        timeout=60,
        what="gunicorn to answer /healthz",
    )
    if web.poll() is not None:
        print(f"gunicorn exited at start; see {logs / 'gunicorn.log'}")
        return 2
    # Every page must answer 200 before it is measured; each worker loads its code.
    for row in rows:
        for _ in range(args.workers * 2):
            status, content = fetch(base_url + row.path)
            if status != 200:
                print(f"{row.path}: HTTP {status}; see {logs / 'gunicorn.log'}")
                return 2
        row.size = len(content)

    print(
        f"public pages over HTTP, {datetime.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}, "
        f"{platform.node()} ({os.cpu_count()} CPUs), Python {platform.python_version()}"
    )
    print(
        f"{args.database}: {articles} published articles ({pages} home pages); gunicorn "
        f"{args.workers} sync workers (DEBUG off) on 127.0.0.1, PostgreSQL, Redis cache db "
        f"{args.cache_db} (flushed); wrk -t{args.threads} -c{args.connections} "
        f"-d{args.duration}s per row, on the same machine"
    )
    print("cold = warm: there is no page cache yet, so each page is measured once")
    print()
    for row in rows:
        row.rps, row.p50_ms, row.p99_ms, row.errors = wrk(
            base_url + row.path,
            duration=args.duration,
            connections=args.connections,
            threads=args.threads,
        )
    floor = rows[0].rps or float("nan")
    header = ("page", "path", "queries", "bytes", "req/s", "p50 ms", "p99 ms", "errors", "÷ floor")
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in rows:
        cells = (
            row.name, f"`{row.path}`", str(row.queries), f"{row.size:,}", f"{row.rps:,.0f}",
            f"{row.p50_ms:.1f}", f"{row.p99_ms:.1f}", str(row.errors), f"{row.rps / floor:.1%}",
        )  # fmt: skip
        print("| " + " | ".join(cells) + " |")
    print()
    print(
        "errors: non-2xx/3xx answers plus socket errors; ÷ floor: requests/s against the "
        "first floor row (the last floor row shows the drift during the run)"
    )
    print(f"wall time {time.monotonic() - wall:.0f} s")
    shutil.rmtree(logs, ignore_errors=True)
    return 1 if any(row.errors for row in rows) else 0


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
    args = parser.parse_args()

    run_main(run, args)


if __name__ == "__main__":
    main()
