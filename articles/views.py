"""The public news site.

Public pages carry no per-visitor state (no session read, no CSRF token, no
``Vary: Cookie``) so they can be cached. Only the article page looks at the
visitor, and only for a story that is not public, to let staff preview it.
"""

import re
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlencode

from django.conf import settings
from django.db import OperationalError
from django.http import Http404, HttpResponse, HttpResponsePermanentRedirect, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_safe
from django.views.generic import DetailView, ListView

from newsroom import db
from newsroom.pagecache.http import is_staff_visitor, shows
from newsroom.seo import PageMeta, absolute_url

from . import cachetags, pictures, selectors, sharing, spelling, structured_data
from .models import SEARCH_CANDIDATES, Article, Author, Redirect, Topic

SEARCH_QUERY_MAX_LENGTH = 200
# Two full rows of three on a wide screen.
TOP_STORIES = 6


# A cursor is an article id as the site writes it: no sign, no leading zero, and
# short enough for a bigint, so one page has one URL.
CURSOR_PATTERN = re.compile(r"[1-9][0-9]{0,17}")


@dataclass(frozen=True)
class Cursor:
    """Where a list page starts: just ``before`` (older than) or ``after`` (newer than) a story."""

    direction: Literal["before", "after"]
    pk: int

    @property
    def query(self) -> dict[str, str]:
        return {self.direction: str(self.pk)}


def read_cursor(params) -> Cursor | None:
    """The cursor in a list page's query string; None for the newest stories.

    Anything but a single well-formed ``before`` or ``after`` is a 404, and so is
    a leftover page number other than 1 (those pages were found by OFFSET).
    """
    if params.getlist("page") not in ([], ["1"]):
        raise Http404(_("Pages are no longer numbered; start from the newest stories."))
    given = [(name, value) for name in ("before", "after") for value in params.getlist(name)]
    if not given:
        return None
    if len(given) > 1 or not CURSOR_PATTERN.fullmatch(given[0][1]):
        raise Http404(_("No such page."))
    direction, value = given[0]
    return Cursor(direction, int(value))


@dataclass(frozen=True)
class ListPage:
    """One page of a newest-first listing and the cursors of the pages around it."""

    articles: list
    cursor: Cursor | None
    older: Cursor | None
    newer: Cursor | None


def list_page(listed, cursor: Cursor | None, *, size: int) -> ListPage:
    """The ``size`` articles of ``listed`` at ``cursor``, in one query (and a prefetch).

    One more row than the page shows tells whether the page has a neighbour that
    way; the other way there always is one, the cursor article itself. An empty
    page at a cursor is a 404: the cursor is not an article of this listing.
    """
    if cursor is None:
        rows = list(listed.for_listing().order_by("-publish_at", "-id")[: size + 1])
        articles, more_older, more_newer = rows[:size], len(rows) > size, False
    elif cursor.direction == "before":
        query = listed.older_than(cursor.pk).for_listing().order_by("-publish_at", "-id")
        rows = list(query[: size + 1])
        articles, more_older, more_newer = rows[:size], len(rows) > size, True
    else:
        query = listed.newer_than(cursor.pk).for_listing().order_by("publish_at", "id")
        rows = list(query[: size + 1])
        articles, more_older, more_newer = rows[:size][::-1], True, len(rows) > size
    if cursor is not None and not articles:
        raise Http404(_("No such page."))
    return ListPage(
        articles=articles,
        cursor=cursor,
        older=Cursor("before", articles[-1].pk) if more_older else None,
        newer=Cursor("after", articles[0].pk) if more_newer else None,
    )


def moved_or_404(request, *, kind: str, slug: str) -> HttpResponsePermanentRedirect:
    """The answer at an address no story or topic has now: a 301 to where the story or
    topic it used to name lives now, or a 404.

    The 301 keeps the query string (a list page's cursor) and is kept by no cache,
    browsers included: a redirect changes when the editors rename something again,
    and the page cache stores only 200s.
    """
    path = selectors.moved_address(kind=kind, slug=slug)
    if path is None:
        raise Http404(_("No such page."))
    query = request.META.get("QUERY_STRING", "")
    response = HttpResponsePermanentRedirect(f"{path}?{query}" if query else path)
    add_never_cache_headers(response)
    return response


