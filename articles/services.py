"""Editorial writes on articles: the admin's forms and actions call these.

Every editorial write counts one more ``Article.version`` under a row lock, so an
editor whose change form was opened on an older version cannot overwrite it: an
edit is saved by ``article_save``, which refuses it with ``EditConflict`` when
someone saved the article after the editor opened it. That rule lives here and
nowhere else.

Who may publish lives here too: ``can_publish()`` says whether a user may, and
``publishing_field()`` whether a change is publishing at all; ``article_save`` and
``article_publish_now`` refuse a publisher's change from anyone else, and the
change form and the admin's actions ask the same two functions. With the review step
on, whoever may not publish may not change what readers see of a live story either:
``changes_what_readers_see()`` says whether a save does, and
``article_check_readers_change`` refuses it; the change form, its inline rows,
``article_save``, ``article_publish_pending``, ``correction_add`` and a History
restore all ask it. Taking a live story off the site stays open to every editor.

A live story can also keep a *draft of changes* (``PendingEdit``): saved by
``article_save_pending`` without touching the row readers see, published by
``article_publish_pending`` or by the next ``article_save`` (the change form shows
the draft, so what it saves is the draft with the editor's latest changes), and
dropped by ``article_discard_pending``. Each of these counts a version too, so two
editors cannot overwrite each other's draft either; they write the version with
an UPDATE that no signal sees, as nothing readers see changes, so no page is purged.
"""

import logging
from dataclasses import dataclass
from datetime import datetime

import reversion
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from reversion.models import Version

from newsroom import enqueue

from . import pictures, tasks
from .models import (
    Article,
    ArticleAuthor,
    Author,
    Correction,
    PendingEdit,
    Picture,
    Redirect,
    ShareKey,
    Topic,
)

logger = logging.getLogger(__name__)


class AddressTaken(Exception):
    """The slug chosen is an old address of another story or topic, kept by a redirect.

    Saving it anyway needs the editor's say-so (``take_over_address``), which
    removes the redirect.
    """

    def __init__(self, *, redirect: Redirect) -> None:
        self.redirect = redirect
        super().__init__(f"{redirect.old_path} leads to {redirect.target}")


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
    *,
    article: Article,
    opened_version: int | None,
    user: AbstractBaseUser | None,
    take_over_address: bool = False,
) -> Article:
    """Save an editor's change to ``article``, opened on version ``opened_version``.

    Refused with EditConflict, nothing written, when someone saved it since; else
    saved as the next version, with a revision by ``user``. A new article (no
    primary key) has nothing to conflict with. The row stays locked until the
    surrounding transaction ends, so what the caller saves with it (the admin's
    authors, related links and topics) goes in under the same check. A publishing change
    (``publishing_field()``) by a ``user`` who may not publish is refused with a
    ValidationError on the field concerned, and so is a change readers would see at
    once of a live story (``article_check_readers_change``), with a ValidationError.

    Its address follows the rules of ``_free_address`` and ``_keep_old_address``:
    a live story's old slug keeps leading to it, and a slug that is another
    story's old address is refused with AddressTaken unless ``take_over_address``.
    """
    before = None
    saved_row = None
    live_slug = None
    if article.pk is not None:
        saved = article_lock(article_id=article.pk)
        if saved is None:
            raise Article.DoesNotExist(f"Article {article.pk} was deleted.")
        _refuse_if_saved_since(article_id=article.pk, opened_version=opened_version, saved=saved)
        article.version = saved.number + 1
        # The story as saved, read once under the lock: what the rules compare the edit
        # with, and the address to keep if it was live.
        saved_row = Article.objects.defer("search_vector").get(pk=article.pk)
        before = Schedule.of(saved_row)
        live_slug = saved_row.slug if saved_row.is_published() else None
    article_check_publish(user=user, before=before, after=Schedule.of(article))
    article_check_readers_change(user=user, live=saved_row, edited=article)
    _free_address(
        kind=Redirect.Kind.ARTICLE, slug=article.slug, owner=article, take_over=take_over_address
    )
    if article.pk is not None:
        # The form this save comes from showed the draft of changes (it was opened on
        # the version that saved it): what it saves publishes or replaces the draft.
        PendingEdit.objects.filter(article=article.pk).delete()
    _attach_hero_picture(article=article, user=user)
    _save_with_revision(article=article, user=user)
    _keep_old_address(kind=Redirect.Kind.ARTICLE, old_slug=live_slug, owner=article)
    return article


