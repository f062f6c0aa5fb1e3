"""docs/nginx/newsroom.conf, rendered and run by a real nginx in front of the live site.

Every request goes over HTTP through nginx to the live server; the app side counts
what reaches it (``request_started``), so "served from the cache" means the app
never saw the request. The site's pages carry the page cache's headers
(``public, max-age=0, s-maxage=30`` here); tests/newsroom/nginx_urls.py also
answers with chosen Cache-Control values.
"""

import http.client
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from http.cookies import SimpleCookie
from types import SimpleNamespace
from urllib.parse import urlencode

import pytest
from django.core.signals import request_started

from harness import wait_for
from harness.nginx import NginxServer, nginx_binary
from harness.visitor import form_inputs
from newsroom.http import client_ip
from tests.factories import ArticleFactory
from tests.newsroom import nginx_urls
from tests.newsroom.nginx_urls import CASES, PUBLIC

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.urls("tests.newsroom.nginx_urls"),
]

KEPT = ["public-s-maxage", "public-max-age"]
# A well-formed token, as a browser that used a form has: a malformed one would be
# replaced with a Set-Cookie, which alone keeps an answer out of the cache.
CSRF_TOKEN = "a" * 32
NOT_KEPT = [case for case in CASES if case not in {*KEPT, "slow", "short", "validators"}]


@dataclass
class Reply:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    @property
    def cache(self) -> str | None:
        return self.headers.get("X-Cache-Status")

    def cookies(self) -> dict[str, str]:
        jar = SimpleCookie()
        for line in self.headers.get_all("Set-Cookie") or []:
            jar.load(line)
        return {name: morsel.value for name, morsel in jar.items()}


class AppRequests:
    """What reached the app behind nginx, in order: method, path and proxy headers."""

    def __init__(self) -> None:
        self.seen: list[SimpleNamespace] = []
        self.lock = threading.Lock()

    def __call__(self, sender, environ, **kwargs):
        seen = SimpleNamespace(
            method=environ["REQUEST_METHOD"],
            path=environ["PATH_INFO"],
            forwarded_for=environ.get("HTTP_X_FORWARDED_FOR"),
            forwarded_proto=environ.get("HTTP_X_FORWARDED_PROTO"),
            client_ip=client_ip(SimpleNamespace(META=environ)),
        )
        with self.lock:
            self.seen.append(seen)

    def count(self, path: str, method: str | None = None) -> int:
        with self.lock:
            return sum(
                1 for r in self.seen if r.path == path and (method is None or r.method == method)
            )


@pytest.fixture
def app_requests():
    recorder = AppRequests()
    request_started.connect(recorder, weak=False)
    yield recorder
    request_started.disconnect(recorder)


@pytest.fixture
def nginx(live_server, tmp_path, settings):
    """nginx with an empty cache in front of the live server, stopped afterwards."""
    # The s-maxage of the site's public pages, as nginx_urls.PUBLIC says.
    settings.PAGE_CACHE_PROXY_SECONDS = 30
    if nginx_binary() is None:
        reason = "nginx is not installed (apt-get install nginx)"
        if os.environ.get("REQUIRE_SERVICES") == "1":
            pytest.fail(f"REQUIRE_SERVICES=1 but {reason}")
        pytest.skip(reason)
    upstream = live_server.url.removeprefix("http://")
    server = NginxServer(folder=tmp_path / "nginx", upstream=upstream)
    try:
        server.start()
        yield server
    finally:
        server.stop()


def fetch(nginx, path, *, method="GET", headers=None, body=None) -> Reply:
    connection = http.client.HTTPConnection("127.0.0.1", nginx.port, timeout=20)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return Reply(response.status, response.headers, response.read())
    finally:
        connection.close()


@pytest.fixture
def article_path():
    return ArticleFactory().get_absolute_url()


def test_a_public_page_is_fetched_once_then_served_from_the_cache(
    nginx, app_requests, article_path
):
    first = fetch(nginx, article_path)
    assert first.status == 200
    assert first.headers["Cache-Control"] == PUBLIC
    assert first.cache == "MISS"
    for _ in range(3):
        again = fetch(nginx, article_path)
        assert (again.status, again.cache, again.body) == (200, "HIT", first.body)
    assert app_requests.count(article_path) == 1
    # HEAD is answered from the same entry.
    head = fetch(nginx, article_path, method="HEAD")
    assert (head.status, head.cache, head.body) == (200, "HIT", b"")
    assert app_requests.count(article_path) == 1


