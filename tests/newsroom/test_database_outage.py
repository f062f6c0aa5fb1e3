"""The database refuses, hangs, or keeps a statement waiting, under visitors.

Real processes, as in the other fault tests: the Procfile's web line (gunicorn, DEBUG
off) and, where a task must run, its worker line. The database is taken away with a
loopback stand-in: a port nothing listens on (refusing), a server that accepts and
never answers (hanging), or a proxy in front of the test database that can do either
and then forward again. A statement is kept waiting with a lock on the tables, as a
migration altering them would hold.

What a visitor must see: a page that needs the database answers a 503 page with
``Retry-After`` within ``DATABASE_CONNECT_TIMEOUT`` (or the statement budget) and a
little more, never a 500 and never gunicorn's 30 s; an unknown address is a 404 at
once; a page in the page cache is served as usual; and the site recovers by itself.
"""

import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from datetime import timedelta

import psycopg
import pytest
from django.db import connection
from django.utils import timezone

from articles.models import Article
from contact.models import Verification
from harness import free_port, wait_for
from harness.visitor import Visitor, form_inputs
from tests.conftest import need_postgres_and_redis
from tests.factories import (
    ArticleFactory,
    ChiefEditorFactory,
    TopicFactory,
    VerificationFactory,
)
from tests.services import BASE_DIR, DatabaseProxy, ProcfileProcess, RedisServer, layout_env

pytestmark = pytest.mark.faults

# DATABASE_CONNECT_TIMEOUT the site is given (not the default, so the setting is seen
# to be honoured), and the statement budget of the lock test.
CONNECT_TIMEOUT = 2
STATEMENT_BUDGET_MS = 1000
# What an answer may take on top of the wait it is allowed (a loaded test machine).
SLACK = 1.5
# How long the test waits for any answer at all: old code let gunicorn kill its worker
# after 30 s.
NO_ANSWER = CONNECT_TIMEOUT + 10

UNKNOWN_ADDRESSES = ("/no-such-page/", "/articles/", "/wp-login.php", "/topics/harbour/extra/")


def site_env(folder, *, database_url: str, **values) -> dict[str, str]:
    return layout_env(
        var_dir=folder / "var",
        DATABASE_URL=database_url,
        SECRET_KEY="database-outage-test-not-a-secret",
        ALLOWED_HOSTS="127.0.0.1",
        SITE_URL="https://news.example.test",
        STATIC_NO_MANIFEST=1,  # no collectstatic for a test
        DATABASE_CONNECT_TIMEOUT=CONNECT_TIMEOUT,
        **values,
    )


def database_url(*, port: int | None = None) -> str:
    """The test database's URL, or the same through a proxy on ``port``."""
    db = connection.settings_dict
    host, db_port = ("127.0.0.1", port) if port else (db["HOST"] or "127.0.0.1", db["PORT"] or 5432)
    return f"postgres://{db['USER']}:{db['PASSWORD']}@{host}:{db_port}/{db['NAME']}"


def timed_get(url: str, path: str, *, timeout: float = NO_ANSWER):
    """The answer to a GET of ``path`` and how long it took; a failure when none came."""
    started = time.monotonic()
    try:
        answer = Visitor(url).request(path, timeout=timeout)
    except OSError as error:  # a timeout, or gunicorn killing its worker mid-answer
        pytest.fail(f"{path}: no answer after {time.monotonic() - started:.1f}s ({error})")
    return answer, time.monotonic() - started


def assert_maintenance_page(url: str, path: str, *, within: float):
    answer, seconds = timed_get(url, path)
    assert answer.status == 503, f"{path}: HTTP {answer.status}\n{answer.text[-1500:]}"
    assert int(answer.headers["Retry-After"]) > 0, path
    assert "Back in a moment" in answer.text, path
    assert seconds < within, f"{path} took {seconds:.1f}s"
    return seconds


def assert_not_found_at_once(url: str) -> None:
    for path in UNKNOWN_ADDRESSES:
        answer, seconds = timed_get(url, path)
        assert answer.status == 404, f"{path}: HTTP {answer.status}\n{answer.text[-1500:]}"
        assert "Page not found" in answer.text, path
        assert seconds < SLACK, f"{path} took {seconds:.1f}s"