def _attach_hero_picture(*, article: Article, user: AbstractBaseUser | None) -> None:
    """Give a new hero image its library picture (the same file) before the story is saved:
    the page then knows its size at once, and its sized versions are made after the commit.
    """
    # Stores a new upload now, as saving the story would.
    Article._meta.get_field("hero_image").pre_save(article, add=article.pk is None)
    picture = pictures.hero_picture_for(article, user=user)
    if picture is not None and picture.pk != article.hero_picture_id and not picture.sizes_error:
        _enqueue_sizes(picture)
    article.hero_picture = picture


# Pictures ---------------------------------------------------------------------------


@transaction.atomic
def picture_add(*, picture: Picture, user: AbstractBaseUser | None) -> Picture:
    """Add ``picture`` (new, its file an upload) to the library; its sized versions are
    made by a worker after the commit.

    ValidationError naming the field when the file is not a picture we publish
    (``pictures.check_upload``: what is wrong with it) or the alt text is missing.
    """
    try:
        dimensions = pictures.check_upload(picture.file)
    except ValidationError as error:
        raise ValidationError({"file": error}) from error
    picture.width, picture.height = dimensions.width, dimensions.height
    for name in ("alt", "caption", "credit"):
        setattr(picture, name, getattr(picture, name).strip())
    picture.uploaded_by = user if user is not None and user.is_authenticated else None
    picture.full_clean()
    picture.save()
    _enqueue_sizes(picture)
    return picture


def _enqueue_sizes(picture: Picture) -> None:
    """Hand the making of ``picture``'s sized versions to a worker once the transaction
    commits. A broker that cannot be reached loses nothing: pages show the original,
    and the sweep (``tasks.picture_sizes_sweep``) enqueues it again.
    """

    def unreachable(exc: Exception) -> None:
        logger.warning("broker unreachable; picture %s waits for the sweep: %s", picture.pk, exc)

    # robust: making the sizes must never undo or fail the editor's save.
    enqueue.after_commit(
        tasks.make_picture_sizes,
        kwargs={"picture_id": picture.pk},
        unreachable=unreachable,
        robust=True,
    )


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


# What readers see of a live story


# When a story is public; the rest of what an editor sets is what readers see of it.
SCHEDULE_FIELDS = frozenset({"status", "publish_at", "unpublish_at"})


def reader_fields():
    """The article's fields an editor sets that readers see while it is live."""
    return [
        field
        for field in Article._meta.concrete_fields
        if field.editable and not field.primary_key and field.name not in SCHEDULE_FIELDS
    ]


def changes_what_readers_see(
    *,
    live: Article | None,
    edited: Article,
    topics=None,
    rows_changed: bool = False,
) -> bool:
    """Whether saving ``edited`` over ``live`` (the story as saved; None: a new one)
    changes at once what readers see of a live story.

    It does when the story is live and stays live, and something readers see differs:
    a field of ``reader_fields()``, its topics (``topics``, when the save sets them) or
    its rows (``rows_changed``): its authors (the byline, in order), related links or
    corrections. Taking the story off the site (withdrawn, or a take-down time now
    past) does not; a story not yet live is published, not changed
    (``publishing_field``).
    """
    if live is None or not live.is_published() or not edited.is_published():
        return False
    if rows_changed:
        return True
    if topics is not None and {topic.pk for topic in topics} != set(
        live.topics.values_list("pk", flat=True)
    ):
        return True
    return any(
        _differs(getattr(edited, field.attname), getattr(live, field.attname))
        for field in reader_fields()
    )