@pytest.mark.parametrize("case", KEPT)
def test_nginx_keeps_what_the_app_marks_public(nginx, app_requests, case):
    """s-maxage wins over max-age=0 (the page cache's header); a plain max-age works too."""
    path = f"/articles/_nginx/{case}/"
    assert fetch(nginx, path).cache == "MISS"
    assert fetch(nginx, path).cache == "HIT"
    assert app_requests.count(path) == 1


@pytest.mark.parametrize(
    "condition",
    [{"If-None-Match": '"v1"'}, {"If-Modified-Since": "Mon, 02 Nov 2026 10:00:00 GMT"}],
)
def test_nginx_answers_a_browser_revalidating_from_its_copy(nginx, app_requests, condition):
    """max-age=0 sends browsers back every time; nginx answers 304 without the app."""
    path = "/articles/_nginx/validators/"
    assert fetch(nginx, path).cache == "MISS"
    reply = fetch(nginx, path, headers=condition)
    assert (reply.status, reply.cache, reply.body) == (304, "HIT", b"")
    assert fetch(nginx, path, headers={"If-None-Match": '"v0"'}).status == 200
    assert app_requests.count(path) == 1


@pytest.mark.parametrize("case", NOT_KEPT)
def test_nginx_never_keeps_private_uncacheable_or_cookie_setting_answers(nginx, app_requests, case):
    path = f"/articles/_nginx/{case}/"
    for _ in range(3):
        reply = fetch(nginx, path)
        assert reply.status == 200
        assert reply.cache == "MISS"
    assert app_requests.count(path) == 3


def test_the_contact_pages_are_never_cached_and_their_session_bypasses_the_cache(
    nginx, app_requests, article_path, settings
):
    """The real step 1 over nginx: its form page and its POST always reach the app, and
    the session it starts keeps that browser out of the cache on every page."""
    settings.CONTACT_MIN_FORM_SECONDS = 0  # no 2 s wait for the bot check
    form = fetch(nginx, "/contact/")
    assert form.status == 200
    assert "no-store" in form.headers["Cache-Control"]
    assert "private" in form.headers["Cache-Control"]
    assert form.cache == "BYPASS"  # not a cached page: not even looked up
    csrf = form.cookies()["csrftoken"]
    # The cookie the form's fill-time token is bound to.
    binding = form.cookies()["contact_form"]
    assert fetch(nginx, "/contact/").cache == "BYPASS"
    assert app_requests.count("/contact/", "GET") == 2

    posted = fetch(
        nginx,
        "/contact/",
        method="POST",
        headers={
            "Cookie": f"csrftoken={csrf}; contact_form={binding}",
            "Content-Type": "application/x-www-form-urlencoded",
        },
        body=urlencode(
            {**form_inputs(form.body.decode()), "name": "Ada", "email": "ada@example.com"}
        ),
    )
    assert (posted.status, posted.headers["Location"]) == (302, "/contact/verify/")
    assert posted.cache != "HIT"
    session = posted.cookies()["sessionid"]

    with_session = {"Cookie": f"csrftoken={csrf}; sessionid={session}"}
    verify = fetch(nginx, "/contact/verify/", headers=with_session)
    assert (verify.status, verify.cache) == (200, "BYPASS")
    assert fetch(nginx, "/contact/verify/", headers=with_session).cache == "BYPASS"
    assert app_requests.count("/contact/verify/") == 2

    # A public page: the visitor with a session is passed through and fills nothing.
    assert fetch(nginx, article_path, headers=with_session).cache == "BYPASS"
    assert fetch(nginx, article_path).cache == "MISS"
    assert fetch(nginx, article_path).cache == "HIT"
    assert fetch(nginx, article_path, headers=with_session).cache == "BYPASS"
    assert app_requests.count(article_path) == 3


@pytest.mark.parametrize("path", ["/contact/", "/search/?q=budget", "/healthz", "/robots.txt"])
def test_only_the_public_pages_are_looked_up(nginx, app_requests, path):
    """Anything else passes straight through, so concurrent visitors of a page that is
    never cached do not wait for each other on the cache lock."""
    for _ in range(2):
        reply = fetch(nginx, path)
        assert (reply.status, reply.cache) == (200, "BYPASS")
    assert app_requests.count(path.partition("?")[0]) == 2


