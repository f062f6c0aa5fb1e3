import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from articles.models import Article, RelatedLink
from tests.factories import ArticleFactory, RelatedLinkFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("score", [-1, 101, 1000])
def test_impact_score_outside_0_100_is_refused_by_validation(score):
    article = ArticleFactory.build(impact_score=score)
    with pytest.raises(ValidationError) as excinfo:
        article.full_clean()
    assert "impact_score" in excinfo.value.message_dict


def test_impact_score_outside_0_100_is_refused_by_the_database():
    article = ArticleFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Article.objects.filter(pk=article.pk).update(impact_score=101)


@pytest.mark.parametrize("score", [0, 68, 100])
def test_impact_score_bounds_are_accepted(score):
    ArticleFactory.build(impact_score=score).full_clean()


def test_published_without_publish_time_gets_now_on_clean():
    article = ArticleFactory.build(publish_at=None)
    article.full_clean()
    assert article.publish_at is not None
    assert article.publish_at <= timezone.now()


def test_hero_image_requires_alt_text():
    article = ArticleFactory.build(hero_image="articles/x.jpg", hero_image_alt=" ")
    with pytest.raises(ValidationError) as excinfo:
        article.full_clean()
    assert "hero_image_alt" in excinfo.value.message_dict


def test_seo_description_falls_back_to_standfirst():
    article = ArticleFactory.build(seo_description="", standfirst="The summary.")
    assert article.meta_description == "The summary."
    article.seo_description = "For search engines."
    assert article.meta_description == "For search engines."


def test_body_is_sanitized_on_full_clean():
    article = ArticleFactory.build(body='<p onclick="x()">Hi<script>alert(1)</script></p>')
    article.full_clean()
    assert article.body == "<p>Hi</p>"


def test_related_link_to_itself_is_refused():
    article = ArticleFactory()
    link = RelatedLink(article=article, target_article=article)
    with pytest.raises(ValidationError):
        link.full_clean()
    with pytest.raises(IntegrityError), transaction.atomic():
        link.save()


def test_related_link_duplicate_target_is_refused():
    link = RelatedLinkFactory()
    duplicate = RelatedLink(article=link.article, target_article=link.target_article, position=9)
    with pytest.raises(ValidationError):
        duplicate.full_clean()


def test_related_link_needs_exactly_one_target():
    article = ArticleFactory()
    with pytest.raises(ValidationError):
        RelatedLink(article=article).full_clean()
    with pytest.raises(ValidationError):
        RelatedLink(
            article=article, target_article=ArticleFactory(), url="https://example.org/", title="x"
        ).full_clean()


def test_deleting_a_linked_target_never_silently_deletes_the_link():
    from django.db.models import ProtectedError

    link = RelatedLinkFactory()
    with pytest.raises(ProtectedError):
        link.target_article.delete()
    assert RelatedLink.objects.filter(pk=link.pk).exists()
