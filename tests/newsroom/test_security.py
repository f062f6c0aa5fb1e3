"""Hardening: security headers and cookies, the Content-Security-Policy, admin
login brute-force limits (django-axes) and who may manage accounts.

The test settings are the production ones (DEBUG off, HTTPS behind a proxy that
sets X-Forwarded-Proto) except that plain-HTTP requests are not redirected; the
``https_client`` fixtures speak HTTPS through that proxy header.
"""

import datetime
import re
from html.parser import HTMLParser

import pytest
import reversion
import time_machine
from django.contrib.auth.models import Group, Permission, User
from reversion.models import Version

from tests.factories import (
    ArticleFactory,
    EditorFactory,
    MessageFactory,
    TopicFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

POLICY = {
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "frame-ancestors 'none'",
    "form-action 'self'",
    "base-uri 'self'",
    "object-src 'none'",
}
PASSWORD = "a-long-editor-passphrase"


def directives(header: str) -> set[str]:
    return {part.strip() for part in header.split(";") if part.strip()}


def header_nonce(response) -> str | None:
    match = re.search(r"'nonce-([^']+)'", response["Content-Security-Policy"])
    return match.group(1) if match else None


# Headers and cookies ------------------------------------------------------------------


def test_https_responses_carry_the_security_headers(https_client):
    ArticleFactory(slug="wetlands")
    for url in ("/", "/articles/wetlands/", "/contact/", "/admin/login/"):
        response = https_client.get(url)
        assert response.status_code == 200, url
        assert response["Strict-Transport-Security"] == (
            "max-age=31536000; includeSubDomains; preload"
        )
        assert directives(response["Content-Security-Policy"]) == POLICY, url
        assert response["X-Frame-Options"] == "DENY"
        assert response["Referrer-Policy"] == "strict-origin-when-cross-origin"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Cross-Origin-Opener-Policy"] == "same-origin"


def test_public_pages_set_no_cookie_and_the_same_policy_for_everyone(https_client):
    """No per-visitor nonce on public pages: a cache in front can keep them."""
    ArticleFactory(slug="wetlands")
    first = https_client.get("/articles/wetlands/")
    second = https_client.get("/articles/wetlands/")
    assert not first.cookies
    assert first["Content-Security-Policy"] == second["Content-Security-Policy"]


def test_plain_http_is_redirected_to_https_and_gets_no_hsts(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    response = client.get("/")
    assert response.status_code == 301
    assert response["Location"] == "https://testserver/"
    assert "Strict-Transport-Security" not in response
    assert client.get("/healthz").status_code == 200  # probes stay on plain HTTP


def test_session_and_csrf_cookies_are_secure_httponly_and_samesite(https_client):
    EditorFactory(username="rosa", password=PASSWORD)
    login_page = https_client.get("/admin/login/")
    csrf = login_page.cookies["csrftoken"]
    assert csrf["secure"]
    assert csrf["samesite"] == "Lax"

    response = https_client.post("/admin/login/", {"username": "rosa", "password": PASSWORD})
    assert response.status_code == 302
    session = response.cookies["sessionid"]
    assert session["secure"]
    assert session["httponly"]
    assert session["samesite"] == "Lax"


def test_the_contact_forms_cookie_is_secure_httponly_samesite_and_for_its_pages_only(
    https_client,
):
    form = https_client.get("/contact/")

    cookie = form.cookies["contact_form"]
    assert cookie["secure"]
    assert cookie["httponly"]
    assert cookie["samesite"] == "Lax"
    assert cookie["path"] == "/contact/"
    # Kept, not renewed, while the browser has it: tokens of other tabs stay good.
    assert "contact_form" not in https_client.get("/contact/").cookies


# The Content-Security-Policy in the pages -------------------------------------------


DATA_BLOCK_TYPES = {"application/json", "application/ld+json"}


class _InlineFinder(HTMLParser):
    """What the policy would block: inline scripts, styles, handlers, javascript: links."""

    def __init__(self, nonce: str | None):
        super().__init__()
        self.nonce = nonce
        self.problems: list[str] = []
        self._inline: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for name, value in attrs.items():
            if name == "style":
                self.problems.append(f"style attribute on <{tag}>: {value}")
            if name.startswith("on"):
                self.problems.append(f"event handler {name} on <{tag}>")
            if name in {"href", "src", "action"} and (value or "").startswith("javascript:"):
                self.problems.append(f"javascript: URL on <{tag}>")
        # Data a browser never runs (json_script's blocks, an article's JSON-LD): no
        # policy applies to it, so it needs no nonce and keeps the page cacheable.
        data_block = tag == "script" and attrs.get("type") in DATA_BLOCK_TYPES
        inline = (tag == "script" and "src" not in attrs and not data_block) or tag == "style"
        if inline and (not self.nonce or attrs.get("nonce") != self.nonce):
            self._inline = tag

    def handle_data(self, data):
        if self._inline and data.strip():
            self.problems.append(f"inline <{self._inline}> without the nonce: {data[:80]!r}")

    def handle_endtag(self, tag):
        self._inline = None


def inline_problems(response) -> list[str]:
    finder = _InlineFinder(header_nonce(response))
    finder.feed(response.content.decode())
    return finder.problems


def test_public_and_contact_pages_have_nothing_inline(https_client):
    topic = TopicFactory(slug="climate")
    ArticleFactory(slug="wetlands", topics=[topic])
    for url in (
        "/",
        "/articles/wetlands/",
        "/topics/climate/",
        "/search/?q=story",
        "/contact/?article=wetlands",
        "/articles/no-such-story/",
    ):
        response = https_client.get(url)
        assert header_nonce(response) is None, url
        assert inline_problems(response) == [], url


def test_admin_pages_have_nothing_inline_but_what_carries_the_nonce(editor_client):
    article = ArticleFactory(title="First headline")
    with reversion.create_revision():
        article.save()
    with reversion.create_revision():
        article.title = "Second headline"
        article.save()
    old, new = Version.objects.get_for_object(article).order_by("pk")
    MessageFactory(subject="When does the work start?")
    for url in (
        "/admin/",
        "/admin/articles/article/",
        "/admin/articles/article/add/",
        f"/admin/articles/article/{article.pk}/change/",
        f"/admin/articles/article/{article.pk}/history/",
        f"/admin/articles/article/{article.pk}/history/compare/"
        f"?version_id1={old.pk}&version_id2={new.pk}",
        f"/admin/articles/article/{article.pk}/history/{old.pk}/",
        "/admin/contact/message/",
        "/admin/contact/verification/",
    ):
        response = editor_client.get(url)
        assert response.status_code == 200, url
        assert inline_problems(response) == [], url


def test_the_article_form_gives_its_import_map_and_editor_style_the_nonce(editor_client):
    response = editor_client.get("/admin/articles/article/add/")
    nonce = header_nonce(response)
    html = response.content.decode()

    assert nonce
    assert directives(response["Content-Security-Policy"]) == {
        f"{d} 'nonce-{nonce}'" if d.startswith(("script-src", "style-src")) else d for d in POLICY
    }
    assert f'<script type="importmap" nonce="{nonce}">' in html
    assert f'<style data-tiptap-style nonce="{nonce}"></style>' in html
    assert header_nonce(editor_client.get("/admin/articles/article/add/")) != nonce


# Admin login brute force ------------------------------------------------------------


def log_in(client, username: str, password: str, **headers):
    return client.post(
        "/admin/login/?next=/admin/",
        {"username": username, "password": password},
        headers=headers,
    )


def is_logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_five_wrong_passwords_lock_the_account_for_that_address(https_client):
    EditorFactory(username="rosa", password=PASSWORD)
    answers = [log_in(https_client, "rosa", "wrong").status_code for _ in range(5)]
    assert answers == [200, 200, 200, 200, 429]

    refused = log_in(https_client, "rosa", PASSWORD)

    assert refused.status_code == 429
    assert "Too many failed sign-ins" in refused.content.decode()
    assert "15 minutes" in refused.content.decode()
    assert not is_logged_in(https_client)


def test_a_lockout_touches_neither_other_users_nor_other_addresses(settings):
    from django.test import Client

    settings.CONTACT_TRUSTED_PROXY_COUNT = 1
    EditorFactory(username="rosa", password=PASSWORD)
    EditorFactory(username="omar", password=PASSWORD)
    attacker = Client(headers={"X-Forwarded-Proto": "https"})
    for _ in range(5):
        log_in(attacker, "rosa", "wrong", X_Forwarded_For="203.0.113.9")
    # Entries left of the proxy's are the client's own words: forging them changes nothing.
    assert (
        log_in(attacker, "rosa", PASSWORD, X_Forwarded_For="10.1.1.1, 203.0.113.9").status_code
        == 429
    )

    other_user = Client(headers={"X-Forwarded-Proto": "https"})
    assert log_in(other_user, "omar", PASSWORD, X_Forwarded_For="203.0.113.9").status_code == 302
    other_address = Client(headers={"X-Forwarded-Proto": "https"})
    assert (
        log_in(other_address, "rosa", PASSWORD, X_Forwarded_For="198.51.100.7").status_code == 302
    )
    assert is_logged_in(other_user)
    assert is_logged_in(other_address)


def test_a_correct_password_clears_earlier_failures(https_client):
    EditorFactory(username="rosa", password=PASSWORD)
    for _ in range(4):
        log_in(https_client, "rosa", "wrong")
    assert log_in(https_client, "rosa", PASSWORD).status_code == 302
    https_client.post("/admin/logout/")

    for _ in range(4):
        log_in(https_client, "rosa", "wrong")
    assert log_in(https_client, "rosa", PASSWORD).status_code == 302
    assert is_logged_in(https_client)


def test_the_lockout_ends_after_the_cool_off(https_client):
    EditorFactory(username="rosa", password=PASSWORD)
    start = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)
    with time_machine.travel(start, tick=False):
        for _ in range(5):
            log_in(https_client, "rosa", "wrong")
    with time_machine.travel(start + datetime.timedelta(minutes=14), tick=False):
        assert log_in(https_client, "rosa", PASSWORD).status_code == 429
    with time_machine.travel(start + datetime.timedelta(minutes=30), tick=False):
        assert log_in(https_client, "rosa", PASSWORD).status_code == 302


def test_the_limit_and_cool_off_come_from_settings(https_client, settings):
    settings.AXES_FAILURE_LIMIT = 2
    EditorFactory(username="rosa", password=PASSWORD)
    assert [log_in(https_client, "rosa", "wrong").status_code for _ in range(2)] == [200, 429]


def test_records_of_admin_logins_are_kept_for_login_record_days(https_client, settings):
    from axes.models import AccessLog

    from newsroom import tasks

    settings.LOGIN_RECORD_DAYS = 30
    EditorFactory(username="rosa", password=PASSWORD)
    now = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)
    for days_ago in (31, 29):
        with time_machine.travel(now - datetime.timedelta(days=days_ago), tick=False):
            assert log_in(https_client, "rosa", PASSWORD).status_code == 302
            https_client.post("/admin/logout/")

    with time_machine.travel(now, tick=False):
        tasks.prune_login_records.apply()

    kept = AccessLog.objects.values_list("username", "attempt_time")
    assert list(kept) == [("rosa", now - datetime.timedelta(days=29))]


