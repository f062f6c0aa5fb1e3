"""Editorial writes on articles: the admin's forms and actions call these.

Every editorial write counts one more ``Article.version`` under a row lock, so an
editor whose change form was opened on an older version cannot overwrite it: an
edit is saved by ``article_save``, which refuses it with ``EditConflict`` when
someone saved the article after the editor opened it. That rule lives here and
nowhere else.
"""

from dataclasses import dataclass
from datetime import datetime

import reversion
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Max, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from reversion.models import Version

from .models import Article, Correction, Redirect, Topic


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
    related links and topics) goes in under the same check.

    Its address follows the rules of ``_free_address`` and ``_keep_old_address``:
    a live story's old slug keeps leading to it, and a slug that is another
    story's old address is refused with AddressTaken unless ``take_over_address``.
    """
    live_slug = None
    if article.pk is not None:
        saved = article_lock(article_id=article.pk)
        if saved is None:
            raise Article.DoesNotExist(f"Article {article.pk} was deleted.")
        _refuse_if_saved_since(article_id=article.pk, opened_version=opened_version, saved=saved)
        article.version = saved.number + 1
        live_slug = (
            Article.objects.published().filter(pk=article.pk).values_list("slug", flat=True).first()
        )
    _free_address(
        kind=Redirect.Kind.ARTICLE, slug=article.slug, owner=article, take_over=take_over_address
    )
    _save_with_revision(article=article, user=user)
    _keep_old_address(kind=Redirect.Kind.ARTICLE, old_slug=live_slug, owner=article)
    return article


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
    """
    article = _lock_for_write(article=article)
    now = timezone.now()
    if not _has_been_live(article, at=now):
        article.publish_at = now
    article.status = Article.Status.PUBLISHED
    return _save_with_revision(article=article, user=user, comment=_("Published now."))


@transaction.atomic
def article_redate(*, article: Article, user: AbstractBaseUser | None) -> Article:
    """Publish the article with now as its publish time: it goes to the top of the lists."""
    article = _lock_for_write(article=article)
    article.status = Article.Status.PUBLISHED
    article.publish_at = timezone.now()
    return _save_with_revision(article=article, user=user, comment=_("Re-dated to now."))


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
    before cannot save over it) and its revision holds the correction.
    """
    article = _lock_for_write(article=article)
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


def address_redirect(*, kind: str, slug: str, owner: Article | Topic) -> Redirect | None:
    """The redirect that makes ``slug`` an old address of another story or topic than
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
    old_slug = None
    if topic.pk is not None:
        old_slug = (
            Topic.objects.select_for_update()
            .filter(pk=topic.pk)
            .values_list("slug", flat=True)
            .first()
        )
    _free_address(
        kind=Redirect.Kind.TOPIC, slug=topic.slug, owner=topic, take_over=take_over_address
    )
    topic.full_clean()
    topic.save()
    _keep_old_address(kind=Redirect.Kind.TOPIC, old_slug=old_slug, owner=topic)
    return topic


def _free_address(*, kind: str, slug: str, owner: Article | Topic, take_over: bool) -> None:
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


def _keep_old_address(*, kind: str, old_slug: str | None, owner: Article | Topic) -> None:
    """After ``owner`` was saved: its old public address ``old_slug`` (when it changed)
    leads to it from now on. Every older redirect to ``owner`` already does, since
    redirects point at the row: chains collapse by themselves.
    """
    if not old_slug or old_slug == owner.slug:
        return
    Redirect.objects.update_or_create(
        kind=kind,
        old_slug=old_slug,
        defaults={
            "article": owner if kind == Redirect.Kind.ARTICLE else None,
            "topic": owner if kind == Redirect.Kind.TOPIC else None,
        },
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
    # Nested inside an admin view's revision, this joins that revision (whose
    # comment the admin writes).
    with reversion.create_revision():
        article.save()
        reversion.set_user(user)
        if comment:
            reversion.set_comment(comment)
    return article