@pytest.fixture
def start_process(tmp_path):
    """Start a Procfile entry; each is stopped when the test ends."""
    with ExitStack() as stack:

        def start(name: str, env: dict[str, str]) -> ProcfileProcess:
            process = ProcfileProcess(name, env=env, log_path=tmp_path / f"{name}.log")
            stack.callback(process.stop)
            return process.start()

        yield start


@pytest.fixture
def redis_server(tmp_path):
    need_postgres_and_redis()
    folder = tmp_path / "redis"
    folder.mkdir()
    server = RedisServer(folder=folder).start()
    yield server
    server.stop()


@pytest.mark.parametrize("fault", ["refusing", "hanging"])
def test_without_its_database_the_site_answers_503_in_bounded_time_and_404_for_unknown_addresses(
    fault, tmp_path, start_process
):
    with DatabaseProxy() as stand_in:
        # Hanging: a server that accepts and never answers. Refusing: nothing listens.
        port = stand_in.hang().port if fault == "hanging" else free_port()
        web = start_process(
            "web", site_env(tmp_path, database_url=f"postgres://newsroom@127.0.0.1:{port}/newsroom")
        )

        for path in ("/", "/articles/lead/", "/topics/harbour/", "/search/?q=ferry", "/contact/"):
            seconds = assert_maintenance_page(web.url, path, within=CONNECT_TIMEOUT + SLACK)
            if fault == "hanging":
                # The stand-in did keep the site waiting: this is the connect timeout at work.
                assert seconds >= CONNECT_TIMEOUT - 0.2, f"{path} took {seconds:.1f}s"
        assert_not_found_at_once(web.url)
        assert Visitor(web.url).get("/healthz").status == 200
        ready = Visitor(web.url).request("/readyz", timeout=NO_ANSWER)
        assert ready.status == 503
        assert '"database": "ok"' not in ready.text


@pytest.mark.django_db(transaction=True)
def test_while_the_database_is_away_stored_pages_are_served_and_the_site_recovers_by_itself(
    tmp_path, redis_server, start_process
):
    topic = TopicFactory(name="Harbour", slug="harbour")
    ArticleFactory(slug="lead", title="Ferry timetable stays the same", topics=[topic])
    ArticleFactory(slug="other", title="Quay walls repaired", topics=[topic])
    db = connection.settings_dict
    stored = ("/", "/articles/lead/", "/topics/harbour/")
    not_stored = ("/articles/other/", "/search/?q=ferry")
    with DatabaseProxy(upstream=(db["HOST"] or "127.0.0.1", int(db["PORT"] or 5432))) as proxy:
        proxy.forward()
        web = start_process(
            "web",
            site_env(
                tmp_path,
                database_url=database_url(port=proxy.port),
                REDIS_URL=redis_server.url,
                CELERY_BROKER_URL=redis_server.url.replace("/0", "/1"),
            ),
        )
        for path in stored:
            assert Visitor(web.url).get(path).status == 200, path  # now in the page cache

        for fault in (proxy.refuse, proxy.hang):
            fault()
            for path in stored:
                answer, seconds = timed_get(web.url, path)
                assert answer.status == 200, f"{fault.__name__} {path}: HTTP {answer.status}"
                assert seconds < SLACK, f"{fault.__name__} {path} took {seconds:.1f}s"
            for path in not_stored:
                assert_maintenance_page(web.url, path, within=CONNECT_TIMEOUT + SLACK)
            assert_not_found_at_once(web.url)

        proxy.forward()
        wait_for(
            lambda: all(Visitor(web.url).get(path).status == 200 for path in stored + not_stored),
            timeout=15,
            what="every page to answer again once the database is back",
        )


