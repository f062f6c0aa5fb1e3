"""The body editor's tools in the admin: the picture upload and library, the story search,
the picture library's own pages, and what the article form gives the editor."""

import json
import re
from html import unescape

import pytest
from django.test import Client

from articles.models import Picture
from tests.articles.pictures import image_bytes, upload
from tests.factories import ArticleFactory, UserFactory

pytestmark = pytest.mark.django_db

UPLOAD = "/admin/articles/picture/upload/"
LIBRARY = "/admin/articles/picture/library/"
STORIES = "/admin/articles/picture/stories/"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def post_upload(client, *, file=None, **fields):
    data = {"alt": "Ferries at the quay", "caption": "", "credit": "", **fields}
    return client.post(UPLOAD, {**data, "file": file or upload()})


# Who may use them


@pytest.mark.parametrize("url", [UPLOAD, LIBRARY, STORIES])
def test_visitors_are_sent_to_the_login(https_client, url):
    response = https_client.get(url)

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


@pytest.mark.parametrize("url", [LIBRARY, STORIES])
def test_staff_without_the_articles_rights_are_refused(url):
    client = Client(headers={"X-Forwarded-Proto": "https"})
    client.force_login(UserFactory(is_staff=True))

    assert client.get(url).status_code == 403
    assert post_upload(client).status_code == 403
    assert not Picture.objects.exists()


def test_an_upload_without_the_forms_csrf_token_is_refused(editor):
    client = Client(enforce_csrf_checks=True, headers={"X-Forwarded-Proto": "https"})
    client.force_login(editor)

    assert post_upload(client).status_code == 403
    assert not Picture.objects.exists()


def test_the_upload_takes_posts_only(editor_client):
    assert editor_client.get(UPLOAD).status_code == 405


# Upload


def test_an_editor_uploads_a_picture_and_gets_what_the_body_stores(
    editor_client, editor, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = post_upload(
            editor_client,
            file=upload("quay.jpg", image_bytes(1200, 800)),
            caption="Ferries wait for the tide.",
            credit="Photo: Sam Lee",
        )

    assert response.status_code == 201
    answer = response.json()
    picture = Picture.objects.get()
    assert answer == {
        "id": picture.pk,
        "src": picture.file.url,
        "thumbnail": answer["thumbnail"],
        "width": 1200,
        "height": 800,
        "alt": "Ferries at the quay",
        "caption": "Ferries wait for the tide.",
        "credit": "Photo: Sam Lee",
    }
    # Its sized versions are made after the upload: until then, the original stands in.
    assert answer["thumbnail"] == picture.file.url
    picture.refresh_from_db()
    assert picture.sized_at is not None
    assert picture.uploaded_by == editor


@pytest.mark.parametrize(
    ("file", "fields", "errors"),
    [
        (
            upload("notes.jpg", b"Meeting notes, not a picture"),
            {},
            {
                "file": [
                    "Upload a valid image. The file you uploaded was either not an image or "
                    "a corrupted image."
                ]
            },
        ),
        (
            upload("icon.jpg", image_bytes(120, 120)),
            {},
            {
                "file": [
                    "This picture is 120 x 120 pixels; it needs at least 200 pixels on each "
                    "side to look sharp."
                ]
            },
        ),
        (
            upload("anim.gif", image_bytes(400, 300, kind="GIF")),
            {},
            {"file": ["GIF pictures are not published here. Upload a JPEG, PNG or WebP picture."]},
        ),
        (
            None,
            {"alt": ""},
            {"alt": ["Describe the picture for readers who cannot see it (alt text)."]},
        ),
    ],
)
def test_an_upload_that_will_not_do_gets_its_errors_by_field(editor_client, file, fields, errors):
    response = post_upload(editor_client, file=file, **fields)

    assert response.status_code == 400
    assert response.json() == {"errors": errors}
    assert not Picture.objects.exists()


# The library and the story search


def test_the_library_lists_the_newest_pictures_and_finds_them_by_their_texts(editor_client):
    for alt in ("Ferries at the quay", "The town hall at night"):
        assert post_upload(editor_client, alt=alt, credit="Photo: Sam Lee").status_code == 201

    everything = editor_client.get(LIBRARY).json()["pictures"]
    found = editor_client.get(LIBRARY, {"q": "town hall"}).json()["pictures"]

    assert [picture["alt"] for picture in everything] == [
        "The town hall at night",
        "Ferries at the quay",
    ]
    assert [picture["alt"] for picture in found] == ["The town hall at night"]


def test_the_story_search_finds_stories_by_headline_and_says_which_are_live(editor_client):
    live = ArticleFactory(title="Council votes on the harbour", slug="harbour-vote")
    draft = ArticleFactory(title="Harbour fees: a draft", status="draft", publish_at=None)
    ArticleFactory(title="Budget delayed")

    stories = editor_client.get(STORIES, {"q": "harbour"}).json()["stories"]

    assert stories == [
        {"id": live.pk, "title": live.title, "url": "/articles/harbour-vote/", "state": "live"},
        {"id": draft.pk, "title": draft.title, "url": draft.get_absolute_url(), "state": "draft"},
    ]


# The picture library's pages


def test_a_picture_added_in_the_library_that_will_not_do_says_so_next_to_the_file(editor_client):
    response = editor_client.post(
        "/admin/articles/picture/add/",
        {"file": upload("icon.jpg", image_bytes(120, 120)), "alt": "Our logo", "credit": "Us"},
    )

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "needs at least 200 pixels" in errors["file"][0]
    assert 'value="Our logo"' in response.content.decode()


def test_a_picture_added_in_the_library_gets_its_size_and_sized_versions(
    editor_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = editor_client.post(
            "/admin/articles/picture/add/", {"file": upload(), "alt": "Ferries at the quay"}
        )

    assert response.status_code == 302
    picture = Picture.objects.get()
    assert (picture.width, picture.height, picture.alt) == (1200, 800, "Ferries at the quay")
    assert picture.sized_at is not None
    page = editor_client.get(f"/admin/articles/picture/{picture.pk}/change/").content.decode()
    assert "480 px, 960 px, 1200 px" in page


# The article form


def body_editor_config(content: str) -> dict:
    found = re.search(r'data-django-prose-editor-configurable="([^"]+)"', content)
    return json.loads(unescape(found.group(1)))


def test_the_body_editor_has_pictures_story_links_and_spell_checking(editor_client):
    content = editor_client.get("/admin/articles/article/add/").content.decode()

    config = body_editor_config(content)
    extensions = config["extensions"]
    assert extensions["NewsroomPicture"] == {"uploadUrl": UPLOAD, "libraryUrl": LIBRARY}
    assert extensions["StoryLink"]["searchUrl"] == STORIES
    assert extensions["BodyEditorAttributes"] == {"lang": "en-GB"}
    assert "NoSpellCheck" not in extensions, "the library turns spell-checking off"
    assert config["js_modules"] == ["/static/articles/admin/body-editor.js"]
    assert "/static/articles/admin/body-editor.css" in content


def test_the_article_form_has_the_hero_images_caption_and_credit(editor_client):
    content = editor_client.get("/admin/articles/article/add/").content.decode()

    assert 'name="hero_image_caption"' in content
    assert 'name="hero_image_credit"' in content
