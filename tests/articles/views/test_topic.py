"""A topic page: its public stories, paged within the topic."""

import datetime as dt

import pytest
from django.utils import timezone

from articles.models import Article
from tests.articles.views.pages import (
    SITE_URL,
    canonical_of,
    follow,
    head_of,
    not_public,
    pagination_links,
    slugs_listed,
)
from tests.factories import ArticleFactory, TopicFactory

pytestmark = pytest.mark.django_db


def test_topic_page_lists_its_public_stories_only(client):
    topic = TopicFactory(name="Climate", slug="climate", description="Weather and warming.")
    mine = ArticleFactory(topics=[topic])
    ArticleFactory()
    ArticleFactory(topics=[topic], **not_public("draft"))

    response = client.get("/topics/climate/")

    assert response.status_code == 200
    assert slugs_listed(response) == [mine.slug]
    content = response.content.decode()
    assert "<h1" in content and "Climate</h1>" in content
    assert 'aria-current="page"' in content
    assert head_of(response).meta["description"] == "Weather and warming."
    assert canonical_of(response) == f"{SITE_URL}/topics/climate/"


def test_unknown_topic_is_404(client):
    assert client.get("/topics/no-such-topic/").status_code == 404


def test_topic_pages_paginate_within_the_topic(client, settings):
    settings.ARTICLES_PER_PAGE = 2
    topic, other = TopicFactory(), TopicFactory()
    now = timezone.now()
    mine = []
    for i in range(10):
        story = ArticleFactory(
            publish_at=now - dt.timedelta(hours=i), topics=[topic] if i % 2 else [other]
        )
        if i % 2:
            mine.append(story.slug)

    pages = follow(client, topic.get_absolute_url(), "Older stories")

    assert [slug for page in pages for slug in slugs_listed(page)] == mine
    assert len(pages) == 3
    deep = pages[-1]
    cursor = Article.objects.get(slug=mine[3]).pk
    assert canonical_of(deep) == f"{SITE_URL}{topic.get_absolute_url()}?before={cursor}"
    assert pagination_links(deep)["Newest stories"] == topic.get_absolute_url()


def test_topic_page_refuses_another_topics_story_as_cursor(client):
    topic, other = TopicFactory(), TopicFactory()
    ArticleFactory.create_batch(3, topics=[topic])
    elsewhere = ArticleFactory(topics=[other])

    response = client.get(topic.get_absolute_url(), {"before": elsewhere.pk})

    assert response.status_code == 404


@pytest.mark.parametrize("n", [1, 10])
def test_topic_page_query_budget_does_not_grow(client, django_assert_max_num_queries, settings, n):
    settings.PAGE_CACHE_SECONDS = 0
    topics = TopicFactory.create_batch(n)
    ArticleFactory.create_batch(n, topics=topics)
    # Topic, page, topics prefetch, topic list (for the menu).
    with django_assert_max_num_queries(4):
        assert client.get(topics[0].get_absolute_url()).status_code == 200
