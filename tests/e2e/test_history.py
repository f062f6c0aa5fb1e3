"""History in a real browser: the form's rich-text editor sends the body back as it
got it, so saving an untouched form adds nothing to the story's History."""

import pytest
from playwright.sync_api import expect
from reversion.models import Version

from articles.models import Correction
from tests.factories import ArticleFactory, ChiefEditorFactory, RelatedLinkFactory, TopicFactory

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "a-long-editor-passphrase"


def test_saving_an_untouched_form_adds_no_history_entry(live_server, page, shot):
    ChiefEditorFactory(username="rosa", password=PASSWORD)
    article = ArticleFactory(
        title="Council votes on the budget",
        topics=[TopicFactory(name="Politics")],
        body=(
            "<p>The council met on <strong>Monday</strong> to <em>vote</em>.</p>"
            "<h2>What next</h2><ul><li>A second vote</li></ul>"
            '<p>Work &amp; play, says <a href="https://example.org/">the plan</a>.</p>'
        ),
    )
    RelatedLinkFactory(article=article)
    Correction.objects.create(article=article, text="An earlier version gave the wrong day.")
    page.goto(f"{live_server.url}/admin/login/?next=/admin/")
    page.fill("#id_username", "rosa")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.goto(f"{live_server.url}/admin/articles/article/{article.pk}/change/")
    expect(page.locator(".field-body [contenteditable=true]")).to_contain_text("Monday")

    page.click("input[name=_continue]")

    expect(page.locator(".messagelist")).to_contain_text(
        "Nothing was changed in “Council votes on the budget”, so nothing was saved."
    )
    shot("nothing-saved")
    assert not Version.objects.get_for_object(article).exists()

    page.locator(".field-body [contenteditable=true]").click()
    page.keyboard.press("Control+End")
    page.keyboard.type(" Really.")
    page.click("input[name=_continue]")

    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")
    assert Version.objects.get_for_object(article).count() == 1
