"""Real parts on loopback that the tests and the benchmarks both start: an SMTP
server, nginx and Varnish with the documented configurations, a browser with its own cookies,
the environment of a process that shares a database, broker and SMTP server.

Never part of the product: the site's packages (``newsroom``, ``articles``,
``contact``) import nothing from here, nor from ``tests`` or ``bench``
(``tests/newsroom/test_import_graph.py``). Everything binds to 127.0.0.1 only,
and every wait is bounded.
"""

import socket
import time


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
