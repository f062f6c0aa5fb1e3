import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from articles import services
from articles.models import Article, ArticleAuthor, Author, RelatedLink, byline_text
from tests.factories import ArticleFactory, AuthorFactory, RelatedLinkFactory

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


# A draft may be a headline alone; a published story is complete.


def test_a_draft_is_valid_with_a_headline_and_slug_only():
    draft = Article(title="Council meets on Tuesday", slug="council-meets", status="draft")

    draft.full_clean()
    draft.save()

    assert Article.objects.get(slug="council-meets").impact_score is None


@pytest.mark.parametrize(
    ("empty", "message"),
    [
        (
            {"standfirst": "", "body": "", "impact_score": None},
            "To publish, add: standfirst, body, impact score.",
        ),
        ({"standfirst": "  "}, "To publish, add: standfirst."),
        ({"body": "<p> </p>"}, "To publish, add: body."),
        ({"impact_score": None}, "To publish, add: impact score."),
    ],
)
def test_publishing_or_scheduling_names_everything_that_is_missing_in_one_message(empty, message):
    for publish_at in (timezone.now(), timezone.now() + timezone.timedelta(days=1)):
        article = ArticleFactory.build(status="published", publish_at=publish_at, **empty)

        with pytest.raises(ValidationError) as excinfo:
            article.full_clean()

        assert excinfo.value.message_dict["__all__"] == [message]
        for field in empty:
            assert excinfo.value.message_dict[field] == ["Needed to publish."]


@pytest.mark.parametrize(
    "change",
    [{"standfirst": ""}, {"body": ""}, {"impact_score": None}],
    ids=["standfirst", "body", "impact-score"],
)
def test_the_database_refuses_a_published_row_missing_what_readers_see(change):
    article = ArticleFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Article.objects.filter(pk=article.pk).update(**change)
    # The same row as a draft is fine.
    Article.objects.filter(pk=article.pk).update(status="draft", **change)


def test_the_take_down_time_must_come_after_the_publish_time():
    publish_at = timezone.now()
    article = ArticleFactory.build(publish_at=publish_at, unpublish_at=publish_at)

    with pytest.raises(ValidationError) as excinfo:
        article.full_clean()

    assert excinfo.value.message_dict["unpublish_at"][0].startswith(
        "The take-down time must be after the publish time ("
    )
    saved = ArticleFactory(publish_at=publish_at)
    with pytest.raises(IntegrityError), transaction.atomic():
        Article.objects.filter(pk=saved.pk).update(
            unpublish_at=publish_at - timezone.timedelta(seconds=1)
        )


# Authors and bylines


@pytest.mark.parametrize("alt", ["", "   "])
def test_an_authors_photo_needs_alt_text(alt):
    author = AuthorFactory.build(photo="authors/ada.jpg", photo_alt=alt)
    with pytest.raises(ValidationError) as excinfo:
        author.full_clean()
    assert excinfo.value.message_dict["photo_alt"] == [
        "Describe the photo for readers who cannot see it."
    ]


def test_the_database_refuses_a_photo_without_alt_text():
    author = AuthorFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Author.objects.filter(pk=author.pk).update(photo="authors/ada.jpg", photo_alt="")


def test_an_author_without_photo_needs_no_alt_text():
    AuthorFactory.build(photo="", photo_alt="").full_clean()


def test_an_author_is_in_a_byline_once():
    ada = AuthorFactory()
    article = ArticleFactory(authors=[ada])
    with pytest.raises(IntegrityError), transaction.atomic():
        ArticleAuthor.objects.create(article=article, author=ada, position=2)


@pytest.mark.parametrize(
    ("names", "byline"),
    [
        ([], ""),
        (["Ada"], "Ada"),
        (["Ada", "Ben"], "Ada and Ben"),
        (["Ada", "Ben", "Cy"], "Ada, Ben and Cy"),
    ],
)
def test_byline_text_reads_as_a_byline(names, byline):
    assert byline_text([Author(name=name) for name in names]) == byline


def test_article_set_authors_makes_the_byline_exactly_that_list_in_order():
    ada, ben, cy = AuthorFactory(), AuthorFactory(), AuthorFactory()
    article = ArticleFactory(authors=[ada, ben])

    services.article_set_authors(article=article, authors=[cy, ada])

    assert article.byline_authors() == [cy, ada]
    assert list(ada.articles.all()) == [article]
    assert not ben.articles.exists()
