"""Real parts on loopback that the tests and the benchmarks both start: an SMTP
server, nginx and Varnish with the documented configurations, a browser with its own cookies,
the environment of a process that shares a database, broker and SMTP server.

Never part of the product: the site's packages (``newsroom``, ``articles``,
``contact``) import nothing from here, nor from ``tests`` or ``bench``
(``tests/newsroom/test_import_graph.py``). Everything binds to 127.0.0.1 only,
and every wait is bounded.
"""

import os
import signal
import socket
import subprocess
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


class ServerProcess:
    """What nginx and Varnish, as the tests and benchmarks run them, have in common: a
    process in a session of its own (Ctrl-C in a bench reaches only the script, which
    stops it in order), its output in a log, ready once ``answers()``, stopped with
    SIGTERM and then SIGKILL to its whole group.

    A subclass has ``answers()``, ``log()`` and ``stop()``, and calls ``_spawn`` and
    ``_terminate``.
    """

    process: subprocess.Popen | None = None

    def _spawn(self, command, *, log_path, timeout: float, name: str, what: str) -> None:
        self._log = log_path.open("ab")
        self.process = subprocess.Popen(  # noqa: S603 - a fixed argv on loopback
            command, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
        )
        wait_for(
            lambda: self.answers() or self.process.poll() is not None, timeout=timeout, what=what
        )
        if self.process.poll() is not None:
            self.stop()
            raise AssertionError(f"{name} exited at start:\n{self.log()}")

    def _terminate(self, *, timeout: float) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout)
        if self.process:
            self._log.close()
        self.process = None