@pytest.mark.parametrize("cookie", ["newsroom_staff=1", "sessionid=anything"])
def test_staff_and_sessions_bypass_the_cache_and_never_fill_it(
    nginx, app_requests, article_path, cookie
):
    staff = {"Cookie": f"{cookie}; csrftoken={CSRF_TOKEN}"}
    first = fetch(nginx, article_path, headers=staff)
    assert (first.status, first.cache) == (200, "BYPASS")
    if cookie.startswith("sessionid"):
        # Public and free of Set-Cookie: only the bypass rule keeps it out of the cache.
        assert first.headers["Cache-Control"] == PUBLIC
        assert "Set-Cookie" not in first.headers
    # The anonymous visitor after them still misses: the staff answer was not stored.
    assert fetch(nginx, article_path).cache == "MISS"
    assert fetch(nginx, article_path).cache == "HIT"
    # Staff are never served the cached copy.
    assert fetch(nginx, article_path, headers=staff).cache == "BYPASS"
    assert app_requests.count(article_path) == 3


def test_post_is_passed_through_and_never_stored(nginx, app_requests):
    path = "/articles/_nginx/public-s-maxage/"
    for _ in range(2):
        reply = fetch(nginx, path, method="POST", body=b"x=1")
        assert reply.body == b"public-s-maxage answered a POST\n"
        assert reply.cache != "HIT"
    assert app_requests.count(path, "POST") == 2
    assert fetch(nginx, path).cache == "MISS"
    assert fetch(nginx, path).body == b"public-s-maxage answered a GET\n"
    assert app_requests.count(path, "GET") == 1


def test_a_spike_on_one_page_sends_one_request_upstream(nginx, app_requests):
    """proxy_cache_lock: while the first request renders a slow page, the others wait
    for its answer instead of asking the app too."""
    path = "/articles/_nginx/slow/"
    with ThreadPoolExecutor(max_workers=8) as pool:
        replies = list(pool.map(lambda _: fetch(nginx, path), range(8)))
    assert {reply.status for reply in replies} == {200}
    assert sorted(reply.cache for reply in replies) == ["HIT"] * 7 + ["MISS"]
    assert app_requests.count(path) == 1


def test_an_expired_page_is_served_stale_while_one_request_refreshes_it(
    nginx, app_requests, monkeypatch
):
    monkeypatch.setattr(nginx_urls, "short_answers", 0)  # the first answer: s-maxage=1
    path = "/articles/_nginx/short/"
    assert fetch(nginx, path).cache == "MISS"
    wait_for(lambda: fetch(nginx, path).cache == "STALE", timeout=5, interval=0.5, what="STALE")
    # The visitor had the stale copy at once; one request in the background refreshed it.
    wait_for(lambda: fetch(nginx, path).cache == "HIT", timeout=5, what="the refreshed copy")
    assert app_requests.count(path) == 2


def test_the_app_sees_the_client_address_and_scheme_nginx_saw(nginx, app_requests, settings):
    settings.CONTACT_TRUSTED_PROXY_COUNT = 1  # nginx alone in front
    fetch(nginx, "/healthz")
    # A client that forges its address and claims HTTPS over plain HTTP.
    fetch(
        nginx, "/healthz", headers={"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"}
    )
    plain, forged = [r for r in app_requests.seen if r.path == "/healthz"]
    assert (plain.forwarded_for, plain.forwarded_proto, plain.client_ip) == (
        "127.0.0.1",
        "http",
        "127.0.0.1",
    )
    # nginx appends what it saw and overwrites the scheme: the forged part is ignored.
    assert (forged.forwarded_for, forged.forwarded_proto, forged.client_ip) == (
        "203.0.113.9, 127.0.0.1",
        "http",
        "127.0.0.1",
    )


def test_static_files_and_metrics_never_reach_the_app(nginx, app_requests):
    static = nginx.static_root
    (static / "css").mkdir(parents=True)
    (static / "css" / "site.0123456789ab.css").write_text("body { color: black }\n")
    (static / "css" / "site.css").write_text("body { color: black }\n")

    hashed = fetch(nginx, "/static/css/site.0123456789ab.css")
    assert (hashed.status, hashed.body) == (200, b"body { color: black }\n")
    assert hashed.headers["Content-Type"] == "text/css"
    assert hashed.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    plain = fetch(nginx, "/static/css/site.css")
    assert plain.headers["Cache-Control"] == "public, max-age=300"
    assert fetch(nginx, "/static/css/missing.css").status == 404
    assert fetch(nginx, "/metrics").status == 404
    assert app_requests.seen == []
