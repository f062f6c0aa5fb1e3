"""Redis goes down under visitors, in the production layouts the README describes.

Real processes throughout: the Procfile's web (gunicorn, DEBUG off), worker and beat
on the PostgreSQL test database, a ``redis-server`` of the test's own that it
stops and starts again (empty, as a Redis without persistence comes back), and
the loopback SMTP server. Visitors keep reading and writing through the outage;
no answer may be a 5xx, no code mail or message may be lost or sent twice, and
the site must come back to full service by itself.

- One Redis: the cache on db 0 and the broker on db 1 of the same server.
- Two Redis: the cache and the broker on servers of their own, each stopped alone.

``OUTAGE_SECONDS`` (12 unless ``FAULT_OUTAGE_SECONDS`` says otherwise) is how long
each outage lasts while visitors keep coming: more than two of the page cache's
5 s retry periods (``CacheHealth``) and of its watcher's re-checks.
"""

import json
import os
import time
from contextlib import ExitStack
from dataclasses import dataclass, field

import pytest

from contact.models import Delivery, Message, Verification
from harness import wait_for
from harness.visitor import Visitor
from tests.conftest import INTEGRATION_RECIPIENT, need_postgres_and_redis
from tests.factories import ArticleFactory, RelatedLinkFactory, TopicFactory
from tests.layouts import Stack
from tests.services import RedisServer

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.faults]

OUTAGE_SECONDS = float(os.environ.get("FAULT_OUTAGE_SECONDS", "12"))
# The contact form refuses a submit faster than a person (CONTACT_MIN_FORM_SECONDS).
FORM_WAIT = 1.2
PUBLIC_PAGES = (
    "/",
    "/articles/lead/",
    "/articles/other/",
    "/topics/harbour/",
    "/search/?q=ferry",
    "/feed/",
    "/sitemap.xml",
    "/robots.txt",
)
# A visitor who sends one request after another from one address: the per-address
# limit must still refuse them during the outage.
FLOOD_IP = "192.0.2.250"
IP_LIMIT = 6


@dataclass(eq=False)
class Journey:
    """One visitor's way through the contact flow, step by step."""

    stack: Stack
    email: str
    ip: str
    visitor: Visitor = field(init=False)
    code: str | None = None

    def __post_init__(self):
        self.visitor = Visitor(self.stack.url, client_ip=self.ip)

    def open_form(self) -> str:
        return self.visitor.get("/contact/").text

    def identify(self, form: str):
        return self.visitor.submit("/contact/", form, name="Reader", email=self.email, website="")

    def verify(self, code: str):
        return self.visitor.post_form("/contact/verify/", code=code)

    def write(self, subject: str):
        return self.visitor.post_form(
            "/contact/message/", subject=subject, message="Is the ferry running?"
        )


def no_server_error(answer, what: str):
    assert answer.status < 500, f"{what}: HTTP {answer.status}\n{answer.text[-1500:]}"
    return answer


@pytest.fixture
def content():
    topic = TopicFactory(name="Harbour", slug="harbour")
    lead = ArticleFactory(slug="lead", title="Ferry timetable stays the same", topics=[topic])
    other = ArticleFactory(slug="other", title="Quay walls repaired", topics=[topic])
    RelatedLinkFactory(article=other, target_article=lead, position=0)


@pytest.fixture
def redis_servers(tmp_path):
    need_postgres_and_redis()
    with ExitStack() as stack:

        def start(name: str) -> RedisServer:
            folder = tmp_path / name
            folder.mkdir()
            server = RedisServer(folder=folder).start()
            stack.callback(server.stop)
            return server

        yield start


@pytest.fixture
def make_stack(tmp_path, smtp, content):
    stacks = []

    def make(*, cache_url: str, broker_url: str) -> Stack:
        stack = Stack(
            tmp_path,
            cache_url=cache_url,
            broker_url=broker_url,
            smtp_port=smtp.port,
            CONTACT_VERIFICATIONS_PER_IP_PER_HOUR=IP_LIMIT,
        )
        stacks.append(stack)
        return stack.start()

    yield make
    for stack in stacks:
        stack.stop()


def read_everything(stack: Stack) -> None:
    for path in PUBLIC_PAGES:
        answer = no_server_error(Visitor(stack.url).get(path), path)
        assert answer.status == 200, (path, answer.status)
    article = Visitor(stack.url).get("/articles/other/").text
    assert "Ferry timetable stays the same" in article  # the related card


def readiness(stack: Stack) -> tuple[int, dict]:
    answer = Visitor(stack.url).get("/readyz")
    return answer.status, json.loads(answer.text)


