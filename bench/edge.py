"""Varnish in front of the site: warm pages against Varnish's own limit, and purge-to-fresh.

Serves a database built by ``bench/build.py`` with gunicorn (sync workers, ``DEBUG``
off, PostgreSQL, the page cache on a Redis database of its own, flushed), a Celery
worker on a broker database of its own, and ``docs/varnish/newsroom.vcl`` in a real
``varnishd`` in front, with edits purging it (``EDGE_PURGE_URLS``). Then, with wrk
for a bounded time each:

- **article via Varnish**: an article page Varnish holds (primed, ``X-Cache: HIT``);
- **static via Varnish**: a constant 20 KB page Varnish holds
  (``/articles/_bench/static``, ``bench/floor.py``): Varnish's own limit here;
- **static from nginx**: the same 20 KB as a file from nginx
  (``docs/nginx/newsroom.conf``), the floor of ``bench/serve.py``'s nginx file row.

The target is article ÷ static via Varnish ≥ 80 %. Last, **purge-to-fresh**: the
article's headline is edited ``--edits`` times in this process, as the admin saves
(a transaction whose commit bumps the page cache and hands the purge to the
worker), and after each commit Varnish is asked for the page until it shows the
new headline: p50/p99/max of that time. The article's headline is put back at the
end. Everything it starts is stopped at the end, also on an error or Ctrl-C.

    .venv/bin/python bench/build.py --articles 1000
    .venv/bin/python bench/edge.py --duration 10 --edits 50
"""

import argparse
import contextlib
import datetime
import os
import platform
import secrets
import shutil
import statistics
import sys
import tempfile
import time
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
from bench.serve import Row, check, fetch, site_env, start_gunicorn, wrk  # noqa: E402
from harness import free_port, wait_for  # noqa: E402
from harness.nginx import NginxServer, nginx_binary  # noqa: E402
from harness.varnish import VarnishServer, varnishd_binary  # noqa: E402

STATIC = "/articles/_bench/static"
STATIC_FILE = "bench-20k.html"


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def set_up(args, stack: contextlib.ExitStack):
    for url in (args.postgres, args.redis):
        require_loopback(url)
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed (Debian: apt-get install wrk)")
    if nginx_binary() is None or varnishd_binary() is None:
        raise SystemExit("nginx and varnish are needed (apt-get install nginx varnish "
                         "varnish-modules)")  # fmt: skip
    logs = Path(tempfile.mkdtemp(prefix="bench-edge-"))
    cache_url = with_path(args.redis, f"/{args.cache_db}")
    broker_url = with_path(args.redis, f"/{args.broker_db}")
    for url in (cache_url, broker_url):
        flush_redis(url)
        stack.callback(flush_redis, url)
    port = free_port()
    token = secrets.token_hex(16)
    varnish = VarnishServer(
        folder=logs / "varnish",
        backend=f"127.0.0.1:{port}",
        token=token,
        threads=args.connections * 2,
    )
    env = site_env(
        database_url=with_path(args.postgres, "/" + args.database),
        cache_url=cache_url,
        base_url=f"http://127.0.0.1:{port}",
        logs=logs,
    )
    env.update(
        PAGE_CACHE_SECONDS=str(args.page_cache_seconds),
        CELERY_BROKER_URL=broker_url,
        EDGE_PURGE_URLS=varnish.purge_url,
        EDGE_PURGE_TOKEN=token,
    )
    os.environ.clear()
    os.environ.update(env)
    import django

    django.setup()
    from django.db import connections

    stack.callback(connections.close_all)
    return logs, port, env, varnish


