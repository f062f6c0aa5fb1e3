"""Old addresses: a renamed story or topic answers its old address with a 301."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from articles import services
from articles.models import Article, Redirect
from tests.articles.views.pages import not_public
from tests.factories import ArticleFactory, TopicFactory

pytestmark = pytest.mark.django_db


def rename(article: Article, slug: str) -> None:
    article.refresh_from_db()
    article.slug = slug
    services.article_save(article=article, opened_version=article.version, user=None)


def test_a_renamed_live_story_answers_its_old_address_with_a_301(client):
    story = ArticleFactory(slug="council-vote", title="Council votes")
    rename(story, "council-approves-budget")

    response = client.get("/articles/council-vote/?utm_source=newsletter")

    assert response.status_code == 301
    assert response["Location"] == "/articles/council-approves-budget/?utm_source=newsletter"
    assert "no-store" in response["Cache-Control"]
    assert client.get(response["Location"]).status_code == 200


def test_a_chain_of_renames_answers_the_first_address_straight_with_the_last(client):
    story = ArticleFactory(slug="a")
    rename(story, "b")
    rename(story, "c")

    for old in ("a", "b"):
        response = client.get(f"/articles/{old}/")
        assert (response.status_code, response["Location"]) == (301, "/articles/c/")


def test_renaming_back_serves_the_story_again_and_never_loops(client):
    story = ArticleFactory(slug="a")
    rename(story, "b")
    rename(story, "c")
    rename(story, "a")

    assert client.get("/articles/a/").status_code == 200
    for old in ("b", "c"):
        response = client.get(f"/articles/{old}/")
        assert (response.status_code, response["Location"]) == (301, "/articles/a/")


@pytest.mark.parametrize("kind", ["draft", "scheduled", "withdrawn"])
def test_an_old_address_of_a_story_that_is_not_live_is_404(client, kind):
    story = ArticleFactory(slug="a")
    rename(story, "b")
    Article.objects.filter(pk=story.pk).update(**not_public(kind))

    assert client.get("/articles/a/").status_code == 404
    assert client.get("/articles/b/").status_code == 404


def test_a_withdrawn_story_published_again_is_found_at_its_old_address_again(client):
    story = ArticleFactory(slug="a")
    rename(story, "b")
    services.article_withdraw(article=story, user=None)
    assert client.get("/articles/a/").status_code == 404

    services.article_publish_now(article=story, user=None)

    assert client.get("/articles/a/")["Location"] == "/articles/b/"


def test_a_live_story_costs_no_query_for_old_addresses(client, settings):
    settings.PAGE_CACHE_SECONDS = 0
    story = ArticleFactory()
    Redirect.objects.create(kind="article", old_slug="elsewhere", article=story)

    with CaptureQueriesContext(connection) as captured:
        assert client.get(story.get_absolute_url()).status_code == 200

    assert captured.captured_queries
    assert not any("articles_redirect" in query["sql"] for query in captured.captured_queries)


def test_an_unknown_address_is_still_404(client):
    assert client.get("/articles/never-was/").status_code == 404
    assert client.get("/topics/never-was/").status_code == 404


def test_a_renamed_topic_answers_its_old_address_with_its_query(client):
    topic = TopicFactory(slug="sport", name="Sport")
    stories = [
        ArticleFactory(topics=[topic], publish_at=timezone.now() - timezone.timedelta(hours=i))
        for i in range(1, 3)
    ]
    topic.slug = "sports"
    services.topic_save(topic=topic)

    response = client.get(f"/topics/sport/?before={stories[0].pk}")

    assert response.status_code == 301
    assert response["Location"] == f"/topics/sports/?before={stories[0].pk}"
    assert client.get(response["Location"]).status_code == 200
    assert client.get("/topics/sports/").status_code == 200
