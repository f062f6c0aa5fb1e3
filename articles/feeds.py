from dataclasses import dataclass

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.feedgenerator import Rss201rev2Feed, rfc3339_date
from django.utils.translation import gettext as _

from newsroom.pagecache.http import shows
from newsroom.seo import absolute_url

from . import cachetags
from .models import Article, Author, Topic, byline_text

FEED_SIZE = 20


class RssWithUpdates(Rss201rev2Feed):
    """RSS 2.0 whose items also say when they last changed: RSS has no element for it,
    so each item carries Atom's ``<atom:updated>`` (the namespace the feed already
    declares for its self link). The channel's ``<lastBuildDate>`` is the latest of them.
    """

    def add_item_elements(self, handler, item):
        super().add_item_elements(handler, item)
        if item["updateddate"] is not None:
            handler.addQuickElement("atom:updated", rfc3339_date(item["updateddate"]))


@dataclass(frozen=True)
class Listing:
    """What one request's feed shows: whose stories (None: the whole site's) and which."""

    subject: Topic | Author | None
    articles: list[Article]


class LatestArticlesFeed(Feed):
    """RSS of the newest public stories. Links use SITE_URL, never the request's Host.

    The topic and author feeds are this feed over fewer stories (``subject`` and
    ``listed()``), kept in the page cache with their pages' tags.
    """

    feed_type = RssWithUpdates

    def subject(self, **kwargs) -> Topic | Author | None:
        """Whose stories the feed lists, from the URL's arguments (404 when unknown)."""
        return None

    def listed(self, subject):
        return Article.objects.published()

    def tags(self, subject, articles) -> list[str]:
        return cachetags.feed_tags(articles)

    def get_object(self, request, **kwargs):
        """The stories the feed lists, read once: the page cache is told which they are."""
        subject = self.subject(**kwargs)
        articles = list(self.listed(subject).for_listing().with_bylines()[:FEED_SIZE])
        shows(request, *self.tags(subject, articles))
        return Listing(subject, articles)

    def title(self, listing):
        return settings.SITE_NAME

    def description(self, listing):
        return f"The newest stories from {settings.SITE_NAME}."

    def link(self, listing):
        return absolute_url(reverse("articles:home"))

    def feed_url(self, listing):
        return absolute_url(reverse("feed"))

    def items(self, listing):
        return listing.articles

    def item_title(self, item):
        return item.title

    def item_description(self, item):
        # Plain text: the feed generator escapes it.
        return item.standfirst

    def item_link(self, item):
        return absolute_url(item.get_absolute_url())

    def item_pubdate(self, item):
        return item.publish_at

    def item_updateddate(self, item):
        # A correction counts as a change (``Article.modified_at``).
        return item.modified_at

    def item_author_name(self, item):
        return byline_text(item.byline_authors()) or None

    def item_categories(self, item):
        return [topic.name for topic in item.topics.all()]


class TopicFeed(LatestArticlesFeed):
    """RSS of a topic's newest public stories: ``/topics/<slug>/feed/``."""

    def subject(self, *, slug):
        return get_object_or_404(Topic, slug=slug)

    def listed(self, topic):
        return super().listed(topic).filter(topics=topic)

    def tags(self, topic, articles):
        return [*cachetags.topic_page_tags(topic, articles), *cachetags.byline_tags(articles)]

    def title(self, listing):
        return f"{listing.subject.name} | {settings.SITE_NAME}"

    def description(self, listing):
        return _("The newest stories about %(topic)s from %(site)s.") % {
            "topic": listing.subject.name,
            "site": settings.SITE_NAME,
        }

    def link(self, listing):
        return absolute_url(listing.subject.get_absolute_url())

    def feed_url(self, listing):
        return absolute_url(reverse("articles:topic_feed", kwargs={"slug": listing.subject.slug}))


class AuthorFeed(LatestArticlesFeed):
    """RSS of an author's newest public stories: ``/authors/<slug>/feed/``."""

    def subject(self, *, slug):
        return get_object_or_404(Author, slug=slug)

    def listed(self, author):
        return super().listed(author).filter(authors=author)

    def tags(self, author, articles):
        # Their co-authors' names are in the items' bylines too.
        return [*cachetags.author_page_tags(author, articles), *cachetags.byline_tags(articles)]

    def title(self, listing):
        return f"{listing.subject.name} | {settings.SITE_NAME}"

    def description(self, listing):
        return _("The newest stories by %(author)s from %(site)s.") % {
            "author": listing.subject.name,
            "site": settings.SITE_NAME,
        }

    def link(self, listing):
        return absolute_url(listing.subject.get_absolute_url())

    def feed_url(self, listing):
        return absolute_url(reverse("articles:author_feed", kwargs={"slug": listing.subject.slug}))
