import factory
from django.utils import timezone

from articles.models import Article, ArticleAuthor, Author, RelatedLink, Topic


class TopicFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Topic
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Topic {n}")
    slug = factory.Sequence(lambda n: f"topic-{n}")
    description = "Stories about this topic."


class AuthorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Author

    name = factory.Sequence(lambda n: f"Reporter {n}")
    slug = factory.Sequence(lambda n: f"reporter-{n}")


class ArticleFactory(factory.django.DjangoModelFactory):
    """A published, public article unless told otherwise.

    Its byline is one new author unless ``authors=[...]`` names them in order
    (``authors=[]``: none); ``authors__name="…"`` names the new one.
    """

    class Meta:
        model = Article
        skip_postgeneration_save = True

    title = factory.Sequence(lambda n: f"Story number {n}")
    slug = factory.Sequence(lambda n: f"story-{n}")
    standfirst = "A one-paragraph summary of the story."
    body = "<p>First paragraph of the story.</p><p>Second paragraph.</p>"
    why_it_matters = "Because it changes how readers live."
    impact_score = 50
    status = Article.Status.PUBLISHED
    publish_at = factory.LazyFunction(lambda: timezone.now() - timezone.timedelta(hours=1))

    @factory.post_generation
    def authors(self, create, extracted, **kwargs):
        if not create:
            return
        authors = [AuthorFactory(**kwargs)] if extracted is None else extracted
        for position, author in enumerate(authors, start=1):
            ArticleAuthor.objects.create(article=self, author=author, position=position)

    @factory.post_generation
    def topics(self, create, extracted, **kwargs):
        if create and extracted:
            self.topics.set(extracted)


class RelatedLinkFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RelatedLink

    article = factory.SubFactory(ArticleFactory)
    target_article = factory.SubFactory(ArticleFactory)
    position = factory.Sequence(lambda n: n)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "auth.User"
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@newsroom.test")
    password = factory.django.Password("correct horse battery staple")


class EditorFactory(UserFactory):
    """A staff user whose only rights come from the Editors group."""

    username = factory.Sequence(lambda n: f"editor{n}")
    is_staff = True

    @factory.post_generation
    def editors_group(self, create, extracted, **kwargs):
        if create:
            self.groups.add(editors_group())


class ChiefEditorFactory(EditorFactory):
    """An editor who may also publish: in the Editors and the Chief editors groups."""

    username = factory.Sequence(lambda n: f"chief{n}")

    @factory.post_generation
    def chief_editors_group(self, create, extracted, **kwargs):
        if create:
            self.groups.add(chief_editors_group())


# What the data migrations give the Editors group (articles 0002, 0004 and 0008, contact 0002), as
# "app_label.codename". tests/articles/test_editors_group.py and
# tests/contact/test_admin.py hold the migrated group to exactly these.
EDITORS_ARTICLE_PERMISSIONS = frozenset(
    f"articles.{action}_{model}"
    for model in (
        *("article", "relatedlink", "topic", "author", "correction", "redirect"),
        *("articleauthor", "picture"),
    )
    for action in ("add", "change", "delete", "view")
)
EDITORS_CONTACT_PERMISSIONS = frozenset(
    {
        "contact.view_message",
        "contact.change_message",
        "contact.view_verification",
        "contact.retry_delivery",
    }
)


def editors_group():
    """The Editors group, as the data migrations made it.

    A transactional test (live server, worker process) empties every table when it
    ends, rows written by data migrations included: Django makes the permissions
    again, not the group. When the group is gone, or was made again bare
    (``load_demo`` makes one when there is none), it gets its permissions here.
    """
    from django.contrib.auth.models import Group, Permission

    group, _ = Group.objects.get_or_create(name="Editors")
    if not group.permissions.exists():
        for name in sorted(EDITORS_ARTICLE_PERMISSIONS | EDITORS_CONTACT_PERMISSIONS):
            app_label, codename = name.split(".")
            group.permissions.add(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )
    return group


class VerificationFactory(factory.django.DjangoModelFactory):
    """A pending verification whose code mail went out."""

    class Meta:
        model = "contact.Verification"

    name = factory.Sequence(lambda n: f"Visitor {n}")
    email = factory.Sequence(lambda n: f"visitor{n}@example.com")
    code_nonce = factory.Faker("hexify", text="^" * 32)
    delivery_state = "sent"
    delivery_attempts = 1
    sent_at = factory.LazyFunction(timezone.now)


class MessageFactory(factory.django.DjangoModelFactory):
    """A new message whose editors' notification went out."""

    class Meta:
        model = "contact.Message"

    name = factory.Sequence(lambda n: f"Reader {n}")
    email = factory.Sequence(lambda n: f"reader{n}@example.com")
    subject = factory.Sequence(lambda n: f"A question about story {n}")
    body = "Hello newsroom,\nI have a question about your story."
    delivery_state = "sent"
    delivery_attempts = 1
    sent_at = factory.LazyFunction(timezone.now)


# What articles 0007 gives the Chief editors group: the right to publish, nothing else.
CHIEF_EDITORS_PERMISSIONS = frozenset({"articles.publish_article"})


def chief_editors_group():
    """The Chief editors group, as articles 0007 made it (see ``editors_group()``)."""
    from django.contrib.auth.models import Group, Permission

    group, _ = Group.objects.get_or_create(name="Chief editors")
    if not group.permissions.exists():
        group.permissions.add(
            Permission.objects.get(content_type__app_label="articles", codename="publish_article")
        )
    return group
