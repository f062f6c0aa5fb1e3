"""Authors in the admin: a story's byline rows (ordered by drag and drop, which numbers
their hidden positions), the review rule on a live story's byline, History, and the
authors' own pages."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from reversion.models import Version

from articles.models import Author, Redirect
from tests.articles.test_admin import (
    article_form,
    byline_rows,
    change_url,
    existing_byline_rows,
    form_data_in,
    inline_errors,
)
from tests.factories import ArticleFactory, AuthorFactory

pytestmark = pytest.mark.django_db

ADD = "/admin/articles/article/add/"
AUTHORS = "/admin/articles/author/"
DRAFT_OF_CHANGES = {"_save_pending": "Save draft of changes"}


def names(article) -> list[str]:
    return [author.name for author in article.byline_authors()]


def row(author, position, *, byline=None, article=None) -> dict:
    return {
        "id": byline.pk if byline else "",
        "article": article.pk if article else "",
        "author": author.pk,
        "position": position,
    }


def test_the_article_form_orders_authors_by_drag_and_drop(chief_editor_client):
    article = ArticleFactory(authors=[AuthorFactory()])

    page = chief_editor_client.get(change_url(article)).text

    # django-admin-sortable2's table: rows with a drag handle and a hidden position.
    assert 'id="bylines-group"' in page
    group = page.split('id="bylines-group"', 1)[1].split("</fieldset>", 1)[0]
    assert '<fieldset class="module sortable"' in group
    assert 'type="hidden" name="bylines-0-position"' in group
    assert "adminsortable2/js/adminsortable2" in page


def test_a_new_story_gets_its_authors_in_the_order_given(chief_editor_client):
    ada, ben = AuthorFactory(name="Ada"), AuthorFactory(name="Ben")
    data = article_form(slug="two-authors") | byline_rows([row(ben, 1), row(ada, 2)], initial=0)

    response = chief_editor_client.post(ADD, data)

    assert response.status_code == 302
    from articles.models import Article

    assert names(Article.objects.get(slug="two-authors")) == ["Ben", "Ada"]


def test_dragging_a_row_reorders_the_byline(chief_editor_client):
    ada, ben, cy = AuthorFactory(name="Ada"), AuthorFactory(name="Ben"), AuthorFactory(name="Cy")
    article = ArticleFactory(authors=[ada, ben, cy])
    first, second, third = article.bylines.all()
    # The browser renumbers the hidden positions: Cy dragged to the top.
    rows = [
        row(ada, 2, byline=first, article=article),
        row(ben, 3, byline=second, article=article),
        row(cy, 1, byline=third, article=article),
    ]

    response = chief_editor_client.post(
        change_url(article), article_form(article) | byline_rows(rows)
    )

    assert response.status_code == 302
    assert names(article) == ["Cy", "Ada", "Ben"]
    assert "By <a" in chief_editor_client.get(article.get_absolute_url()).text


def test_an_author_twice_in_a_byline_is_an_error_and_nothing_is_saved(chief_editor_client):
    ada = AuthorFactory(name="Ada")
    article = ArticleFactory(authors=[ada], title="Before")
    rows = [*existing_byline_rows(article), row(ada, 2, article=article)]

    response = chief_editor_client.post(
        change_url(article), article_form(article, title="After") | byline_rows(rows, initial=1)
    )

    assert response.status_code == 200
    assert inline_errors(response, "bylines")[1] == {
        "__all__": ["Please correct the duplicate values below."]
    }
    assert "Please correct the duplicate data for author" in response.text
    article.refresh_from_db()
    assert article.title == "Before"
    assert names(article) == ["Ada"]


def test_an_editor_cannot_change_a_live_storys_byline_and_keeps_what_they_typed(editor_client):
    ada, ben = AuthorFactory(name="Ada"), AuthorFactory(name="Ben")
    live = ArticleFactory(authors=[ada])
    rows = [*existing_byline_rows(live), row(ben, 2, article=live)]

    response = editor_client.post(
        change_url(live), article_form(live) | byline_rows(rows, initial=1)
    )

    assert response.status_code == 200
    assert "Readers would see this byline change at once" in response.text
    assert f'<option value="{ben.pk}" selected>Ben</option>' in response.text, "row kept"
    assert names(live) == ["Ada"]


def test_an_editor_may_set_the_byline_of_a_draft(editor_client):
    ada, ben = AuthorFactory(name="Ada"), AuthorFactory(name="Ben")
    draft = ArticleFactory(authors=[ada], status="draft", publish_at=None)
    rows = [*existing_byline_rows(draft), row(ben, 2, article=draft)]

    response = editor_client.post(change_url(draft), article_form(draft) | byline_rows(rows))

    assert response.status_code == 302
    assert names(draft) == ["Ada", "Ben"]


def test_a_draft_of_changes_does_not_hold_the_byline(editor_client):
    ada, ben = AuthorFactory(name="Ada"), AuthorFactory(name="Ben")
    live = ArticleFactory(authors=[ada, ben], title="Live headline")
    first, second = live.bylines.all()
    swapped = [
        row(ada, 2, byline=first, article=live),
        row(ben, 1, byline=second, article=live),
    ]

    response = editor_client.post(
        change_url(live),
        article_form(live, title="New headline") | byline_rows(swapped) | DRAFT_OF_CHANGES,
    )

    assert response.status_code == 200
    assert "Authors are not part of a draft of changes" in response.text
    assert "New headline" in response.text
    live.refresh_from_db()
    assert not hasattr(live, "pending_edit")
    assert names(live) == ["Ada", "Ben"]


def test_renumbered_positions_in_the_same_order_are_no_byline_change(editor_client):
    ada, ben = AuthorFactory(name="Ada"), AuthorFactory(name="Ben")
    live = ArticleFactory(authors=[ada, ben])
    first, second = live.bylines.all()
    same_order = [
        row(ada, 10, byline=first, article=live),
        row(ben, 20, byline=second, article=live),
    ]

    response = editor_client.post(
        change_url(live),
        article_form(live, title="New headline") | byline_rows(same_order) | DRAFT_OF_CHANGES,
    )

    assert response.status_code == 302
    live.refresh_from_db()
    assert live.pending_edit.title == "New headline"


def test_history_restore_brings_back_the_byline(chief_editor_client):
    ada, ben = AuthorFactory(name="Ada"), AuthorFactory(name="Ben")
    article = ArticleFactory(authors=[ada])
    chief_editor_client.post(change_url(article), article_form(article, title="With Ada"))
    article.refresh_from_db()
    rows = [
        {**existing_byline_rows(article)[0], "DELETE": "on"},
        row(ben, 1, article=article),
    ]
    chief_editor_client.post(
        change_url(article), article_form(article, title="With Ben") | byline_rows(rows, initial=1)
    )
    assert names(article) == ["Ben"]
    with_ada = Version.objects.get_for_object(article).order_by("pk").first()

    compare = chief_editor_client.get(
        f"/admin/articles/article/{article.pk}/history/compare/",
        {"version_id1": with_ada.pk, "version_id2": Version.objects.get_for_object(article)[0].pk},
    )
    revision_url = f"/admin/articles/article/{article.pk}/history/{with_ada.pk}/"
    restored = chief_editor_client.post(
        revision_url, form_data_in(chief_editor_client.get(revision_url).text)
    )

    assert compare.status_code == 200
    shown = " ".join(compare.text.split())
    assert "<h3>bylines</h3>" in shown
    assert "<del>- Ada</del> &rarr; Deleted" in shown
    assert "<ins>+ Ben</ins>" in shown
    assert restored.status_code == 302
    assert names(article) == ["Ada"]


# The authors' own admin


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "teal").save(buffer, "PNG")
    return buffer.getvalue()


def author_form(**changes) -> dict:
    return {
        "name": "Ada Okonkwo",
        "slug": "ada-okonkwo",
        "role": "",
        "bio": "",
        "photo_alt": "",
    } | changes


def test_a_photo_without_alt_text_is_refused_next_to_the_alt_field(
    editor_client, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    photo = SimpleUploadedFile("ada.png", png(), content_type="image/png")

    response = editor_client.post(
        f"{AUTHORS}add/", author_form(role="Science correspondent", photo=photo)
    )

    assert response.status_code == 200
    form = response.context["adminform"].form
    assert form.errors["photo_alt"] == ["Describe the photo for readers who cannot see it."]
    assert 'value="Science correspondent"' in response.text
    assert not Author.objects.exists()


def test_an_author_with_a_described_photo_is_saved(editor_client, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    photo = SimpleUploadedFile("ada.png", png(), content_type="image/png")

    response = editor_client.post(
        f"{AUTHORS}add/", author_form(photo=photo, photo_alt="Ada at her desk")
    )

    assert response.status_code == 302
    ada = Author.objects.get()
    assert ada.photo.name.startswith("authors/")
    assert (tmp_path / ada.photo.name).exists()


def test_a_bio_is_kept_short(editor_client):
    response = editor_client.post(f"{AUTHORS}add/", author_form(bio="word " * 200))

    assert response.status_code == 200
    assert "600" in str(response.context["adminform"].form.errors["bio"])


def test_the_author_list_counts_stories_and_searches_roles(editor_client):
    ada = AuthorFactory(name="Ada Okonkwo", role="Science correspondent")
    ArticleFactory.create_batch(2, authors=[ada])
    ArticleFactory(authors=[AuthorFactory(name="Ben Hale"), ada])
    AuthorFactory(name="Cy Ito", role="Sports desk")

    listing = editor_client.get(AUTHORS, {"q": "science"}).text

    assert "Ada Okonkwo" in listing and "Cy Ito" not in listing
    assert '<td class="field-story_count">3</td>' in listing


def test_renaming_an_author_keeps_their_old_address(editor_client):
    ada = AuthorFactory(name="Ada Okonkwo", slug="ada-o")

    response = editor_client.post(f"{AUTHORS}{ada.pk}/change/", author_form(slug="ada-okonkwo"))

    assert response.status_code == 302
    redirect = Redirect.objects.get(kind=Redirect.Kind.AUTHOR)
    assert (redirect.old_slug, redirect.author) == ("ada-o", ada)
    assert redirect.old_path == "/authors/ada-o/"
