import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from reversion.models import Version

from articles import services
from articles.models import Article
from tests.factories import (
    ArticleFactory,
    ChiefEditorFactory,
    EditorFactory,
    RelatedLinkFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def test_publish_now_makes_a_draft_live_and_records_a_revision():
    user = ChiefEditorFactory()
    draft = ArticleFactory(status="draft", publish_at=None)

    article = services.article_publish_now(article=draft, user=user)

    assert article.is_published()
    assert article.publish_at <= timezone.now()
    assert article.version == 2
    version = Version.objects.get_for_object(article).get()
    assert version.revision.user == user
    assert version.revision.comment == "Published now."


def test_publish_now_brings_a_scheduled_article_forward():
    scheduled = ArticleFactory(publish_at=timezone.now() + datetime.timedelta(days=2))

    article = services.article_publish_now(article=scheduled, user=None)

    assert Article.objects.published().filter(pk=article.pk).exists()


def test_withdraw_keeps_the_links_pointing_here():
    target = ArticleFactory()
    link = RelatedLinkFactory(target_article=target)

    article = services.article_withdraw(article=target, user=UserFactory())

    assert article.status == Article.Status.WITHDRAWN
    assert article.version == 2
    assert Version.objects.get_for_object(article).get().revision.comment == "Withdrawn."
    assert list(services.article_linkers(article=article)) == [link.article]
    assert link.__class__.objects.filter(pk=link.pk).exists()


def test_services_write_the_row_as_it_is_now_not_a_stale_copy():
    stale = ArticleFactory(title="Old headline")
    Article.objects.filter(pk=stale.pk).update(title="New headline", version=7)

    article = services.article_withdraw(article=stale, user=None)

    assert article.title == "New headline"
    assert article.version == 8


def test_an_invalid_article_is_not_published():
    article = ArticleFactory(status="draft", hero_image="articles/x.jpg", hero_image_alt="")

    with pytest.raises(ValidationError):
        services.article_publish_now(article=article, user=None)

    article.refresh_from_db()
    assert article.status == Article.Status.DRAFT
    assert article.version == 1


def test_linkers_lists_each_linking_article_once():
    target = ArticleFactory()
    linker = ArticleFactory()
    RelatedLinkFactory(article=linker, target_article=target)
    RelatedLinkFactory(target_article=target)

    assert services.article_linkers(article=target).count() == 2
    assert linker in services.article_linkers(article=target)


def test_a_save_on_the_opened_version_is_saved_as_the_next_version():
    article = ArticleFactory()
    article.title = "New headline"

    saved = services.article_save(article=article, opened_version=1, user=None)

    assert saved.version == 2
    article.refresh_from_db()
    assert (article.title, article.version) == ("New headline", 2)


def test_a_new_article_has_nothing_to_conflict_with():
    article = ArticleFactory.build(slug="brand-new", author=None)

    services.article_save(article=article, opened_version=None, user=None)

    assert Article.objects.get(slug="brand-new").version == 1


@pytest.mark.parametrize("opened_version", [None, 1])
def test_a_save_after_someone_elses_is_refused_naming_who_saved_and_when(opened_version):
    user = UserFactory(username="alice")
    opened = ArticleFactory(title="Original")  # the editor's copy, at version 1
    services.article_withdraw(article=opened, user=user)
    opened.title = "Overwrite"

    with pytest.raises(services.EditConflict) as excinfo:
        services.article_save(article=opened, opened_version=opened_version, user=None)

    row = Article.objects.get(pk=opened.pk)
    assert excinfo.value.saved_by == "alice"
    assert excinfo.value.saved_at == row.updated_at
    assert (row.title, row.version) == ("Original", 2), "nothing was written"


def test_the_forms_check_reads_the_article_as_it_was_loaded():
    user = UserFactory(username="alice")
    article = ArticleFactory()
    services.article_check_edit(article=article, opened_version=1)
    services.article_withdraw(article=article, user=user)
    loaded = Article.objects.get(pk=article.pk)

    with pytest.raises(services.EditConflict) as excinfo:
        services.article_check_edit(article=loaded, opened_version=1)

    assert (excinfo.value.saved_by, excinfo.value.saved_at) == ("alice", loaded.updated_at)
    services.article_check_edit(article=loaded, opened_version=2)


# Who may publish


@pytest.mark.parametrize(
    ("who", "review_required", "may_publish"),
    [
        ("editor", True, False),
        ("chief editor", True, True),
        ("superuser", True, True),
        ("inactive chief editor", True, False),
        ("nobody", True, False),
        ("editor", False, True),
        ("user without article rights", False, False),
    ],
)
def test_can_publish(settings, who, review_required, may_publish):
    settings.ARTICLE_REVIEW_REQUIRED = review_required
    user = {
        "editor": lambda: EditorFactory(),
        "chief editor": lambda: ChiefEditorFactory(),
        "superuser": lambda: UserFactory(is_staff=True, is_superuser=True),
        "inactive chief editor": lambda: ChiefEditorFactory(is_active=False),
        "nobody": lambda: None,
        "user without article rights": lambda: UserFactory(is_staff=True),
    }[who]()

    assert services.can_publish(user) is may_publish


HOUR = datetime.timedelta(hours=1)
T = datetime.datetime(2026, 3, 2, 12, 0, tzinfo=datetime.UTC)


@pytest.mark.parametrize(
    ("before", "after", "field"),
    [
        pytest.param(None, ("draft", None, None), None, id="new-draft"),
        pytest.param(None, ("published", T, None), "status", id="new-published"),
        pytest.param(("draft", None, None), ("published", T + HOUR, None), "status", id="schedule"),
        pytest.param(("withdrawn", T, None), ("published", T, None), "status", id="republish"),
        pytest.param(
            ("published", T, None), ("published", T - HOUR, None), "publish_at", id="re-date"
        ),
        pytest.param(
            ("published", T, None),
            ("published", T.replace(microsecond=0), None),
            None,
            id="same-time-to-the-second",
        ),
        pytest.param(("published", T, None), ("published", T, None), None, id="text-edit"),
        pytest.param(("published", T, None), ("withdrawn", T, None), None, id="withdraw"),
        pytest.param(
            ("published", T, None), ("published", T, T + 3 * HOUR), None, id="set-take-down"
        ),
        pytest.param(
            ("published", T - 2 * HOUR, T - HOUR),
            ("published", T - 2 * HOUR, None),
            "unpublish_at",
            id="bring-back-after-take-down",
        ),
    ],
)
def test_what_counts_as_publishing(before, after, field):
    found = services.publishing_field(
        before=services.Schedule(*before) if before else None,
        after=services.Schedule(*after),
        at=T + datetime.timedelta(minutes=1),
    )

    assert found == field


def test_an_editor_cannot_publish_now_and_nothing_changes():
    draft = ArticleFactory(status="draft", publish_at=None)

    with pytest.raises(ValidationError) as excinfo:
        services.article_publish_now(article=draft, user=EditorFactory())

    assert "Only chief editors" in excinfo.value.messages[0]
    draft.refresh_from_db()
    assert (draft.status, draft.version) == (Article.Status.DRAFT, 1)


def test_saving_a_publishing_change_needs_the_right_but_a_text_edit_does_not():
    editor = EditorFactory()
    live = ArticleFactory(title="Old")
    live.title = "Typo fixed"
    services.article_save(article=live, opened_version=1, user=editor)

    live.publish_at = timezone.now() + datetime.timedelta(days=1)
    with pytest.raises(ValidationError) as excinfo:
        services.article_save(article=live, opened_version=2, user=editor)

    assert "publish_at" in excinfo.value.message_dict
    live.refresh_from_db()
    assert (live.title, live.version, live.is_published()) == ("Typo fixed", 2, True)


def test_publish_now_brings_back_a_story_past_its_take_down_time():
    now = timezone.now()
    story = ArticleFactory(publish_at=now - 2 * HOUR, unpublish_at=now - HOUR)

    article = services.article_publish_now(article=story, user=ChiefEditorFactory())

    assert article.is_published()
    assert article.unpublish_at is None


# The review step


def test_asking_for_review_records_who_and_when_until_the_story_is_published():
    editor = EditorFactory(username="ana")
    draft = ArticleFactory(status="draft", publish_at=None)

    asked = services.article_request_review(article=draft, user=editor)

    assert list(Article.objects.ready_for_review()) == [asked]
    assert asked.review_requested_by == editor
    assert timezone.now() - asked.review_requested_at < datetime.timedelta(seconds=5)
    assert Version.objects.get_for_object(asked).first().revision.comment == "Asked for review."

    published = services.article_publish_now(article=asked, user=ChiefEditorFactory())

    assert published.review_requested_at is None
    assert published.review_requested_by is None
    assert not Article.objects.ready_for_review().exists()


@pytest.mark.parametrize("publish_at", [-HOUR, HOUR], ids=["live", "scheduled"])
def test_a_live_or_scheduled_story_cannot_be_asked_for_review(publish_at):
    story = ArticleFactory(publish_at=timezone.now() + publish_at)

    with pytest.raises(ValidationError, match="already published or scheduled"):
        services.article_request_review(article=story, user=EditorFactory())

    story.refresh_from_db()
    assert (story.review_requested_at, story.version) == (None, 1)
