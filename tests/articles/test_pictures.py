"""Pictures: what an upload must be, their sized versions (a Celery task), the sweep
that catches what a lost task left, and the hero image's library picture."""

import datetime as dt
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError
from PIL import Image

from articles import pictures, services, tasks
from articles.models import Article, Picture
from tests.articles.pictures import BLUE, EXIF_MAKE, RED, image_bytes, upload
from tests.factories import ArticleFactory, EditorFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def add_picture(django_capture_on_commit_callbacks, *, alt="Ferries at the quay", **kwargs):
    """Upload a picture as the editors do; its task runs (inline) after the commit."""
    with django_capture_on_commit_callbacks(execute=True):
        return services.picture_add(
            picture=Picture(file=upload(**kwargs), alt=alt), user=EditorFactory()
        )


def opened(name):
    return Image.open(default_storage.path(name))


def close_to(color, expected):
    return all(abs(a - b) < 40 for a, b in zip(color, expected, strict=True))


# Sized versions


def test_an_upload_gets_sized_versions_in_webp_and_jpeg_made_by_its_task(
    django_capture_on_commit_callbacks,
):
    picture = add_picture(django_capture_on_commit_callbacks, content=image_bytes(2400, 1200))

    picture.refresh_from_db()
    assert (picture.width, picture.height) == (2400, 1200)
    assert picture.sized_at is not None
    assert [(size["width"], size["height"], size["type"]) for size in picture.sizes] == [
        (480, 240, "image/webp"),
        (480, 240, "image/jpeg"),
        (960, 480, "image/webp"),
        (960, 480, "image/jpeg"),
        (1600, 800, "image/webp"),
        (1600, 800, "image/jpeg"),
    ]
    for size in picture.sizes:
        with opened(size["name"]) as made:
            assert made.size == (size["width"], size["height"])
            assert made.format == {"image/webp": "WEBP", "image/jpeg": "JPEG"}[size["type"]]


def test_a_small_picture_is_never_made_bigger(django_capture_on_commit_callbacks):
    picture = add_picture(django_capture_on_commit_callbacks, content=image_bytes(700, 350))

    picture.refresh_from_db()
    assert sorted({(size["width"], size["height"]) for size in picture.sizes}) == [
        (480, 240),
        (700, 350),
    ]


def test_sized_versions_follow_the_exif_orientation_and_keep_no_exif(
    django_capture_on_commit_callbacks,
):
    # Stored 1200 x 600, left half red; orientation 6 shows it turned a quarter clockwise:
    # 600 wide, 1200 tall, red on top.
    picture = add_picture(
        django_capture_on_commit_callbacks, content=image_bytes(1200, 600, orientation=6)
    )

    picture.refresh_from_db()
    assert (picture.width, picture.height) == (600, 1200)
    jpeg = next(size for size in picture.sizes if size["type"] == "image/jpeg")
    with opened(jpeg["name"]) as made:
        assert made.size == (480, 960)
        assert close_to(made.getpixel((240, 100)), RED)
        assert close_to(made.getpixel((240, 860)), BLUE)
        assert not made.getexif(), "no EXIF left: no camera, place or time"
    with opened(picture.file.name) as original:
        assert original.getexif()[EXIF_MAKE] == "Newsroom test camera"


def test_making_the_sizes_again_changes_nothing(django_capture_on_commit_callbacks):
    picture = add_picture(django_capture_on_commit_callbacks)
    picture.refresh_from_db()
    made = picture.sizes

    tasks.make_picture_sizes(picture_id=picture.pk)
    assert pictures.picture_make_sizes(picture=picture) is False

    picture.refresh_from_db()
    assert picture.sizes == made
    assert sorted(Path(default_storage.path("sizes")).rglob("*.*")) == sorted(
        Path(default_storage.path(size["name"])) for size in made
    )


def test_a_second_task_for_a_picture_writes_the_same_files(django_capture_on_commit_callbacks):
    picture = add_picture(django_capture_on_commit_callbacks)
    picture.refresh_from_db()
    first = picture.sizes
    Picture.objects.filter(pk=picture.pk).update(sized_at=None)

    tasks.make_picture_sizes(picture_id=picture.pk)

    picture.refresh_from_db()
    assert [size["name"] for size in picture.sizes] == [size["name"] for size in first]


def test_the_task_for_a_deleted_picture_does_nothing():
    tasks.make_picture_sizes(picture_id=987654)  # no error


def test_a_file_that_is_no_longer_an_image_is_recorded_and_not_retried(
    django_capture_on_commit_callbacks,
):
    picture = add_picture(django_capture_on_commit_callbacks)
    Picture.objects.filter(pk=picture.pk).update(sized_at=None, sizes=[])
    Path(default_storage.path(picture.file.name)).write_bytes(b"not a picture any more")

    tasks.make_picture_sizes.apply(kwargs={"picture_id": picture.pk}).get()

    picture.refresh_from_db()
    assert picture.sized_at is None
    assert "UnidentifiedImageError" in picture.sizes_error
    assert picture.pk not in pictures.pictures_to_size(at=timezone.now() + dt.timedelta(hours=1))


def test_an_error_that_may_pass_is_retried(django_capture_on_commit_callbacks, monkeypatch):
    picture = add_picture(django_capture_on_commit_callbacks)
    Picture.objects.filter(pk=picture.pk).update(sized_at=None, sizes=[])
    real = pictures.make_sizes
    calls = []

    def full_disk_once(name):
        calls.append(name)
        if len(calls) == 1:
            raise OSError(28, "No space left on device")
        return real(name)

    monkeypatch.setattr(pictures, "make_sizes", full_disk_once)

    tasks.make_picture_sizes.apply(kwargs={"picture_id": picture.pk}).get()

    picture.refresh_from_db()
    assert len(calls) == 2
    assert picture.sized_at is not None


