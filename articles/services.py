"""Editorial writes on articles: the admin's actions and forms call these.

Every editorial write counts one more ``Article.version`` under a row lock, so
an editor whose change form was opened on an older version cannot overwrite it.
"""

from datetime import datetime

import reversion
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from reversion.models import Version

from .models import Article


class EditConflict(Exception):
    """Someone saved the article after the editor opened it."""

    def __init__(self, *, saved_at: datetime, saved_by: str) -> None:
        self.saved_at = saved_at
        self.saved_by = saved_by
        super().__init__(f"Article saved at {saved_at:%Y-%m-%d %H:%M} by {saved_by or 'someone'}")


def article_lock_version(*, article_id: int) -> int:
    """Lock the article's row until the surrounding transaction ends; return its version.

    Call it inside the transaction that saves the article: the lock is what keeps
    a concurrent save from slipping in between the check and the write.
    """
    return Article.objects.select_for_update().values_list("version", flat=True).get(pk=article_id)


def article_check_version(
    *,
    article_id: int,
    opened_version: int | None,
    current_version: int,
    saved_at: datetime | None = None,
) -> None:
    """Raise EditConflict when the article was saved after the editor opened ``opened_version``.

    ``saved_at`` is when ``current_version`` was saved, for a caller whose row
    no longer says so (a restore has written the old version's data into it);
    by default it is read from the row.
    """
    if opened_version == current_version:
        return
    saved = saved_at or Article.objects.values_list("updated_at", flat=True).get(pk=article_id)
    last_version = (
        Version.objects.get_for_object_reference(Article, article_id)
        .select_related("revision__user")
        .first()
    )
    user = last_version.revision.user if last_version else None
    raise EditConflict(saved_at=saved, saved_by=user.get_username() if user else "")


def article_linkers(*, article: Article) -> QuerySet[Article]:
    """The articles whose related-content cards point at ``article``."""
    return Article.objects.filter(related_links__target_article=article).distinct()


@transaction.atomic
def article_publish_now(*, article: Article, user: AbstractBaseUser | None) -> Article:
    """Make the article live at once, whatever its status or schedule was."""
    article = _lock_for_write(article=article)
    article.status = Article.Status.PUBLISHED
    article.publish_at = timezone.now()
    return _save_with_revision(article=article, user=user, comment=_("Published now."))


@transaction.atomic
def article_withdraw(*, article: Article, user: AbstractBaseUser | None) -> Article:
    """Take the article off the live site.

    Cards on other articles that point here stay in place (hidden on the live
    site, flagged in the admin); ``article_linkers`` lists them.
    """
    article = _lock_for_write(article=article)
    article.status = Article.Status.WITHDRAWN
    return _save_with_revision(article=article, user=user, comment=_("Withdrawn."))


def _lock_for_write(*, article: Article) -> Article:
    # A fresh copy under the lock: the caller's instance may be older than the row.
    locked = Article.objects.select_for_update().get(pk=article.pk)
    locked.version += 1
    return locked


def _save_with_revision(
    *, article: Article, user: AbstractBaseUser | None, comment: str
) -> Article:
    article.full_clean()
    # Nested inside an admin view's revision, this joins that revision.
    with reversion.create_revision():
        article.save()
        reversion.set_user(user)
        reversion.set_comment(comment)
    return article
