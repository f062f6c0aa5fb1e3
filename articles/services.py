"""Editorial writes on articles: the admin's forms and actions call these.

Every editorial write counts one more ``Article.version`` under a row lock, so an
editor whose change form was opened on an older version cannot overwrite it: an
edit is saved by ``article_save``, which refuses it with ``EditConflict`` when
someone saved the article after the editor opened it. That rule lives here and
nowhere else.

Who may publish lives here too: ``can_publish()`` says whether a user may, and
``publishing_field()`` whether a change is publishing at all; ``article_save`` and
``article_publish_now`` refuse a publisher's change from anyone else, and the
change form and the admin's actions ask the same two functions.
"""

from dataclasses import dataclass
from datetime import datetime

import reversion
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
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


@dataclass(frozen=True)
class SavedVersion:
    """The version an article's row holds, and when that version was saved."""

    number: int
    saved_at: datetime


def article_lock(*, article_id: int) -> SavedVersion | None:
    """Lock the article's row until the surrounding transaction ends; its saved version.

    None when there is no such article. The lock is what keeps a concurrent save
    from slipping in between the check and the write.
    """
    row = (
        Article.objects.select_for_update()
        .filter(pk=article_id)
        .values_list("version", "updated_at")
        .first()
    )
    return SavedVersion(*row) if row else None


def article_check_edit(*, article: Article, opened_version: int | None) -> None:
    """Raise EditConflict when ``article``, as loaded, was saved after the editor opened
    ``opened_version``.

    A courtesy for forms, to refuse with the rest of their errors; ``article_save``
    checks again under the row lock.
    """
    _refuse_if_saved_since(
        article_id=article.pk,
        opened_version=opened_version,
        saved=SavedVersion(article.version, article.updated_at),
    )


@transaction.atomic
def article_save(
    *, article: Article, opened_version: int | None, user: AbstractBaseUser | None
) -> Article:
    """Save an editor's change to ``article``, opened on version ``opened_version``.

    Refused with EditConflict, nothing written, when someone saved it since; else
    saved as the next version, with a revision by ``user``. A new article (no
    primary key) has nothing to conflict with. The row stays locked until the
    surrounding transaction ends, so what the caller saves with it (the admin's
    related links and topics) goes in under the same check. A publishing change
    (``publishing_field()``) by a ``user`` who may not publish is refused with a
    ValidationError on the field concerned.
    """
    before = None
    if article.pk is not None:
        saved = article_lock(article_id=article.pk)
        if saved is None:
            raise Article.DoesNotExist(f"Article {article.pk} was deleted.")
        _refuse_if_saved_since(article_id=article.pk, opened_version=opened_version, saved=saved)
        article.version = saved.number + 1
        if user is not None:
            before = _saved_schedule(article_id=article.pk)
    article_check_publish(user=user, before=before, after=Schedule.of(article))
    return _save_with_revision(article=article, user=user)


def _saved_schedule(*, article_id: int) -> "Schedule":
    row = Article.objects.filter(pk=article_id).values_list("status", "publish_at", "unpublish_at")
    return Schedule(*row.get())


def article_reinstate_version(*, article_id: int, saved: SavedVersion) -> None:
    """Put the version count and save time back on a row a history restore has rewritten.

    django-reversion restores an old version by writing its data into the row before
    the editor's form is shown: the version count (which the history does not keep)
    as its default and the save time as the old one. Back to ``saved``, read under
    ``article_lock`` before the restore, the form shows and ``article_save`` checks
    the version the row really had, as for any edit.
    """
    Article.objects.filter(pk=article_id).update(version=saved.number, updated_at=saved.saved_at)


def _refuse_if_saved_since(
    *, article_id: int, opened_version: int | None, saved: SavedVersion
) -> None:
    if opened_version == saved.number:
        return
    last_version = (
        Version.objects.get_for_object_reference(Article, article_id)
        .select_related("revision__user")
        .first()
    )
    user = last_version.revision.user if last_version else None
    raise EditConflict(saved_at=saved.saved_at, saved_by=user.get_username() if user else "")


# Publishing and the review step ------------------------------------------------------


@dataclass(frozen=True)
class Schedule:
    """What decides when a story is public: its status, publish time and take-down time."""

    status: str
    publish_at: datetime | None
    unpublish_at: datetime | None

    @classmethod
    def of(cls, article: Article) -> "Schedule":
        return cls(article.status, article.publish_at, article.unpublish_at)


