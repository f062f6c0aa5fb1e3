"""Load the demo newsroom: topics, bylines, articles and an editor login, as
``articles/demo/content.toml`` has them.

``make run`` calls it on every start, so by default it only adds the demo rows
that are missing and never changes one that exists: a demo story an editor
rewrote, a topic they renamed, a link they removed, a password they changed all
survive the next start. ``--reset`` puts the demo rows back as shipped, and
first lists every row and field it is about to overwrite. Stories, topics and
logins editors create themselves are never read or changed.
"""

import hashlib
import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import reversion
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.files.base import ContentFile
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from PIL import Image, ImageDraw, ImageFont

from articles import body, demo_pictures, selectors, services
from articles import demo_content as demo
from articles.models import (
    Article,
    ArticleAuthor,
    Author,
    Correction,
    PendingEdit,
    Picture,
    Redirect,
    RelatedLink,
    Topic,
)

# History's comments on the versions the command records.
FIRST_VERSION = "Demo story as shipped."
RESET_VERSION = "Demo story put back as shipped (load_demo --reset)."

ARTICLE_FIELDS = (
    "title",
    "standfirst",
    "body",
    "why_it_matters",
    "impact_score",
    "status",
    "publish_at",
)


@dataclass
class Overwrite:
    """An existing row that ``--reset`` puts back as the demo has it."""

    row: str  # e.g. "article <slug>"
    fields: list[str]  # what differs, in words an editor knows from the admin
    apply: Callable[[], None]


