"""`make run`'s layout, as a new user gets it: no environment set, the Procfile's web line
with its two gunicorn workers, the Celery worker and beat as separate processes.

Every promise of the page cache and the contact limits must hold across those
processes exactly as on Redis: an edit made in any process is what every worker
serves next, a scheduled story appears on every worker at its time, a limit hit
through one worker holds on the other. The site here is real processes on a
SQLite file under a temporary VAR_DIR; the tests edit it from other processes
(``manage.py shell``) and read it over HTTP.
"""

import email
import email.policy
import re
import textwrap
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from harness import wait_for
from harness.visitor import Visitor
from tests.services import ProcfileProcess, layout_env, manage

# Reads per page and check: enough that both gunicorn workers answer many of them.
READS = 40
# The contact form refuses a submit faster than a person (CONTACT_MIN_FORM_SECONDS).
FORM_WAIT = 1.2
IP_LIMIT = 3

SETUP = """
from tests.factories import ArticleFactory, RelatedLinkFactory, TopicFactory
topic = TopicFactory(name="Harbour", slug="harbour")
lead = ArticleFactory(slug="lead", title="Ferry timetable stays the same", topics=[topic])
other = ArticleFactory(slug="other", title="Quay walls repaired", topics=[topic])
RelatedLinkFactory(article=other, target_article=lead, position=0)
"""


class EmbeddedSite:
    def __init__(self, folder):
        self.var_dir = folder / "var"
        self.env = layout_env(
            var_dir=self.var_dir,
            # What `make run` sets; nothing else.
            DEBUG=1,
            CONTACT_RECIPIENTS="desk@localhost",
            # Low, so that the limit test is quick; counted the same way as the default.
            CONTACT_VERIFICATIONS_PER_IP_PER_HOUR=IP_LIMIT,
            # Each test's visitors come from an address of their own (X-Forwarded-For), so
            # one test's limit leaves the others alone.
            TRUSTED_PROXY_COUNT=1,
        )
        self.folder = folder
        self.processes: list[ProcfileProcess] = []

    def start(self) -> "EmbeddedSite":
        manage("migrate", "--noinput", env=self.env)
        self.shell(SETUP)
        for name in ("web", "worker", "beat"):
            process = ProcfileProcess(name, env=self.env, log_path=self.folder / f"{name}.log")
            self.processes.append(process.start())
        self.url = self.processes[0].url
        return self

    def stop(self) -> None:
        for process in self.processes:
            process.stop()

    def shell(self, code: str) -> str:
        """Run ``code`` in a ``manage.py shell`` of its own: another process than the site's."""
        return manage("shell", "--no-imports", "-c", textwrap.dedent(code), env=self.env)

    def read(self, path: str, *, times: int = READS) -> list[str]:
        """``path`` read ``times`` times, several at once, as new visitors; every answer 200."""

        def one(n):
            answer = Visitor(self.url, client_ip=f"198.51.100.{n}").get(path)
            assert answer.status == 200, (path, answer.status, answer.text[-2000:])
            return answer.text

        with ThreadPoolExecutor(max_workers=4) as pool:
            return list(pool.map(one, range(times)))

    def mails(self) -> list[email.message.EmailMessage]:
        """Every mail the site wrote under var/mail (the embedded default's mail)."""
        folder = self.var_dir / "mail"
        mails = []
        for path in sorted(folder.glob("*")) if folder.exists() else []:
            # The file backend writes one or more messages per file, each ending in a rule.
            for chunk in path.read_bytes().split(b"\n" + b"-" * 79 + b"\n"):
                if chunk.strip():
                    mails.append(email.message_from_bytes(chunk, policy=email.policy.default))
        return mails


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    site = EmbeddedSite(tmp_path_factory.mktemp("embedded"))
    try:
        yield site.start()
    finally:
        site.stop()


def test_the_defaults_use_one_cache_on_disk(site):
    out = site.shell(
        """
        from django.conf import settings
        print(settings.CACHES["default"]["BACKEND"], settings.CACHES["default"]["LOCATION"])
        """
    )
    backend, location = out.split()
    assert backend == "diskcache.DjangoCache"
    assert location == str(site.var_dir / "cache")


def test_an_edit_in_another_process_is_what_every_worker_serves_next(site):
    pages = ("/", "/articles/lead/", "/articles/other/", "/topics/harbour/")
    for path in pages:  # stored, and kept by both workers
        assert all("Ferry timetable stays the same" in text for text in site.read(path))

    site.shell(
        """
        from django.db import transaction
        from articles.models import Article
        with transaction.atomic():
            article = Article.objects.get(slug="lead")
            article.title = "Ferry timetable cut in winter"
            article.save()
        """
    )

    for path in pages:  # home, the story, the card on another story, the topic
        texts = site.read(path)
        stale = [text for text in texts if "Ferry timetable stays the same" in text]
        assert not stale, f"{len(stale)} of {len(texts)} answers for {path} were stale"
        assert all("Ferry timetable cut in winter" in text for text in texts)