def outage(stack: Stack, smtp, server: RedisServer, *, parts: set[str], tag: str) -> None:
    """Stop ``server`` for OUTAGE_SECONDS under visitors, start it again, check the outcome.

    ``parts`` are what /readyz must name while it is down: "cache", "broker" or both.
    """
    broker_down = "broker" in parts
    # Two visitors in the middle of the flow when Redis goes: one has a code to type,
    # one is writing their message.
    typing = Journey(stack, f"typing-{tag}@example.com", "203.0.113.1")
    writing = Journey(stack, f"writing-{tag}@example.com", "203.0.113.2")
    forms = {journey: journey.open_form() for journey in (typing, writing)}
    time.sleep(FORM_WAIT)
    for journey in (typing, writing):
        assert journey.identify(forms[journey]).location == "/contact/verify/"
        journey.code = smtp.code_for(journey.email, timeout=30)
    assert writing.verify(writing.code).location == "/contact/message/"
    for _ in range(3):
        read_everything(stack)  # stored in the page cache

    server.stop()
    stopped = time.monotonic()

    # Visitors who start during the outage, each from an address of their own.
    newcomers = [
        Journey(stack, f"new{n}-{tag}@example.com", f"198.51.100.{n + 1}") for n in range(4)
    ]
    forms = {journey: journey.open_form() for journey in newcomers}
    time.sleep(FORM_WAIT)
    for journey in newcomers:
        answer = no_server_error(journey.identify(forms[journey]), "step 1")
        assert answer.location == "/contact/verify/"
        page = no_server_error(journey.visitor.get("/contact/verify/"), "step 2 page")
        assert page.status == 200
        if broker_down:
            assert "may take a few minutes" in page.text
    if not broker_down:  # with the broker up, a cache outage delays no mail
        for journey in newcomers:
            smtp.wait_for_mail(journey.email, timeout=20)

    # The visitors in the middle carry on.
    assert no_server_error(typing.verify(typing.code), "step 2").location == "/contact/message/"
    sent = no_server_error(writing.write(f"Written during the outage {tag}"), "step 3")
    assert sent.location == "/contact/thanks/"
    assert "Thank you" in writing.visitor.get("/contact/thanks/").text

    # The per-address limit still refuses a flood.
    flood = [Journey(stack, f"flood{n}-{tag}@example.com", FLOOD_IP) for n in range(IP_LIMIT + 3)]
    forms = {journey: journey.open_form() for journey in flood}
    time.sleep(FORM_WAIT)
    statuses = [no_server_error(j.identify(forms[j]), "flood").status for j in flood]
    assert statuses.count(302) <= IP_LIMIT
    assert statuses[-3:] == [429, 429, 429]

    status, parts_state = readiness(stack)
    assert status == 503
    assert {name for name, state in parts_state.items() if state != "ok"} == parts
    assert Visitor(stack.url).get("/healthz").status == 200

    # Readers keep reading for the rest of the outage.
    while time.monotonic() - stopped < OUTAGE_SECONDS:
        read_everything(stack)
        time.sleep(0.5)

    server.start()  # the same port, empty

    # Every step 1 of the outage gets its code, once; everyone finishes the flow.
    for journey in newcomers:
        journey.code = smtp.code_for(journey.email, timeout=60)
    typing_sent = typing.write(f"Finished after the outage {tag}")
    assert typing_sent.location == "/contact/thanks/"
    for n, journey in enumerate(newcomers):
        assert journey.verify(journey.code).location == "/contact/message/"
        assert journey.write(f"Newcomer {n} {tag}").location == "/contact/thanks/"
    subjects = [f"Written during the outage {tag}", f"Finished after the outage {tag}"] + [
        f"Newcomer {n} {tag}" for n in range(len(newcomers))
    ]
    wait_for(
        lambda: all(
            any(subject in str(mail["Subject"]) for mail in smtp.to(INTEGRATION_RECIPIENT))
            for subject in subjects
        ),
        timeout=60,
        what="the editors' notification of every message",
    )
    wait_for(
        lambda: (
            not Verification.objects.filter(
                email__endswith=f"-{tag}@example.com", delivery_state=Delivery.QUEUED
            ).exists()
            and not Message.objects.filter(delivery_state=Delivery.QUEUED).exists()
        ),
        timeout=30,
        what="every mail recorded as sent",
    )
    time.sleep(3 * 2)  # a few more sweeps: nothing may be sent twice
    for journey in [typing, writing, *newcomers]:
        assert len(smtp.to(journey.email)) == 1, journey.email
    for subject in subjects:
        notes = [m for m in smtp.to(INTEGRATION_RECIPIENT) if subject in str(m["Subject"])]
        assert len(notes) == 1, subject

    # Full service again, without anyone restarting anything.
    wait_for(lambda: readiness(stack)[0] == 200, timeout=30, what="/readyz to be 200 again")
    wait_for(
        lambda: Visitor(stack.url).get("/topics/harbour/").headers.get("X-Page-Cache") == "hit",
        timeout=30,
        what="the page cache to serve hits again",
    )
    assert all(stack.alive().values()), stack.logs()


def test_one_redis_for_cache_and_broker_goes_down(redis_servers, make_stack, smtp):
    server = redis_servers("both")
    stack = make_stack(cache_url=server.url, broker_url=server.url.removesuffix("/0") + "/1")
    outage(stack, smtp, server, parts={"cache", "broker"}, tag="one")


def test_two_redis_each_goes_down_alone(redis_servers, make_stack, smtp):
    cache_server, broker_server = redis_servers("cache"), redis_servers("broker")
    stack = make_stack(cache_url=cache_server.url, broker_url=broker_server.url)
    outage(stack, smtp, cache_server, parts={"cache"}, tag="cache")
    outage(stack, smtp, broker_server, parts={"broker"}, tag="broker")
