"""A real Celery worker process makes an upload's sized versions, through the Redis
broker, on the files the web process stored (they share MEDIA_ROOT)."""

from pathlib import Path

import pytest
from django.db import transaction

from articles import services
from articles.models import Picture
from harness import wait_for
from tests.articles.pictures import image_bytes, upload

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_worker_makes_the_sized_versions_of_an_upload(worker, settings):
    settings.MEDIA_ROOT = Path(worker.env["VAR_DIR"]) / "media"

    with transaction.atomic():
        picture = services.picture_add(
            picture=Picture(file=upload("quay.jpg", image_bytes(1000, 600)), alt="The quay"),
            user=None,
        )

    def sized():
        picture.refresh_from_db()
        return picture.sized_at is not None

    wait_for(sized, timeout=30, what="the worker to make the sized versions")
    assert sorted({size["width"] for size in picture.sizes}) == [480, 960, 1000]
    for size in picture.sizes:
        assert (settings.MEDIA_ROOT / size["name"]).is_file()
