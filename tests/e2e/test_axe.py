"""Every kind of page passes axe-core with no critical or serious violation
(tests/e2e/axe.py): the public site, the contact steps with and without errors, and
the editors' admin pages for articles, the inbox and the verifications."""

import re

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import expect

from articles import demo_content as demo
from articles import services
from articles.models import Article
from contact.models import Message
from tests.e2e.axe import assert_accessible, violations
from tests.factories import (
    ArticleFactory,
    ChiefEditorFactory,
    MessageFactory,
    RelatedLinkFactory,
    TopicFactory,
    VerificationFactory,
)

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "a-long-editor-passphrase"


def test_the_check_fails_on_an_unlabelled_field(page):
    # The helper itself: a page with an unnamed text box is refused, by rule and element.
    page.set_content('<html lang="en"><title>t</title><main><input id="nameless"></main>')

    found = violations(page)

    assert [violation["id"] for violation in found] == ["label"]
    assert found[0]["nodes"][0]["target"] == ["#nameless"]
    with pytest.raises(AssertionError, match=r"label \(critical\)[\s\S]*#nameless"):
        assert_accessible(page)


def test_public_pages(live_server, page):
    call_command("load_demo", "--force", verbosity=0)
    url = live_server.url
    story = Article.objects.published().first()
    topic = story.topics.first()
    # The demo's story with two authors, and the one with a captioned hero and body picture.
    lead = Article.objects.get(slug=demo.load().lead)
    pictured = Article.objects.get(slug="river-restoration-brings-back-salmon")
    author = lead.byline_authors()[0]

    for path in (
        "/",
        story.get_absolute_url(),
        lead.get_absolute_url(),
        pictured.get_absolute_url(),
        topic.get_absolute_url(),
        author.get_absolute_url(),
        "/search/",
        "/search/?q=council",
        "/search/?q=salmn",  # "Did you mean"
        "/search/?q=zzzz-no-such-word",
        "/articles/no-such-story/",
    ):
        page.goto(f"{url}{path}")
        expect(page.locator("h1").first).to_be_visible()
        assert_accessible(page)


def code_from_mail(address: str) -> str:
    mails = [m for m in mail.outbox if address in m.to]
    assert mails, f"no code mail to {address}"
    return re.search(r"\b(\d{6})\b", mails[-1].body).group(1)


def test_contact_steps_with_and_without_errors(live_server, page, settings):
    """Tasks run inline in the live server's thread; the code is read from its mail."""
    settings.CONTACT_RECIPIENTS = ["desk@newsroom.test"]
    ArticleFactory(title="Wetlands return to the valley", slug="wetlands")

    page.goto(f"{live_server.url}/contact/?article=wetlands")
    expect(page.locator("#contact-step")).to_have_text("Step 1 of 3")
    assert_accessible(page)
    page.click("button[name=next]")  # empty: the errors are shown
    expect(page.locator(".invalid-feedback, .alert-danger").first).to_be_visible()
    assert_accessible(page)
    page.fill("#id_name", "Jane Reader")
    page.fill("#id_email", "jane@example.com")
    page.wait_for_timeout(1100)  # the bot check wants a second
    page.click("button[name=next]")

    expect(page.locator("#contact-step")).to_have_text("Step 2 of 3")
    assert_accessible(page)
    code = code_from_mail("jane@example.com")
    page.fill("#id_code", f"{(int(code) + 1) % 10**6:06d}")
    page.click("button[name=verify]")
    expect(page.locator(".invalid-feedback, .alert-danger").first).to_be_visible()
    assert_accessible(page)
    page.fill("#id_code", code)
    page.click("button[name=verify]")

    expect(page.locator("#contact-step")).to_have_text("Step 3 of 3")
    assert_accessible(page)
    page.click("button[name=send]")  # empty: the errors are shown
    expect(page.locator(".invalid-feedback, .alert-danger").first).to_be_visible()
    assert_accessible(page)
    page.fill("#id_subject", "When does the work start?")
    page.fill("#id_message", "Will the path stay open?")
    page.click("button[name=send]")

    expect(page.locator("h1")).to_contain_text("Thank you")
    assert_accessible(page)


def log_in(page, url: str, username: str) -> None:
    page.goto(f"{url}/admin/login/?next=/admin/")
    assert_accessible(page)
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    expect(page.locator("#site-name")).to_be_visible()


def test_admin_pages(live_server, page):
    ChiefEditorFactory(username="rosa", password=PASSWORD)
    topic = TopicFactory(name="Climate", slug="climate")
    story = ArticleFactory(title="Floods reshape the river valley", slug="floods", topics=[topic])
    for number in range(2):
        RelatedLinkFactory(
            article=story,
            target_article=ArticleFactory(title=f"Linked story {number}", topics=[topic]),
            position=number + 1,
        )
    RelatedLinkFactory(
        article=story,
        target_article=ArticleFactory(status=Article.Status.DRAFT, publish_at=None),
        position=3,
    )
    ArticleFactory(title="A suggestion", topics=[topic])
    services.correction_add(article=story, text="The river is the Ouse.", user=None)
    message = MessageFactory(subject="When does the work start?", article=story)
    MessageFactory(
        subject="Is the path open?",
        status=Message.Status.READ,
        delivery_state="failed",
        delivery_error="550 mailbox unavailable",
    )
    verification = VerificationFactory(delivery_state="failed", delivery_error="refused")
    url = live_server.url
    log_in(page, url, "rosa")

    for path in (
        "/admin/",
        "/admin/articles/article/",
        "/admin/articles/article/?q=floods",
        "/admin/articles/article/add/",
        f"/admin/articles/article/{story.pk}/change/",
        "/admin/contact/message/",
        f"/admin/contact/message/{message.pk}/change/",
        "/admin/contact/verification/",
        f"/admin/contact/verification/{verification.pk}/change/",
    ):
        page.goto(f"{url}{path}")
        expect(page.locator("#content")).to_be_visible()
        page.wait_for_load_state("load")
        assert_accessible(page)

    # The form as an editor fills it in: a new row, open autocomplete, errors shown.
    page.goto(f"{url}/admin/articles/article/{story.pk}/change/")
    page.locator("#corrections-group .add-row a").click()
    page.locator(".field-topics .select2-selection").click()
    expect(page.locator(".select2-results__option").first).to_be_visible()
    assert_accessible(page)
    page.keyboard.press("Escape")
    pin = timezone.localtime() - timezone.timedelta(hours=1)
    page.fill("#id_pinned_until_0", pin.strftime("%d/%m/%Y"))
    page.fill("#id_pinned_until_1", pin.strftime("%H:%M:%S"))
    page.click("input[name=_continue]")
    expect(page.locator(".field-pinned_until .errorlist")).to_be_visible()
    assert_accessible(page)

    # A bulk action's confirmation page.
    page.goto(f"{url}/admin/articles/article/")
    page.locator(f'input[name=_selected_action][value="{story.pk}"]').check()
    page.select_option("select[name=action]", "withdraw")
    page.click("button[name=index]")
    expect(page.locator("#content-main.action-confirmation")).to_be_visible()
    assert_accessible(page)
