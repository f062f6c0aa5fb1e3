import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from reversion.models import Version

from articles import selectors, services
from articles.models import Article, Correction, Redirect
from tests.factories import (
    ArticleFactory,
    ChiefEditorFactory,
    EditorFactory,
    RelatedLinkFactory,
    TopicFactory,
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
    article = ArticleFactory.build(slug="brand-new")

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


def test_saving_a_publishing_change_needs_the_right():
    editor = EditorFactory()
    draft = ArticleFactory(status="draft", publish_at=None, title="Old")
    draft.title = "Typo fixed"
    services.article_save(article=draft, opened_version=1, user=editor)

    draft.status = Article.Status.PUBLISHED
    draft.publish_at = timezone.now() - HOUR
    with pytest.raises(ValidationError) as excinfo:
        services.article_save(article=draft, opened_version=2, user=editor)

    assert "status" in excinfo.value.message_dict
    draft.refresh_from_db()
    assert (draft.title, draft.version, draft.status) == ("Typo fixed", 2, Article.Status.DRAFT)


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


@pytest.mark.parametrize(
    ("publish_at", "message"),
    [(-HOUR, "It is live and has no draft of changes"), (HOUR, "already scheduled")],
    ids=["live-without-draft", "scheduled"],
)
def test_a_scheduled_story_or_a_live_one_without_a_draft_cannot_be_asked_for_review(
    publish_at, message
):
    story = ArticleFactory(publish_at=timezone.now() + publish_at)

    with pytest.raises(ValidationError, match=message):
        services.article_request_review(article=story, user=EditorFactory())

    story.refresh_from_db()
    assert (story.review_requested_at, story.version) == (None, 1)


# What readers see of a live story: only those who may publish change it


@pytest.mark.parametrize(
    "change",
    [
        {"title": "Mayor quits"},
        {"body": "<p>A new paragraph.</p>"},
        {"impact_score": 99},
        {"slug": "mayor-quits"},
        {"hero_image_alt": "A new caption"},
    ],
    ids=["title", "body", "impact-score", "slug", "image-alt"],
)
def test_an_editor_cannot_save_a_change_readers_would_see_of_a_live_story(change):
    live = ArticleFactory(title="Mayor resigns", slug="mayor")

    with pytest.raises(ValidationError, match="Readers would see this change at once"):
        services.article_save(
            article=draft_of(live, **change), opened_version=1, user=EditorFactory()
        )

    live.refresh_from_db()
    assert (live.title, live.slug, live.version) == ("Mayor resigns", "mayor", 1)


@pytest.mark.parametrize(
    "change",
    [
        {"status": Article.Status.WITHDRAWN, "title": "Withdrawn, retitled"},
        {"unpublish_at": timezone.now() + HOUR},
        {},
    ],
    ids=["withdrawn", "take-down-time-set", "unchanged"],
)
def test_an_editor_may_save_what_does_not_change_a_live_story_for_readers(change):
    live = ArticleFactory(title="Mayor resigns")

    services.article_save(article=draft_of(live, **change), opened_version=1, user=EditorFactory())

    assert Article.objects.get(pk=live.pk).version == 2


@pytest.mark.parametrize(
    ("make_user", "review_required"),
    [(ChiefEditorFactory, True), (EditorFactory, False)],
    ids=["chief-editor", "editor-with-review-off"],
)
def test_who_may_publish_saves_a_live_storys_text_at_once(make_user, review_required, settings):
    settings.ARTICLE_REVIEW_REQUIRED = review_required
    live = ArticleFactory(title="Mayor resigns")

    services.article_save(
        article=draft_of(live, title="Mayor quits"), opened_version=1, user=make_user()
    )

    assert Article.objects.get(pk=live.pk).title == "Mayor quits"


def test_changes_what_readers_see_counts_topics_and_rows_only_while_live():
    politics = TopicFactory()
    live = ArticleFactory(topics=[politics])
    draft = ArticleFactory(status="draft", publish_at=None)

    assert not services.changes_what_readers_see(live=live, edited=live, topics=[politics])
    assert services.changes_what_readers_see(live=live, edited=live, topics=[TopicFactory()])
    assert services.changes_what_readers_see(live=live, edited=live, rows_changed=True)
    assert not services.changes_what_readers_see(live=draft, edited=draft, rows_changed=True)
    assert not services.changes_what_readers_see(live=None, edited=live)


def test_an_editor_cannot_publish_a_draft_of_changes_but_a_chief_editor_can():
    live = ArticleFactory(title="Live headline")
    services.article_save_pending(
        article=draft_of(live, title="Draft headline"), topics=[], opened_version=1, user=None
    )

    with pytest.raises(ValidationError, match="Readers would see this change at once"):
        services.article_publish_pending(article=live, user=EditorFactory())
    assert Article.objects.get(pk=live.pk).title == "Live headline"
    assert selectors.pending_edit(article_id=live.pk) is not None

    services.article_publish_pending(article=live, user=ChiefEditorFactory())
    assert Article.objects.get(pk=live.pk).title == "Draft headline"


def test_an_editor_adds_corrections_to_drafts_and_a_chief_editor_to_live_stories():
    live = ArticleFactory()
    draft = ArticleFactory(status="draft", publish_at=None)

    with pytest.raises(ValidationError, match="Readers would see this change at once"):
        services.correction_add(article=live, text="Wrong vote count.", user=EditorFactory())
    services.correction_add(article=draft, text="Noted before publishing.", user=EditorFactory())
    services.correction_add(article=live, text="Wrong vote count.", user=ChiefEditorFactory())

    assert [c.text for c in live.corrections.all()] == ["Wrong vote count."]
    assert [c.text for c in draft.corrections.all()] == ["Noted before publishing."]


def test_a_live_storys_draft_of_changes_waits_for_review_until_it_is_published():
    editor = EditorFactory(username="ana")
    live = ArticleFactory(title="Live headline")
    services.article_save_pending(
        article=draft_of(live, title="Draft headline"),
        topics=[],
        opened_version=1,
        user=editor,
        ask_for_review=True,
    )

    asked = Article.objects.get(pk=live.pk)
    assert (asked.review_requested_by, asked.title, asked.version) == (editor, "Live headline", 2)
    assert list(Article.objects.ready_for_review()) == [asked]
    assert "asked for review" in Version.objects.get_for_object(live).first().revision.comment
    # A chief editor's other work on the live story leaves the request in place.
    services.correction_add(article=live, text="A name was misspelt.", user=ChiefEditorFactory())
    assert Article.objects.ready_for_review().exists()

    services.article_publish_pending(article=live, user=ChiefEditorFactory())

    published = Article.objects.get(pk=live.pk)
    assert (published.title, published.review_requested_at) == ("Draft headline", None)
    assert not Article.objects.ready_for_review().exists()


def test_asking_for_review_of_a_live_story_with_a_draft_then_discarding_it():
    live = ArticleFactory(title="Live headline")
    services.article_save_pending(
        article=draft_of(live, title="Draft headline"), topics=[], opened_version=1, user=None
    )

    asked = services.article_request_review(article=live, user=EditorFactory())
    assert Article.objects.get(pk=live.pk).review_requested_at == asked.review_requested_at

    services.article_discard_pending(article=live, opened_version=3, user=None)

    assert not Article.objects.ready_for_review().exists()
    assert Article.objects.get(pk=live.pk).title == "Live headline"


# Drafts of changes to a live story


def draft_of(article: Article, **changes) -> Article:
    """The editor's version of ``article`` as the change form would hand it over."""
    edited = Article.objects.get(pk=article.pk)
    for name, value in changes.items():
        setattr(edited, name, value)
    return edited


def test_a_draft_of_changes_leaves_the_live_story_as_it_was():
    politics, sport = TopicFactory(name="Politics"), TopicFactory(name="Sport")
    live = ArticleFactory(title="Live headline", topics=[politics])
    before = Article.objects.filter(pk=live.pk).values().get()
    user = UserFactory(username="alice")

    pending = services.article_save_pending(
        article=draft_of(live, title="Draft headline", body="<p>Draft body</p>"),
        topics=[sport],
        opened_version=1,
        user=user,
    )

    after = Article.objects.filter(pk=live.pk).values().get()
    assert {**after, "version": None} == {**before, "version": None}, "the live row is untouched"
    assert after["version"] == 2, "a draft of changes counts a version"
    assert list(live.topics.all()) == [politics]
    assert (pending.title, pending.body, pending.saved_by) == (
        "Draft headline",
        "<p>Draft body</p>",
        user,
    )
    assert list(pending.topics.all()) == [sport]
    assert selectors.pending_edit(article_id=live.pk) == pending


def test_a_draft_of_changes_is_a_version_in_the_history_with_the_drafts_text():
    live = ArticleFactory(title="Live headline")
    sport = TopicFactory(name="Sport")

    services.article_save_pending(
        article=draft_of(live, title="Draft headline"),
        topics=[sport],
        opened_version=1,
        user=UserFactory(username="alice"),
    )

    version = Version.objects.get_for_object(live).get()
    assert version.revision.comment == "Draft of changes saved (not published)."
    assert version.revision.user.username == "alice"
    assert version.field_dict["title"] == "Draft headline"
    assert version.field_dict["topics"] == [sport.pk]


def test_a_second_editors_draft_based_on_an_older_version_is_refused():
    live = ArticleFactory(title="Live headline")
    services.article_save_pending(
        article=draft_of(live, title="Alice's draft"),
        topics=[],
        opened_version=1,
        user=UserFactory(username="alice"),
    )

    with pytest.raises(services.EditConflict) as excinfo:
        services.article_save_pending(
            article=draft_of(live, title="Bob's draft"), topics=[], opened_version=1, user=None
        )

    pending = selectors.pending_edit(article_id=live.pk)
    assert excinfo.value.saved_by == "alice"
    assert excinfo.value.saved_at == pending.saved_at
    assert pending.title == "Alice's draft"


def test_a_live_save_from_a_form_opened_before_a_draft_was_saved_is_refused():
    live = ArticleFactory(title="Live headline")
    services.article_save_pending(
        article=draft_of(live, title="Alice's draft"),
        topics=[],
        opened_version=1,
        user=UserFactory(username="alice"),
    )

    with pytest.raises(services.EditConflict):
        services.article_save(article=draft_of(live, title="Bob"), opened_version=1, user=None)

    assert Article.objects.get(pk=live.pk).title == "Live headline"
    assert selectors.pending_edit(article_id=live.pk).title == "Alice's draft"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"slug": "another-address"}, "slug"),
        ({"status": "withdrawn"}, "status"),
        ({"hero_image_alt": "A new description"}, "hero_image_alt"),
    ],
)
def test_a_draft_of_changes_does_not_take_what_only_the_live_story_has(change, field):
    live = ArticleFactory()

    with pytest.raises(ValidationError) as excinfo:
        services.article_save_pending(
            article=draft_of(live, **change), topics=[], opened_version=1, user=None
        )

    assert field in excinfo.value.message_dict
    assert "is not part of a draft of changes" in excinfo.value.message_dict[field][0]
    assert selectors.pending_edit(article_id=live.pk) is None
    assert Article.objects.get(pk=live.pk).version == 1


