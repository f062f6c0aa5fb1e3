"""Every kind of page satisfies the Content-Security-Policy in a real browser.

Chromium blocks what the policy forbids (an inline script or style, a foreign
source) and reports it twice: a ``securitypolicyviolation`` event in the page
and a console error naming the "Content Security Policy". Both are collected;
a test fails on the first of either, with the page it happened on.
"""

import re

import pytest
from django.core import mail
from django.core.management import call_command
from playwright.sync_api import expect

from contact.models import Message
from tests.factories import (
    ArticleFactory,
    ChiefEditorFactory,
    EditorFactory,
    MessageFactory,
    TopicFactory,
    VerificationFactory,
)

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "a-long-editor-passphrase"
POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; frame-ancestors 'none'; form-action 'self'; "
    "base-uri 'self'; object-src 'none'"
)
REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.reportCspViolation(
    `${event.violatedDirective} blocked ${event.blockedURI || "inline"}`
    + ` at ${event.sourceFile}:${event.lineNumber} on ${event.documentURI}`
  );
});
"""


def directives(header: str) -> set[str]:
    """The policy's directives, whatever their order; a nonce stands as 'nonce-…'."""
    return {
        re.sub(r"'nonce-[^']+'", "'nonce-…'", part.strip())
        for part in header.split(";")
        if part.strip()
    }


@pytest.fixture
def violations(page):
    """What Chromium blocked on any page this test visits; none may remain at the end."""
    found: list[str] = []
    page.on(
        "console",
        lambda message: (
            found.append(f"console: {message.text} on {page.url}")
            if "Content Security Policy" in message.text
            else None
        ),
    )
    page.expose_function("reportCspViolation", lambda text: found.append(f"event: {text}"))
    page.add_init_script(REPORT_VIOLATIONS)
    yield found
    assert not found, "Content-Security-Policy violations:\n" + "\n".join(found)


def visit(page, url: str, *, nonce: bool = False):
    """Open ``url`` and check it came with the policy (and a nonce only where one is used)."""
    response = page.goto(url)
    header = response.headers.get("content-security-policy", "")
    expected = directives(POLICY)
    if nonce:
        expected = {
            f"{d} 'nonce-…'" if d.startswith(("script-src", "style-src")) else d for d in expected
        }
    assert directives(header) == expected, f"{url}: {header}"
    return response


def assert_clean(page, violations: list[str]) -> None:
    """Give late reports (console, events) a moment to arrive, then require none."""
    page.wait_for_timeout(200)
    found = list(violations)
    violations.clear()  # reported here, not once more by the fixture
    assert not found, "Content-Security-Policy violations:\n" + "\n".join(found)


@pytest.fixture
def demo_site(live_server):
    call_command("load_demo", "--force", verbosity=0)
    return live_server


def test_public_pages_satisfy_the_policy(demo_site, page, violations, shot):
    url = demo_site.url
    visit(page, f"{url}/")
    expect(page.locator("section.top-stories")).to_be_visible()
    shot("home")

    page.locator("article.article-card a.article-card-link").first.click()
    expect(page.locator("h1.article-title")).to_be_visible()
    visit(page, page.url)
    expect(page.locator(".impact-score-value").first).to_be_visible()
    # Its JSON-LD is a data block, not a script: no nonce, and nothing to block.
    expect(page.locator('script[type="application/ld+json"]')).to_have_count(1)
    shot("article")

    page.locator("nav.topic-nav a.topic-nav-link").first.click()
    expect(page.locator("h1.topic-title")).to_be_visible()
    visit(page, page.url)
    shot("topic")

    visit(page, f"{url}/search/?q=the")
    expect(page.locator(".search-summary")).to_be_visible()
    shot("search")

    visit(page, f"{url}/articles/no-such-story/")
    expect(page.locator("h1")).to_have_text("Page not found")
    assert_clean(page, violations)


def code_from_mail(address: str) -> str:
    mails = [m for m in mail.outbox if address in m.to]
    assert mails, f"no code mail to {address}"
    return re.search(r"\b(\d{6})\b", mails[-1].body).group(1)


def test_contact_steps_satisfy_the_policy(live_server, page, violations, shot, settings):
    """Tasks run inline in the live server's thread; the code is read from its mail."""
    settings.CONTACT_RECIPIENTS = ["desk@newsroom.test"]
    ArticleFactory(title="Wetlands return to the valley", slug="wetlands")

    visit(page, f"{live_server.url}/contact/?article=wetlands")
    expect(page.locator("#contact-step")).to_have_text("Step 1 of 3")
    page.click("button[name=next]")  # too fast and empty: the errors are shown
    expect(page.locator(".invalid-feedback, .alert-danger").first).to_be_visible()
    shot("start-errors")
    page.fill("#id_name", "Jane Reader")
    page.fill("#id_email", "jane@example.com")
    page.wait_for_timeout(1100)  # as a browser's autofill and a quick click; the bot check is 1 s
    page.click("button[name=next]")

    expect(page.locator("#contact-step")).to_have_text("Step 2 of 3")
    visit(page, page.url)
    code = code_from_mail("jane@example.com")
    page.fill("#id_code", f"{(int(code) + 1) % 10**6:06d}")  # a wrong one first
    page.click("button[name=verify]")
    expect(page.locator("#contact-step")).to_have_text("Step 2 of 3")
    shot("verify-error")
    page.fill("#id_code", code)
    page.click("button[name=verify]")

    expect(page.locator("#contact-step")).to_have_text("Step 3 of 3")
    visit(page, page.url)
    page.fill("#id_subject", "When does the work start?")
    page.fill("#id_message", "Will the path stay open?")
    shot("message")
    page.click("button[name=send]")

    expect(page.locator("h1")).to_contain_text("Thank you")
    shot("thanks")
    assert Message.objects.filter(subject="When does the work start?").exists()
    assert_clean(page, violations)


