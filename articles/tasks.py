"""Thin Celery tasks for pictures: load the row, make its sized versions, retry what may pass.

``make_picture_sizes`` is idempotent (a picture that has its sizes is left alone,
and the files' names follow from the original's), so late acknowledgement and a
second task started by the sweep are safe.
"""

import logging

from celery import shared_task

from . import pictures
from .models import Picture

logger = logging.getLogger(__name__)

# A full disk or a storage that did not answer may pass; a file that is not an image
# does not, and is recorded on the row instead (``pictures.picture_make_sizes``).
RETRY_DELAYS = (10, 60, 300)


@shared_task(
    bind=True,
    name="articles.make_picture_sizes",
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
    max_retries=len(RETRY_DELAYS),
)
def make_picture_sizes(self, *, picture_id: int) -> None:
    picture = Picture.objects.filter(pk=picture_id).first()
    if picture is None:
        logger.info("picture %s is gone; no sized versions to make", picture_id)
        return
    try:
        pictures.picture_make_sizes(picture=picture)
    except OSError as exc:
        delay = RETRY_DELAYS[min(self.request.retries, len(RETRY_DELAYS) - 1)]
        raise self.retry(countdown=delay, exc=exc) from exc


@shared_task(name="articles.picture_sizes_sweep", ignore_result=True)
def picture_sizes_sweep() -> None:
    """Give every picture a lost task left without sized versions to a new task, after
    giving a hero image written around the editors' form its library picture."""
    ids = []
    for article in pictures.heroes_without_picture().select_related("hero_picture")[:200]:
        article.hero_picture = pictures.hero_picture_for(article)
        article.save(update_fields=["hero_picture"])
        if article.hero_picture is not None and not article.hero_picture.sizes_error:
            ids.append(article.hero_picture.pk)
    ids += pictures.pictures_to_size()
    for picture_id in ids:
        make_picture_sizes.delay(picture_id=picture_id)
    if ids:
        logger.info("picture sweep enqueued %d pictures without sized versions", len(ids))
