from django.conf import settings
from django.contrib.syndication.views import Feed
from django.urls import reverse

from .models import Article
from .views import absolute_url

FEED_SIZE = 20


class LatestArticlesFeed(Feed):
    """RSS of the newest public stories. Links use SITE_URL, never the request's Host."""

    def title(self):
        return settings.SITE_NAME

    def description(self):
        return f"The newest stories from {settings.SITE_NAME}."

    def link(self):
        return absolute_url(reverse("articles:home"))

    def feed_url(self):
        return absolute_url(reverse("feed"))

    def items(self):
        return Article.objects.published().for_listing()[:FEED_SIZE]

    @staticmethod
    def item_ids() -> list[int]:
        """The ids of the stories the feed lists now (for the page cache's tags)."""
        return list(Article.objects.published().values_list("pk", flat=True)[:FEED_SIZE])

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
        return item.updated_at

    def item_author_name(self, item):
        return item.author.name if item.author else None

    def item_categories(self, item):
        return [topic.name for topic in item.topics.all()]
