"""What the bench scripts share: loopback-only guards, throwaway databases, processes.

Every bench starts its parts on 127.0.0.1 only and stops them at the end, also on
Ctrl-C, SIGTERM or an error (``run_main``).
"""

import contextlib
import os
import signal
import subprocess
import sys
import urllib.parse
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[1]
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def require_loopback(url: str) -> None:
    if urllib.parse.urlsplit(url).hostname not in LOOPBACK:
        raise SystemExit(f"{url}: this bench runs on loopback only")


def with_path(url: str, path: str) -> str:
    return urllib.parse.urlsplit(url)._replace(path=path).geturl()


def drop_database(admin_url: str, name: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def fresh_database(admin_url: str, name: str) -> str:
    """Drop and create database ``name`` on the server of ``admin_url``; return its URL."""
    import psycopg
    from psycopg import sql

    drop_database(admin_url, name)
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return with_path(admin_url, "/" + name)


def flush_redis(url: str) -> None:
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=3)
    try:
        client.flushdb()
    finally:
        client.close()


def start_process(name: str, command: list[str], *, env: dict, logs: Path) -> subprocess.Popen:
    """Start ``command`` with its output in ``logs/<name>.log``."""
    log = (logs / f"{name}.log").open("ab")
    # A session of its own: Ctrl-C reaches only the bench script, which stops the
    # process (and its children) in order.
    process = subprocess.Popen(  # noqa: S603 - fixed argv of our own programs
        command,
        cwd=BASE_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    log.close()
    return process


def stop_process(process: subprocess.Popen, *, timeout: float = 20) -> None:
    """SIGTERM, then SIGKILL to the whole process group if it does not exit in time."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout)


def run_main(run, args) -> None:
    """Call ``run(args, stack)`` and exit with its status; everything on the stack is undone.

    SIGTERM unwinds like Ctrl-C, so everything started is stopped.
    """
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    with contextlib.ExitStack() as stack:
        try:
            status = run(args, stack)
        except KeyboardInterrupt:
            print("interrupted; stopping everything")
            status = 130
    sys.exit(status)
