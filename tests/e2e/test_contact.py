"""A visitor writes to the newsroom from a story; an editor finds the message.

Real parts throughout the first journey: Chromium, the site on a live server, the
Redis broker, a Celery worker process and an SMTP server on loopback that receives
the code. The journeys after it need only the browser and the site: their tasks
run inline in the live server's thread and the code mail lands in ``mail.outbox``.
"""

import re

import pytest
from django.core import mail
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


def test_the_resend_button_waits_out_the_cooldown_then_sends_a_new_code(
    live_server, page, shot, settings
):
    settings.CONTACT_RECIPIENTS = ["desk@newsroom.test"]
    settings.CONTACT_RESEND_COOLDOWN = 5  # the real minute, shortened
    page.goto(f"{live_server.url}/contact/")
    page.fill("#id_name", "Jane Reader")
    page.fill("#id_email", "jane@example.com")
    page.wait_for_timeout(1100)
    page.click("button[name=next]")
    expect(page.locator("#contact-step")).to_have_text("Step 2 of 3")

    resend = page.locator("button[name=resend]")
    wait = page.locator("#contact-resend-wait")
    expect(resend).to_be_disabled()
    expect(resend).to_have_class(re.compile(r"\bbtn-outline-secondary\b"))
    expect(wait).to_have_text(re.compile(r"^You can ask for a new code in [4-6] seconds\.$"))
    shot("resend-waiting")

    # Sent anyway (a page from before, a second tab): no code, and the wait said once.
    page.locator("#contact-resend-form").evaluate("form => form.submit()")
    expect(page.locator(".contact-messages")).to_have_text("No new code was sent yet.")
    expect(page.get_by_text("You can ask for a new code in")).to_have_count(1)
    expect(resend).to_be_disabled()
    shot("resend-too-early")
    # It counts down, one second at a time.
    expect(wait).to_have_text("You can ask for a new code in 2 seconds.")
    expect(wait).to_have_text("You can ask for a new code in 1 second.")
    expect(resend).to_be_disabled()

    expect(resend).to_be_enabled(timeout=3000)
    expect(resend).to_have_class(re.compile(r"\bbtn-outline-dark\b"))
    expect(wait).to_have_count(0)
    expect(page.locator(".contact-resend-ready")).to_have_text("You can ask for a new code now.")
    shot("resend-ready")
    resend.click()

    expect(page.locator(".contact-messages")).to_have_text(
        "We sent a new code to jane@example.com."
    )
    assert len([m for m in mail.outbox if "jane@example.com" in m.to]) == 2
    # The new code starts a new wait.
    expect(resend).to_be_disabled()
    expect(page.locator("#contact-resend-wait")).to_contain_text("You can ask for a new code in")
    shot("resend-sent")


def test_thanks_in_a_fresh_browser_says_nothing_was_sent(live_server, page, shot):
    page.goto(f"{live_server.url}/contact/thanks/")

    expect(page.locator("h1")).to_have_text("Nothing sent yet")
    expect(page).to_have_title(re.compile(r"^Nothing sent yet\b"))
    shot("nothing-sent")
    page.locator("a.contact-start-link").click()
    expect(page.locator("#contact-step")).to_have_text("Step 1 of 3")