def test_a_scheduled_story_appears_on_every_worker_at_its_time(site):
    due = site.shell(
        """
        from datetime import timedelta
        from django.utils import timezone
        from tests.factories import ArticleFactory
        at = timezone.now() + timedelta(seconds=8)
        ArticleFactory(
            slug="scheduled", title="Night buses return", publish_at=at, authors__slug="night-desk"
        )
        print(at.timestamp())
        """
    )
    assert not any("Night buses return" in text for text in site.read("/"))
    assert Visitor(site.url).get("/articles/scheduled/").status == 404

    time.sleep(max(float(due) - time.time(), 0) + 0.5)

    assert all("Night buses return" in text for text in site.read("/"))
    assert all("Night buses return" in text for text in site.read("/articles/scheduled/"))


def test_a_page_cache_clear_from_manage_py_reaches_every_worker(site):
    site.read("/topics/harbour/")
    site.shell("from newsroom.pagecache import store; store.clear()")
    first = Visitor(site.url).get("/topics/harbour/")
    assert first.headers["X-Page-Cache"] == "miss"


def test_a_contact_limit_holds_across_both_workers(site):
    visitors = [Visitor(site.url, client_ip="203.0.113.7") for _ in range(2 * IP_LIMIT)]
    forms = [visitor.get("/contact/").text for visitor in visitors]
    time.sleep(FORM_WAIT)

    def step_one(pair):
        n, (visitor, form) = pair
        return visitor.submit(
            "/contact/", form, name="Reader", email=f"limit{n}@example.com", website=""
        ).status

    with ThreadPoolExecutor(max_workers=4) as pool:
        statuses = list(pool.map(step_one, enumerate(zip(visitors, forms, strict=True))))

    assert sorted(statuses) == [302] * IP_LIMIT + [429] * IP_LIMIT


def test_the_whole_contact_flow_through_the_worker_process(site):
    visitor = Visitor(site.url, client_ip="203.0.113.8")
    form = visitor.get("/contact/").text
    time.sleep(FORM_WAIT)
    answer = visitor.submit("/contact/", form, name="Jane", email="jane@example.com", website="")
    assert answer.location == "/contact/verify/"

    def code():
        for mail in site.mails():
            if "jane@example.com" in str(mail["To"]):
                text = mail.get_body(preferencelist=("plain",)).get_content()
                return re.search(r"\b(\d{6})\b", text).group(1)
        return None

    found = wait_for(code, timeout=30, what="the worker to mail the code into var/mail")
    verify = visitor.post_form("/contact/verify/", code=found)
    assert verify.location == "/contact/message/"
    sent = visitor.post_form("/contact/message/", subject="Ferry", message="When do they run?")
    assert sent.location == "/contact/thanks/"
    wait_for(
        lambda: any("desk@localhost" in str(mail["To"]) for mail in site.mails()),
        timeout=30,
        what="the editors' notification in var/mail",
    )


def test_a_hero_image_gets_its_sized_versions_from_the_worker_process(site):
    # An editor's upload, saved in a process of its own as the admin saves it: the sized
    # versions are the worker's job, through the file broker, on the shared var/media.
    site.shell("""
        from django.db import transaction
        from articles import services
        from articles.models import Article
        from tests.articles.pictures import image_bytes, upload
        with transaction.atomic():
            story = Article.objects.get(slug="lead")
            story.hero_image = upload("ferry.jpg", image_bytes(2000, 1000))
            story.hero_image_alt = "The ferry leaving the quay"
            services.article_save(article=story, opened_version=story.version, user=None)
    """)
    assert 'srcset="' not in site.read("/articles/lead/", times=2)[0], "no sizes yet"

    def sized() -> bool:
        return (
            site.shell("""
            from articles.models import Article
            print(Article.objects.get(slug="lead").hero_picture.sized_at is not None)
        """)
            .strip()
            .endswith("True")
        )

    wait_for(sized, timeout=60, what="the worker to make the hero's sized versions")

    # Every gunicorn worker now serves the page with the sizes, read from var/media.
    for page in site.read("/articles/lead/"):
        hero = page.split('<figure class="article-hero', 1)[1].split("</figure>", 1)[0]
        assert 'type="image/webp" srcset="' in hero
        assert 'width="2000" height="1000"' in hero
    webp = re.search(r'type="image/webp" srcset="([^" ]+)', page).group(1)
    assert Visitor(site.url).get(webp).status == 200