def readers_see_refusal() -> ValidationError:
    """What an editor who may not publish is told when a save would change a live story."""
    return ValidationError(
        _(
            "Readers would see this change at once, and only chief editors (the “Can "
            "publish articles” permission) may publish. Save it with “Save and ask for "
            "review” (or “Save draft of changes”); a chief editor will publish it."
        ),
        code="readers_would_see",
    )


def article_check_readers_change(
    *,
    user: AbstractBaseUser | None,
    live: Article | None,
    edited: Article,
    topics=None,
    rows_changed: bool = False,
) -> None:
    """Refuse (``readers_see_refusal()``) a save that changes what readers see of a live
    story (``changes_what_readers_see``) by a ``user`` who may not publish. ``user``
    None is the site itself.
    """
    if user is None or can_publish(user):
        return
    if changes_what_readers_see(live=live, edited=edited, topics=topics, rows_changed=rows_changed):
        raise readers_see_refusal()


@transaction.atomic
def article_request_review(*, article: Article, user: AbstractBaseUser | None) -> Article:
    """Mark the story "Ready for review": ``user`` asks a chief editor to publish it.

    Kept (who asked, and when) until the story is published, or, for a live story,
    until its draft of changes is published or discarded. Refused for a scheduled
    story, and for a live one with no draft of changes (nothing to review).
    """
    article = _lock_for_write(article=article)
    if article.is_published():
        if not PendingEdit.objects.filter(article=article.pk).exists():
            raise ValidationError(
                _(
                    "It is live and has no draft of changes to review. Make your changes, "
                    "then press “Save and ask for review” on its form."
                ),
                code="no_pending",
            )
        _record_review_request(article=article, user=user)
        return article
    if article.is_scheduled():
        raise ValidationError(
            _("It is already scheduled; there is nothing to review."),
            code="already_published",
        )
    article.review_requested_at = timezone.now()
    article.review_requested_by = user if user is not None and user.pk else None
    return _save_with_revision(article=article, user=user, comment=_("Asked for review."))


def _record_review_request(*, article: Article, user: AbstractBaseUser | None) -> None:
    """Note on a live story's row (its version counted) that ``user`` asked for its
    draft of changes to be reviewed. An UPDATE that no signal sees: readers see
    nothing new, so no page is purged; the draft's own revision is its history.
    """
    article.review_requested_at = timezone.now()
    article.review_requested_by = user if user is not None and user.pk else None
    Article.objects.filter(pk=article.pk).update(
        version=article.version,
        review_requested_at=article.review_requested_at,
        review_requested_by=article.review_requested_by,
    )


def article_linkers(*, article: Article) -> QuerySet[Article]:
    """The articles whose related-content cards point at ``article``."""
    return Article.objects.filter(related_links__target_article=article).distinct()


@transaction.atomic
def article_publish_now(*, article: Article, user: AbstractBaseUser | None) -> Article:
    """Make the article live at once, whatever its status or schedule was.

    A story that has been live keeps its publish time: a withdrawn one comes back
    in its old place in the lists, not at the top as news, and a live one stays
    where it is. A draft or a scheduled story goes live now. Moving a story to now
    is ``article_redate``, an action of its own.

    Refused for a ``user`` who may not publish, and for a story missing what a
    reader must see (the ValidationError names it). A take-down time already past
    is cleared, or the story would stay off the site.
    """
    return _publish(article=article, user=user, redate=False, comment=_("Published now."))


@transaction.atomic
def article_redate(*, article: Article, user: AbstractBaseUser | None) -> Article:
    """Publish the article with now as its publish time: it goes to the top of the lists.

    Refused, as ``article_publish_now``, for a ``user`` who may not publish.
    """
    return _publish(article=article, user=user, redate=True, comment=_("Re-dated to now."))


