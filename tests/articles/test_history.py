"""History: the compare view reads as text, saves that change nothing leave no trace,
and the demo stories start with a version to go back to."""

import datetime
import re

import pytest
from django.utils import timezone
from reversion.models import Revision, Version

from articles import services
from articles.history import body_diff, readable_text, word_diff
from articles.models import Article
from tests.articles.test_admin import (
    article_form,
    change_url,
    correction_rows,
    existing_link_rows,
    first_version,
    form_data_in,
    link_rows,
)
from tests.factories import ArticleFactory, TopicFactory

pytestmark = pytest.mark.django_db


def ONE_HOUR_AGO():
    return (timezone.now() - datetime.timedelta(hours=1)).replace(microsecond=0)


def NOW_FIELDS():
    """A new correction row's time fields, as the form fills them in: now."""
    now = timezone.localtime().replace(microsecond=0)
    return {"posted_at_0": now.strftime("%Y-%m-%d"), "posted_at_1": now.strftime("%H:%M:%S")}


def compare_page(client, article, old, new) -> str:
    response = client.get(
        f"/admin/articles/article/{article.pk}/history/compare/",
        {"version_id1": old.pk, "version_id2": new.pk},
    )
    assert response.status_code == 200
    return response.content.decode()


def section(page: str, heading: str) -> str:
    """What the compare page shows under one field's heading."""
    found = re.search(rf"<h3>{heading}</h3>(.*?)(?=<h3>|<h4>)", page, re.DOTALL)
    assert found, f"no {heading!r} section"
    return found.group(1)


# The text of the body, word by word


def test_readable_text_keeps_paragraphs_and_drops_markup():
    body = (
        "<h2>Vote</h2><p>The council met on <strong>Monday</strong> &amp; voted.</p>"
        "<ul><li>One</li><li>Two</li></ul><p>Line<br>break</p>"
    )

    assert readable_text(body) == "Vote\nThe council met on Monday & voted.\nOne\nTwo\nLine\nbreak"


def test_word_diff_marks_words_not_lines():
    html = str(
        word_diff(
            "The council met on Monday.\nWork starts.", "The council met on Tuesday.\nWork starts."
        )
    )

    assert html == (
        '<p class="word-diff">The council met on <del>Monday.</del><ins>Tuesday.</ins></p>'
        '<p class="word-diff">Work starts.</p>'
    )


def test_word_diff_shows_a_paragraph_split_and_a_merge():
    split = str(word_diff("One two three four.", "One two.\nThree four."))
    merged = str(word_diff("One.\nTwo.", "One. Two."))

    assert "<ins>¶</ins>" in split
    assert split.count('<p class="word-diff">') == 2
    assert "<del>¶</del>" in merged
    assert merged.count('<p class="word-diff">') == 1


def test_body_diff_escapes_what_the_text_says():
    html = str(body_diff("<p>Plain.</p>", "<p>Write &lt;script&gt; here.</p>"))

    assert "<script>" not in html
    assert "&lt;script&gt;" in html


def test_compare_shows_the_body_as_text_with_the_changed_words_marked(chief_editor_client):
    article = ArticleFactory(
        body="<p>The council met on <strong>Monday</strong>.</p><p>Work starts in spring.</p>"
    )
    first_version(article)
    chief_editor_client.post(
        change_url(article),
        article_form(
            article,
            body="<p>The council met on <strong>Tuesday</strong> night.</p>"
            "<p>Work starts in spring.</p>",
        ),
    )
    old, new = Version.objects.get_for_object(article).order_by("pk")

    body = section(compare_page(chief_editor_client, article, old, new), "body")

    assert "&lt;p&gt;" not in body and "&lt;strong&gt;" not in body
    assert "<del>Monday.</del><ins>Tuesday night.</ins>" in body
    assert '<p class="word-diff">Work starts in spring.</p>' in body


def test_compare_names_related_links_by_their_headlines(chief_editor_client):
    article = ArticleFactory(title="Main story")
    target = ArticleFactory(title="Floods reshape the valley")
    chief_editor_client.post(
        change_url(article),
        article_form(article, links=[{"target_article": target.pk, "position": 1}]),
    )
    article.refresh_from_db()
    rows = [{**row, "position": 5} for row in existing_link_rows(article)]
    chief_editor_client.post(
        change_url(article),
        article_form(article)
        | link_rows([*rows, {"url": "https://example.org/x", "title": "Outside"}], initial=1),
    )
    article.refresh_from_db()
    rows = [{**row, "DELETE": "on"} for row in existing_link_rows(article)]
    chief_editor_client.post(
        change_url(article), article_form(article) | link_rows(rows, initial=2)
    )
    first, moved, emptied = Version.objects.get_for_object(article).order_by("pk")

    moving = section(compare_page(chief_editor_client, article, first, moved), "related links")
    emptying = section(compare_page(chief_editor_client, article, moved, emptied), "related links")

    assert "“Floods reshape the valley”: position 1 → 5" in moving
    assert "<ins>+ “Outside”</ins>" in moving
    assert "<del>- “Floods reshape the valley”</del>" in emptying
    assert "<del>- “Outside”</del>" in emptying
    assert "RelatedLink object" not in moving + emptying