# Who manages accounts ---------------------------------------------------------------

ACCOUNT_PAGES = [
    "/admin/auth/user/",
    "/admin/auth/user/add/",
    "/admin/auth/user/{user}/change/",
    "/admin/auth/user/{user}/password/",
    "/admin/auth/user/{user}/delete/",
    "/admin/auth/group/",
    "/admin/auth/group/add/",
    "/admin/auth/group/{group}/change/",
    "/admin/auth/group/{group}/delete/",
    "/admin/axes/accessattempt/",
]


@pytest.fixture
def someone():
    return UserFactory(username="someone")


def test_the_editors_group_holds_no_account_permissions():
    group = Group.objects.get(name="Editors")
    apps = set(group.permissions.values_list("content_type__app_label", flat=True))
    assert apps == {"articles", "contact"}


@pytest.mark.parametrize("page", ACCOUNT_PAGES)
def test_an_editor_cannot_manage_users_or_groups(editor_client, editor, someone, page):
    url = page.format(user=someone.pk, group=Group.objects.get(name="Editors").pk)
    assert editor_client.get(url).status_code == 403


def test_an_editor_can_still_do_the_job(editor_client):
    for url in (
        "/admin/articles/article/",
        "/admin/articles/article/add/",
        "/admin/contact/message/",
    ):
        assert editor_client.get(url).status_code == 200, url
    index = editor_client.get("/admin/").content.decode()
    assert "/admin/auth/" not in index


