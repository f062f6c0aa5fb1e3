"""Cold pages per second through two web nodes against one, behind nginx, in one run.

Serves a database built by ``bench/build.py`` with two web nodes: two gunicorn
masters on ports of their own, each with ONE sync worker (so the comparison is about
the design, not the core count), ``DEBUG`` off, PostgreSQL, one Redis cache database
(flushed), the page cache off (``PAGE_CACHE_SECONDS=0``: every request renders,
"cold" as in ``bench/serve.py``). Two nginx with ``docs/nginx/newsroom.conf``, no
micro-cache (``proxy_cache off``: with it on, ``proxy_cache_lock`` would queue
concurrent requests for the one page, uncacheable or not): one with only node A in its
upstream, one with both. wrk drives the article page through each, in interleaved
rounds (one node, two nodes, one node, …), so drift on the machine hits both alike.

For each run it reads the CPU seconds each group of processes used (from
``/proc/<pid>/stat``, children included: gunicorn node A, node B, PostgreSQL,
Redis, nginx, wrk), so the report can say where the cores went and why two nodes
are not twice one.

    .venv/bin/python bench/build.py --articles 1000
    .venv/bin/python bench/nodes.py --duration 10 --rounds 2
"""

import argparse
import contextlib
import datetime
import os
import platform
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(BASE_DIR))

from bench.common import flush_redis, require_loopback, run_main, with_path  # noqa: E402
from bench.serve import Row, check, fetch, site_env, start_gunicorn, wrk  # noqa: E402
from harness import free_port  # noqa: E402
from harness.nginx import NginxServer, nginx_binary  # noqa: E402

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
GROUPS = ("node A", "node B", "postgres", "redis", "nginx", "wrk")


def cpu_seconds(pid: int) -> float:
    """User + system CPU of ``pid`` and its children that have exited, in seconds."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    # After the command: state is fields[0]; utime, stime, cutime, cstime are 11..14.
    return sum(int(value) for value in fields[11:15]) / CLOCK_TICKS


def descendants(pid: int) -> list[int]:
    """``pid`` and every process below it."""
    found, queue = [], [pid]
    while queue:
        current = queue.pop()
        found.append(current)
        with contextlib.suppress(OSError):
            for task in Path(f"/proc/{current}/task").iterdir():
                children = (task / "children").read_text().split()
                queue.extend(int(child) for child in children)
    return found


def pids_named(name: str) -> list[int]:
    """Processes whose command name is ``name`` (PostgreSQL's and Redis's server
    processes, which this script did not start)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if (entry / "comm").read_text().strip().startswith(name):
                    pids.append(int(entry.name))
    return pids


@dataclass
class Sample:
    layout: str
    row: Row
    cpu: dict[str, float] = field(default_factory=dict)


class CpuMeter:
    """CPU seconds per process group between ``start()`` and ``stop()``."""

    def __init__(self, roots: dict[str, int]):
        self.roots = roots  # group -> the pid of its top process (gunicorn masters, nginx)

    def read(self) -> dict[str, float]:
        groups = {name: descendants(pid) for name, pid in self.roots.items()}
        groups["postgres"] = pids_named("postgres")
        groups["redis"] = pids_named("redis-server")
        return {name: sum(cpu_seconds(pid) for pid in pids) for name, pids in groups.items()}


def run_wrk(url: str, row: Row, args, meter: CpuMeter, nginx_pid: int) -> dict[str, float]:
    """wrk on ``url``; the CPU each group used meanwhile (wrk's own from its rusage)."""
    before = meter.read()
    nginx_before = sum(cpu_seconds(pid) for pid in descendants(nginx_pid))
    usage_before = os.times()
    wrk(url + row.path, row, duration=args.duration, connections=args.connections, threads=2)
    usage_after = os.times()
    after = meter.read()
    cpu = {name: after[name] - before.get(name, 0.0) for name in after}
    cpu["nginx"] = sum(cpu_seconds(pid) for pid in descendants(nginx_pid)) - nginx_before
    # wrk is this process's child that has exited: its CPU is in children_user/system.
    cpu["wrk"] = (usage_after.children_user + usage_after.children_system) - (
        usage_before.children_user + usage_before.children_system
    )
    return cpu