def test_only_a_live_story_keeps_a_draft_of_changes():
    draft = ArticleFactory(status="draft", publish_at=None)

    with pytest.raises(ValidationError, match="Only a live story keeps a draft of changes"):
        services.article_save_pending(
            article=draft_of(draft, title="x"), topics=[], opened_version=1, user=None
        )


def test_publishing_the_draft_of_changes_makes_its_text_and_topics_live():
    politics, sport = TopicFactory(name="Politics"), TopicFactory(name="Sport")
    live = ArticleFactory(title="Live headline", topics=[politics])
    services.article_save_pending(
        article=draft_of(live, title="Draft headline", impact_score=90),
        topics=[sport],
        opened_version=1,
        user=None,
    )

    published = services.article_publish_pending(article=live, user=ChiefEditorFactory())

    live.refresh_from_db()
    assert (live.title, live.impact_score, live.version) == ("Draft headline", 90, 3)
    assert list(live.topics.all()) == [sport]
    assert published.is_published()
    assert selectors.pending_edit(article_id=live.pk) is None
    latest = Version.objects.get_for_object(live).first()
    assert latest.revision.comment == "Published the draft of changes."
    assert latest.field_dict["topics"] == [sport.pk]


def test_publishing_without_a_draft_of_changes_is_refused():
    with pytest.raises(ValidationError, match="has no unpublished changes"):
        services.article_publish_pending(article=ArticleFactory(), user=None)


