"""What the public pages show, in the page cache's tags (``newsroom/pagecache/``).

Each public view declares the tags of what it shows with ``pagecache.http.shows()``,
from the functions below; ``articles/signals.py`` bumps the tags an edit touches.

- ``article:<id>``: a story, on every page that shows it (its own, the lists and
  feed that list it, the article pages with a card for it).
- ``links:<id>``: an article's own related links, shown on its page only.
- ``picture:<id>``: a picture of the library, on the pages that show it (a story's
  hero image or a picture in its body), refreshed when its sized versions are made.
- ``home``: the public list (which stories are live, in which order, under which
  topics): the home pages, the feed, and article pages that suggest stories.
- ``topic:<id>``: a topic's pages and feed.
- ``author:<id>``: what is shown of an author (name, role, bio, photo, address): their
  page and feed, and the pages and feeds whose bylines name them.
- ``author-stories:<id>``: the list of an author's public stories: their page and feed.
- ``sitemap``: the sitemaps (``/sitemap.xml`` and the News sitemap).
- ``schedule``: when the next scheduled story goes live, the next live story's
  take-down time comes or the next pin to Top stories ends; no page is kept past it.
- ``GLOBAL_TAG`` (``newsroom.pagecache.store``, on every page and kept value): the
  topic menu.
"""

import time

from django.utils import timezone

from newsroom.pagecache import http, values

from . import selectors
from .models import Article
from .selectors import ArticlePage

HOME_TAG = "home"
SITEMAP_TAG = "sitemap"
SCHEDULE_TAG = "schedule"


def article_tag(article_id: int) -> str:
    return f"article:{article_id}"


def links_tag(article_id: int) -> str:
    return f"links:{article_id}"


def picture_tag(picture_id: int) -> str:
    return f"picture:{picture_id}"


def topic_tag(topic_id: int) -> str:
    return f"topic:{topic_id}"


def author_tag(author_id: int) -> str:
    return f"author:{author_id}"


def author_stories_tag(author_id: int) -> str:
    return f"author-stories:{author_id}"


def public_page(view, *, tags=(), params=(), changes_by_itself=None):
    """``view`` served from the page cache, as every public page of the site is.

    No page is kept past the next scheduled change, so a scheduled story appears
    on every page that would show it at its publish time, and a story with a
    take-down time leaves every page that showed it at that time, without anyone
    touching anything. ``changes_by_itself()``, for a page that also changes with
    time alone, names the next moment it does (a timestamp, or None).
    """
    expires = next_scheduled_change
    if changes_by_itself is not None:

        def expires():
            moments = (next_scheduled_change(), changes_by_itself())
            return min((moment for moment in moments if moment is not None), default=None)

    return http.cached_page(view, tags=tags, params=params, expires=expires)


def next_scheduled_change() -> float | None:
    """When the public site next changes by itself (a timestamp), or None: the next
    scheduled story's publish time, a published story's take-down time or the end of
    a published story's pin to Top stories, whichever comes first.
    """

    def compute():
        now = timezone.now()
        publish_at = (
            Article.objects.scheduled(at=now)
            .order_by("publish_at")
            .values_list("publish_at", flat=True)
            .first()
        )
        unpublish_at = (
            Article.objects.filter(status=Article.Status.PUBLISHED, unpublish_at__gt=now)
            .order_by("unpublish_at")
            .values_list("unpublish_at", flat=True)
            .first()
        )
        # A pin's end reorders Top stories (only a published story's pin counts; one
        # still scheduled first shows at its publish time, itself a change).
        pin_ends = (
            Article.objects.filter(status=Article.Status.PUBLISHED)
            .pinned(at=now)
            .order_by("pinned_until")
            .values_list("pinned_until", flat=True)
            .first()
        )
        changes = [moment.timestamp() for moment in (publish_at, unpublish_at, pin_ends) if moment]
        return min(changes, default=None)

    return values.cached_value(
        "next-scheduled-change",
        [SCHEDULE_TAG],
        compute,
        valid=lambda at: at is None or at > time.time(),
    )


# What each public page shows, from what its view read to render it.


def news_sitemap_changes() -> float | None:
    """When the News sitemap next changes with time alone: its oldest story leaves the
    window (``selectors.NEWS_WINDOW``). A story published or going live comes with a
    bump or the schedule."""
    leaves = selectors.news_window_ends()
    return leaves.timestamp() if leaves else None


def article_page_tags(page: ArticlePage) -> list[str]:
    """The story, every story its cards show or would show (hidden link targets) or its
    body links to (a new address, or going off the site, changes the link), its
    pictures, and the public list when it shows suggestions, which any newly published
    story can join.
    """
    shown = {card.article_id for card in page.cards}
    tags = [
        article_tag(page.article.pk),
        links_tag(page.article.pk),
        *(article_tag(pk) for pk in page.linked_article_ids | shown | page.body_article_ids if pk),
        *(author_tag(author.pk) for author in page.authors),
        *(picture_tag(pk) for pk in page.picture_ids),
    ]
    if any(card.is_suggested for card in page.cards):
        tags.append(HOME_TAG)
    return tags


def home_page_tags(articles, top_stories=()) -> list[str]:
    return [HOME_TAG, *_article_tags(articles), *_article_tags(top_stories)]


def topic_page_tags(topic, articles) -> list[str]:
    return [topic_tag(topic.pk), *_article_tags(articles)]


def author_page_tags(author, articles) -> list[str]:
    """The author as shown, the list of their public stories, and the stories listed."""
    return [author_tag(author.pk), author_stories_tag(author.pk), *_article_tags(articles)]


def feed_tags(articles) -> list[str]:
    return [HOME_TAG, *_article_tags(articles), *byline_tags(articles)]


def byline_tags(articles) -> list[str]:
    """The authors the bylines of ``articles`` name (fetched ``with_bylines()``)."""
    ids = {byline.author_id for article in articles for byline in article.bylines.all()}
    return [author_tag(pk) for pk in sorted(ids)]


def _article_tags(articles) -> list[str]:
    return [article_tag(article.pk) for article in articles]