# The sweep


def test_the_sweep_makes_the_sizes_a_lost_task_left_out(django_capture_on_commit_callbacks):
    picture = add_picture(django_capture_on_commit_callbacks)
    # As if the broker had lost the task: uploaded three minutes ago, no sizes.
    Picture.objects.filter(pk=picture.pk).update(
        sized_at=None, sizes=[], uploaded_at=timezone.now() - dt.timedelta(minutes=3)
    )

    tasks.picture_sizes_sweep()

    picture.refresh_from_db()
    assert picture.sized_at is not None and picture.sizes


def test_the_sweep_leaves_a_fresh_upload_to_its_own_task():
    picture = Picture.objects.create(
        file=upload(), width=1200, height=800, alt="Fresh", uploaded_at=timezone.now()
    )

    tasks.picture_sizes_sweep()

    picture.refresh_from_db()
    assert picture.sized_at is None


def test_a_broker_that_cannot_be_reached_loses_no_upload(
    django_capture_on_commit_callbacks, monkeypatch, caplog
):
    def unreachable(*args, **kwargs):
        raise BrokerError("Error 111 connecting to the broker")

    monkeypatch.setattr(tasks.make_picture_sizes, "apply_async", unreachable)

    picture = add_picture(django_capture_on_commit_callbacks)

    picture.refresh_from_db()
    assert picture.sized_at is None
    assert "waits for the sweep" in caplog.text
    assert picture.pk in pictures.pictures_to_size(at=timezone.now() + dt.timedelta(minutes=3))


# What an upload must be


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (b"GIF89a not really", "x.gif", "not an image we can read"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "x.svg", "not an image we can read"),
        (image_bytes(400, 300, kind="GIF"), "x.gif", "GIF pictures are not published here"),
        (image_bytes(300, 150), "x.jpg", "needs at least 200 pixels on each side"),
        (image_bytes(10_500, 200), "x.jpg", "at most 10000 pixels on its longer side"),
    ],
)
def test_an_upload_that_will_not_do_says_why(content, name, message):
    with pytest.raises(ValidationError) as refused:
        services.picture_add(picture=Picture(file=upload(name, content), alt="x"), user=None)

    assert message in " ".join(refused.value.message_dict["file"])
    assert not Picture.objects.exists()


def test_an_upload_over_the_size_limit_is_refused(settings):
    settings.PICTURE_MAX_UPLOAD_MB = 1
    big = upload("big.png", image_bytes(1200, 800, kind="BMP") * 2)

    with pytest.raises(ValidationError) as refused:
        pictures.check_upload(big)

    assert "a picture may be at most 1 MB" in refused.value.messages[0]


def test_a_picture_needs_alt_text():
    with pytest.raises(ValidationError) as refused:
        services.picture_add(picture=Picture(file=upload(), alt="  "), user=None)

    assert refused.value.message_dict["alt"] == [
        "Describe the picture for readers who cannot see it (alt text)."
    ]


# The hero image


def test_a_saved_hero_image_gets_its_library_picture_and_sizes(django_capture_on_commit_callbacks):
    article = ArticleFactory(status="draft", publish_at=None)
    article.hero_image = upload("bridge.jpg", image_bytes(2000, 1000))
    article.hero_image_alt = "The bridge at dawn"
    article.hero_image_caption = "The bridge reopened on Monday."
    article.hero_image_credit = "Photo: Ana Ruiz"

    with django_capture_on_commit_callbacks(execute=True):
        services.article_save(article=article, opened_version=article.version, user=None)

    article.refresh_from_db()
    picture = article.hero_picture
    assert picture.file.name == article.hero_image.name
    assert (picture.width, picture.height) == (2000, 1000)
    assert (picture.alt, picture.credit) == ("The bridge at dawn", "Photo: Ana Ruiz")
    assert picture.sized_at is not None


def test_a_hero_image_written_around_the_form_gets_its_picture_from_the_sweep():
    name = default_storage.save("articles/2026/05/quay.jpg", upload())
    article = ArticleFactory(hero_image=name, hero_image_alt="The quay")
    assert article.hero_picture is None

    tasks.picture_sizes_sweep()

    article.refresh_from_db()
    assert article.hero_picture.file.name == name
    assert article.hero_picture.sized_at is not None


def test_a_hero_file_that_cannot_be_read_is_swept_once():
    article = ArticleFactory(hero_image="articles/2026/05/missing.jpg", hero_image_alt="Gone")

    tasks.picture_sizes_sweep()
    tasks.picture_sizes_sweep()

    article.refresh_from_db()
    assert article.hero_picture.sizes_error
    assert Picture.objects.count() == 1
    assert not pictures.heroes_without_picture().exists()


def test_a_caption_without_a_hero_image_is_refused():
    article = ArticleFactory.build(hero_image_caption="A caption for nothing")

    with pytest.raises(ValidationError) as refused:
        article.full_clean()

    assert "no hero image" in refused.value.message_dict["hero_image_caption"][0]


def test_caption_and_credit_belong_to_the_live_story_not_to_a_draft_of_changes():
    article = ArticleFactory(hero_image="articles/x.jpg", hero_image_alt="x")
    edited = Article.objects.get(pk=article.pk)
    edited.hero_image_caption = "A new caption"

    with pytest.raises(ValidationError) as refused:
        services.article_check_pending(article=edited, live=article)

    assert refused.value.message_dict["hero_image_caption"] == [
        "Hero image caption is not part of a draft of changes: undo this change, or "
        "publish it with “Save and publish”."
    ]
