from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.contrib.sitemaps.views import sitemap
from django.urls import include, path

from articles.cachetags import SITEMAP_TAG, news_sitemap_changes, public_page
from articles.feeds import LatestArticlesFeed
from articles.sitemaps import SITEMAPS
from articles.views import news_sitemap, robots_txt

from . import health, metrics

urlpatterns = [
    path("", include("articles.urls")),
    path("contact/", include("contact.urls")),
    path("feed/", public_page(LatestArticlesFeed()), name="feed"),
    path(
        "sitemap.xml",
        public_page(sitemap, tags=[SITEMAP_TAG], params=("p",)),
        {"sitemaps": SITEMAPS},
        name="sitemap",
    ),
    path(
        "sitemap-news.xml",
        public_page(news_sitemap, tags=[SITEMAP_TAG], changes_by_itself=news_sitemap_changes),
        name="sitemap-news",
    ),
    path("robots.txt", robots_txt, name="robots"),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", metrics.metrics_view, name="metrics"),
    # Browsers ask for /favicon.ico on every page that names no icon (the admin).
    path("favicon.ico", health.favicon, name="favicon"),
    path("admin/", admin.site.urls),
]

if settings.DEBUG:
    # Production serves uploads from the web server or object storage.
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

admin.site.site_header = f"{settings.SITE_NAME} editors"
admin.site.site_title = f"{settings.SITE_NAME} admin"
admin.site.site_url = "/"