def log_in(page, url: str, username: str) -> None:
    visit(page, f"{url}/admin/login/?next=/admin/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    expect(page.locator("#site-name")).to_be_visible()


def choose(page, row_selector: str, text: str) -> None:
    """Pick ``text`` in the select2 autocomplete box of a form row."""
    page.locator(f"{row_selector} .select2-selection").first.click()
    page.locator(".select2-container--open .select2-search__field").fill(text)
    page.locator(".select2-results__option", has_text=text).first.click()


def test_article_form_history_and_compare_satisfy_the_policy(live_server, page, violations, shot):
    ChiefEditorFactory(username="rosa", password=PASSWORD)  # publishes the story below
    TopicFactory(name="Climate", slug="climate")
    ArticleFactory(title="Floods reshape the river valley", slug="floods")
    url = live_server.url
    log_in(page, url, "rosa")
    visit(page, f"{url}/admin/")
    shot("admin-index")

    visit(page, f"{url}/admin/articles/article/add/", nonce=True)
    page.locator("#id_title").press_sequentially("Town votes to restore its wetlands")
    page.fill("#id_standfirst", "A marsh drained a century ago will flood again.")
    editor = page.locator(".field-body [contenteditable=true]")
    editor.click()
    page.keyboard.type("The council voted on Monday.")
    page.keyboard.press("Enter")
    page.keyboard.type("Work starts in spring.")
    page.keyboard.press("Control+a")
    page.locator(".field-body .prose-menubar button[title=bold]").click()
    page.fill("#id_why_it_matters", "Wetlands store water.")
    page.fill("#id_impact_score", "73")
    choose(page, ".field-topics", "Climate")
    page.select_option("#id_status", "published")
    page.locator(".field-publish_at .datetimeshortcuts a", has_text="Today").click()
    page.locator(".field-publish_at .datetimeshortcuts .date-icon").click()  # calendar
    expect(page.locator(".calendarbox").first).to_be_visible()
    page.keyboard.press("Escape")
    page.locator(".field-publish_at .datetimeshortcuts a", has_text="Now").click()
    page.locator("#related_links-group .add-row a").click()
    choose(page, "#related_links-0", "Floods reshape")
    shot("article-add")
    page.click("input[name=_continue]")
    expect(page.locator(".messagelist")).to_contain_text("was added successfully")

    visit(page, page.url, nonce=True)
    page.fill("#id_standfirst", "A marsh drained a century ago will flood again by design.")
    page.click("input[name=_continue]")
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")
    shot("article-change")

    page.locator(".object-tools a.historylink").click()
    visit(page, page.url)
    expect(page.locator("#change-history")).to_be_visible()
    shot("history")
    page.locator("#change-history input[type=submit]").click()
    visit(page, page.url)
    expect(page.locator("#content-main")).to_contain_text("by design")
    shot("compare")

    visit(page, f"{url}/admin/articles/article/")
    shot("article-list")
    assert_clean(page, violations)


def test_inbox_satisfies_the_policy(live_server, page, violations, shot):
    EditorFactory(username="rosa", password=PASSWORD)
    article = ArticleFactory(title="Wetlands return to the valley")
    new = MessageFactory(subject="When does the work start?", article=article)
    MessageFactory(
        subject="Is the path open?",
        status=Message.Status.READ,
        delivery_state="failed",
        delivery_error="550 mailbox unavailable",
    )
    VerificationFactory(delivery_state="failed", delivery_error="connection refused")
    url = live_server.url
    log_in(page, url, "rosa")

    visit(page, f"{url}/admin/contact/message/")
    expect(page.locator(".contact-new").first).to_be_visible()
    expect(page.locator(".contact-delivery-failed").first).to_be_visible()
    shot("inbox")
    page.locator("#result_list a", has_text="When does the work start?").click()
    visit(page, f"{url}/admin/contact/message/{new.pk}/change/")
    expect(page.locator(".contact-reply")).to_be_visible()
    shot("message")
    visit(page, f"{url}/admin/contact/verification/")
    expect(page.locator(".contact-delivery-failed").first).to_be_visible()
    shot("verifications")
    assert_clean(page, violations)


def test_login_lockout_page_satisfies_the_policy(live_server, page, violations, shot):
    EditorFactory(username="rosa", password=PASSWORD)
    visit(page, f"{live_server.url}/admin/login/")
    for _ in range(5):
        page.fill("#id_username", "rosa")
        page.fill("#id_password", "not the password")
        page.click("input[type=submit]")
        if page.locator("#lockout").count():
            break
    expect(page.locator("#lockout")).to_contain_text("Too many failed")
    shot("lockout")
    assert_clean(page, violations)