class Command(BaseCommand):
    help = (
        "Add the demo topics, authors, articles and demo editor account that are missing, "
        "leaving existing ones as they are; --reset restores them. Refuses to run with "
        "DEBUG off unless --force is given."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--force",
            action="store_true",
            help="Load the demo even with DEBUG off (it adds a login with a published password).",
        )
        parser.add_argument(
            "--reset",
            action="store_true",
            help="Also put existing demo stories, links, topics, authors and the demo login "
            "back as shipped, overwriting edits to them; lists what it overwrites first.",
        )

    def handle(self, *args, force=False, reset=False, **options):
        self.content = content = demo.load()
        if not settings.DEBUG and not force:
            raise CommandError(
                "Refusing to load demo content with DEBUG off: it adds sample articles and an "
                "logins whose passwords are printed in clear. "
                "Run with DEBUG=1, or pass --force if you really want it on this site."
            )
        self.created = 0
        self.kept = 0
        self.overwrites: list[Overwrite] = []
        now = timezone.now()
        with transaction.atomic():
            topics = {spec.slug: self._topic(spec, reset=reset) for spec in content.topics}
            authors = {spec.slug: self._author(spec, reset=reset) for spec in content.authors}
            # Articles first, links second: a card may point at a story listed after it.
            new, articles = set(), {}
            for spec in content.articles:
                article = Article.objects.filter(slug=spec.slug).first()
                if article is None:
                    articles[spec.slug] = self._create_article(
                        spec, topics=topics, authors=authors, now=now
                    )
                    new.add(spec.slug)
                else:
                    articles[spec.slug] = article
                    self.kept += 1
            for spec in content.articles:
                if spec.slug in new:
                    self.created += self._add_pictures(articles[spec.slug], spec)
                    self._set_links(articles[spec.slug], spec, articles=articles)
                    self.created += self._set_corrections(articles[spec.slug], spec, now=now)
                    self.created += self._add_old_slugs(articles[spec.slug], spec)
                    _record_version(articles[spec.slug], comment=FIRST_VERSION)
                elif reset:
                    self._reset_article(
                        articles[spec.slug],
                        spec,
                        topics=topics,
                        authors=authors,
                        articles=articles,
                        now=now,
                    )
            created_accounts = {
                account.username
                for account in content.accounts
                if self._account(account, reset=reset)
            }
            editor = get_user_model().objects.get(username=content.editor_username)
            for spec in content.articles:
                if spec.pending is None:
                    continue
                if spec.slug in new:
                    self._save_pending(articles[spec.slug], spec.pending, user=editor)
                elif reset:
                    self._reset_pending(articles[spec.slug], spec.pending, user=editor)
            if reset:
                # Said before it is done, so the output shows what an earlier edit lost.
                self._announce(self.overwrites)
                for overwrite in self.overwrites:
                    overwrite.apply()
        self._summary(articles, reset=reset, created_accounts=created_accounts, now=now)

    # Rows

    def _topic(self, spec: demo.DemoTopic, *, reset: bool) -> Topic:
        # Topics are shared with editors' own stories: reuse one an editor already made
        # under another slug rather than add a second of the same name.
        topic = (
            Topic.objects.filter(slug=spec.slug).first()
            or Topic.objects.filter(name=spec.name).first()
        )
        if topic is None:
            return self._create(Topic(slug=spec.slug, name=spec.name, description=spec.description))
        self.kept += 1
        if reset:
            self._reset_fields(
                f"topic {topic.slug}", topic, name=spec.name, description=spec.description
            )
        return topic

    def _author(self, spec: demo.DemoAuthor, *, reset: bool) -> Author:
        author = Author.objects.filter(slug=spec.slug).first()
        if author is None:
            author = Author(slug=spec.slug, name=spec.name, role=spec.role, bio=spec.bio)
            _add_portrait(author)
            return self._create(author)
        self.kept += 1
        if reset:
            self._reset_fields(
                f"author {author.slug}", author, name=spec.name, role=spec.role, bio=spec.bio
            )
        return author

    def _create(self, obj):
        obj.full_clean()
        obj.save()
        self.created += 1
        return obj

    def _reset_fields(self, row: str, obj, **wanted) -> None:
        changed = [name for name, value in wanted.items() if getattr(obj, name) != value]
        if not changed:
            return

        def apply():
            for name in changed:
                setattr(obj, name, wanted[name])
            obj.full_clean()
            obj.save()

        self.overwrites.append(Overwrite(row, [_label(obj, name) for name in changed], apply))

    def _create_article(self, spec: demo.DemoArticle, *, topics, authors, now) -> Article:
        # A demo story an editor renamed left a redirect at its address; the story
        # comes back there, so the address is its own again.
        Redirect.objects.filter(kind=Redirect.Kind.ARTICLE, old_slug=spec.slug).delete()
        article = Article(slug=spec.slug)
        _fill(article, spec, now=now)
        article.full_clean()  # sanitizes the body, exactly as an admin save would
        article.save()
        article.topics.set([topics[slug] for slug in spec.topics])
        services.article_set_authors(article=article, authors=_wanted_authors(spec, authors))
        self.created += 1
        return article

    def _reset_article(self, article: Article, spec, *, topics, authors, articles, now) -> None:
        before = _values(article)
        _fill(article, spec, now=now)
        article.full_clean()
        after = _values(article)
        changed = [_label(article, name) for name in ARTICLE_FIELDS if after[name] != before[name]]
        wanted_topics = {topics[slug].pk for slug in spec.topics}
        topics_differ = set(article.topics.values_list("pk", flat=True)) != wanted_topics
        if topics_differ:
            changed.append(_label(article, "topics"))
        wanted_authors = _wanted_authors(spec, authors)
        authors_differ = article.byline_authors() != wanted_authors
        if authors_differ:
            changed.append(str(ArticleAuthor._meta.verbose_name_plural))
        links_differ = _links(article) != _wanted_links(spec, articles=articles)
        if links_differ:
            changed.append(str(RelatedLink._meta.verbose_name_plural))
        corrections_differ = _corrections(article) != _wanted_corrections(spec)
        if corrections_differ:
            changed.append(str(Correction._meta.verbose_name_plural))
        # An old address that is some story's own now cannot be given back.
        old_slugs_missing = (
            set(spec.old_slugs)
            - set(article.redirects.values_list("old_slug", flat=True))
            - set(Article.objects.filter(slug__in=spec.old_slugs).values_list("slug", flat=True))
        )
        if old_slugs_missing:
            changed.append("old addresses")
        if not changed:
            return

        def apply():
            # An editor with the old version open in the admin must not save over this.
            article.version += 1
            article.save()
            if topics_differ:
                article.topics.set(wanted_topics)
            if authors_differ:
                services.article_set_authors(article=article, authors=wanted_authors)
            if links_differ:
                self._set_links(article, spec, articles=articles)
            if corrections_differ:
                self._set_corrections(article, spec, now=now)
            if old_slugs_missing:
                self._add_old_slugs(article, spec, take_over=True)
            _record_version(article, comment=RESET_VERSION)

        self.overwrites.append(Overwrite(f"article {article.slug}", changed, apply))

    def _add_pictures(self, article: Article, spec: demo.DemoArticle) -> int:
        """Draw the story's hero image and body pictures, add them to the picture library
        (their sized versions are made by the worker) and put them on the story."""
        if spec.hero is None and not spec.pictures:
            return 0
        added = []
        if spec.hero is not None:
            hero = self._picture(article, spec.hero, "hero")
            article.hero_image = hero.file.name
            article.hero_picture = hero
            article.hero_image_alt = spec.hero.alt
            article.hero_image_caption = spec.hero.caption
            article.hero_image_credit = spec.hero.credit
            added.append(hero)
        for number, wanted in enumerate(spec.pictures, start=1):
            picture = self._picture(article, wanted, str(number))
            figure = body.figure(
                picture, alt=wanted.alt, caption=wanted.caption, credit=wanted.credit
            )
            article.body = _after_paragraph(article.body, wanted.after, figure)
            added.append(picture)
        article.full_clean()
        article.save()
        return len(added)

    def _picture(self, article: Article, spec: demo.DemoPicture, name: str) -> Picture:
        drawn = ContentFile(demo_pictures.draw(spec.scene), name=f"{article.slug}-{name}.jpg")
        return services.picture_add(
            picture=Picture(file=drawn, alt=spec.alt, caption=spec.caption, credit=spec.credit),
            user=None,
        )

    def _set_links(self, article: Article, spec: demo.DemoArticle, *, articles) -> None:
        """Make the article's cards exactly the demo's list, in order."""
        article.related_links.all().delete()
        for target_id, url, title, summary, position in _wanted_links(spec, articles=articles):
            link = RelatedLink(
                article=article,
                position=position,
                target_article_id=target_id,
                url=url,
                title=title,
                summary=summary,
            )
            link.full_clean()
            link.save()

    def _save_pending(self, article: Article, pending: demo.DemoPending, *, user) -> None:
        """Save the demo's draft of changes to the live story, as an editor would."""
        edited = Article.objects.get(pk=article.pk)
        for name, value in pending.changes().items():
            setattr(edited, name, value)
        services.article_save_pending(
            article=edited,
            topics=list(article.topics.all()),
            opened_version=edited.version,
            user=user,
        )

    def _reset_pending(self, article: Article, pending: demo.DemoPending, *, user) -> None:
        saved = selectors.pending_edit(article_id=article.pk)
        wanted = pending.changes()
        if saved is not None and all(getattr(saved, k) == v for k, v in wanted.items()):
            return
        self.overwrites.append(
            Overwrite(
                f"article {article.slug}",
                [str(PendingEdit._meta.verbose_name)],
                lambda: self._save_pending(article, pending, user=user),
            )
        )

    def _set_corrections(self, article: Article, spec: demo.DemoArticle, *, now) -> int:
        """Make the article's corrections exactly the demo's, dated as long ago as it
        says; how many it wrote."""
        article.corrections.all().delete()
        for note in spec.corrections:
            correction = Correction(
                article=article,
                kind=note.kind,
                text=note.text,
                posted_at=now - timedelta(hours=note.hours),
            )
            correction.full_clean()
            correction.save()
        services.article_refresh_corrections(article=article)
        return len(spec.corrections)

    def _add_old_slugs(self, article: Article, spec: demo.DemoArticle, *, take_over=False) -> int:
        """Old addresses leading to the article; one an editor gave to something else
        is left to them, unless ``take_over`` (a reset). A story's own slug never is.
        How many it added.
        """
        added = 0
        for old_slug in spec.old_slugs:
            if Article.objects.filter(slug=old_slug).exists():
                continue
            existing = Redirect.objects.filter(kind=Redirect.Kind.ARTICLE, old_slug=old_slug)
            if existing.filter(article=article).exists():
                continue
            if existing.exists() and not take_over:
                continue
            existing.delete()
            redirect = Redirect(kind=Redirect.Kind.ARTICLE, old_slug=old_slug, article=article)
            redirect.full_clean()
            redirect.save()
            added += 1
        return added

    def _account(self, account: demo.DemoAccount, *, reset: bool) -> bool:
        """Create a demo login, a staff member of its groups. True when created.

        An existing account is left alone, password included: someone may have
        changed it on purpose. The groups normally come from migrations that also
        grant their permissions; get_or_create keeps the command working without them.
        """
        username, password = account.username, account.password
        user_model = get_user_model()
        groups = [Group.objects.get_or_create(name=name)[0] for name in account.groups]
        user = user_model.objects.filter(username=username).first()
        if user is None:
            user = user_model(username=username, is_staff=True, is_active=True)
            user.set_password(password)
            user.save()
            user.groups.add(*groups)
            self.created += 1
            return True
        self.kept += 1
        if reset:
            changed = []
            if not user.check_password(password):
                changed.append("password")
            changed += [
                _label(user, name) for name in ("is_staff", "is_active") if not getattr(user, name)
            ]
            joined = set(user.groups.values_list("pk", flat=True))
            changed += [f"membership of {group.name}" for group in groups if group.pk not in joined]

            def apply():
                user.set_password(password)
                user.is_staff = user.is_active = True
                user.save()
                user.groups.add(*groups)

            if changed:
                self.overwrites.append(Overwrite(f"user {user.get_username()}", changed, apply))
        return False

    # Output

    def _announce(self, overwrites: list[Overwrite]) -> None:
        if not overwrites:
            self.stdout.write("--reset: every existing demo row is already as shipped.")
            return
        self.stdout.write(
            self.style.WARNING(
                f"--reset overwrites {len(overwrites)} existing demo rows with the demo version:"
            )
        )
        for overwrite in overwrites:
            self.stdout.write(f"  {overwrite.row}: {', '.join(overwrite.fields)}")

    def _summary(self, articles, *, reset, created_accounts, now):
        states = {"published": 0, "scheduled": 0, "draft": 0}
        for article in articles.values():
            if article.status == Article.Status.DRAFT:
                states["draft"] += 1
            elif article.publish_at and article.publish_at > now:
                states["scheduled"] += 1
            else:
                states["published"] += 1
        self.stdout.write(
            f"Demo content: {len(self.content.topics)} topics, "
            f"{len(self.content.authors)} authors, "
            f"{len(articles)} articles ({states['published']} published, "
            f"{states['scheduled']} scheduled, {states['draft']} drafts)."
        )
        if reset:
            self.stdout.write(
                f"Rows: {self.created} created, {len(self.overwrites)} reset, "
                f"{self.kept - len(self.overwrites)} already as shipped."
            )
        else:
            self.stdout.write(
                f"Rows: {self.created} created, {self.kept} already there and left as they are "
                "(`manage.py load_demo --reset` puts the demo version back)."
            )
        lead = articles[self.content.lead]
        self.stdout.write(f"Lead story: {settings.SITE_URL}{lead.get_absolute_url()}")
        for account in self.content.accounts:
            password = account.password
            if account.username not in created_accounts and not reset:
                password += " (set when the account was created; unchanged if someone changed it)"
            self.stdout.write(
                self.style.SUCCESS(
                    f"Demo {account.role} login: {settings.SITE_URL}{reverse('admin:index')} "
                    f"user {account.username} / password {password}"
                )
            )