def with_query(path: str, **params) -> str:
    params = {key: value for key, value in params.items() if value}
    return f"{path}?{urlencode(params)}" if params else path


class ArticleListMixin:
    """Public articles as cards, newest first, ``ARTICLES_PER_PAGE`` a page.

    Pages are found from a cursor, not a number: ``?before=<id>`` shows the
    stories just older than article <id> and ``?after=<id>`` those just newer,
    so a page deep in the archive costs what the first one does (an index scan
    from the cursor's row, no OFFSET, no COUNT). Only an article this listing
    shows is a cursor, so the valid page URLs are bounded by the articles.
    """

    context_object_name = "articles"

    def listed(self):
        """The articles this listing shows, filters only: ``list_page`` orders and fetches them."""
        return Article.objects.published()

    def get_queryset(self):
        self.list_page = list_page(
            self.listed(), read_cursor(self.request.GET), size=settings.ARTICLES_PER_PAGE
        )
        return self.list_page.articles

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        path = self.list_path()
        context["newest_url"] = path
        if self.list_page.older:
            context["older_url"] = with_query(path, **self.list_page.older.query)
        if self.list_page.newer:
            context["newer_url"] = with_query(path, **self.list_page.newer.query)
        return context

    def list_path(self) -> str:
        raise NotImplementedError

    def page_path(self) -> str:
        """This page's own canonical URL: the listing's path and its cursor."""
        cursor = self.list_page.cursor
        return with_query(self.list_path(), **(cursor.query if cursor else {}))


class HomeView(ArticleListMixin, ListView):
    template_name = "articles/home.html"

    def list_path(self) -> str:
        return reverse("articles:home")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        if self.list_page.cursor is None:
            context["top_stories"] = Article.objects.top_stories(limit=TOP_STORIES)
        shows(
            self.request,
            *cachetags.home_page_tags(self.list_page.articles, context.get("top_stories", ())),
        )
        context["meta"] = PageMeta(
            title=settings.SITE_NAME,
            description=_("The newest stories from %(site)s.") % {"site": settings.SITE_NAME},
            path=self.page_path(),
        )
        return context


class TopicView(ArticleListMixin, ListView):
    template_name = "articles/topic.html"

    def get(self, request, *args, **kwargs):
        try:
            self.topic = Topic.objects.get(slug=self.kwargs["slug"])
        except Topic.DoesNotExist:
            return moved_or_404(request, kind=Redirect.Kind.TOPIC, slug=self.kwargs["slug"])
        return super().get(request, *args, **kwargs)

    def listed(self):
        return super().listed().filter(topics=self.topic)

    def list_path(self) -> str:
        return self.topic.get_absolute_url()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["topic"] = self.topic
        context["current_topic"] = self.topic
        shows(self.request, *cachetags.topic_page_tags(self.topic, self.list_page.articles))
        context["meta"] = PageMeta(
            title=self.topic.name,
            description=self.topic.description
            or _("Stories about %(topic)s.") % {"topic": self.topic.name},
            path=self.page_path(),
        )
        return context


class AuthorView(ArticleListMixin, ListView):
    """An author's page: who they are, and their public stories paged like a topic's."""

    template_name = "articles/author.html"

    def get(self, request, *args, **kwargs):
        try:
            self.author = Author.objects.get(slug=self.kwargs["slug"])
        except Author.DoesNotExist:
            return moved_or_404(request, kind=Redirect.Kind.AUTHOR, slug=self.kwargs["slug"])
        return super().get(request, *args, **kwargs)

    def listed(self):
        return super().listed().filter(authors=self.author)

    def list_path(self) -> str:
        return self.author.get_absolute_url()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["author"] = self.author
        shows(self.request, *cachetags.author_page_tags(self.author, self.list_page.articles))
        context["meta"] = PageMeta(
            title=self.author.name,
            description=self.author.bio
            or self.author.role
            or _("Stories by %(author)s.") % {"author": self.author.name},
            path=self.page_path(),
            image_url=absolute_url(self.author.photo.url) if self.author.photo else "",
        )
        return context


class SearchTooSlow(Exception):
    """The database gave up on a query at the time limit."""