def test_compare_lists_only_fields_that_changed(chief_editor_client):
    # To the second, as the form has it.
    article = ArticleFactory(title="Old headline", publish_at=ONE_HOUR_AGO())
    first_version(article)
    chief_editor_client.post(change_url(article), article_form(article, title="New headline"))
    old, new = Version.objects.get_for_object(article).order_by("pk")

    page = compare_page(chief_editor_client, article, old, new)

    assert re.findall(r"<h3>([^<]+)</h3>", page) == ["headline"]
    assert "<del>Old</del> <ins>New</ins> headline" in section(page, "headline")


# Saves that change nothing


def history_rows(client, article) -> int:
    page = client.get(f"/admin/articles/article/{article.pk}/history/").content.decode()
    table = page.split('<table id="change-history">', 1)[1].split("</table>", 1)[0]
    return table.count("<tr") - 1  # the heading's row


def test_a_save_that_changes_nothing_adds_no_history_entry(chief_editor_client):
    target = ArticleFactory(title="Target story")
    article = ArticleFactory(title="Main story")
    chief_editor_client.post(
        change_url(article),
        article_form(article, links=[{"target_article": target.pk, "position": 1}])
        | correction_rows([{"kind": "correction", "text": "A name was wrong.", **NOW_FIELDS()}])
        | {"topics": []},
    )
    article.refresh_from_db()
    versions, rows, number = (
        Version.objects.count(),
        history_rows(chief_editor_client, article),
        article.version,
    )

    # The form as the browser has it, sent back untouched (its hidden fields included).
    opened = form_data_in(chief_editor_client.get(change_url(article)).content.decode())
    response = chief_editor_client.post(change_url(article), opened, follow=True)

    article.refresh_from_db()
    assert response.status_code == 200
    assert "Nothing was changed in “Main story”, so nothing was saved." in response.content.decode()
    assert Version.objects.count() == versions
    assert Revision.objects.count() == 1
    assert history_rows(chief_editor_client, article) == rows == 1
    assert article.version == number, "a form opened before is still current"


@pytest.mark.parametrize(
    "change",
    ["headline", "topic", "link", "correction"],
)
def test_a_save_that_changes_the_story_or_its_rows_adds_one_entry(chief_editor_client, change):
    target = ArticleFactory(title="Target story")
    topic = TopicFactory(name="Climate")
    article = ArticleFactory(title="Main story")
    first_version(article)
    form = article_form(article)
    if change == "headline":
        form["title"] = "Main story, updated"
    elif change == "topic":
        form["topics"] = [topic.pk]
    elif change == "link":
        form |= link_rows([{"target_article": target.pk, "position": 1}])
    else:
        form |= correction_rows([{"kind": "update", "text": "Work began today.", **NOW_FIELDS()}])

    chief_editor_client.post(change_url(article), form)

    assert Version.objects.get_for_object(article).count() == 2
    assert history_rows(chief_editor_client, article) == 2


def test_saving_a_draft_of_changes_again_unchanged_adds_no_entry(editor_client):
    live = ArticleFactory(title="Live headline")
    pending = {"_save_pending": "Save draft of changes"}
    editor_client.post(change_url(live), article_form(live, title="Draft headline") | pending)
    live.refresh_from_db()
    assert Version.objects.get_for_object(live).count() == 1

    # The form opens on the draft; saved again as it is.
    response = editor_client.post(
        change_url(live), article_form(live, title="Draft headline") | pending, follow=True
    )

    assert "nothing was saved" in response.content.decode()
    assert Version.objects.get_for_object(live).count() == 1
    assert history_rows(editor_client, live) == 1


def test_the_service_keeps_a_draft_saved_again_unchanged_as_it_is(editor):
    live = ArticleFactory(title="Live headline")
    edited = Article.objects.get(pk=live.pk)
    edited.title = "Draft headline"
    services.article_save_pending(
        article=edited, topics=[], opened_version=live.version, user=editor
    )
    again = Article.objects.get(pk=live.pk)
    again.title = "Draft headline"

    services.article_save_pending(
        article=again, topics=[], opened_version=again.version, user=editor
    )

    assert Version.objects.get_for_object(live).count() == 1
    assert Article.objects.get(pk=live.pk).version == again.version


def test_asking_for_review_without_a_change_is_still_recorded(editor_client):
    draft = ArticleFactory(title="A draft", status=Article.Status.DRAFT, publish_at=None)

    editor_client.post(change_url(draft), article_form(draft) | {"_request_review": "1"})

    draft.refresh_from_db()
    assert draft.review_requested_at is not None
    assert Version.objects.get_for_object(draft).count() == 1
