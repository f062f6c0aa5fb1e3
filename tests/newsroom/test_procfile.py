"""``make run``'s worker and beat start on the embedded defaults without a warning.

A developer reads warnings at every start as something to fix; ones that ask
for nothing teach them to ignore the ones that matter.
"""

import os
import re
import signal
import subprocess
import time

import pytest

from harness import wait_for
from tests.services import BASE_DIR, embedded_env


@pytest.fixture
def honcho(embedded_var, tmp_path):
    """``honcho start worker beat``: the Procfile's lines, run as ``make run`` runs them."""
    log_path = tmp_path / "honcho.log"
    log = log_path.open("w")
    process = subprocess.Popen(
        ["honcho", "start", "worker", "beat"],  # noqa: S607 - from this virtualenv, on PATH
        cwd=BASE_DIR,
        env=embedded_env(embedded_var),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # so that the whole group can be stopped
    )

    def output() -> str:
        log.flush()
        return log_path.read_text(errors="replace")

    yield process, output
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)
    log.close()


def test_worker_and_beat_start_and_stop_without_a_warning(honcho):
    process, output = honcho

    wait_for(
        lambda: (" ready." in output() and "beat: Starting" in output()) or process.poll(),
        timeout=60,
        what="the worker and beat to start",
    )
    assert process.poll() is None, output()
    time.sleep(3)  # a warning may come after the banner: the first connections, a tick
    os.killpg(process.pid, signal.SIGTERM)
    process.wait(30)

    text = output()
    assert "filesystem://" in text  # the embedded broker, not a Redis from the environment
    warnings = [line for line in text.splitlines() if re.search(r"warn", line, re.IGNORECASE)]
    assert not warnings, text
