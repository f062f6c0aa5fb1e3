"""Read-side queries more than one caller needs, returning plain values.

The public views, the menu's template tag and the contact app ask here; writes
go through ``services.py``. Nothing here hands out a model instance with
attributes added.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from django.db import connection
from django.db.models import Count, F, JSONField, Q, Value
from django.db.models.expressions import RawSQL
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from newsroom.pagecache import values
from newsroom.pagecache.store import GLOBAL_TAG
from newsroom.seo import absolute_url

from . import body, pictures, sharing
from .models import (
    Article,
    ArticleAuthor,
    Author,
    Correction,
    PendingEdit,
    Picture,
    Redirect,
    RelatedLink,
    ShareKey,
    Topic,
)

# Related content shows at least this many cards: suggestions fill up the editor's.
RELATED_CARDS_MINIMUM = 3
# Suggestions are picked from this many public stories, those sharing topics first.
SUGGESTION_CANDIDATES = 30


def kept_topics() -> list[Topic]:
    """Every topic in the topics' order, kept in the cache until a topic changes.

    Every page's menu is built from it, and an article page takes its topics from
    it (``article_page()``). Kept as plain rows, under a key that names the
    columns; made into topics on each call, so no caller shares an instance with
    another.
    """
    fields = [field.attname for field in Topic._meta.concrete_fields]
    rows = values.cached_value(
        f"topics:{','.join(fields)}",
        [GLOBAL_TAG],
        lambda: list(Topic.objects.values_list(*fields)),
    )
    return [Topic.from_db(None, fields, row) for row in rows]


def published_article(slug) -> Article | None:
    """The public article with ``slug``; anything else (unknown, draft, garbage) is None.

    For a slug a visitor sent (the contact form's "about this story"): whatever it
    is, it is looked up safely or not at all.
    """
    if not isinstance(slug, str) or not slug or len(slug) > 255 or "\x00" in slug:
        return None
    return Article.objects.published().filter(slug=slug).first()


def can_preview(user) -> bool:
    """Staff who may read unpublished stories in the admin may preview them on the site."""
    return (
        user.is_active
        and user.is_staff
        and (user.has_perm("articles.view_article") or user.has_perm("articles.change_article"))
    )


# The article page ------------------------------------------------------------------------


@dataclass(frozen=True)
class RelatedCard:
    """One card under "Related content", curated by an editor or suggested."""

    title: str
    summary: str
    url: str
    is_external: bool = False
    is_suggested: bool = False
    # The story the card shows, when it is one of ours (the page cache tags it).
    article_id: int | None = None

    @classmethod
    def for_link(cls, link: RelatedLink) -> "RelatedCard":
        return cls(
            title=link.display_title,
            summary=link.display_summary,
            url=link.href,
            is_external=link.is_external,
            article_id=link.target_article_id,
        )

    @classmethod
    def for_suggestion(cls, article: Article) -> "RelatedCard":
        return cls(
            title=article.title,
            summary=article.standfirst,
            url=article.get_absolute_url(),
            is_suggested=True,
            article_id=article.pk,
        )


@dataclass(frozen=True)
class Linker:
    """A live story that links to another story, and how (for the editors' warnings)."""

    article_id: int
    title: str
    # What kind of link it is, as the editors' pages say it: "related link".
    how: str


def live_linkers(*, article_ids) -> dict[int, list[Linker]]:
    """For each of ``article_ids``, the other live stories that link to it, by headline.

    Readers of those stories lose the link when it goes (a card is hidden; a link in
    the body leads nowhere). Each kind of link has its finder in ``LINK_FINDERS``,
    which yields ``(target id, Linker)`` pairs; a new kind of link adds its own.
    """
    ids = set(article_ids)
    found: dict[int, list[Linker]] = {pk: [] for pk in ids}
    for finder in LINK_FINDERS:
        for target_id, linker in finder(ids):
            if linker.article_id != target_id:
                found[target_id].append(linker)
    for linkers in found.values():
        linkers.sort(key=lambda linker: (linker.title, linker.article_id))
    return found


def _related_link_linkers(article_ids: set[int]):
    """Live stories whose related-content cards point at one of ``article_ids``."""
    rows = (
        RelatedLink.objects.filter(
            target_article__in=article_ids,
            article__in=Article.objects.published(),
        )
        .values_list("target_article_id", "article_id", "article__title")
        .order_by()
    )
    how = _("related link")
    for target_id, article_id, title in rows:
        yield target_id, Linker(article_id=article_id, title=title, how=how)


def _body_link_linkers(article_ids: set[int]):
    """Live stories whose text links to one of ``article_ids`` (a story link, kept by
    the story's id: ``body.article_ids``)."""
    if not article_ids:
        return
    mentions = Q()
    for pk in article_ids:
        mentions |= Q(body__contains=f'data-article="{pk}"')
    rows = Article.objects.published().filter(mentions).values_list("pk", "title", "body")
    how = _("link in the text")
    for article_id, title, markup in rows.order_by():
        for target_id in body.article_ids(markup) & article_ids:
            yield target_id, Linker(article_id=article_id, title=title, how=how)


LINK_FINDERS = [_related_link_linkers, _body_link_linkers]


@dataclass(frozen=True)
class DraftOfChanges:
    """Who saved a live story's unpublished changes, and when."""

    saved_by: str
    saved_at: datetime

    @classmethod
    def of(cls, pending: PendingEdit) -> "DraftOfChanges":
        return cls(
            saved_by=pending.saved_by.get_username() if pending.saved_by else "",
            saved_at=pending.saved_at,
        )


def pending_edit(*, article_id: int) -> PendingEdit | None:
    """The article's draft of changes (``PendingEdit``), or None."""
    return PendingEdit.objects.select_related("saved_by").filter(article=article_id).first()


@dataclass(frozen=True)
class ArticlePage:
    """What the article page shows: the story, its topics and its related-content cards."""

    article: Article
    # The story's topics, in the topics' order.
    topics: tuple[Topic, ...]
    # Its byline: the authors in the editor's order (name and slug only on the page's
    # own query; the page cache tags the page with them).
    authors: tuple[Author, ...]
    # The editor's cards whose target is shown, then suggestions, in the order shown.
    cards: tuple[RelatedCard, ...]
    # Every story the editor's links point at, shown or not: a hidden one shows
    # once it is published (the page cache tags the page with them).
    linked_article_ids: frozenset[int]
    # Not public: shown to staff only, under a banner, never stored.
    is_preview: bool
    # The story's unpublished changes are shown in place of its live text.
    changes: DraftOfChanges | None = None
    # An editor's form as it was, unsaved: nothing of it is stored anywhere.
    unsaved: bool = False
    # Opened with a share link, by someone who may have no login.
    shared: bool = False
    # Its corrections, updates and editor's notes, oldest first.
    corrections: tuple[Correction, ...] = ()
    # The hero image and the body as readers get them (``articles/body.py``); the
    # pictures the page shows and the stories its body links to (the page cache tags
    # the page with both).
    hero: pictures.ShownImage | None = None
    body: str = ""
    picture_ids: frozenset[int] = frozenset()
    body_article_ids: frozenset[int] = frozenset()

    @property
    def updated_at(self) -> datetime | None:
        """The "Updated" time the page shows: the latest correction's, when it came
        after the story was published; else None.
        """
        latest, published = self.article.latest_correction_at, self.article.publish_at
        if latest is None or published is None or latest <= published:
            return None
        return latest


def article_page(*, slug: str, reader, with_changes: bool = False) -> ArticlePage | None:
    """The page of the article with ``slug``, or None when ``reader`` may not see one.

    A story that is not public is shown only to a ``reader`` who ``can_preview()``;
    ``reader`` (``request.user``) is looked at only then, or when ``with_changes``
    asks for a live story's unpublished changes (``PendingEdit``), which that reader
    then sees in place of the live text. So a public page never reads the session.

    The byline (its authors' names and slugs) comes with the row, and on PostgreSQL
    the topic ids too; the topics
    themselves are taken from ``kept_topics()`` (read before, as the menu reads
    them); the related links with their target articles in one more plain query,
    and suggestions in one more when the editor's cards are too few. Compiling
    queries was most of a cold page's database time: Django's prefetch_related
    cost twice as much Python for the same queries, and each query left out saves
    more than it ran for. Two queries in all for a page whose topics are kept and
    whose cards are all curated; one more for a story with corrections (its row
    says whether it has any).
    """
    known_topics = kept_topics()
    # No ORDER BY on the wide queries: Django hashes every selected column to
    # compile one, which cost more than the query itself. The slug names one
    # article, and a page's few links are put in order here.
    query = (
        Article.objects.select_related("hero_picture")
        .defer("search_vector")
        .filter(slug=slug)
        .annotate(page_bylines=RawSQL(_bylines_sql(), (), output_field=JSONField()))  # noqa: S611 - no parameters
    )
    if connection.vendor == "postgresql":
        # The topic ids come with the row; the topics themselves from ``known_topics``.
        query = query.annotate(page_topic_ids=RawSQL(_topic_ids_sql(), ()))  # noqa: S611 - no parameters
    found = list(query.order_by()[:1])
    if not found:
        return None
    article = found[0]
    is_preview = not article.is_published()
    if is_preview and not can_preview(reader):
        return None
    # Read here and no more: the page's topics and authors are ``ArticlePage``'s.
    topic_ids = vars(article).pop("page_topic_ids", None)
    authors = _authors_from(vars(article).pop("page_bylines"))
    pending = pending_edit(article_id=article.pk) if with_changes and can_preview(reader) else None
    if pending is not None:
        return _changes_page(article, pending, authors=authors)
    return _page(
        article,
        _topics_of(article, topic_ids, known_topics),
        authors=authors,
        is_preview=is_preview,
    )


def preview_page(*, article: Article, topics) -> ArticlePage:
    """The page ``article`` would have with ``topics``, as an editor's form has them, unsaved.

    Its byline and related content are the story's saved ones (none for a story not
    saved yet).
    """
    return _page(
        article, list(topics), authors=_saved_authors(article), is_preview=True, unsaved=True
    )


def shared_page(*, token: str) -> ArticlePage:
    """The page a share link shows: the story's unpublished changes when it has some,
    else the story as saved (a draft, or scheduled). ``is_preview`` is False when that
    is what readers see now.

    ``sharing.LinkRefused`` when the token is forged or mangled ("invalid"), too old
    ("expired"), made before the story's links were revoked ("revoked"), or the story
    was deleted ("gone").
    """
    claim = sharing.read_token(token)
    article = (
        Article.objects.select_related("hero_picture")
        .defer("search_vector")
        .filter(pk=claim.article_id)
        .first()
    )
    if article is None:
        raise sharing.LinkRefused("gone")
    if share_generation(article_id=article.pk) != claim.generation:
        raise sharing.LinkRefused("revoked")
    pending = pending_edit(article_id=article.pk)
    authors = _saved_authors(article)
    if pending is not None:
        return _changes_page(article, pending, authors=authors, shared=True)
    return _page(
        article,
        list(article.topics.all()),
        authors=authors,
        is_preview=not article.is_published(),
        shared=True,
    )


def share_generation(*, article_id: int) -> int:
    """The generation the article's share links must name (0 until first revoked)."""
    found = ShareKey.objects.filter(article=article_id).values_list("generation", flat=True)
    return found.first() or 0


@dataclass(frozen=True)
class ShareLink:
    url: str
    expires_at: datetime


def share_link(*, article_id: int) -> ShareLink:
    """A new share link for the article, on the public site address (``SITE_URL``)."""
    token = sharing.make_token(
        article_id=article_id, generation=share_generation(article_id=article_id)
    )
    return ShareLink(
        url=absolute_url(reverse("articles:share", kwargs={"token": token})),
        expires_at=sharing.expires_at(),
    )


def _changes_page(
    article: Article, pending: PendingEdit, *, authors: list[Author], shared: bool = False
) -> ArticlePage:
    """``article``'s page with its draft of changes in place of its live text and topics.

    A draft of changes does not hold the byline: ``authors`` are the live story's.
    """
    changed = pending.applied_to(article)
    if article.hero_picture_id:
        changed.hero_picture = article.hero_picture  # fetched with the story
    return _page(
        changed,
        list(pending.topics.all()),
        authors=authors,
        is_preview=True,
        changes=DraftOfChanges.of(pending),
        shared=shared,
    )


def _page(article: Article, topics: list[Topic], *, authors, **state) -> ArticlePage:
    links = (
        sorted(
            RelatedLink.objects.filter(article=article.pk)
            .select_related("target_article")
            .defer("target_article__body", "target_article__search_vector")
            .order_by(),
            key=lambda link: (link.position, link.pk),
        )
        if article.pk
        else []
    )
    hero = _hero_picture(article)
    markup = article.safe_body
    shown_pictures = _pictures_in(markup)
    linked_stories = body.article_ids(markup)
    stories = _where_public(linked_stories)
    return ArticlePage(
        article=article,
        topics=tuple(topics),
        authors=tuple(authors),
        cards=tuple(_cards(article, topics, links)),
        linked_article_ids=frozenset(
            link.target_article_id for link in links if link.target_article_id
        ),
        corrections=tuple(_corrections_of(article)),
        hero=_hero(article, hero),
        body=body.render(markup, pictures=shown_pictures, stories=stories),
        picture_ids=frozenset([*shown_pictures, *([hero.pk] if hero else [])]),
        body_article_ids=frozenset(linked_stories),
        **state,
    )


def _hero_picture(article: Article) -> Picture | None:
    """The library picture of the story's hero image, when it is still that image's."""
    if not article.hero_image or not article.hero_picture_id:
        return None
    picture = article.hero_picture
    return picture if picture.file.name == article.hero_image.name else None


def _hero(article: Article, picture: Picture | None) -> pictures.ShownImage | None:
    if picture is not None:
        return pictures.shown(picture)
    if article.hero_image:
        # Written around the editors' form: shown as it is until the sweep catches up.
        return pictures.ShownImage(src=article.hero_image.url)
    return None


def _pictures_in(markup: str) -> dict[int, Picture]:
    """The pictures the body shows, in one query, and only when it shows some."""
    ids = body.picture_ids(markup)
    if not ids:
        return {}
    return {picture.pk: picture for picture in Picture.objects.filter(pk__in=ids).order_by()}


def _where_public(ids: set[int]) -> dict[int, str]:
    """Where the public ones of the stories the body links to (``ids``) are now, in one
    query, and only when it links to some; a story that is not public is left out (its
    link shows as text)."""
    if not ids:
        return {}
    public = Article.objects.published().filter(pk__in=ids).order_by().values_list("pk", "slug")
    return {pk: reverse("articles:detail", kwargs={"slug": slug}) for pk, slug in public}


def _corrections_of(article: Article) -> list[Correction]:
    if article.latest_correction_at is None:
        return []
    # Put in order here, as the links are: no ORDER BY to compile.
    return sorted(
        Correction.objects.filter(article=article.pk).order_by(),
        key=lambda correction: (correction.posted_at, correction.pk),
    )


def moved_address(*, kind: str, slug: str) -> str | None:
    """Where the old address ``slug`` of a story, topic or author (``kind``) leads now:
    the path of the story, topic or author it was renamed to, or None.

    None too when the story is not live (draft, scheduled, withdrawn): its old
    addresses answer 404 as its own does. Asked only when no story or topic has
    the slug, so a page that is found pays nothing for old addresses.
    """
    owners = {
        Redirect.Kind.ARTICLE: Article.objects.published(),
        Redirect.Kind.TOPIC: Topic.objects.all(),
        Redirect.Kind.AUTHOR: Author.objects.all(),
    }
    current = (
        owners[kind]
        .filter(redirects__kind=kind, redirects__old_slug=slug)
        .values_list("slug", flat=True)
        .first()
    )
    return reverse(Redirect.URL_NAMES[kind], kwargs={"slug": current}) if current else None


def _topic_ids_sql() -> str:
    """PostgreSQL: an article row's topic ids as an array, for a query on articles.

    Written out because Django's ArraySubquery cost three times as much to
    compile as this costs to run.
    """
    quote = connection.ops.quote_name
    through = Article.topics.through._meta
    article, topic = through.get_field("article"), through.get_field("topic")
    # Names from the models only: nothing a visitor sends.
    select = f"SELECT {quote(topic.column)} FROM {quote(through.db_table)}"  # noqa: S608
    row_id = f"{quote(Article._meta.db_table)}.{quote(Article._meta.pk.column)}"
    return f"ARRAY({select} WHERE {quote(article.column)} = {row_id})"


def _bylines_sql() -> str:
    """An article row's byline as a JSON array of [position, row id, author id, name,
    slug], in no particular order (``_authors_from`` sorts it).

    With the row rather than in a query of its own, as the topic ids are: the article
    page stays at two queries. Both PostgreSQL and SQLite build JSON arrays.
    """
    quote = connection.ops.quote_name
    byline, author = ArticleAuthor._meta, Author._meta
    if connection.vendor == "postgresql":
        aggregate, row = "jsonb_agg", "jsonb_build_array"
    else:
        aggregate, row = "json_group_array", "json_array"
    columns = ", ".join(
        [
            f"b.{quote(byline.get_field('position').column)}",
            f"b.{quote(byline.pk.column)}",
            f"a.{quote(author.pk.column)}",
            f"a.{quote(author.get_field('name').column)}",
            f"a.{quote(author.get_field('slug').column)}",
        ]
    )
    row_id = f"{quote(Article._meta.db_table)}.{quote(Article._meta.pk.column)}"
    # Names from the models only: nothing a visitor sends.
    return (
        f"(SELECT {aggregate}({row}({columns})) FROM {quote(byline.db_table)} b "  # noqa: S608
        f"JOIN {quote(author.db_table)} a ON a.{quote(author.pk.column)} = "
        f"b.{quote(byline.get_field('author').column)} "
        f"WHERE b.{quote(byline.get_field('article').column)} = {row_id})"
    )


def _authors_from(rows) -> list[Author]:
    """The authors of ``_bylines_sql()``'s array in byline order (None: no author)."""
    ordered = sorted(rows or (), key=lambda row: (row[0], row[1]))
    return [Author.from_db(None, ["id", "name", "slug"], row[2:]) for row in ordered]


def _saved_authors(article: Article) -> list[Author]:
    return article.byline_authors() if article.pk else []


def _topics_of(article: Article, topic_ids, known_topics: list[Topic]) -> list[Topic]:
    """The article's topics in the topics' order, from ``known_topics`` when it can.

    A topic the list does not know yet (created a moment ago), or no ids at all
    (not PostgreSQL), sends it to the database.
    """
    if topic_ids is not None:
        ids = set(topic_ids)
        if ids <= {topic.pk for topic in known_topics}:
            return [topic for topic in known_topics if topic.pk in ids]
    return list(Topic.objects.filter(articles=article.pk))


def _cards(article: Article, topics: list[Topic], links: list[RelatedLink]) -> list[RelatedCard]:
    """The related-content cards the public sees, in order.

    First the editor's links in the editor's order, minus those whose target is
    not public (or whose external URL is not a web address). When fewer than
    ``RELATED_CARDS_MINIMUM`` remain, suggestions fill the gap: public stories
    sharing this one's topics, preferring recent and high-impact ones.
    """
    cards = []
    linked_ids = {article.pk}
    for link in links:
        if link.target_article_id:
            linked_ids.add(link.target_article_id)
            if link.target_article.is_published():
                cards.append(RelatedCard.for_link(link))
        elif urlsplit(link.url).scheme.lower() in {"http", "https"}:
            cards.append(RelatedCard.for_link(link))
    missing = RELATED_CARDS_MINIMUM - len(cards)
    if missing > 0:
        suggested = _suggestions(topics, exclude_ids=linked_ids, limit=missing)
        cards.extend(RelatedCard.for_suggestion(story) for story in suggested)
    return cards


def suggested_related(*, article: Article, limit: int = 5) -> list[RelatedCard]:
    """The suggestions readers' related content draws on (``_cards``) for ``article``
    as saved, best first, less the stories it already links to: what an editor may
    add as related links (the admin's change form lists them).
    """
    linked = set(
        RelatedLink.objects.filter(article=article.pk, target_article__isnull=False).values_list(
            "target_article_id", flat=True
        )
    )
    stories = _suggestions(
        list(article.topics.all()), exclude_ids=linked | {article.pk}, limit=limit
    )
    return [RelatedCard.for_suggestion(story) for story in stories]


def _suggestions(topics: list[Topic], *, exclude_ids, limit: int) -> list[Article]:
    topic_ids = [topic.pk for topic in topics]
    shared = (
        Count("topics", filter=Q(topics__in=topic_ids), distinct=True) if topic_ids else Value(0)
    )
    pool = list(
        Article.objects.published()
        .exclude(pk__in=exclude_ids)
        .defer("body", "search_vector")
        .annotate(shared_topics=shared)
        .order_by("-shared_topics", "-publish_at", "-id")[:SUGGESTION_CANDIDATES]
    )
    now = timezone.now()

    def score(story: Article) -> float:
        age_days = max((now - story.publish_at).total_seconds(), 0) / 86400
        # A shared topic outweighs any mix of freshness (0-2) and impact (0-1).
        return 3.0 * story.shared_topics + 2.0 * 0.5 ** (age_days / 7) + story.impact_score / 100

    return sorted(pool, key=score, reverse=True)[:limit]


# The Google News sitemap ------------------------------------------------------------------

# The News sitemap lists the stories published this long ago at most, and no more than
# NEWS_SITEMAP_MAX of them (what Google News reads).
NEWS_WINDOW = timedelta(hours=48)
NEWS_SITEMAP_MAX = 1000


def news_articles(*, at: datetime | None = None) -> list[Article]:
    """The public stories published within ``NEWS_WINDOW`` before ``at`` (now), newest first."""
    now = at or timezone.now()
    return list(
        Article.objects.published(at=now)
        .filter(publish_at__gt=now - NEWS_WINDOW)
        .only("slug", "title", "publish_at")
        .order_by("-publish_at", "-id")[:NEWS_SITEMAP_MAX]
    )


def news_window_ends(*, at: datetime | None = None) -> datetime | None:
    """When the oldest story in the News sitemap leaves it; None when it lists none."""
    now = at or timezone.now()
    oldest = (
        Article.objects.published(at=now)
        .filter(publish_at__gt=now - NEWS_WINDOW)
        .order_by("publish_at")
        .values_list("publish_at", flat=True)
        .first()
    )
    return oldest + NEWS_WINDOW if oldest else None


# The body editor's tools ---------------------------------------------------------------

# How many choices the body editor's boxes list at once.
EDITOR_CHOICES = 12


def library_pictures(*, query: str = "") -> list[Picture]:
    """The newest pictures of the library (hero images included), or those whose alt
    text, caption or credit contains ``query``; readable ones only."""
    found = Picture.objects.exclude(width=0)
    if query := query.strip()[:100]:
        found = found.filter(
            Q(alt__icontains=query) | Q(caption__icontains=query) | Q(credit__icontains=query)
        )
    return list(found.order_by("-uploaded_at", "-id")[:EDITOR_CHOICES])


@dataclass(frozen=True)
class StoryChoice:
    """A story the body editor may link to, as its search box lists it."""

    id: int
    title: str
    url: str
    state: str


def story_choices(*, query: str = "") -> list[StoryChoice]:
    """Stories whose headline or slug contains ``query``, newest first (drafts last); each
    says whether readers see it now, since a link to a story that is not live shows as
    plain text until it is."""
    found = Article.objects.all()
    if query := query.strip()[:100]:
        found = found.filter(Q(title__icontains=query) | Q(slug__icontains=query))
    found = found.only("pk", "title", "slug", "status", "publish_at", "unpublish_at").order_by(
        F("publish_at").desc(nulls_last=True), "-id"
    )[:EDITOR_CHOICES]
    return [
        StoryChoice(
            id=story.pk,
            title=story.title,
            url=story.get_absolute_url(),
            state=_state(story),
        )
        for story in found
    ]


def _state(story: Article) -> str:
    if story.is_published():
        return "live"
    if story.is_scheduled():
        return "scheduled"
    if story.is_taken_down():
        return "taken down"
    return story.status
