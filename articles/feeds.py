from django.conf import settings
from django.contrib.syndication.views import Feed
from django.urls import reverse
from django.utils.feedgenerator import Rss201rev2Feed, rfc3339_date

from newsroom.pagecache.http import shows
from newsroom.seo import absolute_url

from . import cachetags
from .models import Article

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


class LatestArticlesFeed(Feed):
    """RSS of the newest public stories. Links use SITE_URL, never the request's Host."""

    feed_type = RssWithUpdates

    def title(self):
        return settings.SITE_NAME

    def description(self):
        return f"The newest stories from {settings.SITE_NAME}."

    def link(self):
        return absolute_url(reverse("articles:home"))

    def feed_url(self):
        return absolute_url(reverse("feed"))

    def get_object(self, request):
        """The stories the feed lists, read once: the page cache is told which they are."""
        articles = list(Article.objects.published().for_listing()[:FEED_SIZE])
        shows(request, *cachetags.feed_tags(articles))
        return articles

    def items(self, articles):
        return articles

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
        return item.author.name if item.author else None

    def item_categories(self, item):
        return [topic.name for topic in item.topics.all()]
