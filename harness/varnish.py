"""Varnish with the documented VCL (``docs/varnish/newsroom.vcl``) on loopback."""

import re
import shutil
import socket
import subprocess
from pathlib import Path

from harness import ServerProcess, free_port

BASE_DIR = Path(__file__).resolve().parents[1]
VCL = BASE_DIR / "docs" / "varnish" / "newsroom.vcl"
VARNISHD = Path("/usr/sbin/varnishd")
XKEY_VMOD = "libvmod_xkey.so"


def varnishd_binary() -> Path | None:
    """Debian's varnishd, or one on PATH; None when neither is installed."""
    if VARNISHD.exists():
        return VARNISHD
    found = shutil.which("varnishd")
    return Path(found) if found else None


def render_vcl(**values: str) -> str:
    """docs/varnish/newsroom.vcl with its ``${NEWSROOM_…}`` placeholders filled in, as
    ``envsubst`` would fill them; a placeholder left over is an error."""
    text = VCL.read_text()
    for name, value in values.items():
        text = text.replace("${NEWSROOM_" + name.upper() + "}", str(value))
    left = sorted(set(re.findall(r"\$\{NEWSROOM_\w+\}", text)))
    if left:
        raise ValueError(f"placeholders not filled in: {', '.join(left)}")
    return text


class VarnishServer(ServerProcess):
    """``varnishd -F`` with the documented VCL, rendered into ``folder``, in front of
    ``backend`` (``host:port``), on a free loopback port (or ``port``), with its own
    working directory (``-n``) and a malloc store: stopping it empties its cache.

    Purges are taken from ``purgers`` (VCL ACL entries) with ``token``.
    """

    def __init__(
        self,
        *,
        folder: Path,
        backend: str,
        token: str,
        purgers: str = '"127.0.0.1";',
        port: int | None = None,
        threads: int | None = None,
    ):
        if not re.fullmatch(r"[A-Za-z0-9_\-]+", token):
            raise ValueError("the purge token goes into a VCL string: letters, digits, - and _")
        self.folder = folder
        self.backend = backend
        self.token = token
        self.purgers = purgers
        self.port = port or free_port()
        self.threads = threads
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def purge_url(self) -> str:
        return self.url + "/"

    def write_vcl(self) -> Path:
        self.folder.mkdir(parents=True, exist_ok=True)
        host, _, port = self.backend.rpartition(":")
        path = self.folder / "newsroom.vcl"
        path.write_text(
            render_vcl(
                backend_host=host,
                backend_port=port,
                purge_token=self.token,
                purgers=self.purgers,
            )
        )
        return path

    def start(self, *, timeout: float = 20) -> "VarnishServer":
        binary = varnishd_binary()
        if binary is None:
            raise AssertionError("varnishd is not installed (apt-get install varnish)")
        vcl = self.write_vcl()
        work = self.folder / "work"
        shutil.rmtree(work, ignore_errors=True)
        command = [
            str(binary), "-F", "-n", str(work), "-f", str(vcl),
            "-a", f"127.0.0.1:{self.port}",
            # No management port: nothing of ours talks to it, and none is left open.
            "-T", "none",
            # One user for every process: its working directory is ours, not Varnish's.
            "-j", "none",
            "-s", "malloc,64m",
            # Thread pools sized for a test, not a server; a bench asks for more.
            "-p", "thread_pools=1",
            "-p", f"thread_pool_min={self.threads or 10}",
            "-p", f"thread_pool_max={max(self.threads or 0, 200)}",
        ]  # fmt: skip
        self._spawn(
            command,
            log_path=self.folder / "varnishd.log",
            timeout=timeout,
            name="varnishd",
            what=f"varnishd on port {self.port}",
        )
        return self

    def answers(self) -> bool:
        """An HTTP answer from Varnish itself (its child runs and the VCL is loaded)."""
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                sock.sendall(b"PURGE / HTTP/1.1\r\nHost: varnish\r\nConnection: close\r\n\r\n")
                return sock.recv(16).startswith(b"HTTP/1.")
        except OSError:
            return False

    def stop(self, *, timeout: float = 10) -> None:
        """SIGTERM (varnishd stops its child and exits), then SIGKILL to its group."""
        self._terminate(timeout=timeout)
        shutil.rmtree(self.folder / "work", ignore_errors=True)

    def log(self) -> str:
        path = self.folder / "varnishd.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""
