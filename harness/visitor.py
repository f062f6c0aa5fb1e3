"""A browser with its own cookies, and the forms it posts."""

import http.cookiejar
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from html.parser import HTMLParser


class FormInputs(HTMLParser):
    """The named inputs of the first POST form on a page, with their values."""

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[str, str] = {}
        self._in_form = self._done = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and (attrs.get("method") or "").lower() == "post" and not self._done:
            self._in_form = True
        elif tag == "input" and self._in_form and attrs.get("name"):
            self.values[attrs["name"]] = attrs.get("value") or ""

    def handle_endtag(self, tag):
        if tag == "form" and self._in_form:
            self._in_form, self._done = False, True


def form_inputs(html: str) -> dict[str, str]:
    """What a browser would post from the page's form: its hidden inputs kept."""
    parser = FormInputs()
    parser.feed(html)
    return parser.values


@dataclass
class Answer:
    status: int
    headers: dict
    text: str

    @property
    def location(self) -> str:
        return self.headers.get("Location", "")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a redirect is an answer: the tests check where it goes


class Visitor:
    """A browser with its own cookies, speaking to a site on loopback.

    Requests say they came through the TLS proxy (``X-Forwarded-Proto: https``), so
    a site with production settings sets and takes its Secure cookies.
    """

    def __init__(self, base_url: str, *, client_ip: str | None = None):
        self.base_url = base_url
        self.origin = "https://" + urllib.parse.urlsplit(base_url).netloc
        self.client_ip = client_ip
        policy = http.cookiejar.DefaultCookiePolicy(secure_protocols=("https", "http"))
        self._opener = urllib.request.build_opener(
            urllib.request.ProxyHandler({}),  # never an http_proxy from the environment
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar(policy)),
            _NoRedirect(),
        )

    def request(
        self, path: str, *, data: dict | None = None, method: str | None = None, timeout=30
    ) -> Answer:
        headers = {"X-Forwarded-Proto": "https"}
        if self.client_ip:
            headers["X-Forwarded-For"] = self.client_ip
        body = None
        if data is not None:
            body = urllib.parse.urlencode(data).encode()
            headers.update(Origin=self.origin, Referer=self.origin + path)
        request = urllib.request.Request(  # noqa: S310 - a loopback http URL of the test's
            self.base_url + path, data=body, headers=headers, method=method
        )
        try:
            with self._opener.open(request, timeout=timeout) as response:
                status, reply, content = response.status, response.headers, response.read()
        except urllib.error.HTTPError as exc:
            status, reply, content = exc.code, exc.headers, exc.read()
        return Answer(status, dict(reply.items()), content.decode(errors="replace"))

    def get(self, path: str) -> Answer:
        return self.request(path)

    def post_form(self, path: str, **fields) -> Answer:
        """Post ``fields`` with the hidden inputs of the form ``path`` serves now."""
        return self.submit(path, self.get(path).text, **fields)

    def submit(self, path: str, page: str, **fields) -> Answer:
        """Post ``fields`` with the hidden inputs of ``page``, a form fetched earlier."""
        return self.request(path, data={**form_inputs(page), **fields})
