import re

from django.conf import settings
from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVectorField
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import connection, models
from django.db.models import F, Q, Subquery
from django.urls import reverse, reverse_lazy
from django.utils import formats, timezone
from django.utils.html import strip_tags
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _
from django.utils.translation import to_locale
from django_prose_editor.fields import ProseEditorField

from .sanitize import sanitize_html

# What the admin's rich-text editor offers; the sanitizer allows the same and no more.
# Pictures of the library, links to our stories (a link that also knows its story) and
# spell-checking in the newsroom's language are the site's own tools
# (``DJANGO_PROSE_EDITOR_EXTENSIONS`` in the settings); their endpoints are in the admin.
BODY_EDITOR_EXTENSIONS = {
    "Bold": True,
    "Italic": True,
    "Underline": True,
    "Strike": True,
    "Subscript": True,
    "Superscript": True,
    "Heading": {"levels": [2, 3, 4]},
    "BulletList": True,
    "OrderedList": True,
    "ListItem": True,
    "Blockquote": True,
    "HorizontalRule": True,
    "HardBreak": True,
    "StoryLink": {
        "enableTarget": False,
        "protocols": ["http", "https", "mailto"],
        "searchUrl": reverse_lazy("admin:articles_picture_stories"),
    },
    "NewsroomPicture": {
        "uploadUrl": reverse_lazy("admin:articles_picture_upload"),
        "libraryUrl": reverse_lazy("admin:articles_picture_library"),
    },
    "BodyEditorAttributes": {"lang": to_locale(settings.LANGUAGE_CODE).replace("_", "-")},
    # The library turns the browser's spell-checking off by default; editors want it.
    "NoSpellCheck": False,
    "History": True,
}