def _publish(*, article: Article, user: AbstractBaseUser | None, redate: bool, comment) -> Article:
    if user is not None and not can_publish(user):
        raise publish_refusal()
    article = _lock_for_write(article=article)
    now = timezone.now()
    if redate or not _has_been_live(article, at=now):
        article.publish_at = now
    article.status = Article.Status.PUBLISHED
    if article.unpublish_at is not None and article.unpublish_at <= now:
        article.unpublish_at = None
    return _save_with_revision(article=article, user=user, comment=comment)


def _has_been_live(article: Article, *, at: datetime) -> bool:
    """The story went out at its publish time: it is live, or was until it was withdrawn.

    A draft has not (whatever time its form holds), nor has a story whose time is
    still to come.
    """
    return (
        article.status in {Article.Status.PUBLISHED, Article.Status.WITHDRAWN}
        and article.publish_at is not None
        and article.publish_at <= at
    )


@transaction.atomic
def article_withdraw(*, article: Article, user: AbstractBaseUser | None) -> Article:
    """Take the article off the live site.

    Cards on other articles that point here stay in place (hidden on the live
    site, flagged in the admin); ``article_linkers`` lists them.
    """
    article = _lock_for_write(article=article)
    article.status = Article.Status.WITHDRAWN
    return _save_with_revision(article=article, user=user, comment=_("Withdrawn."))


# Bylines


@transaction.atomic
def article_set_authors(*, article: Article, authors) -> None:
    """Make ``authors`` the article's byline, in that order; the site's own write (the
    demo, data loads). Editors set bylines with the change form's authors rows, which
    ``article_save`` and the review rule cover.
    """
    authors = list(authors)
    ArticleAuthor.objects.filter(article=article).exclude(author__in=authors).delete()
    kept = {byline.author_id: byline for byline in ArticleAuthor.objects.filter(article=article)}
    for position, author in enumerate(authors, start=1):
        byline = kept.get(author.pk) or ArticleAuthor(article=article, author=author)
        if byline.pk is None or byline.position != position:
            byline.position = position
            byline.full_clean()
            byline.save()


# Corrections and updates


@transaction.atomic
def correction_add(
    *,
    article: Article,
    text: str,
    kind: str = Correction.Kind.CORRECTION,
    posted_at: datetime | None = None,
    user: AbstractBaseUser | None,
) -> Correction:
    """Add a correction, update or editor's note to ``article``, dated ``posted_at`` (now).

    An editorial write like any other: the story counts a version (a form opened
    before cannot save over it) and its revision holds the correction. Readers see it
    at once, so on a live story only a ``user`` who may publish adds one
    (``article_check_readers_change``).
    """
    article = _lock_for_write(article=article)
    article_check_readers_change(user=user, live=article, edited=article, rows_changed=True)
    correction = Correction(
        article=article, kind=kind, text=text, posted_at=posted_at or timezone.now()
    )
    correction.full_clean()
    correction.save()
    article.latest_correction_at = _latest_correction_time(article_id=article.pk)
    _save_with_revision(article=article, user=user, comment=_("Correction added."))
    return correction


def article_refresh_corrections(*, article: Article) -> None:
    """Note on the article's row when its latest correction was made, after its
    corrections were written another way (the admin's inline rows).
    """
    article.latest_correction_at = _latest_correction_time(article_id=article.pk)
    Article.objects.filter(pk=article.pk).update(latest_correction_at=article.latest_correction_at)


def _latest_correction_time(*, article_id: int) -> datetime | None:
    return Correction.objects.filter(article=article_id).aggregate(latest=Max("posted_at"))[
        "latest"
    ]


# Addresses: old slugs keep working


def address_redirect(*, kind: str, slug: str, owner: Article | Topic | Author) -> Redirect | None:
    """The redirect that makes ``slug`` an old address of another story, topic or author than
    ``owner`` (of ``kind``), or None: ``owner`` may take the slug without asking.
    """
    if not slug:
        return None
    redirects = Redirect.objects.filter(kind=kind, old_slug=slug).select_related(kind)
    if owner.pk is not None:
        redirects = redirects.exclude(**{f"{kind}_id": owner.pk})
    return redirects.first()