def within_time_limit(queryset, milliseconds: int) -> list:
    """``list(queryset)``, or SearchTooSlow when PostgreSQL needs longer than that.

    A phrase of common words that matches almost nothing makes PostgreSQL walk
    the whole archive; the limit keeps one visitor's search from holding a
    database connection for long. Other databases run without a limit.
    """
    try:
        with db.time_limit(milliseconds):
            return list(queryset)
    except OperationalError as error:
        if db.timed_out(error):
            raise SearchTooSlow from error
        raise


class SearchView(ListView):
    """Search results, best match first, among the ``SEARCH_CANDIDATES`` newest matches.

    Ranking every match of a common word and counting them all made search slow
    down with the archive; a bounded set keeps it flat, and the page says when
    older matches were left out. Numbered pages (an OFFSET within at most
    ``SEARCH_CANDIDATES`` ids held in memory) are fine at that size.
    """

    template_name = "articles/search.html"
    context_object_name = "articles"

    def get_paginate_by(self, queryset):
        return settings.ARTICLES_PER_PAGE

    def get_query(self) -> str:
        # PostgreSQL text cannot hold NUL; a long query is cut, never refused.
        query = self.request.GET.get("q", "").replace("\x00", "")
        return " ".join(query.split())[:SEARCH_QUERY_MAX_LENGTH].strip()

    def get_queryset(self):
        """The results' ids in order; ``paginate_queryset`` fetches the cards of one page."""
        self.query = self.get_query()
        self.capped = self.too_slow = False
        if not self.query:
            return []
        # One more than is shown says whether there were more matches than that.
        candidates = (
            Article.objects.published()
            .search(self.query, candidates=SEARCH_CANDIDATES + 1)
            .values_list("pk", "publish_at")
        )
        try:
            matches = within_time_limit(candidates, settings.SEARCH_TIME_LIMIT_MS)
        except SearchTooSlow:
            self.too_slow = True
            return []
        if len(matches) > SEARCH_CANDIDATES:
            self.capped = True
            matches.remove(min(matches, key=lambda match: (match[1], match[0])))
        return [pk for pk, _ in matches]

    def paginate_queryset(self, queryset, page_size):
        paginator, page, ids, is_paginated = super().paginate_queryset(queryset, page_size)
        cards = Article.objects.published().for_listing().in_bulk(ids)
        return paginator, page, [cards[pk] for pk in ids if pk in cards], is_paginated

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["query"] = self.query
        context["capped"] = self.capped
        context["too_slow"] = self.too_slow
        context["candidates"] = SEARCH_CANDIDATES
        if self.query and not self.too_slow and not context["page_obj"].paginator.count:
            context["suggestion"] = self.suggestion()
            if context["suggestion"]:
                context["suggestion_url"] = with_query(
                    reverse("articles:search"), q=context["suggestion"].query
                )
        number = context["page_obj"].number
        title = _("Search: %(query)s") % {"query": self.query} if self.query else _("Search")
        context["meta"] = PageMeta(
            title=title,
            description=_("Search the stories of %(site)s.") % {"site": settings.SITE_NAME},
            path=with_query(
                reverse("articles:search"), q=self.query, page=number if number > 1 else None
            ),
            noindex=True,
        )
        return context

    def suggestion(self) -> spelling.Suggestion | None:
        """ "Did you mean …" for a search that found nothing, within the search's time
        limit (none, rather than a slow page)."""
        try:
            with db.time_limit(settings.SEARCH_TIME_LIMIT_MS):
                return spelling.search_suggestion(self.query)
        except OperationalError as error:
            if db.timed_out(error):
                return None
            raise


class ArticleDetailView(DetailView):
    template_name = "articles/article_detail.html"
    context_object_name = "article"

    def get(self, request, *args, **kwargs):
        # Not only public stories: staff may preview drafts, and see a live story's
        # unpublished changes. The visitor (and with it the session) is consulted only
        # for a story that is not public, or for a browser with the staff cookie
        # (which is never served a stored page).
        self.page = selectors.article_page(
            slug=self.kwargs["slug"],
            reader=request.user,
            with_changes=is_staff_visitor(request),
        )
        if self.page is None:
            return moved_or_404(request, kind=Redirect.Kind.ARTICLE, slug=self.kwargs["slug"])
        return super().get(request, *args, **kwargs)

    def get_object(self, queryset=None):
        return self.page.article

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(article_page_context(self.page))
        shows(self.request, *cachetags.article_page_tags(self.page))
        return context

    def render_to_response(self, context, **response_kwargs):
        response = super().render_to_response(context, **response_kwargs)
        if self.page.is_preview:
            never_stored(response)
        return response


