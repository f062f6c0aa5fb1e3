"""History: the compare view reads as text, saves that change nothing leave no trace,
and the demo stories start with a version to go back to."""

import re

import pytest
from reversion.models import Version

from articles.history import body_diff, readable_text, word_diff
from tests.articles.test_admin import article_form, change_url, existing_link_rows, link_rows
from tests.factories import ArticleFactory

pytestmark = pytest.mark.django_db


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
    chief_editor_client.post(change_url(article), article_form(article))
    article.refresh_from_db()
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
    article = ArticleFactory(title="Old headline")
    chief_editor_client.post(change_url(article), article_form(article))
    article.refresh_from_db()
    chief_editor_client.post(change_url(article), article_form(article, title="New headline"))
    old, new = Version.objects.get_for_object(article).order_by("pk")

    page = compare_page(chief_editor_client, article, old, new)

    assert re.findall(r"<h3>([^<]+)</h3>", page) == ["headline"]
    assert "<del>Old</del> <ins>New</ins> headline" in section(page, "headline")