def test_a_save_of_the_form_that_showed_the_draft_publishes_it():
    live = ArticleFactory(title="Live headline")
    services.article_save_pending(
        article=draft_of(live, title="Draft headline"), topics=[], opened_version=1, user=None
    )

    services.article_save(
        article=draft_of(live, title="Draft headline, polished"), opened_version=2, user=None
    )

    assert Article.objects.get(pk=live.pk).title == "Draft headline, polished"
    assert selectors.pending_edit(article_id=live.pk) is None


def test_discarding_the_draft_of_changes_keeps_the_live_story_and_counts_a_version():
    live = ArticleFactory(title="Live headline")
    services.article_save_pending(
        article=draft_of(live, title="Draft headline"), topics=[], opened_version=1, user=None
    )

    with pytest.raises(services.EditConflict):
        services.article_discard_pending(article=live, opened_version=1, user=None)
    assert services.article_discard_pending(article=live, opened_version=2, user=None)

    live.refresh_from_db()
    assert (live.title, live.version) == ("Live headline", 3)
    assert selectors.pending_edit(article_id=live.pk) is None
    latest = Version.objects.get_for_object(live).first()
    assert latest.field_dict["title"] == "Live headline"
    assert not services.article_discard_pending(article=live, opened_version=3, user=None)


