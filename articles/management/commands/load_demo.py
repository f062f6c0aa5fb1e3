"""Load (or refresh) the demo newsroom: topics, bylines, articles and an editor login.

Idempotent, because ``make run`` calls it on every start. Only the demo slugs
are touched; articles editors create themselves are never read or changed.
A demo row is saved only when it differs from the demo content, so a restart
does not bump ``updated_at`` or reorder anything.
"""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from articles import demo_content as demo
from articles.models import Article, Author, RelatedLink, Topic

ARTICLE_FIELDS = (
    "title",
    "standfirst",
    "body",
    "why_it_matters",
    "impact_score",
    "author_id",
    "status",
    "publish_at",
)


class Command(BaseCommand):
    help = (
        "Load demo topics, authors and articles and a demo editor account. "
        "Safe to run repeatedly; refuses to run with DEBUG off unless --force is given."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--force",
            action="store_true",
            help="Load the demo even with DEBUG off (it adds a login with a published password).",
        )

    def handle(self, *args, force=False, **options):
        if not settings.DEBUG and not force:
            raise CommandError(
                "Refusing to load demo content with DEBUG off: it adds sample articles and an "
                f"'{demo.EDITOR_USERNAME}' login whose password is printed in clear. "
                "Run with DEBUG=1, or pass --force if you really want it on this site."
            )
        self.counts = {"created": 0, "updated": 0, "unchanged": 0}
        now = timezone.now()
        with transaction.atomic():
            topics = {spec.slug: self._topic(spec) for spec in demo.TOPICS}
            authors = {spec.slug: self._author(spec) for spec in demo.AUTHORS}
            # Articles first, links second: a card may point at a story listed after it.
            articles = {
                spec.slug: self._article(spec, topics=topics, authors=authors, now=now)
                for spec in demo.ARTICLES
            }
            links_set = sum(self._related(spec, articles=articles) for spec in demo.ARTICLES)
            editor_created = self._editor()
        self._summary(articles, links_set=links_set, editor_created=editor_created, now=now)

    # Rows

    def _topic(self, spec: demo.DemoTopic) -> Topic:
        # Topics are shared with editors' own stories: reuse one an editor already made
        # under another slug, and keep a name or description an editor has changed.
        topic = (
            Topic.objects.filter(slug=spec.slug).first()
            or Topic.objects.filter(name=spec.name).first()
            or Topic(slug=spec.slug, name=spec.name)
        )
        topic.description = topic.description or spec.description
        return self._save_if_changed(topic, ("name", "description"))

    def _author(self, spec: demo.DemoAuthor) -> Author:
        author = Author.objects.filter(slug=spec.slug).first() or Author(slug=spec.slug)
        author.name = spec.name
        author.bio = spec.bio
        return self._save_if_changed(author, ("name", "bio"))

    def _article(self, spec: demo.DemoArticle, *, topics, authors, now) -> Article:
        article = Article.objects.filter(slug=spec.slug).first()
        created = article is None
        before = None if created else _values(article)
        status, publish_at = _publication(spec, article, now=now)
        if created:
            article = Article(slug=spec.slug)
        article.title = spec.title
        article.standfirst = spec.standfirst
        article.body = demo.render_body(spec.body)
        article.why_it_matters = spec.why_it_matters
        article.impact_score = spec.impact_score
        article.author = authors[spec.author]
        article.status = status
        article.publish_at = publish_at
        article.full_clean()  # sanitizes the body, exactly as an admin save would
        changed = created or _values(article) != before
        if changed:
            if not created:
                # An editor with the old version open in the admin must not save over this.
                article.version += 1
            article.save()
        wanted_topics = {topics[slug].pk for slug in spec.topics}
        if created or set(article.topics.values_list("pk", flat=True)) != wanted_topics:
            article.topics.set(wanted_topics)
            changed = True
        self._count(created=created, changed=changed)
        return article

    def _related(self, spec: demo.DemoArticle, *, articles) -> bool:
        """Make the article's cards exactly the demo's list, in order. True when rewritten."""
        article = articles[spec.slug]
        wanted = [
            (
                articles[link.article].pk if link.article else None,
                link.url,
                link.title,
                link.summary,
            )
            for link in spec.related
        ]
        existing = list(
            article.related_links.order_by("position", "id").values_list(
                "target_article_id", "url", "title", "summary", "position"
            )
        )
        if [row[:4] for row in existing] == wanted and [row[4] for row in existing] == list(
            range(len(wanted))
        ):
            return False
        article.related_links.all().delete()
        for position, (target_id, url, title, summary) in enumerate(wanted):
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
        return True

    def _editor(self) -> bool:
        """Ensure the demo editor exists, is staff and an Editor. True when just created.

        The password is set only on creation, so a password someone changed survives
        restarts. The group normally comes from a migration that also grants its
        permissions; get_or_create keeps the command working without it.
        """
        user_model = get_user_model()
        user = user_model.objects.filter(username=demo.EDITOR_USERNAME).first()
        created = user is None
        if created:
            user = user_model(username=demo.EDITOR_USERNAME)
            user.set_password(demo.EDITOR_PASSWORD)
        if created or not (user.is_staff and user.is_active):
            user.is_staff = True
            user.is_active = True
            user.save()
        group, _ = Group.objects.get_or_create(name=demo.EDITORS_GROUP)
        user.groups.add(group)
        return created

    def _save_if_changed(self, obj, fields):
        created = obj.pk is None
        before = None if created else type(obj).objects.values(*fields).get(pk=obj.pk)
        obj.full_clean()
        changed = created or {name: getattr(obj, name) for name in fields} != before
        if changed:
            obj.save()
        self._count(created=created, changed=changed)
        return obj

    def _count(self, *, created, changed):
        key = "created" if created else "updated" if changed else "unchanged"
        self.counts[key] += 1

    # Output

    def _summary(self, articles, *, links_set, editor_created, now):
        states = {"published": 0, "scheduled": 0, "draft": 0}
        for article in articles.values():
            if article.status == Article.Status.DRAFT:
                states["draft"] += 1
            elif article.publish_at > now:
                states["scheduled"] += 1
            else:
                states["published"] += 1
        counts = self.counts
        self.stdout.write(
            f"Demo content: {len(demo.TOPICS)} topics, {len(demo.AUTHORS)} authors, "
            f"{len(articles)} articles ({states['published']} published, "
            f"{states['scheduled']} scheduled, {states['draft']} drafts)."
        )
        self.stdout.write(
            f"Rows: {counts['created']} created, {counts['updated']} updated, "
            f"{counts['unchanged']} unchanged; related cards rewritten on {links_set} articles."
        )
        lead = articles[demo.EU_AI_SLUG]
        self.stdout.write(f"Lead story: {settings.SITE_URL}{lead.get_absolute_url()}")
        password = demo.EDITOR_PASSWORD
        if not editor_created:
            password += " (set when the account was created; unchanged if someone changed it)"
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo editor login: {settings.SITE_URL}{reverse('admin:index')} "
                f"user {demo.EDITOR_USERNAME} / password {password}"
            )
        )


def _values(article: Article) -> dict:
    return {name: getattr(article, name) for name in ARTICLE_FIELDS}


def _publication(spec: demo.DemoArticle, existing: Article | None, *, now):
    """The status and publish time the demo article should have.

    A publish time is chosen relative to now when the article is first loaded and
    kept afterwards, so restarts do not reshuffle the front page. It is chosen
    again only when the article's state no longer matches the demo: above all
    when the scheduled story's time has come, so editors always see one.
    """
    if spec.state == "draft":
        return Article.Status.DRAFT, None
    future = spec.state == "scheduled"
    if (
        existing is not None
        and existing.status == Article.Status.PUBLISHED
        and existing.publish_at is not None
        and (existing.publish_at > now) == future
    ):
        return Article.Status.PUBLISHED, existing.publish_at
    offset = timedelta(hours=spec.hours)
    return Article.Status.PUBLISHED, (now + offset if future else now - offset)
