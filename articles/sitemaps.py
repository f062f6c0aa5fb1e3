from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.sitemaps import Sitemap
from django.db.models import Exists, OuterRef
from django.urls import reverse

from .models import Article, Author, Topic


class SiteUrlSitemap(Sitemap):
    """Locations on SITE_URL's scheme and host, never the request's Host."""

    def get_protocol(self, protocol=None):
        return urlsplit(settings.SITE_URL).scheme

    def get_domain(self, site=None):
        # The path keeps a SITE_URL like https://example.org/news working.
        parts = urlsplit(settings.SITE_URL)
        return parts.netloc + parts.path.rstrip("/")


class HomeSitemap(SiteUrlSitemap):
    changefreq = "hourly"
    priority = 1.0

    def items(self):
        return ["articles:home"]

    def location(self, item):
        return reverse(item)


class TopicSitemap(SiteUrlSitemap):
    changefreq = "daily"
    priority = 0.6

    def items(self):
        return Topic.objects.order_by("slug")


class AuthorSitemap(SiteUrlSitemap):
    """The pages of the authors with a public story: the others list nothing yet."""

    changefreq = "daily"
    priority = 0.5

    def items(self):
        public = Article.objects.published().filter(authors=OuterRef("pk"))
        return Author.objects.filter(Exists(public)).order_by("slug")


class ArticleSitemap(SiteUrlSitemap):
    changefreq = "weekly"
    priority = 0.8

    def items(self):
        return Article.objects.published().order_by("-publish_at", "-id")

    def lastmod(self, item):
        return item.modified_at


SITEMAPS = {
    "home": HomeSitemap,
    "topics": TopicSitemap,
    "authors": AuthorSitemap,
    "articles": ArticleSitemap,
}