def test_withdrawing_acts_on_the_live_story_and_keeps_the_draft_of_changes():
    live = ArticleFactory(title="Live headline")
    services.article_save_pending(
        article=draft_of(live, title="Draft headline"), topics=[], opened_version=1, user=None
    )

    services.article_withdraw(article=live, user=None)

    live.refresh_from_db()
    assert (live.status, live.title) == (Article.Status.WITHDRAWN, "Live headline")
    assert selectors.pending_edit(article_id=live.pk).title == "Draft headline"


def test_revoking_share_links_raises_the_generation_links_must_name():
    article = ArticleFactory()
    assert selectors.share_generation(article_id=article.pk) == 0

    services.article_revoke_share_links(article=article)
    services.article_revoke_share_links(article=article)

    assert selectors.share_generation(article_id=article.pk) == 2


# Publishing a withdrawn story again


def test_publish_now_gives_a_withdrawn_story_back_its_original_publish_time():
    published_at = timezone.now() - datetime.timedelta(days=3)
    story = ArticleFactory(publish_at=published_at)
    services.article_withdraw(article=story, user=None)

    article = services.article_publish_now(article=story, user=None)

    assert article.is_published()
    assert article.publish_at == published_at
    article.refresh_from_db()
    assert article.publish_at == published_at


def test_publish_now_leaves_a_live_story_where_it_is():
    published_at = timezone.now() - datetime.timedelta(hours=5)
    story = ArticleFactory(publish_at=published_at)

    assert services.article_publish_now(article=story, user=None).publish_at == published_at


def test_publish_now_dates_a_draft_with_a_time_in_its_form_now():
    draft = ArticleFactory(status="draft", publish_at=timezone.now() - datetime.timedelta(days=9))

    article = services.article_publish_now(article=draft, user=None)

    assert timezone.now() - article.publish_at < datetime.timedelta(seconds=5)


def test_a_withdrawn_story_that_never_reached_its_time_goes_live_now():
    story = ArticleFactory(publish_at=timezone.now() + datetime.timedelta(days=1))
    services.article_withdraw(article=story, user=None)

    article = services.article_publish_now(article=story, user=None)

    assert article.is_published()
    assert timezone.now() - article.publish_at < datetime.timedelta(seconds=5)


@pytest.mark.parametrize("status", ["published", "withdrawn", "draft"])
def test_redate_publishes_with_now_as_the_publish_time_and_says_so(status):
    user = ChiefEditorFactory()
    story = ArticleFactory(status=status, publish_at=timezone.now() - datetime.timedelta(days=3))

    article = services.article_redate(article=story, user=user)

    assert article.is_published()
    assert timezone.now() - article.publish_at < datetime.timedelta(seconds=5)
    assert article.version == 2
    version = Version.objects.get_for_object(article).get()
    assert (version.revision.user, version.revision.comment) == (user, "Re-dated to now.")


def test_an_editor_cannot_redate_and_nothing_changes():
    story = ArticleFactory(publish_at=timezone.now() - datetime.timedelta(days=3))

    with pytest.raises(ValidationError, match="Only chief editors"):
        services.article_redate(article=story, user=EditorFactory())

    assert Article.objects.get(pk=story.pk).publish_at == story.publish_at