def article_page_context(page: selectors.ArticlePage) -> dict:
    """What ``articles/article_detail.html`` needs besides the page: for the public page,
    the staff previews, the editor's preview of unsaved changes and share links."""
    article = page.article
    meta = PageMeta(
        title=article.title,
        description=article.meta_description,
        path=article.get_absolute_url() if article.slug else reverse("articles:home"),
        type="article",
        **_share_image(page),
        noindex=page.is_preview,
    )
    return {
        "page": page,
        "article": article,
        "contact_url": reverse("contact:start") + "?" + urlencode({"article": article.slug}),
        "meta": meta,
        # For search engines: public stories only, never a preview.
        "structured_data": (
            None
            if page.is_preview
            else structured_data.script_tag(
                structured_data.news_article(article, meta=meta, authors=page.authors)
            )
        ),
    }


def _share_image(page: selectors.ArticlePage) -> dict:
    """The story's hero image for link previews: its largest JPEG, else the original."""
    if page.hero is None:
        return {}
    image = pictures.share_version(page.hero)
    return {
        "image_url": absolute_url(image.src),
        "image_width": image.width,
        "image_height": image.height,
        "image_alt": page.article.hero_image_alt,
    }


def render_preview(request, page: selectors.ArticlePage, *, status: int = 200):
    """``page`` (a preview) on the public article template, for the people it is shown to."""
    response = render(
        request, "articles/article_detail.html", article_page_context(page), status=status
    )
    return never_stored(response)


def never_stored(response):
    """A preview is for the people it was shown to: no cache keeps it, no crawler lists it."""
    add_never_cache_headers(response)
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


# What a share link that does not work says, and its status: a link that once worked
# is gone (410), anything else was never a link (404).
SHARE_REFUSALS = {
    "expired": (410, _lazy("This preview link has expired")),
    "revoked": (410, _lazy("This preview link was withdrawn by the newsroom")),
    "gone": (410, _lazy("This story is no longer available")),
    "invalid": (404, _lazy("This preview link is not valid")),
}


@require_safe
def shared_article(request, token: str):
    """A draft, or a live story's unpublished changes, for someone holding a share link.

    Never cached and never indexed; no login and no session. Once what the link shows
    is what readers see (the changes were published), it sends the reader there.
    """
    try:
        page = selectors.shared_page(token=token)
    except sharing.LinkRefused as refused:
        status, title = SHARE_REFUSALS[refused.reason]
        response = render(
            request,
            "articles/share_refused.html",
            {
                "title": title,
                "reason": refused.reason,
                "meta": PageMeta(title=str(title), description="", path=request.path, noindex=True),
            },
            status=status,
        )
        return never_stored(response)
    if not page.is_preview:
        return never_stored(HttpResponseRedirect(page.article.get_absolute_url()))
    return render_preview(request, page)


@require_safe
def news_sitemap(request):
    """The Google News sitemap: the stories of the last two days (``selectors.NEWS_WINDOW``)."""
    articles = selectors.news_articles()
    shows(request, cachetags.SITEMAP_TAG)
    return render(
        request,
        "articles/sitemap_news.xml",
        {
            "articles": articles,
            # ISO 639: "en" of LANGUAGE_CODE "en-gb".
            "language": settings.LANGUAGE_CODE.split("-")[0],
        },
        content_type="application/xml; charset=utf-8",
    )


@require_safe  # GET and HEAD: crawlers and monitors ask with either
def robots_txt(request):
    lines = [
        "User-agent: *",
        "Allow: /",
        "Disallow: /admin/",
        "Disallow: /contact/",
        # Share links: unpublished text for the holder of a signed link (also noindex).
        f"Disallow: {reverse('articles:share', kwargs={'token': 'x'}).removesuffix('x/')}",
        "",
        f"Sitemap: {absolute_url(reverse('sitemap'))}",
        f"Sitemap: {absolute_url(reverse('sitemap-news'))}",
    ]
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain; charset=utf-8")