def measure(args, stack: contextlib.ExitStack) -> int:
    wall = time.monotonic()
    logs, port, env, varnish = set_up(args, stack)
    from django.db import transaction

    from articles.models import Article

    published = Article.objects.published().order_by("-publish_at", "-id")
    count = published.count()
    if not count:
        raise SystemExit(f"{args.database} has no published articles: run bench/build.py first")
    article = published[count // 2]
    title = article.title
    stack.callback(Article.objects.filter(pk=article.pk).update, title=title)

    if not start_gunicorn(
        "gunicorn", env=env, port=port, workers=args.workers, logs=logs, stack=stack
    ):
        return 2
    worker = start_process(
        "worker",
        [sys.executable, "-m", "celery", "-A", "newsroom", "worker", "-Q", "default",
         "--concurrency", "1", "--without-gossip", "--without-mingle", "--loglevel", "INFO"],
        env={**env, "LOG_LEVEL": "INFO"},  # its " ready." line is what says it started
        logs=logs,
    )  # fmt: skip
    stack.callback(stop_process, worker)
    wait_for(
        lambda: b" ready." in (logs / "worker.log").read_bytes() or worker.poll() is not None,
        timeout=60,
        what="the Celery worker",
    )
    stack.callback(varnish.stop)
    varnish.start()
    static_root = logs / "static"
    static_root.mkdir()
    _, _, body = fetch(f"http://127.0.0.1:{port}{STATIC}")
    (static_root / STATIC_FILE).write_bytes(body)
    nginx = NginxServer(
        folder=logs / "nginx",
        upstream=f"127.0.0.1:{port}",
        static_root=static_root,
        workers=args.workers,
        access_log=False,
    )
    stack.callback(nginx.stop)
    nginx.start()

    page = Row("article", article.get_absolute_url(), mode="via Varnish")
    rows = [
        (varnish.url, page),
        (varnish.url, Row("static 20 KB", STATIC, mode="via Varnish")),
        (nginx.url, Row("static 20 KB", f"/static/{STATIC_FILE}", mode="nginx file")),
    ]
    for base_url, row in rows:
        for _ in range(3):  # the last two answered by the cache
            if problem := check(base_url, row, expect_size=0):
                print(f"{row.mode} {row.path}: {problem}; logs in {logs}")
                return 2
        _, headers, _ = fetch(base_url + row.path)
        row.cache = headers.get("X-Cache", "-").lower()
    print(
        f"Varnish in front of the site, {datetime.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}, "
        f"{platform.node()} ({os.cpu_count()} CPUs); {args.database}: {count} published "
        f"articles; gunicorn {args.workers} sync workers; wrk -t{args.threads} "
        f"-c{args.connections} -d{args.duration}s per row, on the same machine"
    )
    for base_url, row in rows:
        wrk(
            base_url + row.path,
            row,
            duration=args.duration,
            connections=args.connections,
            threads=args.threads,
        )
    static_rps = rows[1][1].rps or float("nan")
    print()
    header = "page | mode | bytes | cache | req/s | p50 ms | p99 ms | errors | ÷ static via Varnish"
    print(f"| {header} |")
    print("|---|---|---|---|---|---|---|---|---|")
    for _, row in rows:
        print(
            f"| {row.name} | {row.mode} | {row.size:,} | {row.cache} | {row.rps:,.0f} | "
            f"{row.p50_ms:.2f} | {row.p99_ms:.2f} | {row.errors} | {row.rps / static_rps:.1%} |"
        )

    # Purge-to-fresh: each edit's commit to the first answer through Varnish showing it.
    latencies = []
    for number in range(args.edits):
        fresh = f"{title} (edit {number})"
        with transaction.atomic():
            edited = Article.objects.get(pk=article.pk)
            edited.title = fresh
            edited.save()
        committed = time.monotonic()
        deadline = committed + 10
        while time.monotonic() < deadline:
            _, _, body = fetch(varnish.url + page.path)
            if fresh.encode() in body:
                break
            time.sleep(0.002)
        else:
            print(f"edit {number}: not fresh through Varnish after 10 s; logs in {logs}")
            return 1
        latencies.append(time.monotonic() - committed)
    ms = [value * 1000 for value in latencies]
    print()
    print("| purge-to-fresh | edits | p50 ms | p99 ms | max ms | mean ms |")
    print("|---|---|---|---|---|---|")
    print(
        f"| commit → first fresh answer via Varnish | {len(ms)} | {percentile(ms, 0.5):.0f} | "
        f"{percentile(ms, 0.99):.0f} | {max(ms):.0f} | {statistics.fmean(ms):.0f} |"
    )
    print()
    print(
        "cache: Varnish's X-Cache on a request after priming; ÷ static via Varnish: req/s "
        "against Varnish serving a 20 KB object it holds (target for the article ≥ 80 %); "
        "purge-to-fresh: from the edit's commit in this process (the page cache's bump, "
        "the purge task handed to the broker) until Varnish answers the article with the "
        "new headline (the worker's PURGE, then one render); polled every 2 ms"
    )
    print(f"wall time {time.monotonic() - wall:.0f} s")
    if any(row.errors or not row.requests for _, row in rows):
        print(f"errors: logs kept in {logs}")
        return 1
    shutil.rmtree(logs, ignore_errors=True)
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default="bench_pages", help="built by bench/build.py")
    parser.add_argument("--postgres", default="postgres://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379")
    parser.add_argument("--cache-db", type=int, default=12)
    parser.add_argument("--broker-db", type=int, default=11)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    parser.add_argument("--duration", type=int, default=10, help="seconds of wrk per row")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--edits", type=int, default=50, help="edits timed for purge-to-fresh")
    parser.add_argument("--page-cache-seconds", type=int, default=600)
    run_main(measure, parser.parse_args())


if __name__ == "__main__":
    main()
