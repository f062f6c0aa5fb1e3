import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from reversion.models import Version

from articles import services
from articles.models import Article
from tests.factories import ArticleFactory, RelatedLinkFactory, UserFactory

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
