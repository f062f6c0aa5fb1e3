import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from reversion.models import Version

from articles import services
from articles.models import Article, Correction, Redirect
from tests.factories import ArticleFactory, RelatedLinkFactory, TopicFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_publish_now_makes_a_draft_live_and_records_a_revision():
    user = UserFactory()
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
    user = UserFactory()
    story = ArticleFactory(status=status, publish_at=timezone.now() - datetime.timedelta(days=3))

    article = services.article_redate(article=story, user=user)

    assert article.is_published()
    assert timezone.now() - article.publish_at < datetime.timedelta(seconds=5)
    assert article.version == 2
    version = Version.objects.get_for_object(article).get()
    assert (version.revision.user, version.revision.comment) == (user, "Re-dated to now.")


# Corrections


def test_a_correction_is_a_new_version_whose_revision_holds_it():
    user = UserFactory()
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
    newcomer = ArticleFactory.build(slug="a", author=None)

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
