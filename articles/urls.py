from django.urls import path

from . import pagecache, views

app_name = "articles"

# The query parameters a list page depends on; others (utm_source…) share its cached copy.
LIST_PARAMS = ("before", "after", "page")

urlpatterns = [
    path(
        "",
        pagecache.cached_page(
            views.HomeView.as_view(), tags=pagecache.home_page_tags, params=LIST_PARAMS
        ),
        name="home",
    ),
    path(
        "articles/<slug:slug>/",
        pagecache.cached_page(views.ArticleDetailView.as_view(), tags=pagecache.article_page_tags),
        name="detail",
    ),
    path(
        "topics/<slug:slug>/",
        pagecache.cached_page(
            views.TopicView.as_view(), tags=pagecache.topic_page_tags, params=LIST_PARAMS
        ),
        name="topic",
    ),
    # Not cached: every query would be a page of its own.
    path("search/", views.SearchView.as_view(), name="search"),
]