class Topic(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    slug = models.SlugField(_("slug"), max_length=100, unique=True)
    description = models.TextField(_("description"), blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("topic")
        verbose_name_plural = _("topics")

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("articles:topic", kwargs={"slug": self.slug})


class Author(models.Model):
    """A byline: who wrote the story, with a public page of their stories
    (``/authors/<slug>/``). Not a login; editors are Django users.
    """

    name = models.CharField(_("name"), max_length=150)
    slug = models.SlugField(
        _("slug"),
        max_length=150,
        unique=True,
        help_text=_("The author's page: /authors/<slug>/"),
    )
    role = models.CharField(
        _("role"),
        max_length=100,
        blank=True,
        help_text=_("Shown under the name, e.g. “Science correspondent”."),
    )
    bio = models.TextField(
        _("short bio"),
        max_length=600,
        blank=True,
        help_text=_("A few sentences on the author's page; plain text, up to 600 characters."),
    )
    photo = models.ImageField(_("photo"), upload_to="authors/", blank=True)
    photo_alt = models.CharField(
        _("photo alt text"),
        max_length=250,
        blank=True,
        help_text=_("What the photo shows, for readers who cannot see it. Needed with a photo."),
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("author")
        verbose_name_plural = _("authors")
        constraints = [
            # A photo readers cannot see is described (``clean()`` says so on the form).
            models.CheckConstraint(
                condition=Q(photo="") | ~Q(photo_alt=""), name="author_photo_has_alt"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("articles:author", kwargs={"slug": self.slug})

    def clean(self) -> None:
        super().clean()
        if self.photo and not self.photo_alt.strip():
            raise ValidationError(
                {"photo_alt": _("Describe the photo for readers who cannot see it.")},
                code="alt_required",
            )


def byline_text(authors) -> str:
    """The names of ``authors`` as a byline reads them: "A", "A and B", "A, B and C"."""
    names = [author.name for author in authors]
    if len(names) <= 1:
        return "".join(names)
    return _("%(names)s and %(last)s") % {"names": ", ".join(names[:-1]), "last": names[-1]}


# Search ranks at most this many of the newest matches of a query.
SEARCH_CANDIDATES = 200


# A word of a search query: letters and digits in any script. Quotes, hyphens
# and other punctuation separate words, as they do in the text searched.
SEARCH_WORD = re.compile(r"\w+")
# After a word in the body: not inside a tag (``<p>``, ``<strong>``, an href) and not
# an entity's name (``&amp;``). The sanitizer escapes every ``>`` in text, so one
# reached before any ``<`` closes the tag the word is in.
OUTSIDE_MARKUP = r"(?![^<>]*>)"


def all_words(query: str) -> Q | None:
    """Search without PostgreSQL: stories with each word of ``query`` somewhere.

    A word matches whole words only (``ai`` is not found in "said"), in any
    case, in the headline, standfirst or body, in any order; every word must be
    found. None when the query has no word at all. SQLite runs the patterns
    with Python's ``re`` (Django's REGEXP function), so case-folding and word
    boundaries follow Unicode, not just ASCII.
    """
    words = dict.fromkeys(word.lower() for word in SEARCH_WORD.findall(query))
    if not words:
        return None
    condition = Q()
    for word in words:
        whole = rf"\b{re.escape(word)}\b"
        condition &= (
            Q(title__iregex=whole)
            | Q(standfirst__iregex=whole)
            | Q(body__iregex=rf"(?<![&#]){whole}{OUTSIDE_MARKUP}")
        )
    return condition


def _search_query(query: str) -> SearchQuery:
    return SearchQuery(query, search_type="websearch", config="english")


class ArticleQuerySet(models.QuerySet):
    def published(self, *, at=None):
        """Articles the public may see: published, with a publish time that has passed
        and no take-down time that has.

        Scheduling is this query and nothing else: an article published with a
        future publish time appears by itself once the time is reached, and one
        with a take-down time (``unpublish_at``) disappears by itself at that time.
        """
        now = at or timezone.now()
        return self.filter(
            Q(unpublish_at__isnull=True) | Q(unpublish_at__gt=now),
            status=Article.Status.PUBLISHED,
            publish_at__lte=now,
        )

    def scheduled(self, *, at=None):
        return self.filter(status=Article.Status.PUBLISHED, publish_at__gt=at or timezone.now())

    def taken_down(self, *, at=None):
        """Published articles whose take-down time has passed: off the site by themselves."""
        return self.filter(status=Article.Status.PUBLISHED, unpublish_at__lte=at or timezone.now())

    def ready_for_review(self):
        """Articles an editor has asked a publisher to review (``article_request_review``)."""
        return self.filter(review_requested_at__isnull=False)

    def for_listing(self):
        """What an article card shows, fetched in a fixed number of queries.

        The body and the search vector are the bulk of a row and no card shows them.
        """
        return self.prefetch_related("topics").defer("body", "search_vector")

    def with_bylines(self):
        """Each article's authors in byline order (``Article.byline_authors()``), in one
        more query."""
        return self.prefetch_related(
            models.Prefetch("bylines", queryset=ArticleAuthor.objects.select_related("author"))
        )

    def older_than(self, pk: int):
        """Articles of this queryset that come after article ``pk`` newest first.

        The order is (publish_at, id) descending, so stories published at the same
        moment are split by id and none is skipped or repeated. The comparison reads
        ``pk``'s row in a subquery of this same queryset: when ``pk`` is not one of
        its articles (unknown, not public, another topic's) the result is empty.
        ``publish_at <= cursor`` is where an index scan on publish_at starts. Ties are
        excluded ("same time and not a lower id") rather than let in with an OR
        ("earlier, or a lower id"): PostgreSQL estimates the OR as matching fewer
        rows, and with too low an estimate it sorts every row past the cursor
        instead of reading the index in order and stopping after a page (seen at
        10,000 articles).
        """
        cursor = self._cursor_publish_at(pk)
        return self.filter(publish_at__lte=cursor).exclude(publish_at=cursor, pk__gte=pk)

    def newer_than(self, pk: int):
        """Articles of this queryset that come before article ``pk`` newest first.

        The mirror of ``older_than()``; also empty when ``pk`` is not in this queryset.
        """
        cursor = self._cursor_publish_at(pk)
        return self.filter(publish_at__gte=cursor).exclude(publish_at=cursor, pk__lte=pk)

    def _cursor_publish_at(self, pk: int) -> Subquery:
        return Subquery(self.filter(pk=pk).order_by().values("publish_at")[:1])

    def search(self, query: str, *, candidates: int = SEARCH_CANDIDATES):
        """The ``candidates`` newest articles matching ``query``, best match first.

        Only a bounded set is ranked, so a common word costs what a rare one does:
        PostgreSQL finds the newest matches (through the search-vector index or by
        walking the publish-time index until enough match, whichever its planner
        prefers) and ranks those alone, headline over standfirst over body. Other
        databases (SQLite, the embedded default) find the stories that contain
        every word of the query (``all_words()``), newest first.
        """
        newest = self.matching(query).order_by("-publish_at", "-id")
        if connection.vendor == "postgresql":
            return (
                self.filter(pk__in=newest.values("pk")[:candidates])
                .annotate(rank=SearchRank(F("search_vector"), _search_query(query)))
                .order_by("-rank", "-publish_at", "-id")
            )
        return self.filter(pk__in=newest.values("pk")[:candidates]).order_by("-publish_at", "-id")

    def matching(self, query: str):
        """The articles ``query`` finds, in no order: what ``search()`` ranks."""
        if connection.vendor == "postgresql":
            return self.filter(search_vector=_search_query(query))
        condition = all_words(query)
        return self.none() if condition is None else self.filter(condition)

    def pinned(self, *, at=None):
        """Articles whose editor pinned them to Top stories until a time still to come."""
        return self.filter(pinned_until__gt=at or timezone.now())

    def top_stories(self, *, limit=5, at=None, candidates=50, half_life_hours=24.0):
        """The public stories that matter most now: pinned ones first, then impact
        score decayed by age.

        A story's weight halves every ``half_life_hours`` after it was published,
        so a fresh 60 outranks a day-old 100. Only the ``candidates`` newest
        public stories are ranked, which keeps the work bounded, and any public
        story an editor pinned (``pinned_until``, however old) comes before them
        until its pin ends, pinned ones among themselves by the same weight. One
        query either way: where the database can (PostgreSQL) a UNION of the newest
        candidates and the pinned stories, each read by its own index; elsewhere
        (SQLite's small embedded databases) the same rows with an OR.
        """
        now = at or timezone.now()
        public = self.published(at=now).defer("body", "search_vector")
        newest = public.order_by("-publish_at", "-id")
        if connection.features.supports_slicing_ordering_in_compound:
            rows = newest[:candidates].union(public.pinned(at=now).order_by())
        else:
            rows = public.filter(
                Q(pk__in=newest.values("pk")[:candidates]) | Q(pinned_until__gt=now)
            )
        recent = list(rows)

        def weight(article):
            age_hours = max((now - article.publish_at).total_seconds(), 0) / 3600
            return article.impact_score * 0.5 ** (age_hours / half_life_hours)

        def rank(article):
            # Pinned first; sorted() is stable, and the rows come newest first, so
            # equal weights keep newest-first order.
            pinned = article.pinned_until is not None and article.pinned_until > now
            return (pinned, weight(article))

        recent.sort(key=lambda article: (article.publish_at, article.pk), reverse=True)
        return sorted(recent, key=rank, reverse=True)[:limit]


class Article(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PUBLISHED = "published", _("Published")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    title = models.CharField(_("headline"), max_length=200)
    slug = models.SlugField(
        _("slug"),
        max_length=200,
        unique=True,
        help_text=_("The article's address: /articles/<slug>/"),
    )
    # A draft may be a headline alone; standfirst, body and impact score are needed to
    # publish (``clean()``, and the database's constraints for published rows).
    standfirst = models.TextField(
        _("standfirst"),
        max_length=600,
        blank=True,
        help_text=_("One paragraph under the headline."),
    )
    body = ProseEditorField(
        _("body"), config={"extensions": BODY_EDITOR_EXTENSIONS}, sanitize=sanitize_html, blank=True
    )
    why_it_matters = models.TextField(
        _("why it matters"),
        blank=True,
        help_text=_("The highlighted paragraph that closes the story."),
    )
    impact_score = models.PositiveSmallIntegerField(
        _("impact score"),
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
        help_text=_("A whole number from 0 to 100, shown as a badge on the story."),
    )
    topics = models.ManyToManyField(
        Topic, related_name="articles", blank=True, verbose_name=_("topics")
    )
    # The byline, in the editor's order (``ArticleAuthor.position``).
    authors = models.ManyToManyField(
        Author,
        through="ArticleAuthor",
        related_name="articles",
        blank=True,
        verbose_name=_("authors"),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.DRAFT
    )
    publish_at = models.DateTimeField(
        _("publish time"),
        null=True,
        blank=True,
        help_text=_("A future time schedules the story: it goes live by itself at that time."),
    )
    unpublish_at = models.DateTimeField(
        _("take-down time"),
        null=True,
        blank=True,
        help_text=_(
            "Optional. At this time the live story comes off the site by itself. "
            "Empty: it stays up."
        ),
    )
    pinned_until = models.DateTimeField(
        _("pinned to Top stories until"),
        null=True,
        blank=True,
        help_text=_(
            "Optional. Until this time the live story comes first in Top stories on the "
            "home page, whatever its impact score and age. Empty: not pinned."
        ),
    )
    # The review step (``services.article_request_review``): who asked a publisher to
    # review the story and when; cleared when it is published.
    review_requested_at = models.DateTimeField(
        _("review asked for at"), null=True, blank=True, editable=False
    )
    review_requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
        verbose_name=_("review asked for by"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    seo_description = models.CharField(
        _("SEO description"),
        max_length=300,
        blank=True,
        help_text=_("For search engines and link previews. Empty: the standfirst is used."),
    )
    hero_image = models.ImageField(_("hero image"), upload_to="articles/%Y/%m/", blank=True)
    hero_image_alt = models.CharField(
        _("hero image alt text"),
        max_length=250,
        blank=True,
        help_text=_("What the image shows, for readers who cannot see it."),
    )
    hero_image_caption = models.CharField(
        _("hero image caption"),
        max_length=300,
        blank=True,
        help_text=_("Shown under the image. Optional."),
    )
    hero_image_credit = models.CharField(
        _("hero image credit"),
        max_length=150,
        blank=True,
        help_text=_("Who took or owns the image, e.g. “Photo: Ana Ruiz / Reuters”. Optional."),
    )
    # The hero image as a picture of the library: its size and its sized versions, kept
    # by ``pictures.hero_picture_attach`` (the file is the same). On the row the page
    # reads, so the page knows them without another query.
    hero_picture = models.ForeignKey(
        "Picture",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
        verbose_name=_("hero picture"),
    )
    # Headline (weight A), standfirst (B) and body (C) as one tsvector with a GIN index,
    # kept up to date by a PostgreSQL trigger (migration 0003) on every write, bulk
    # loads included. Unused on SQLite, where search matches words (``all_words()``).
    search_vector = SearchVectorField(null=True, editable=False)
    # Bumped on every editorial save; the admin refuses a save based on an older version.
    version = models.PositiveIntegerField(default=1, editable=False)
    # The time of the story's latest correction, update or editor's note (None: none),
    # kept by the services that write them (``article_refresh_corrections``). On the
    # row so the page, the feed and the sitemap know it without another query, and
    # the page fetches the corrections themselves only for a story that has some.
    latest_correction_at = models.DateTimeField(
        _("latest correction"), null=True, blank=True, editable=False
    )

    objects = ArticleQuerySet.as_manager()

    class Meta:
        ordering = ["-publish_at", "-id"]
        verbose_name = _("article")
        verbose_name_plural = _("articles")
        permissions = [("publish_article", _("Can publish articles"))]
        indexes = [
            models.Index(fields=["status", "-publish_at"], name="article_status_publish_idx"),
            # The next pin to end, which no stored home page may outlive (cachetags.py).
            models.Index(
                fields=["pinned_until"],
                condition=Q(pinned_until__isnull=False),
                name="article_pinned_idx",
            ),
            # The next take-down, which no stored page may outlive (articles/cachetags.py).
            models.Index(
                fields=["unpublish_at"],
                condition=Q(unpublish_at__isnull=False),
                name="article_unpublish_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(impact_score__gte=0) & Q(impact_score__lte=100),
                name="article_impact_score_0_100",
            ),
            models.CheckConstraint(
                condition=~Q(status="published") | Q(publish_at__isnull=False),
                name="article_published_has_publish_time",
            ),
            # What a reader sees of a story is never missing (``clean()`` says what to add).
            models.CheckConstraint(
                condition=~Q(status="published")
                | (~Q(standfirst="") & ~Q(body="") & Q(impact_score__isnull=False)),
                name="article_published_is_complete",
            ),
            models.CheckConstraint(
                condition=Q(unpublish_at__isnull=True)
                | Q(publish_at__isnull=True)
                | Q(unpublish_at__gt=F("publish_at")),
                name="article_unpublish_after_publish",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("articles:detail", kwargs={"slug": self.slug})

    def clean(self) -> None:
        super().clean()
        if self.status == self.Status.PUBLISHED:
            if self.publish_at is None:
                self.publish_at = timezone.now()
            self._refuse_if_incomplete()
        if self.unpublish_at and self.publish_at and self.unpublish_at <= self.publish_at:
            too_early = ValidationError(
                _("The take-down time must be after the publish time (%(publish_at)s)."),
                code="unpublish_before_publish",
                params={
                    "publish_at": formats.date_format(
                        timezone.localtime(self.publish_at), "DATETIME_FORMAT"
                    )
                },
            )
            raise ValidationError({"unpublish_at": too_early})
        if self.hero_image and not self.hero_image_alt.strip():
            raise ValidationError(
                {"hero_image_alt": _("Describe the hero image for readers who cannot see it.")},
                code="alt_required",
            )
        if not self.hero_image and (self.hero_image_caption or self.hero_image_credit):
            field = "hero_image_caption" if self.hero_image_caption else "hero_image_credit"
            raise ValidationError(
                {field: _("There is no hero image to go with this: add one, or empty this field.")},
                code="no_hero_image",
            )

    def missing_to_publish(self) -> list[str]:
        """The names of what a story needs before it can be published, in form order."""
        missing = []
        if not self.standfirst.strip():
            missing.append("standfirst")
        if not strip_tags(self.body or "").strip():
            missing.append("body")
        if self.impact_score is None:
            missing.append("impact_score")
        return missing

    def _refuse_if_incomplete(self) -> None:
        missing = self.missing_to_publish()
        if not missing:
            return
        names = ", ".join(str(self._meta.get_field(name).verbose_name) for name in missing)
        summary = ValidationError(
            _("To publish, add: %(missing)s."), code="incomplete", params={"missing": names}
        )
        needed = ValidationError(_("Needed to publish."), code="needed_to_publish")
        raise ValidationError({NON_FIELD_ERRORS: [summary], **{name: [needed] for name in missing}})

    def is_published(self) -> bool:
        now = timezone.now()
        return (
            self.status == self.Status.PUBLISHED
            and self.publish_at is not None
            and self.publish_at <= now
            and (self.unpublish_at is None or self.unpublish_at > now)
        )

    def is_taken_down(self) -> bool:
        """Published, but its take-down time has passed: off the site by itself."""
        return (
            self.status == self.Status.PUBLISHED
            and self.unpublish_at is not None
            and self.unpublish_at <= timezone.now()
        )

    def is_scheduled(self) -> bool:
        return (
            self.status == self.Status.PUBLISHED
            and self.publish_at is not None
            and self.publish_at > timezone.now()
        )

    def byline_authors(self) -> list[Author]:
        """The story's authors in byline order (prefetched by ``with_bylines()``)."""
        return [byline.author for byline in self.bylines.all()]

    @property
    def modified_at(self):
        """When the story last changed for readers: its last save or its latest
        correction, whichever is later (``article:modified_time``, the feed, the sitemap).
        """
        if self.latest_correction_at is None:
            return self.updated_at
        return max(self.updated_at, self.latest_correction_at)

    @property
    def meta_description(self) -> str:
        return self.seo_description or Truncator(self.standfirst).chars(300)

    @property
    def safe_body(self) -> str:
        """The body as HTML that is safe to render, whatever wrote the row."""
        return sanitize_html(self.body)


class SearchWord(models.Model):
    """A word of the published stories, for search's "Did you mean …" (PostgreSQL only).

    Kept by the database, as the search vector is (migration 0011): a trigger on
    the article table counts, for each word of a published story's headline,
    standfirst and body, how many published stories hold it, so a draft's words
    are never here and a withdrawn or deleted story's leave with it. A trigram
    index on ``word`` finds the words closest to a misspelt one
    (``spelling.search_suggestion``). SQLite has no such table filled: it
    compares with the public stories' words in Python instead.
    """

    word = models.CharField(_("word"), max_length=40, primary_key=True)
    # Published stories (their status: a scheduled one counts already) holding the word.
    articles = models.IntegerField(_("articles"))

    class Meta:
        verbose_name = _("search word")
        verbose_name_plural = _("search words")

    def __str__(self) -> str:
        return self.word


class ArticleAuthor(models.Model):
    """One author in an article's byline, at ``position`` (the editor's order)."""

    article = models.ForeignKey(
        Article, on_delete=models.CASCADE, related_name="bylines", verbose_name=_("article")
    )
    author = models.ForeignKey(
        Author, on_delete=models.CASCADE, related_name="bylines", verbose_name=_("author")
    )
    position = models.PositiveIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("author")
        verbose_name_plural = _("authors")
        constraints = [
            models.UniqueConstraint(
                fields=["article", "author"],
                name="articleauthor_unique_author",
                violation_error_message=_("This author is already in the byline."),
            ),
        ]

    def __str__(self) -> str:
        return str(self.author)


class RelatedLink(models.Model):
    """One related-content card, in the editor's order.

    It points either at another article of ours or at an external URL with its
    own title and summary. A link whose target article is not public stays in
    the list (the admin flags it) and is simply not shown on the live site.
    """

    article = models.ForeignKey(
        Article, on_delete=models.CASCADE, related_name="related_links", verbose_name=_("article")
    )
    position = models.PositiveIntegerField(_("position"), default=0)
    # PROTECT: deleting a target must never silently delete the cards pointing at it.
    target_article = models.ForeignKey(
        Article,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="linked_from",
        verbose_name=_("target article"),
    )
    url = models.URLField(_("external URL"), max_length=500, blank=True)
    title = models.CharField(_("title"), max_length=200, blank=True)
    summary = models.TextField(_("summary"), max_length=600, blank=True)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("related link")
        verbose_name_plural = _("related links")
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(target_article__isnull=False, url="")
                    | (Q(target_article__isnull=True) & ~Q(url=""))
                ),
                name="relatedlink_article_xor_url",
            ),
            models.CheckConstraint(
                condition=~Q(target_article=F("article")), name="relatedlink_not_self"
            ),
            models.UniqueConstraint(
                fields=["article", "target_article"],
                condition=Q(target_article__isnull=False),
                name="relatedlink_unique_target_article",
            ),
            models.UniqueConstraint(
                fields=["article", "url"],
                condition=~Q(url=""),
                name="relatedlink_unique_url",
            ),
        ]

    def __str__(self) -> str:
        return self.display_title

    def clean(self) -> None:
        super().clean()
        if self.target_article_id and self.url:
            raise ValidationError(
                _("Link either to one of our articles or to an external URL, not both."),
                code="both_targets",
            )
        if not self.target_article_id and not self.url:
            raise ValidationError(
                _("Choose a target article or enter an external URL."), code="no_target"
            )
        if self.url and not self.title.strip():
            raise ValidationError(
                {"title": _("An external link needs a title for its card.")}, code="title_required"
            )
        if self.target_article_id and self.article_id and self.target_article_id == self.article_id:
            raise ValidationError(
                {"target_article": _("An article cannot link to itself.")}, code="self_link"
            )

    @property
    def is_external(self) -> bool:
        return not self.target_article_id

    @property
    def display_title(self) -> str:
        if self.target_article_id:
            return self.title or self.target_article.title
        return self.title or self.url

    @property
    def display_summary(self) -> str:
        if self.target_article_id:
            return self.summary or self.target_article.standfirst
        return self.summary

    @property
    def href(self) -> str:
        return self.target_article.get_absolute_url() if self.target_article_id else self.url

    def hidden_reason(self) -> str:
        """Why this card is not on the live site, or "" when it is shown."""
        if not self.target_article_id:
            return ""
        target = self.target_article
        if target.is_published():
            return ""
        if target.status == Article.Status.WITHDRAWN:
            return _("hidden on the live site: target is withdrawn")
        if target.is_taken_down():
            return _("hidden on the live site: target was taken down at its set time")
        if target.is_scheduled():
            return _("hidden on the live site: target is scheduled")
        return _("hidden on the live site: target is a draft")


class PendingEdit(models.Model):
    """Unpublished changes to a live article: its one draft of changes.

    Readers keep seeing the article's own row until an editor publishes these
    (``services.article_publish_pending``, or "Save and publish" on the change
    form, which shows them). Only the story's text and what sits with it are
    kept here (``FIELDS`` and the topics); its address, status, publish time,
    hero image, authors and related links are changed on the live story.
    """

    # The article's fields a draft of changes holds, besides its topics.
    FIELDS = (
        "title",
        "standfirst",
        "body",
        "why_it_matters",
        "impact_score",
        "seo_description",
    )

    article = models.OneToOneField(
        Article,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="pending_edit",
        verbose_name=_("article"),
    )
    title = models.CharField(_("headline"), max_length=200)
    standfirst = models.TextField(_("standfirst"), max_length=600)
    body = ProseEditorField(
        _("body"), config={"extensions": BODY_EDITOR_EXTENSIONS}, sanitize=sanitize_html
    )
    why_it_matters = models.TextField(_("why it matters"), blank=True)
    impact_score = models.PositiveSmallIntegerField(
        _("impact score"), validators=[MinValueValidator(0), MaxValueValidator(100)]
    )
    # related_name="+": a topic lists the stories readers see, not drafts.
    topics = models.ManyToManyField(Topic, related_name="+", blank=True, verbose_name=_("topics"))
    seo_description = models.CharField(_("SEO description"), max_length=300, blank=True)
    saved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("saved by"),
    )
    saved_at = models.DateTimeField(_("saved at"))

    class Meta:
        verbose_name = _("draft of changes")
        verbose_name_plural = _("drafts of changes")
        constraints = [
            models.CheckConstraint(
                condition=Q(impact_score__gte=0) & Q(impact_score__lte=100),
                name="pendingedit_impact_score_0_100",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def applied_to(self, article: Article) -> Article:
        """A copy of ``article`` (same id, never saved) with these changes in place of its text.

        Its topics are not on the copy: they are ``self.topics``.
        """
        deferred = article.get_deferred_fields()
        names = [
            field.attname
            for field in Article._meta.concrete_fields
            if field.attname not in deferred
        ]
        copy = Article.from_db(None, names, [getattr(article, name) for name in names])
        for name in self.FIELDS:
            setattr(copy, name, getattr(self, name))
        return copy


class ShareKey(models.Model):
    """What an article's share links are signed with: revoking them raises ``generation``.

    A link names the generation it was made at (``articles/sharing.py``), and
    works only while the article's is still the same. Kept apart from the article's
    row so that no save or history restore of the story can wind it back.
    """

    article = models.OneToOneField(
        Article,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="share_key",
        verbose_name=_("article"),
    )
    generation = models.PositiveIntegerField(_("generation"), default=0)
    revoked_at = models.DateTimeField(_("last revoked"), null=True, blank=True)

    class Meta:
        verbose_name = _("share key")
        verbose_name_plural = _("share keys")

    def __str__(self) -> str:
        return f"{self.article_id}: {self.generation}"


class Correction(models.Model):
    """A correction, update or editor's note on a story, listed at its foot with its time."""

    class Kind(models.TextChoices):
        CORRECTION = "correction", _("Correction")
        UPDATE = "update", _("Update")
        EDITORS_NOTE = "editors_note", _("Editor's note")

    article = models.ForeignKey(
        Article, on_delete=models.CASCADE, related_name="corrections", verbose_name=_("article")
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.CORRECTION)
    text = models.TextField(
        _("text"),
        max_length=1000,
        help_text=_("Plain text, shown to readers as written: what changed and why."),
    )
    posted_at = models.DateTimeField(
        _("time"),
        default=timezone.now,
        help_text=_("When it was made; readers see it with the note."),
    )

    class Meta:
        ordering = ["posted_at", "id"]
        verbose_name = _("correction or update")
        verbose_name_plural = _("corrections and updates")

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {Truncator(self.text).chars(60)}"

    def clean(self) -> None:
        super().clean()
        if self.posted_at and self.posted_at > timezone.now():
            raise ValidationError(
                {"posted_at": _("A correction cannot be dated in the future.")},
                code="future_correction",
            )
        if self.text and not self.text.strip():
            raise ValidationError({"text": _("Say what was corrected.")}, code="blank_text")


class Redirect(models.Model):
    """An old address of a story, topic or author, answered with a 301 to where it
    lives now.

    Keyed by kind and old slug, it points at the row, not at a slug: a story
    renamed A → B → C has two redirects, both to the story, and A answers with C
    straight away. The views look one up only when no story or topic has the slug
    (``selectors.moved_address``), so a page that is found costs no query for it.
    """

    class Kind(models.TextChoices):
        ARTICLE = "article", _("Article")
        TOPIC = "topic", _("Topic")
        AUTHOR = "author", _("Author")

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    old_slug = models.SlugField(
        _("old slug"),
        max_length=200,
        help_text=_(
            "The old address: /articles/<old slug>/, /topics/<old slug>/ or /authors/<old slug>/."
        ),
    )
    article = models.ForeignKey(
        Article,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="redirects",
        verbose_name=_("article"),
    )
    topic = models.ForeignKey(
        Topic,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="redirects",
        verbose_name=_("topic"),
    )
    author = models.ForeignKey(
        Author,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="redirects",
        verbose_name=_("author"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["kind", "old_slug"]
        verbose_name = _("redirect")
        verbose_name_plural = _("redirects")
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "old_slug"],
                name="redirect_unique_old_address",
                violation_error_message=_(
                    "This old address already has a redirect; edit that one instead."
                ),
            ),
            models.CheckConstraint(
                condition=(
                    Q(
                        kind="article",
                        article__isnull=False,
                        topic__isnull=True,
                        author__isnull=True,
                    )
                    | Q(
                        kind="topic", topic__isnull=False, article__isnull=True, author__isnull=True
                    )
                    | Q(
                        kind="author",
                        author__isnull=False,
                        article__isnull=True,
                        topic__isnull=True,
                    )
                ),
                name="redirect_target_matches_kind",
            ),
        ]

    def __str__(self) -> str:
        return self.old_path

    # The URL name of each kind's pages.
    URL_NAMES = {
        Kind.ARTICLE: "articles:detail",
        Kind.TOPIC: "articles:topic",
        Kind.AUTHOR: "articles:author",
    }

    @property
    def old_path(self) -> str:
        return reverse(self.URL_NAMES[self.kind], kwargs={"slug": self.old_slug})

    @property
    def target(self) -> "Article | Topic | Author | None":
        return getattr(self, self.kind, None) if self.kind in self.Kind.values else None

    def clean(self) -> None:
        super().clean()
        if self.kind == self.Kind.ARTICLE:
            if self.article_id is None:
                raise ValidationError(
                    {"article": _("Choose the article this old address leads to.")},
                    code="no_target",
                )
            self.topic = self.author = None
            live = Article.objects.filter(slug=self.old_slug).first()
        elif self.kind == self.Kind.TOPIC:
            if self.topic_id is None:
                raise ValidationError(
                    {"topic": _("Choose the topic this old address leads to.")}, code="no_target"
                )
            self.article = self.author = None
            live = Topic.objects.filter(slug=self.old_slug).first()
        elif self.kind == self.Kind.AUTHOR:
            if self.author_id is None:
                raise ValidationError(
                    {"author": _("Choose the author this old address leads to.")},
                    code="no_target",
                )
            self.article = self.topic = None
            live = Author.objects.filter(slug=self.old_slug).first()
        else:
            return
        if live is not None:
            raise ValidationError(
                {
                    "old_slug": _(
                        "%(path)s is the address of “%(name)s” now, so a redirect from it "
                        "would never be used."
                    )
                    % {"path": self.old_path, "name": live}
                },
                code="address_in_use",
            )


class PictureQuerySet(models.QuerySet):
    def without_sizes(self):
        """Pictures whose sized versions were not made yet (and did not fail for good)."""
        return self.filter(sized_at__isnull=True, sizes_error="")


class Picture(models.Model):
    """An uploaded image of the picture library: a story's hero image or a body picture.

    Its width and height are the image as readers see it (EXIF orientation applied).
    ``sizes`` lists its sized versions once a worker has made them
    (``pictures.picture_make_sizes``), so a page writes its ``srcset`` without
    touching a file. Until
    then (``sized_at`` empty) pages show the original with its width and height.
    """

    file = models.ImageField(_("image"), upload_to="pictures/%Y/%m/", max_length=200)
    width = models.PositiveIntegerField(_("width"), editable=False)
    height = models.PositiveIntegerField(_("height"), editable=False)
    alt = models.CharField(
        _("alt text"),
        max_length=250,
        help_text=_("What the image shows, for readers who cannot see it."),
        error_messages={
            "blank": _("Describe the picture for readers who cannot see it (alt text).")
        },
    )
    caption = models.CharField(_("caption"), max_length=300, blank=True)
    credit = models.CharField(_("credit"), max_length=150, blank=True)
    # [{"name": storage name, "width", "height", "type": MIME type}], smallest first.
    sizes = models.JSONField(_("sized versions"), default=list, blank=True, editable=False)
    sized_at = models.DateTimeField(_("sized versions made"), null=True, editable=False)
    # Why the sized versions cannot be made (not an image Pillow reads any more);
    # the sweep leaves such a picture alone.
    sizes_error = models.CharField(_("sizing error"), max_length=300, blank=True, editable=False)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
        verbose_name=_("uploaded by"),
    )
    uploaded_at = models.DateTimeField(_("uploaded"), default=timezone.now, editable=False)

    objects = PictureQuerySet.as_manager()

    class Meta:
        ordering = ["-uploaded_at", "-id"]
        verbose_name = _("picture")
        verbose_name_plural = _("pictures")
        indexes = [
            # What the sweep looks for: pictures still without sized versions.
            models.Index(
                fields=["uploaded_at"],
                condition=Q(sized_at__isnull=True),
                name="picture_unsized_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.alt or self.file.name

    @property
    def url(self) -> str:
        return self.file.url
