"""A visitor writes to the newsroom from a story; an editor finds the message.

Real parts throughout: Chromium, the site on a live server, the Redis broker, a
Celery worker process and an SMTP server on loopback that receives the code.
"""

import re

import pytest
from playwright.sync_api import expect

from contact.models import Message
from tests.conftest import INTEGRATION_RECIPIENT
from tests.factories import ArticleFactory, EditorFactory

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "a-long-editor-passphrase"


def test_visitor_verifies_writes_and_an_editor_finds_the_message(
    live_server, worker, smtp, page, shot
):
    article = ArticleFactory(title="Wetlands return to the valley", slug="wetlands")
    EditorFactory(username="rosa", password=PASSWORD)

    page.goto(f"{live_server.url}/articles/wetlands/")
    page.locator("section.contact-us a.contact-us-link").click()
    expect(page.locator("#contact-step")).to_have_text("Step 1 of 3")
    expect(page.locator(".contact-article")).to_contain_text("Wetlands return")
    page.fill("#id_name", "Jane Reader")
    page.fill("#id_email", "jane@example.com")
    shot("contact-step-1")
    page.wait_for_timeout(1100)  # as a browser's autofill and a quick click; the bot check is 1 s
    page.click("button[name=next]")

    expect(page.locator("#contact-step")).to_have_text("Step 2 of 3")
    expect(page.locator(".contact-email")).to_contain_text("jane@example.com")
    code = smtp.code_for("jane@example.com")
    page.fill("#id_code", code)
    shot("contact-step-2")
    page.click("button[name=verify]")

    expect(page.locator("#contact-step")).to_have_text("Step 3 of 3")
    expect(page.locator(".contact-sender-email")).to_contain_text("jane@example.com")
    page.fill("#id_subject", "When does the work start?")
    page.fill("#id_message", "I live by the marsh.\nWill the path stay open?")
    shot("contact-step-3")
    page.click("button[name=send]")

    expect(page.locator("h1")).to_contain_text("Thank you")
    shot("contact-thanks")
    notification = smtp.wait_for_mail(INTEGRATION_RECIPIENT)
    assert notification["Reply-To"] == "Jane Reader <jane@example.com>"
    assert Message.objects.get().article == article

    page.goto(f"{live_server.url}/admin/")
    page.fill("#id_username", "rosa")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.goto(f"{live_server.url}/admin/contact/message/")
    row = page.locator("#result_list tbody tr", has_text="When does the work start?")
    expect(row).to_contain_text("Wetlands return to the valley")
    expect(row).to_contain_text("jane@example.com")
    shot("inbox")
    row.locator("a", has_text="When does the work start?").click()
    expect(page.locator("body")).to_contain_text("Will the path stay open?")
    shot("message")


def test_thanks_in_a_fresh_browser_says_nothing_was_sent(live_server, page, shot):
    page.goto(f"{live_server.url}/contact/thanks/")

    expect(page.locator("h1")).to_have_text("Nothing sent yet")
    expect(page).to_have_title(re.compile(r"^Nothing sent yet\b"))
    shot("nothing-sent")
    page.locator("a.contact-start-link").click()
    expect(page.locator("#contact-step")).to_have_text("Step 1 of 3")