def waiting_on_a_lock(longer_than_ms: int) -> set[str]:
    """The application names of the connections that have waited on a lock that long."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT application_name FROM pg_stat_activity"
            " WHERE datname = current_database() AND wait_event_type = 'Lock'"
            " AND now() - query_start > %s * interval '1 millisecond'",
            [longer_than_ms],
        )
        return {row[0] for row in cursor.fetchall()}


@pytest.mark.django_db(transaction=True)
def test_a_statement_kept_waiting_is_cut_on_public_pages_but_not_in_the_admin_a_command_or_a_task(
    tmp_path, redis_server, start_process
):
    """A lock held for longer than the public statement budget, as a migration altering
    the tables would hold it: a visitor gets the 503 page at the budget; an editor's save
    in the admin, a management command and a Celery task, in processes given the same
    environment, wait for the lock and finish.
    """
    ArticleFactory(slug="lead", title="Ferry timetable stays the same")
    draft = ArticleFactory(slug="draft", title="Bridge opens", status=Article.Status.DRAFT)
    ChiefEditorFactory(username="desk")  # may publish
    stale = VerificationFactory()
    Verification.objects.filter(pk=stale.pk).update(created_at=timezone.now() - timedelta(days=2))
    env = site_env(
        tmp_path,
        database_url=database_url(),
        REDIS_URL=redis_server.url,
        CELERY_BROKER_URL=redis_server.url.replace("/0", "/1"),
        DATABASE_STATEMENT_TIMEOUT_MS=STATEMENT_BUDGET_MS,
        TRUSTED_PROXY_COUNT=1,
    )
    # Each process names itself to PostgreSQL (libpq reads PGAPPNAME), so the test can
    # see which of them wait on the lock.
    web = start_process("web", env | {"PGAPPNAME": "newsroom-web"})
    worker = start_process("worker", env | {"PGAPPNAME": "newsroom-worker"})
    editor = Visitor(web.url, client_ip="192.0.2.10")
    signed_in = editor.post_form(
        "/admin/login/?next=/admin/", username="desk", password="correct horse battery staple"
    )
    assert signed_in.location == "/admin/", signed_in.status
    changelist = editor.get("/admin/articles/article/")
    assert changelist.status == 200

    def publish_draft():
        return editor.request(
            "/admin/articles/article/",
            data={
                "csrfmiddlewaretoken": form_inputs(changelist.text)["csrfmiddlewaretoken"],
                "action": "publish_now",
                "_selected_action": str(draft.pk),
                "post": "yes",  # the confirmation page's "Yes"
                "index": "0",
                "select_across": "0",
            },
            timeout=60,
        )

    def run(*argv: str) -> subprocess.CompletedProcess:
        return subprocess.run(  # noqa: S603 - our own manage.py and celery, fixed argv
            [sys.executable, *argv],
            cwd=BASE_DIR,
            env=env | {"PGAPPNAME": "newsroom-command"},
            capture_output=True,
            text=True,
            timeout=60,
        )

    db = connection.settings_dict
    locker = psycopg.connect(
        host=db["HOST"] or "127.0.0.1",
        port=db["PORT"] or 5432,
        user=db["USER"],
        password=db["PASSWORD"],
        dbname=db["NAME"],
    )
    pool = ThreadPoolExecutor(max_workers=3)
    try:
        locker.execute("LOCK TABLE articles_article, contact_verification IN ACCESS EXCLUSIVE MODE")
        page = pool.submit(timed_get, web.url, "/articles/lead/")
        save = pool.submit(publish_draft)
        command = pool.submit(run, "manage.py", "outbox")
        queued = run("-m", "celery", "-A", "newsroom", "call", "contact.purge_verifications")
        assert queued.returncode == 0, queued.stderr[-2000:]

        # The visitor is answered at the budget, while the lock is still held.
        answer, seconds = page.result(timeout=NO_ANSWER)
        assert answer.status == 503, f"HTTP {answer.status} after {seconds:.1f}s"
        assert "Back in a moment" in answer.text
        assert int(answer.headers["Retry-After"]) > 0
        assert seconds < STATEMENT_BUDGET_MS / 1000 + SLACK, f"took {seconds:.1f}s"
        # The editor's save, the command and the task each wait past the budget.
        wait_for(
            lambda: (
                waiting_on_a_lock(2 * STATEMENT_BUDGET_MS)
                >= {"newsroom-web", "newsroom-command", "newsroom-worker"}
            ),
            timeout=30,
            what="the save, the command and the task to wait on the lock past the budget",
        )
    finally:
        locker.rollback()
        locker.close()
        pool.shutdown(wait=True)

    saved = save.result()
    assert saved.status == 302, f"HTTP {saved.status}\n{saved.text[-1500:]}"
    assert Article.objects.get(pk=draft.pk).status == Article.Status.PUBLISHED
    listed = command.result()
    assert listed.returncode == 0, listed.stderr[-2000:]
    assert "verification codes" in listed.stdout, listed.stdout
    wait_for(
        lambda: not Verification.objects.filter(pk=stale.pk).exists(),
        timeout=30,
        what="the purge task to delete the stale verification",
    )
    assert "statement timeout" not in worker.log()