@transaction.atomic
def topic_save(*, topic: Topic, take_over_address: bool = False) -> Topic:
    """Save an editor's change to ``topic``; a new slug keeps the old address working.

    Topic pages are always public, so every renamed topic keeps its old address.
    A slug that is another topic's old address is refused with AddressTaken
    unless ``take_over_address``.
    """
    return _save_keeping_address(topic, kind=Redirect.Kind.TOPIC, take_over=take_over_address)


@transaction.atomic
def author_save(*, author: Author, take_over_address: bool = False) -> Author:
    """Save an editor's change to ``author``; a new slug keeps the old address working.

    As ``topic_save``: author pages are always public, so a renamed author's old
    address leads to the new one, and a slug that is another author's old address is
    refused with AddressTaken unless ``take_over_address``.
    """
    return _save_keeping_address(author, kind=Redirect.Kind.AUTHOR, take_over=take_over_address)


def _save_keeping_address(owner: Topic | Author, *, kind: str, take_over: bool):
    """Save ``owner``, a page that is always public: a new slug keeps the old address
    leading to it. Call inside a transaction (the saved slug is read under a lock)."""
    old_slug = None
    if owner.pk is not None:
        old_slug = (
            type(owner)
            .objects.select_for_update()
            .filter(pk=owner.pk)
            .values_list("slug", flat=True)
            .first()
        )
    _free_address(kind=kind, slug=owner.slug, owner=owner, take_over=take_over)
    owner.full_clean()
    owner.save()
    _keep_old_address(kind=kind, old_slug=old_slug, owner=owner)
    return owner


def _free_address(
    *, kind: str, slug: str, owner: Article | Topic | Author, take_over: bool
) -> None:
    """Make ``slug`` free for ``owner``, before it is saved with it.

    A redirect from it to ``owner`` itself goes (the address is live again, and a
    redirect to itself would loop); one to another story or topic goes only when
    the editor said so, else AddressTaken.
    """
    if owner.pk is not None:
        Redirect.objects.filter(kind=kind, old_slug=slug, **{f"{kind}_id": owner.pk}).delete()
    taken = address_redirect(kind=kind, slug=slug, owner=owner)
    if taken is None:
        return
    if not take_over:
        raise AddressTaken(redirect=taken)
    taken.delete()


def _keep_old_address(*, kind: str, old_slug: str | None, owner: Article | Topic | Author) -> None:
    """After ``owner`` was saved: its old public address ``old_slug`` (when it changed)
    leads to it from now on. Every older redirect to ``owner`` already does, since
    redirects point at the row: chains collapse by themselves.
    """
    if not old_slug or old_slug == owner.slug:
        return
    Redirect.objects.update_or_create(
        kind=kind,
        old_slug=old_slug,
        defaults={each: owner if each == kind else None for each in Redirect.Kind.values},
    )


def _lock_for_write(*, article: Article) -> Article:
    # A fresh copy under the lock: the caller's instance may be older than the row.
    locked = Article.objects.select_for_update().get(pk=article.pk)
    locked.version += 1
    return locked