def test_an_editor_cannot_raise_their_own_rights(editor_client, editor):
    group = Group.objects.get(name="Editors")
    every_permission = list(Permission.objects.values_list("pk", flat=True))

    made_superuser = editor_client.post(
        f"/admin/auth/user/{editor.pk}/change/",
        {
            "username": editor.username,
            "is_active": "on",
            "is_staff": "on",
            "is_superuser": "on",
            "user_permissions": every_permission,
        },
    )
    widened_group = editor_client.post(
        f"/admin/auth/group/{group.pk}/change/",
        {"name": "Editors", "permissions": every_permission},
    )
    new_admin = editor_client.post(
        "/admin/auth/user/add/",
        {"username": "mallory", "password1": "x-9!long-pass", "password2": "x-9!long-pass"},
    )

    assert [made_superuser.status_code, widened_group.status_code, new_admin.status_code] == [
        403,
        403,
        403,
    ]
    editor.refresh_from_db()
    assert not editor.is_superuser
    assert not editor.user_permissions.exists()
    assert group.permissions.count() < len(every_permission)
    assert not User.objects.filter(username="mallory").exists()


def test_a_superuser_manages_users_and_groups(someone):
    from django.test import Client

    admin = UserFactory(username="chief", is_staff=True, is_superuser=True)
    client = Client(headers={"X-Forwarded-Proto": "https"})
    client.force_login(admin)
    group = Group.objects.get(name="Editors")
    for page in ACCOUNT_PAGES:
        url = page.format(user=someone.pk, group=group.pk)
        assert client.get(url).status_code == 200, url

    added = client.post(
        "/admin/auth/user/add/",
        {
            "username": "newdesk",
            "usable_password": "true",
            "password1": "a-long-new-passphrase",
            "password2": "a-long-new-passphrase",
        },
    )
    desk = client.post("/admin/auth/group/add/", {"name": "Desk", "permissions": []})

    assert added.status_code == 302
    assert desk.status_code == 302
    assert User.objects.filter(username="newdesk").exists()
    assert Group.objects.filter(name="Desk").exists()