def can_publish(user: AbstractBaseUser | None) -> bool:
    """Whether ``user`` may publish, schedule or bring back stories.

    It takes the right to change articles and, with the review step on
    (``ARTICLE_REVIEW_REQUIRED``, the default), the "Can publish articles"
    permission too (the Chief editors group; superusers have every permission).
    """
    if user is None or not user.is_active:
        return False
    may_change = user.has_perm("articles.change_article")
    if not settings.ARTICLE_REVIEW_REQUIRED:
        return may_change
    return may_change and user.has_perm("articles.publish_article")


def publishing_field(
    *, before: Schedule | None, after: Schedule, at: datetime | None = None
) -> str | None:
    """The field by which going from ``before`` (None: a new story) to ``after`` is
    publishing, or None when it is not.

    Publishing is making a story public or choosing when it becomes public: setting
    it to published (new, from a draft or withdrawn), moving a published story's
    publish time, or bringing back one whose take-down time has passed. Withdrawing,
    setting an earlier take-down time and editing a live story's text are not.
    Times count to the second, as the change form shows them.
    """
    if after.status != Article.Status.PUBLISHED:
        return None
    if before is None or before.status != Article.Status.PUBLISHED:
        return "status"
    if _to_second(before.publish_at) != _to_second(after.publish_at):
        return "publish_at"
    now = at or timezone.now()
    was_down = before.unpublish_at is not None and before.unpublish_at <= now
    is_down = after.unpublish_at is not None and after.unpublish_at <= now
    return "unpublish_at" if was_down and not is_down else None


def _to_second(moment: datetime | None) -> datetime | None:
    return moment.replace(microsecond=0) if moment else None


def publish_refusal() -> ValidationError:
    """What an editor who may not publish is told, wherever they tried."""
    return ValidationError(
        _(
            "Only chief editors (the “Can publish articles” permission) may publish, "
            "schedule or bring back a story. Set the status to Draft, save with "
            "“Save and ask for review”, and a chief editor will publish it."
        ),
        code="publish_permission",
    )


def article_check_publish(
    *, user: AbstractBaseUser | None, before: Schedule | None, after: Schedule
) -> None:
    """Refuse (ValidationError on the field concerned) a publishing change by a ``user``
    who may not publish. ``user`` None is the site itself (commands, data loads).
    """
    if user is None:
        return
    field = publishing_field(before=before, after=after)
    if field is not None and not can_publish(user):
        raise ValidationError({field: publish_refusal()})


@transaction.atomic
def article_request_review(*, article: Article, user: AbstractBaseUser | None) -> Article:
    """Mark the story "Ready for review": ``user`` asks a chief editor to publish it.

    Kept (who asked, and when) until the story is published. Refused for a story
    that is live or scheduled already.
    """
    article = _lock_for_write(article=article)
    if article.is_published() or article.is_scheduled():
        raise ValidationError(
            _("It is already published or scheduled; there is nothing to review."),
            code="already_published",
        )
    article.review_requested_at = timezone.now()
    article.review_requested_by = user if user is not None and user.pk else None
    return _save_with_revision(article=article, user=user, comment=_("Asked for review."))


def article_linkers(*, article: Article) -> QuerySet[Article]:
    """The articles whose related-content cards point at ``article``."""
    return Article.objects.filter(related_links__target_article=article).distinct()


@transaction.atomic
def article_publish_now(*, article: Article, user: AbstractBaseUser | None) -> Article:
    """Make the article live at once, whatever its status or schedule was.

    Refused for a ``user`` who may not publish, and for a story missing what a
    reader must see (the ValidationError names it). A take-down time already past
    is cleared, or the story would stay off the site.
    """
    if user is not None and not can_publish(user):
        raise publish_refusal()
    article = _lock_for_write(article=article)
    article.status = Article.Status.PUBLISHED
    article.publish_at = timezone.now()
    if article.unpublish_at is not None and article.unpublish_at <= article.publish_at:
        article.unpublish_at = None
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
    *, article: Article, user: AbstractBaseUser | None, comment: str = ""
) -> Article:
    article.full_clean()
    if article.is_published() or article.is_scheduled():
        # Live or scheduled: no longer waiting for review.
        article.review_requested_at = None
        article.review_requested_by = None
    # Nested inside an admin view's revision, this joins that revision (whose
    # comment the admin writes).
    with reversion.create_revision():
        article.save()
        reversion.set_user(user)
        if comment:
            reversion.set_comment(comment)
    return article