# Corrections


def test_a_correction_is_a_new_version_whose_revision_holds_it():
    user = ChiefEditorFactory()
    story = ArticleFactory()
    at = timezone.now() - datetime.timedelta(minutes=5)

    correction = services.correction_add(
        article=story, text="The vote was 31 to 24.", posted_at=at, user=user
    )

    story.refresh_from_db()
    assert story.latest_correction_at == at
    assert story.version == 2
    revision = Version.objects.get_for_object(story).get().revision
    assert (revision.user, revision.comment) == (user, "Correction added.")
    assert revision.version_set.filter(object_id=str(correction.pk)).exists()


def test_the_latest_correction_is_noted_whichever_order_they_were_written_in():
    story = ArticleFactory()
    now = timezone.now()
    services.correction_add(article=story, text="Later one.", posted_at=now, user=None)
    services.correction_add(
        article=story,
        text="Earlier one.",
        kind=Correction.Kind.UPDATE,
        posted_at=now - datetime.timedelta(hours=1),
        user=None,
    )
    story.refresh_from_db()
    assert story.latest_correction_at == now

    Correction.objects.filter(posted_at=now).delete()
    services.article_refresh_corrections(article=story)
    story.refresh_from_db()
    assert story.latest_correction_at == now - datetime.timedelta(hours=1)


@pytest.mark.parametrize(
    ("text", "posted_at", "field"),
    [
        ("   ", None, "text"),
        ("A typo.", timezone.now() + datetime.timedelta(days=1), "posted_at"),
    ],
)
def test_a_blank_or_future_correction_is_refused(text, posted_at, field):
    story = ArticleFactory()

    with pytest.raises(ValidationError) as excinfo:
        services.correction_add(article=story, text=text, posted_at=posted_at, user=None)

    assert field in excinfo.value.message_dict
    assert not Correction.objects.exists()


# Addresses


def rename(article: Article, slug: str, **kwargs) -> Article:
    article.refresh_from_db()
    article.slug = slug
    return services.article_save(
        article=article, opened_version=article.version, user=None, **kwargs
    )


def old_addresses(owner) -> list[str]:
    return sorted(owner.redirects.values_list("old_slug", flat=True))


def test_renaming_a_live_story_keeps_its_old_address_leading_to_it():
    story = ArticleFactory(slug="a")

    rename(story, "b")

    redirect = Redirect.objects.get()
    assert (redirect.kind, redirect.old_slug, redirect.article) == ("article", "a", story)


@pytest.mark.parametrize("status", ["draft", "scheduled", "withdrawn"])
def test_renaming_a_story_that_is_not_live_keeps_no_old_address(status):
    story = ArticleFactory(
        slug="a",
        status="published" if status == "scheduled" else status,
        publish_at=timezone.now() + datetime.timedelta(days=1),
    )

    rename(story, "b")

    assert not Redirect.objects.exists()


def test_renaming_back_drops_the_redirect_of_the_address_that_is_live_again():
    story = ArticleFactory(slug="a")
    rename(story, "b")
    rename(story, "c")
    assert old_addresses(story) == ["a", "b"]

    rename(story, "a")

    assert old_addresses(story) == ["b", "c"]


def test_a_slug_another_storys_redirect_uses_needs_taking_over():
    moved = ArticleFactory(slug="a")
    rename(moved, "b")
    newcomer = ArticleFactory.build(slug="a")

    with pytest.raises(services.AddressTaken) as excinfo:
        services.article_save(article=newcomer, opened_version=None, user=None)
    assert excinfo.value.redirect.article == moved
    assert not Article.objects.filter(slug="a").exists()

    services.article_save(article=newcomer, opened_version=None, user=None, take_over_address=True)
    assert Article.objects.get(slug="a") == newcomer
    assert not Redirect.objects.exists()


def test_a_renamed_topic_keeps_its_old_address_and_a_new_one_must_take_it_over():
    topic = TopicFactory(slug="sport", name="Sport")
    topic.slug = "sports"
    services.topic_save(topic=topic)
    assert old_addresses(topic) == ["sport"]

    other = TopicFactory.build(slug="sport", name="Sport again")
    with pytest.raises(services.AddressTaken):
        services.topic_save(topic=other)
    services.topic_save(topic=other, take_over_address=True)

    assert old_addresses(topic) == []
