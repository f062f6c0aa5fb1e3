"""HEAD requests: the headers of a GET and no body, so gunicorn has nothing to drop."""

import http.client
import io
import subprocess
import sys
from wsgiref.util import setup_testing_defaults

import pytest
from django.core.wsgi import get_wsgi_application

from articles import demo_content as demo
from harness import free_port, wait_for
from tests.factories import ArticleFactory
from tests.services import BASE_DIR, embedded_env, manage, stop_process

PATHS = [
    "/",
    f"/articles/{demo.load().lead}/",
    "/feed/",
    "/sitemap.xml",
    "/sitemap-news.xml",
    "/robots.txt",
]


def wsgi(method: str, path: str) -> tuple[str, dict[str, str], bytes]:
    """One request through the WSGI application, as a server makes it."""
    environ = {"REQUEST_METHOD": method, "PATH_INFO": path, "wsgi.input": io.BytesIO()}
    setup_testing_defaults(environ)
    answer = {}

    def start_response(status, headers, exc_info=None):
        answer.update(status=status, headers=dict(headers))

    result = get_wsgi_application()(environ, start_response)
    try:
        body = b"".join(result)
    finally:
        result.close()
    return answer["status"], answer["headers"], body


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/", "/articles/story/", "/feed/", "/no/such/page/"])
def test_head_sends_the_headers_of_get_and_no_body(path, settings):
    settings.PAGE_CACHE_SECONDS = 0  # both requests render
    ArticleFactory(slug="story")

    get_status, get_headers, get_body = wsgi("GET", path)
    head_status, head_headers, head_body = wsgi("HEAD", path)

    assert get_body
    assert head_body == b""
    assert head_status == get_status
    assert head_headers["Content-Length"] == get_headers["Content-Length"] == str(len(get_body))
    assert head_headers["Content-Type"] == get_headers["Content-Type"]


@pytest.fixture
def gunicorn(embedded_var, tmp_path):
    """gunicorn as the Procfile's ``web`` line starts it, on the demo site on SQLite."""
    env = embedded_env(embedded_var)
    manage("load_demo", env=env)
    port = free_port()
    log = (tmp_path / "gunicorn.log").open("w+")
    process = subprocess.Popen(  # noqa: S603 - fixed argv on loopback
        [
            sys.executable, "-m", "gunicorn", "newsroom.wsgi",
            "--bind", f"127.0.0.1:{port}", "--workers", "2",
            # The control socket's default path is one per user: a make run elsewhere on
            # this machine holds it.
            "--no-control-socket",
        ],
        cwd=BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip

    def answers():
        if process.poll() is not None:
            raise AssertionError(f"gunicorn exited:\n{log_text()}")
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        try:
            connection.request("GET", "/healthz")
            return connection.getresponse().status == 200
        except OSError:
            return False
        finally:
            connection.close()

    def log_text() -> str:
        log.flush()
        return (tmp_path / "gunicorn.log").read_text(errors="replace")

    wait_for(answers, timeout=30, what="gunicorn to answer")
    yield port, log_text
    stop_process(process, timeout=10)
    log.close()


def test_head_requests_make_gunicorn_log_no_warning(gunicorn):
    port, log_text = gunicorn

    for path in PATHS * 2:  # the second time from the page cache
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        connection.request("HEAD", path)
        response = connection.getresponse()
        assert response.status == 200, path
        assert response.read() == b""
        connection.close()

    def logged_every_request():
        return log_text().count(" HEAD ") >= len(PATHS) * 2

    wait_for(logged_every_request, timeout=10, what="the request log lines")
    problems = [line for line in log_text().splitlines() if " WARNING " in line or "ERROR" in line]
    assert not problems, log_text()
