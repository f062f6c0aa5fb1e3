"""Which cached pages an edit makes stale: the tags it bumps (``articles/cachetags.py``).

Wired in ``ArticlesConfig.ready()``, so every write (the admin, services, commands)
invalidates, and the models themselves know nothing of the page cache.

- Any save or delete of an article: the pages that show it (its own page, the
  list pages and feed that list it, the article pages with a card for it).
- When its place in the public lists may change (it is created, deleted, or its
  status, publish time or take-down time changes, while it is or was public or
  scheduled): the home pages and feed, its topics' and authors' pages, the sitemap
  and the publish schedule.
- A change of its topics: its pages, and when it is public the pages of the
  topics it joined or left and the pages whose suggestions it may join.
- Its pin to Top stories changes while it is or was public or scheduled: the home
  pages and the publish schedule (when the pin ends).
- Any other save of a public story: the sitemap (its last-modified time).
- A related link: the page of the article it belongs to.
- A byline row (an author added to, removed from or moved in a story's byline): the
  pages that show the story, and when it is public or scheduled the pages of the
  authors who joined or left it.
- A correction: what a save of its story would (its pages, and the sitemap when
  the story is public), since the story's "Updated" time and its feed and
  sitemap dates follow it.
- A topic: every page (the topic menu is everywhere).
- An author: the pages that show them (their own, and the pages and feeds whose
  bylines name them), and the sitemap.
- A picture (its sized versions made, say): the pages that show it.
"""

from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete, pre_save
from django.dispatch import receiver

from newsroom.pagecache.store import GLOBAL_TAG, invalidate

from .cachetags import (
    HOME_TAG,
    SCHEDULE_TAG,
    SITEMAP_TAG,
    article_tag,
    author_stories_tag,
    author_tag,
    links_tag,
    picture_tag,
    topic_tag,
)
from .models import Article, ArticleAuthor, Author, Correction, Picture, RelatedLink, Topic

ON_LIST = {Article.Status.PUBLISHED}


@receiver(pre_save, sender=Article)
def _remember_listing(sender, instance, raw=False, **kwargs):
    if raw or instance.pk is None:
        instance._listed_before = None
        return
    instance._listed_before = (
        Article.objects.filter(pk=instance.pk)
        .values_list("status", "publish_at", "unpublish_at", "pinned_until")
        .first()
    )


@receiver(post_save, sender=Article)
def _article_saved(sender, instance, created, raw=False, **kwargs):
    if raw:
        return
    before = getattr(instance, "_listed_before", None)
    after = (instance.status, instance.publish_at, instance.unpublish_at)
    tags = [article_tag(instance.pk)]
    was_listed = before is not None and before[0] in ON_LIST
    is_listed = instance.status in ON_LIST
    if was_listed or is_listed:
        tags.append(SITEMAP_TAG)
        if created or before[:3] != after:
            tags += _listing_tags(
                instance.topics.values_list("pk", flat=True),
                instance.bylines.values_list("author_id", flat=True),
            )
        elif before[3] != instance.pinned_until:
            # Pinned or unpinned: Top stories (home pages only) and when a pin ends.
            tags += [HOME_TAG, SCHEDULE_TAG]
    invalidate(*tags)


@receiver(pre_delete, sender=Article)
def _article_deleting(sender, instance, **kwargs):
    # The topics and bylines are gone by post_delete.
    instance._topic_ids_before = list(instance.topics.values_list("pk", flat=True))
    instance._author_ids_before = list(instance.bylines.values_list("author_id", flat=True))


@receiver(post_delete, sender=Article)
def _article_deleted(sender, instance, **kwargs):
    tags = [article_tag(instance.pk)]
    if instance.status in ON_LIST:
        tags += [
            SITEMAP_TAG,
            *_listing_tags(
                getattr(instance, "_topic_ids_before", []),
                getattr(instance, "_author_ids_before", []),
            ),
        ]
    invalidate(*tags)


def _listing_tags(topic_ids, author_ids=()) -> list[str]:
    """A story's place in the public lists: the home pages, its topics' and authors',
    the schedule."""
    return [
        HOME_TAG,
        SCHEDULE_TAG,
        *(topic_tag(pk) for pk in topic_ids),
        *(author_stories_tag(pk) for pk in author_ids),
    ]


@receiver(m2m_changed, sender=Article.topics.through)
def _article_topics_changed(sender, instance, action, reverse, pk_set, **kwargs):
    if reverse:
        # topic.articles.add(...): instance is the topic; the articles are in pk_set.
        if action in {"post_add", "post_remove"}:
            invalidate(topic_tag(instance.pk), *(article_tag(pk) for pk in pk_set))
        elif action == "pre_clear":
            invalidate(GLOBAL_TAG)
        return
    if action == "pre_clear":
        pk_set = set(instance.topics.values_list("pk", flat=True))
    elif action not in {"post_add", "post_remove"}:
        return
    tags = [article_tag(instance.pk)]
    if instance.status in ON_LIST:
        # HOME: the story's topics decide which stories suggest it.
        tags += [HOME_TAG, *(topic_tag(pk) for pk in pk_set or ())]
    invalidate(*tags)


@receiver(post_save, sender=RelatedLink)
@receiver(post_delete, sender=RelatedLink)
def _related_link_changed(sender, instance, raw=False, **kwargs):
    if not raw:
        invalidate(links_tag(instance.article_id))


@receiver(pre_save, sender=ArticleAuthor)
def _remember_byline(sender, instance, raw=False, **kwargs):
    instance._author_before = (
        None
        if raw or instance.pk is None
        else ArticleAuthor.objects.filter(pk=instance.pk)
        .values_list("author_id", flat=True)
        .first()
    )


@receiver(post_save, sender=ArticleAuthor)
@receiver(post_delete, sender=ArticleAuthor)
def _byline_changed(sender, instance, raw=False, **kwargs):
    if raw:
        return
    tags = [article_tag(instance.article_id)]
    if Article.objects.filter(pk=instance.article_id, status__in=ON_LIST).exists():
        # The author joined or left the story's list of authors (or was moved in it,
        # which their page does not show, but costs no more to say).
        before = getattr(instance, "_author_before", None)
        tags += [author_stories_tag(pk) for pk in {instance.author_id, before} if pk]
    invalidate(*tags)


@receiver(post_save, sender=Author)
@receiver(post_delete, sender=Author)
def _author_changed(sender, instance, raw=False, **kwargs):
    if not raw:
        invalidate(author_tag(instance.pk), SITEMAP_TAG)


@receiver(post_save, sender=Correction)
@receiver(post_delete, sender=Correction)
def _correction_changed(sender, instance, raw=False, **kwargs):
    if raw:
        return
    # As for any other save of the story: a deleted story bumps its own tags.
    tags = [article_tag(instance.article_id)]
    if Article.objects.filter(pk=instance.article_id, status__in=ON_LIST).exists():
        tags.append(SITEMAP_TAG)
    invalidate(*tags)


@receiver(post_save, sender=Topic)
@receiver(post_delete, sender=Topic)
def _shown_everywhere_changed(sender, raw=False, **kwargs):
    if not raw:
        invalidate(GLOBAL_TAG)


@receiver(post_save, sender=Picture)
@receiver(post_delete, sender=Picture)
def _picture_changed(sender, instance, raw=False, **kwargs):
    if not raw:
        invalidate(picture_tag(instance.pk))