def _record_version(article: Article, *, comment: str) -> None:
    """Put the story as it is now, with its bylines, related links and corrections, in
    its History, so an editor can compare with it or bring it back."""
    with reversion.create_revision():
        reversion.add_to_revision(article)
        reversion.set_comment(comment)


def _fill(article: Article, spec: demo.DemoArticle, *, now) -> None:
    """Set the article's own fields to the demo's, in memory."""
    article.title = spec.title
    article.standfirst = spec.standfirst
    # The demo pictures the story has (``_add_pictures``) stay where the demo puts them.
    figures = FIGURE.findall(article.body or "")
    article.body = demo.render_body(spec.body)
    for wanted, figure in zip(spec.pictures, figures, strict=False):
        article.body = _after_paragraph(article.body, wanted.after, figure)
    article.why_it_matters = spec.why_it_matters
    article.impact_score = spec.impact_score
    article.status, article.publish_at = _publication(spec, article, now=now)


# Demo portraits: drawn when an author is created, so no image is kept in the repository.
PORTRAIT_SIZE = 320
PORTRAIT_COLOURS = {
    "#2f5d7c": "blue",
    "#7c3f2f": "brick red",
    "#3f6b3a": "green",
    "#5b3f7c": "purple",
}


def _add_portrait(author: Author) -> None:
    """Give a new demo author a square portrait placeholder: their initials in white on
    a colour picked from their slug, described in the photo's alt text."""
    initials = "".join(part[0] for part in author.name.split()[:2]).upper()
    colours = list(PORTRAIT_COLOURS)
    colour = colours[hashlib.sha256(author.slug.encode()).digest()[0] % len(colours)]
    image = Image.new("RGB", (PORTRAIT_SIZE, PORTRAIT_SIZE), colour)
    font = ImageFont.load_default(size=PORTRAIT_SIZE * 3 // 8)
    centre = PORTRAIT_SIZE // 2
    ImageDraw.Draw(image).text((centre, centre), initials, font=font, fill="white", anchor="mm")
    png = io.BytesIO()
    image.save(png, "PNG")
    author.photo.save(f"{author.slug}.png", ContentFile(png.getvalue()), save=False)
    author.photo_alt = (
        f"Placeholder portrait of {author.name}: the initials {initials} in white on "
        f"{PORTRAIT_COLOURS[colour]}"
    )


def _wanted_authors(spec: demo.DemoArticle, authors: dict[str, Author]) -> list[Author]:
    """The demo's byline of the article, in order."""
    return [authors[slug] for slug in spec.authors]


FIGURE = re.compile(r"<figure>.*?</figure>", re.DOTALL)


def _after_paragraph(html: str, number: int, insert: str) -> str:
    """``html`` with ``insert`` after its paragraph ``number`` (counted from 1)."""
    position = 0
    for _ in range(number):
        position = html.index("</p>", position) + len("</p>")
    return html[:position] + insert + html[position:]


def _values(article: Article) -> dict:
    return {name: getattr(article, name) for name in ARTICLE_FIELDS}


def _label(obj, name: str) -> str:
    """A field's name as the admin shows it (``title`` is the "headline")."""
    return str(obj._meta.get_field(name.removesuffix("_id")).verbose_name)


def _wanted_links(spec: demo.DemoArticle, *, articles) -> list[tuple]:
    """The demo's cards for the article: target id, URL, title, summary, position."""
    return [
        (
            articles[link.article].pk if link.article else None,
            link.url,
            link.title,
            link.summary,
            position,
        )
        for position, link in enumerate(spec.related)
    ]


def _wanted_corrections(spec: demo.DemoArticle) -> list[tuple]:
    """The demo's corrections of the article, comparable with ``_corrections``: their
    times are relative to when the demo was loaded, so only kind and text count.
    """
    oldest_first = sorted(spec.corrections, key=lambda note: -note.hours)
    return [(note.kind, note.text) for note in oldest_first]


def _corrections(article: Article) -> list[tuple]:
    return list(article.corrections.order_by("posted_at", "id").values_list("kind", "text"))


def _links(article: Article) -> list[tuple]:
    """The article's cards as they are, comparable with ``_wanted_links``."""
    return list(
        article.related_links.order_by("position", "id").values_list(
            "target_article_id", "url", "title", "summary", "position"
        )
    )


def _publication(spec: demo.DemoArticle, existing: Article, *, now):
    """The status and publish time the demo article should have.

    A publish time is chosen relative to now when the article is first loaded and
    kept afterwards, so a reset does not reshuffle the front page. It is chosen
    again only when the article's state no longer matches the demo: above all
    when the scheduled story's time has come, so a reset brings one back.
    """
    if spec.state == "draft":
        return Article.Status.DRAFT, None
    future = spec.state == "scheduled"
    if (
        existing.pk is not None
        and existing.status == Article.Status.PUBLISHED
        and existing.publish_at is not None
        and (existing.publish_at > now) == future
    ):
        return Article.Status.PUBLISHED, existing.publish_at
    offset = timedelta(hours=spec.hours)
    return Article.Status.PUBLISHED, (now + offset if future else now - offset)
