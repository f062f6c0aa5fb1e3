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

A live story can also keep a *draft of changes* (``PendingEdit``): saved by
``article_save_pending`` without touching the row readers see, published by
``article_publish_pending`` or by the next ``article_save`` (the change form shows
the draft, so what it saves is the draft with the editor's latest changes), and
dropped by ``article_discard_pending``. Each of these counts a version too, so two
editors cannot overwrite each other's draft either; they write the version with
an UPDATE that no signal sees, as nothing readers see changes, so no page is purged.
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

from .models import Article, PendingEdit, ShareKey, Topic


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
    if article.pk is not None:
        # The form this save comes from showed the draft of changes (it was opened on
        # the version that saved it): what it saves publishes or replaces the draft.
        PendingEdit.objects.filter(article=article.pk).delete()
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
    # A draft of changes is saved without touching the row's save time.
    pending_at = (
        PendingEdit.objects.filter(article=article_id).values_list("saved_at", flat=True).first()
    )
    saved_at = max(saved.saved_at, pending_at) if pending_at else saved.saved_at
    last_version = (
        Version.objects.get_for_object_reference(Article, article_id)
        .select_related("revision__user")
        .first()
    )
    user = last_version.revision.user if last_version else None
    raise EditConflict(saved_at=saved_at, saved_by=user.get_username() if user else "")


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


# Drafts of changes to a live story ------------------------------------------------------


def article_check_pending(*, article: Article, live: Article) -> None:
    """Raise ValidationError when ``article`` (the editor's version of ``live``) cannot be
    kept as a draft of changes: the story is not live, or a field only the live story
    has (its address, status, publish time, image) was changed.

    A courtesy for forms, which name the field; ``article_save_pending`` checks again.
    """
    if not live.is_published():
        raise ValidationError(
            _(
                "Only a live story keeps a draft of changes; this one is not on the site, "
                "so save it with the normal save button."
            ),
            code="not_live",
        )
    errors = {
        field.name: live_only_error(field.verbose_name)
        for field in live_only_fields()
        if _differs(getattr(article, field.attname), getattr(live, field.attname))
    }
    if errors:
        raise ValidationError(errors)


def _differs(edited, live) -> bool:
    # A form carries times to the second: a live time's microseconds are no change.
    if isinstance(edited, datetime) and isinstance(live, datetime):
        return edited.replace(microsecond=0) != live.replace(microsecond=0)
    return edited != live


def live_only_error(label) -> ValidationError:
    """The refusal of a change to a field a draft of changes does not hold."""
    return ValidationError(
        _(
            "%(field)s is not part of a draft of changes: undo this change, or "
            "publish it with “Save and publish”."
        ),
        code="live_only",
        params={"field": str(label)[:1].upper() + str(label)[1:]},
    )


def live_only_fields():
    """The article's fields an editor sets that a draft of changes does not hold."""
    return [
        field
        for field in Article._meta.concrete_fields
        if field.editable and not field.primary_key and field.name not in PendingEdit.FIELDS
    ]


@transaction.atomic
def article_save_pending(
    *,
    article: Article,
    topics,
    opened_version: int | None,
    user: AbstractBaseUser | None,
) -> PendingEdit:
    """Keep the editor's changes to a live article as its draft of changes, unpublished.

    ``article`` is the editor's version of the story in memory (never saved here) and
    ``topics`` its topics. The live row and its topics stay as they are, so readers,
    lists, feed, sitemap and search are unchanged and no page is purged. It replaces
    any earlier draft, counts a version (refused with EditConflict, nothing written,
    when someone saved the story or its draft since ``opened_version``), and is
    recorded in the story's history as a version with the draft's text.
    """
    saved = article_lock(article_id=article.pk)
    if saved is None:
        raise Article.DoesNotExist(f"Article {article.pk} was deleted.")
    _refuse_if_saved_since(article_id=article.pk, opened_version=opened_version, saved=saved)
    live = Article.objects.get(pk=article.pk)
    article_check_pending(article=article, live=live)
    article.full_clean()
    pending = PendingEdit.objects.filter(article=article.pk).first() or PendingEdit(article=live)
    for name in PendingEdit.FIELDS:
        setattr(pending, name, getattr(article, name))
    pending.saved_by = user if user is not None and user.is_authenticated else None
    pending.saved_at = timezone.now()
    pending.full_clean()
    pending.save()
    topics = list(topics)
    pending.topics.set(topics)
    article.version = saved.number + 1
    Article.objects.filter(pk=article.pk).update(version=article.version)
    _record_draft(pending.applied_to(live), topics=topics, user=user)
    return pending


def _record_draft(draft: Article, *, topics: list[Topic], user) -> None:
    """Put the draft of changes in the story's history, as a version of the story.

    The version holds the draft's text and topics with the live story's other fields
    and related links, so History compares it with any other version, and restoring
    it publishes it. ``draft`` is never saved: django-reversion serializes the object
    it is given, and Django's serializer takes a many-to-many relation from the
    object's prefetched values when it has them (a queryset, as a prefetch leaves), for
    which there is no public setter.
    """
    draft._prefetched_objects_cache = {
        "topics": Topic.objects.filter(pk__in=[topic.pk for topic in topics])
    }
    with reversion.create_revision():
        reversion.add_to_revision(draft)
        reversion.set_user(user)
        reversion.set_comment(_("Draft of changes saved (not published)."))


@transaction.atomic
def article_publish_pending(*, article: Article, user: AbstractBaseUser | None) -> Article:
    """Publish the article's draft of changes: its text and topics become the live ones.

    ValidationError when there is no draft. The usual purge follows the save.
    """
    locked = _lock_for_write(article=article)
    pending = PendingEdit.objects.filter(article=locked.pk).first()
    if pending is None:
        raise ValidationError(
            _("“%(title)s” has no unpublished changes to publish."),
            code="no_pending",
            params={"title": locked.title},
        )
    for name in PendingEdit.FIELDS:
        setattr(locked, name, getattr(pending, name))
    topics = list(pending.topics.all())
    locked.full_clean()
    pending.delete()
    with reversion.create_revision():
        locked.save()
        locked.topics.set(topics)
        reversion.set_user(user)
        reversion.set_comment(_("Published the draft of changes."))
    return locked


@transaction.atomic
def article_discard_pending(
    *, article: Article, opened_version: int | None, user: AbstractBaseUser | None
) -> bool:
    """Drop the article's draft of changes; the live story stays as it is. False when
    there was none.

    Counts a version (refused with EditConflict when someone saved the story or its
    draft since ``opened_version``: their newer draft is not thrown away unseen), and
    records the live text again in the history, as the version now current.
    """
    saved = article_lock(article_id=article.pk)
    if saved is None:
        raise Article.DoesNotExist(f"Article {article.pk} was deleted.")
    _refuse_if_saved_since(article_id=article.pk, opened_version=opened_version, saved=saved)
    deleted, _by_model = PendingEdit.objects.filter(article=article.pk).delete()
    if not deleted:
        return False
    Article.objects.filter(pk=article.pk).update(version=saved.number + 1)
    with reversion.create_revision():
        reversion.add_to_revision(Article.objects.get(pk=article.pk))
        reversion.set_user(user)
        reversion.set_comment(_("Draft of changes discarded; the live version is current."))
    return True


# Share links ---------------------------------------------------------------------------


@transaction.atomic
def article_revoke_share_links(*, article: Article) -> ShareKey:
    """End every share link of ``article`` made so far; links made later work again."""
    key, _created = ShareKey.objects.select_for_update().get_or_create(article_id=article.pk)
    key.generation += 1
    key.revoked_at = timezone.now()
    key.full_clean()
    key.save()
    return key
