import factory
from django.utils import timezone

from articles.models import Article, Author, RelatedLink, Topic


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
    """A published, public article unless told otherwise."""

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
    author = factory.SubFactory(AuthorFactory)

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


def editors_group():
    """The Editors group, as the data migrations make it.

    A transactional test (live server, worker process) empties every table when
    it ends, rows written by data migrations included. When the group is gone
    (or was made again bare, e.g. by ``load_demo``), run the same migration code
    instead of keeping a hand-written copy of its permissions here.
    """
    import importlib
    from types import SimpleNamespace

    from django.contrib.auth.models import Group
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    group = Group.objects.filter(name="Editors").first()
    if group is not None and group.permissions.exists():
        return group
    state = MigrationExecutor(connection).loader.project_state()
    schema_editor = SimpleNamespace(connection=connection)
    importlib.import_module("articles.migrations.0002_editors_group").create_editors_group(
        state.apps, schema_editor
    )
    importlib.import_module(
        "contact.migrations.0002_editors_contact_permissions"
    ).grant_contact_permissions(state.apps, schema_editor)
    return Group.objects.get(name="Editors")


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