def _save_with_revision(
    *, article: Article, user: AbstractBaseUser | None, comment: str = ""
) -> Article:
    article.full_clean()
    if article.review_requested_at and (
        article.is_scheduled()
        or (article.is_published() and not PendingEdit.objects.filter(article=article.pk).exists())
    ):
        # Scheduled, or live with no draft of changes waiting: no longer in review.
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
    ask_for_review: bool = False,
) -> PendingEdit:
    """Keep the editor's changes to a live article as its draft of changes, unpublished.

    With ``ask_for_review``, ``user`` also asks a chief editor to publish it (as
    ``article_request_review``), in the same write.

    ``article`` is the editor's version of the story in memory (never saved here) and
    ``topics`` its topics. The live row and its topics stay as they are, so readers,
    lists, feed, sitemap and search are unchanged and no page is purged. It replaces
    any earlier draft, counts a version (refused with EditConflict, nothing written,
    when someone saved the story or its draft since ``opened_version``), and is
    recorded in the story's history as a version with the draft's text. Saving the
    draft as it already is (without asking for review) writes nothing.
    """
    saved = article_lock(article_id=article.pk)
    if saved is None:
        raise Article.DoesNotExist(f"Article {article.pk} was deleted.")
    _refuse_if_saved_since(article_id=article.pk, opened_version=opened_version, saved=saved)
    live = Article.objects.get(pk=article.pk)
    article_check_pending(article=article, live=live)
    article.full_clean()
    topics = list(topics)
    saved_draft = PendingEdit.objects.filter(article=article.pk).first()
    if saved_draft is not None and not ask_for_review and _same_draft(saved_draft, article, topics):
        # Saving the draft as it is changes nothing: no version, no History entry.
        return saved_draft
    pending = saved_draft or PendingEdit(article=live)
    for name in PendingEdit.FIELDS:
        setattr(pending, name, getattr(article, name))
    pending.saved_by = user if user is not None and user.is_authenticated else None
    pending.saved_at = timezone.now()
    pending.full_clean()
    pending.save()
    pending.topics.set(topics)
    article.version = saved.number + 1
    if ask_for_review:
        _record_review_request(article=article, user=user)
    else:
        Article.objects.filter(pk=article.pk).update(version=article.version)
    _record_draft(pending.applied_to(live), topics=topics, user=user, asked=ask_for_review)
    return pending


def _same_draft(pending: PendingEdit, article: Article, topics: list[Topic]) -> bool:
    """Whether ``article`` (an editor's version of the story) and ``topics`` are what the
    draft of changes ``pending`` already holds."""
    fields = [PendingEdit._meta.get_field(name).attname for name in PendingEdit.FIELDS]
    return all(getattr(pending, name) == getattr(article, name) for name in fields) and {
        topic.pk for topic in topics
    } == set(pending.topics.values_list("pk", flat=True))


def _record_draft(draft: Article, *, topics: list[Topic], user, asked: bool = False) -> None:
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
        reversion.set_comment(
            _("Draft of changes saved (not published); asked for review.")
            if asked
            else _("Draft of changes saved (not published).")
        )


@transaction.atomic
def article_publish_pending(*, article: Article, user: AbstractBaseUser | None) -> Article:
    """Publish the article's draft of changes: its text and topics become the live ones.

    ValidationError when there is no draft, and (``article_check_readers_change``) when
    the story is live and ``user`` may not publish. The usual purge follows the save,
    and the story is no longer waiting for review.
    """
    locked = _lock_for_write(article=article)
    pending = PendingEdit.objects.filter(article=locked.pk).first()
    if pending is None:
        raise ValidationError(
            _("“%(title)s” has no unpublished changes to publish."),
            code="no_pending",
            params={"title": locked.title},
        )
    topics = list(pending.topics.all())
    article_check_readers_change(
        user=user,
        live=locked,
        edited=pending.applied_to(locked),
        topics=topics,
    )
    for name in PendingEdit.FIELDS:
        setattr(locked, name, getattr(pending, name))
    locked.review_requested_at = None
    locked.review_requested_by = None
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
    records the live text again in the history, as the version now current. A review
    asked for the draft is over.
    """
    saved = article_lock(article_id=article.pk)
    if saved is None:
        raise Article.DoesNotExist(f"Article {article.pk} was deleted.")
    _refuse_if_saved_since(article_id=article.pk, opened_version=opened_version, saved=saved)
    deleted, _by_model = PendingEdit.objects.filter(article=article.pk).delete()
    if not deleted:
        return False
    Article.objects.filter(pk=article.pk).update(
        version=saved.number + 1, review_requested_at=None, review_requested_by=None
    )
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
