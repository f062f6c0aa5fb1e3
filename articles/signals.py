"""Which cached pages an edit makes stale (see ``articles/pagecache.py``).

- Any save or delete of an article: the pages that show it (its own page, the
  list pages and feed that list it, the article pages with a card for it).
- When its place in the public lists may change (it is created, deleted, or its
  status or publish time changes, while it is or was public or scheduled): the
  home pages and feed, its topics' pages, the sitemap and the publish schedule.
- A change of its topics: its pages, and when it is public the pages of the
  topics it joined or left and the pages whose suggestions it may join.
- Any other save of a public story: the sitemap (its last-modified time).
- A related link: the page of the article it belongs to.
- A topic or a byline: every page (the topic menu and bylines are everywhere).
"""

from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete, pre_save
from django.dispatch import receiver

from . import pagecache
from .models import Article, Author, RelatedLink, Topic

ON_LIST = {Article.Status.PUBLISHED}


@receiver(pre_save, sender=Article)
def _remember_listing(sender, instance, raw=False, **kwargs):
    if raw or instance.pk is None:
        instance._listed_before = None
        return
    instance._listed_before = (
        Article.objects.filter(pk=instance.pk).values_list("status", "publish_at").first()
    )


@receiver(post_save, sender=Article)
def _article_saved(sender, instance, created, raw=False, **kwargs):
    if raw:
        return
    before = getattr(instance, "_listed_before", None)
    after = (instance.status, instance.publish_at)
    tags = [pagecache.article_tag(instance.pk)]
    was_listed = before is not None and before[0] in ON_LIST
    is_listed = instance.status in ON_LIST
    if was_listed or is_listed:
        tags.append(pagecache.SITEMAP_TAG)
        if created or before != after:
            tags += _listing_tags(instance.topics.values_list("pk", flat=True))
    pagecache.invalidate(*tags)


@receiver(pre_delete, sender=Article)
def _article_deleting(sender, instance, **kwargs):
    # The topics are gone by post_delete.
    instance._topic_ids_before = list(instance.topics.values_list("pk", flat=True))


@receiver(post_delete, sender=Article)
def _article_deleted(sender, instance, **kwargs):
    tags = [pagecache.article_tag(instance.pk)]
    if instance.status in ON_LIST:
        tags += [pagecache.SITEMAP_TAG, *_listing_tags(getattr(instance, "_topic_ids_before", []))]
    pagecache.invalidate(*tags)


def _listing_tags(topic_ids) -> list[str]:
    """A story's place in the public lists: the home pages, its topics', the schedule."""
    return [
        pagecache.HOME_TAG,
        pagecache.SCHEDULE_TAG,
        *(pagecache.topic_tag(pk) for pk in topic_ids),
    ]


@receiver(m2m_changed, sender=Article.topics.through)
def _article_topics_changed(sender, instance, action, reverse, pk_set, **kwargs):
    if reverse:
        # topic.articles.add(...): instance is the topic; the articles are in pk_set.
        if action in {"post_add", "post_remove"}:
            pagecache.invalidate(
                pagecache.topic_tag(instance.pk),
                *(pagecache.article_tag(pk) for pk in pk_set),
            )
        elif action == "pre_clear":
            pagecache.invalidate(pagecache.GLOBAL_TAG)
        return
    if action == "pre_clear":
        pk_set = set(instance.topics.values_list("pk", flat=True))
    elif action not in {"post_add", "post_remove"}:
        return
    tags = [pagecache.article_tag(instance.pk)]
    if instance.status in ON_LIST:
        # HOME: the story's topics decide which stories suggest it.
        tags += [pagecache.HOME_TAG, *(pagecache.topic_tag(pk) for pk in pk_set or ())]
    pagecache.invalidate(*tags)


@receiver(post_save, sender=RelatedLink)
@receiver(post_delete, sender=RelatedLink)
def _related_link_changed(sender, instance, raw=False, **kwargs):
    if not raw:
        pagecache.invalidate(pagecache.links_tag(instance.article_id))


@receiver(post_save, sender=Topic)
@receiver(post_delete, sender=Topic)
@receiver(post_save, sender=Author)
@receiver(post_delete, sender=Author)
def _shown_everywhere_changed(sender, raw=False, **kwargs):
    if not raw:
        pagecache.invalidate(pagecache.GLOBAL_TAG)
