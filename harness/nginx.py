"""nginx with the documented configuration (``docs/nginx/newsroom.conf``) on loopback."""

import os
import re
import shutil
import socket
import subprocess
from collections.abc import Sequence
from pathlib import Path

from harness import ServerProcess, free_port

BASE_DIR = Path(__file__).resolve().parents[1]
NGINX_CONF = BASE_DIR / "docs" / "nginx" / "newsroom.conf"
NGINX_BINARY = Path("/usr/sbin/nginx")


def nginx_binary() -> Path | None:
    """Debian's nginx, or one on PATH; None when neither is installed."""
    if NGINX_BINARY.exists():
        return NGINX_BINARY
    found = shutil.which("nginx")
    return Path(found) if found else None


def render_nginx_conf(*, upstream: str | Sequence[str], **values: str) -> str:
    """docs/nginx/newsroom.conf with its ``${NEWSROOM_…}`` placeholders filled in, as
    ``envsubst`` would fill them; a placeholder left over is an error.

    ``upstream`` is one web node (``host:port``) or several: the file's ``server``
    line of the upstream is written once per node, as its comment tells an operator
    to do.
    """
    text = NGINX_CONF.read_text()
    nodes = [upstream] if isinstance(upstream, str) else list(upstream)
    if not nodes:
        raise ValueError("no upstream web node")
    placeholder = "${NEWSROOM_UPSTREAM}"
    lines = []
    for line in text.splitlines(keepends=True):
        if placeholder in line:
            lines.extend(line.replace(placeholder, node) for node in nodes)
        else:
            lines.append(line)
    text = "".join(lines)
    for name, value in values.items():
        text = text.replace("${NEWSROOM_" + name.upper() + "}", str(value))
    left = sorted(set(re.findall(r"\$\{NEWSROOM_\w+\}", text)))
    if left:
        raise ValueError(f"placeholders not filled in: {', '.join(left)}")
    return text


class NginxServer(ServerProcess):
    """The documented nginx configuration, rendered into ``folder`` and run there with
    a wrapper of its own (pid, logs, temporary files in ``folder``), on a free
    loopback port, in front of ``upstream``: one web node (``host:port``) or a list
    of them, which nginx balances and skips while one fails.

    ``static_root`` defaults to an empty ``folder/static``; ``error.log`` and, unless
    ``access_log`` is off, ``access.log`` (with the cache status) stay in ``folder``.
    """

    def __init__(
        self,
        *,
        folder: Path,
        upstream: str | Sequence[str],
        static_root: Path | None = None,
        workers: int = 1,
        access_log: bool = True,
        micro_cache: bool = True,
    ):
        self.folder = folder
        self.upstream = upstream
        self.static_root = static_root or folder / "static"
        self.workers = workers
        self.access_log = access_log
        # False: nginx looks nothing up (a bench of the web nodes behind it). Not merely
        # pages marked s-maxage=0: proxy_cache_lock would still make concurrent
        # requests for one page wait for each other, up to proxy_cache_lock_timeout.
        self.micro_cache = micro_cache
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def write_conf(self) -> Path:
        for name in ("cache", "temp", "media", "static"):
            (self.folder / name).mkdir(parents=True, exist_ok=True)
        site = self.folder / "newsroom.conf"
        text = render_nginx_conf(
            listen=f"127.0.0.1:{self.port}",
            server_name="127.0.0.1 localhost",
            upstream=self.upstream,
            cache_dir=self.folder / "cache",
            static_root=self.static_root,
            media_root=self.folder / "media",
        )
        if not self.micro_cache:
            cache_on = "proxy_cache newsroom_pages;"
            if cache_on not in text:
                raise ValueError(f"no {cache_on!r} in the nginx conf to turn off")
            text = text.replace(cache_on, "proxy_cache off;")
        site.write_text(text)
        temp = self.folder / "temp"
        mime_types = Path("/etc/nginx/mime.types")
        access = (
            f'log_format cache \'$remote_addr "$request" $status $body_bytes_sent '
            f"$upstream_cache_status $request_time';\n"
            f"    access_log {self.folder / 'access.log'} cache;"
            if self.access_log
            else "access_log off;"
        )
        wrapper = self.folder / "nginx.conf"
        wrapper.write_text(
            # As root, nginx would hand its workers to "nobody", who cannot read
            # a private temporary folder.
            ("user root;\n" if os.geteuid() == 0 else "") + f"worker_processes {self.workers};\n"
            f"pid {self.folder / 'nginx.pid'};\n"
            f"error_log {self.folder / 'error.log'} warn;\n"
            "events { worker_connections 1024; }\n"
            "http {\n"
            + (f"    include {mime_types};\n" if mime_types.exists() else "")
            + "    default_type application/octet-stream;\n"
            "    sendfile on;\n"
            f"    {access}\n"
            f"    client_body_temp_path {temp / 'body'};\n"
            f"    proxy_temp_path {temp / 'proxy'};\n"
            f"    fastcgi_temp_path {temp / 'fastcgi'};\n"
            f"    uwsgi_temp_path {temp / 'uwsgi'};\n"
            f"    scgi_temp_path {temp / 'scgi'};\n"
            f"    include {site};\n"
            "}\n"
        )
        return wrapper

    def start(self, *, timeout: float = 10) -> "NginxServer":
        binary = nginx_binary()
        if binary is None:
            raise AssertionError("nginx is not installed (apt install nginx)")
        wrapper = self.write_conf()
        command = [
            str(binary), "-p", str(self.folder), "-e", str(self.folder / "error.log"),
            "-c", str(wrapper), "-g", "daemon off;",
        ]  # fmt: skip
        self._spawn(
            command,
            log_path=self.folder / "nginx.out",
            timeout=timeout,
            name="nginx",
            what=f"nginx on port {self.port}",
        )
        return self

    def answers(self) -> bool:
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
        except OSError:
            return False
        return True

    def stop(self, *, timeout: float = 10) -> None:
        """SIGTERM (nginx's fast shutdown), then SIGKILL to its whole group."""
        self._terminate(timeout=timeout)

    def log(self) -> str:
        parts = []
        for name in ("nginx.out", "error.log"):
            path = self.folder / name
            if path.exists():
                parts.append(path.read_text(errors="replace")[-3000:])
        return "\n".join(parts)