def run(args: argparse.Namespace, stack: contextlib.ExitStack) -> int:
    for url in (args.postgres, args.redis):
        require_loopback(url)
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed (Debian: apt-get install wrk)")
    if nginx_binary() is None:
        raise SystemExit("nginx is not installed (Debian: apt-get install nginx)")
    wall = time.monotonic()
    database_url = with_path(args.postgres, "/" + args.database)
    cache_url = with_path(args.redis, f"/{args.cache_db}")
    flush_redis(cache_url)
    stack.callback(flush_redis, cache_url)
    logs = Path(tempfile.mkdtemp(prefix="bench-nodes-"))
    ports = {"node A": free_port(), "node B": free_port()}
    env = site_env(
        database_url=database_url,
        cache_url=cache_url,
        base_url=f"http://127.0.0.1:{ports['node A']}",
        logs=logs,
    )
    env["PAGE_CACHE_PROXY_SECONDS"] = "0"  # nginx keeps nothing: every request reaches a node
    masters = {}
    for name, port in ports.items():
        node_env = {**env, "NODE_NAME": name.replace(" ", "-").lower()}
        process = start_gunicorn(
            name.replace(" ", "-"), env=node_env, port=port, workers=1, logs=logs, stack=stack
        )
        if process is None:
            return 2
        masters[name] = process.pid
    nginxes = {}
    for layout, nodes in (("one node", ["node A"]), ("two nodes", ["node A", "node B"])):
        folder = logs / f"nginx-{len(nodes)}"
        nginx = NginxServer(
            folder=folder,
            upstream=[f"127.0.0.1:{ports[node]}" for node in nodes],
            workers=1,
            access_log=False,
            micro_cache=False,
        )
        stack.callback(nginx.stop)
        nginxes[layout] = nginx.start()

    article = fetch_article_path(f"http://127.0.0.1:{ports['node A']}")
    if article is None:
        print(f"{args.database} has no published article: run bench/build.py first")
        return 2
    template = Row("article", article)
    for nginx in nginxes.values():
        for _ in range(4):  # each node loads its code and opens its connections
            if problem := check(nginx.url, template, expect_size=template.size):
                print(f"{article}: {problem}; logs in {logs}")
                return 2

    meter = CpuMeter(masters)
    samples: list[Sample] = []
    for _ in range(args.rounds):
        for layout, nginx in nginxes.items():
            row = Row(template.name, template.path, mode=layout)
            row.size, row.reply_bytes = template.size, template.reply_bytes
            cpu = run_wrk(nginx.url, row, args, meter, nginx.process.pid)
            samples.append(Sample(layout, row, cpu))
            time.sleep(1)  # what wrk left queued is answered before the next run

    report(args, samples, wall=wall)
    shutil.rmtree(logs, ignore_errors=True)
    return 1 if any(s.row.errors or not s.row.requests for s in samples) else 0


def fetch_article_path(base_url: str) -> str | None:
    """The address of a published story in the middle of the archive."""
    status, _, body = fetch(base_url + "/sitemap.xml")
    if status != 200:
        return None
    text = body.decode(errors="replace")
    paths = [
        "/articles/" + part.split("</loc>")[0].split("/articles/", 1)[1]
        for part in text.split("<loc>")[1:]
        if "/articles/" in part.split("</loc>")[0]
    ]
    return paths[len(paths) // 2] if paths else None


def report(args, samples: list[Sample], *, wall: float) -> None:
    print(
        f"cold article page through nginx, one web node vs two, "
        f"{datetime.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}, {platform.node()} "
        f"({os.cpu_count()} CPUs), Python {platform.python_version()}"
    )
    print(
        f"{args.database}; each node gunicorn with 1 sync worker (DEBUG off, "
        "PAGE_CACHE_SECONDS=0), one nginx worker, no nginx cache; PostgreSQL, Redis cache "
        f"db {args.cache_db}; wrk -t2 -c{args.connections} -d{args.duration}s per run, "
        f"{args.rounds} interleaved rounds, on the same machine"
    )
    print()
    header = ["round", "layout", "req/s", "p50 ms", "p99 ms", "errors"]
    header += [f"CPU s {group}" for group in GROUPS] + ["CPU s total", "÷ one node"]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    one = {}
    for n, sample in enumerate(samples):
        round_ = n // 2 + 1
        if sample.layout == "one node":
            one[round_] = sample.row.rps
        ratio = sample.row.rps / one[round_] if one.get(round_) else float("nan")
        cells = [
            str(round_), sample.layout, f"{sample.row.rps:,.0f}", f"{sample.row.p50_ms:.1f}",
            f"{sample.row.p99_ms:.1f}", str(sample.row.errors),
        ]  # fmt: skip
        cells += [f"{sample.cpu.get(group, 0.0):.1f}" for group in GROUPS]
        cells += [f"{sum(sample.cpu.values()):.1f}", f"{ratio:.2f}x"]
        print("| " + " | ".join(cells) + " |")
    print()
    by_layout = {
        layout: [s.row.rps for s in samples if s.layout == layout]
        for layout in ("one node", "two nodes")
    }
    mean = {layout: sum(v) / len(v) for layout, v in by_layout.items() if v}
    if len(mean) == 2 and mean["one node"]:
        ratio = mean["two nodes"] / mean["one node"]
        print(f"two nodes ÷ one node, mean of the rounds: {ratio:.2f}x (target: 1.5x or more)")
    print(
        "CPU s: user + system seconds each group used during the run (/proc/<pid>/stat, "
        "the gunicorn master and its worker; PostgreSQL and Redis: every server process "
        "on the machine, so other load shows there too; wrk: its own rusage). With "
        f"{os.cpu_count()} CPUs a run of {args.duration} s has {os.cpu_count() * args.duration} "
        "CPU seconds: what the nodes did not get went to the other groups."
    )
    print(f"wall time {time.monotonic() - wall:.0f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default="bench_pages", help="built by bench/build.py")
    parser.add_argument("--postgres", default="postgres://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379")
    parser.add_argument("--cache-db", type=int, default=12)
    parser.add_argument("--duration", type=int, default=10, help="seconds of wrk per run")
    parser.add_argument("--rounds", type=int, default=2, help="one node, two nodes, … rounds")
    parser.add_argument("--connections", type=int, default=16)
    run_main(run, parser.parse_args())


if __name__ == "__main__":
    main()
