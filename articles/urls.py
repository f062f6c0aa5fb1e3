from django.urls import path

from . import views
from .cachetags import public_page
from .feeds import AuthorFeed, TopicFeed

app_name = "articles"

# Public pages are kept whole in the page cache; each view declares what it shows
# (articles/cachetags.py). The query parameters a list page depends on; others
# (utm_source…) share its cached copy.
LIST_PARAMS = ("before", "after", "page")

urlpatterns = [
    path("", public_page(views.HomeView.as_view(), params=LIST_PARAMS), name="home"),
    path("articles/<slug:slug>/", public_page(views.ArticleDetailView.as_view()), name="detail"),
    path(
        "topics/<slug:slug>/",
        public_page(views.TopicView.as_view(), params=LIST_PARAMS),
        name="topic",
    ),
    path("topics/<slug:slug>/feed/", public_page(TopicFeed()), name="topic_feed"),
    path(
        "authors/<slug:slug>/",
        public_page(views.AuthorView.as_view(), params=LIST_PARAMS),
        name="author",
    ),
    path("authors/<slug:slug>/feed/", public_page(AuthorFeed()), name="author_feed"),
    # Not cached: every query would be a page of its own.
    path("search/", views.SearchView.as_view(), name="search"),
    # Never cached: a draft or unpublished changes, for the holder of a signed link.
    path("preview/<str:token>/", views.shared_article, name="share"),
]
