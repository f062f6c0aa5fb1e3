"""An author's page: who they are and their public stories, paged like a topic's; and
the bylines that link to it."""

import datetime as dt
import re

import pytest
from django.utils import timezone

from articles import services
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
from tests.factories import ArticleFactory, AuthorFactory

pytestmark = pytest.mark.django_db


def test_author_page_shows_who_they_are_and_their_public_stories_only(client):
    ada = AuthorFactory(
        name="Ada Okonkwo",
        slug="ada-okonkwo",
        role="Science correspondent",
        bio="Ada covers research <and> the people doing it.",
        photo="authors/ada.jpg",
        photo_alt="Ada Okonkwo, smiling, in a laboratory",
    )
    mine = ArticleFactory(authors=[ada])
    shared = ArticleFactory(authors=[AuthorFactory(), ada])
    ArticleFactory()
    ArticleFactory(authors=[ada], **not_public("draft"))
    ArticleFactory(authors=[ada], **not_public("scheduled"))

    response = client.get("/authors/ada-okonkwo/")

    assert response.status_code == 200
    assert slugs_listed(response) == [shared.slug, mine.slug]
    content = response.text
    assert re.search(r'<h1 class="author-name">Ada Okonkwo</h1>', content)
    assert '<p class="author-role text-body-secondary mb-2">Science correspondent</p>' in content
    assert "research &lt;and&gt; the people" in content, "plain text, escaped"
    assert re.search(
        r'<img class="author-photo[^"]*" src="/media/authors/ada.jpg" '
        r'alt="Ada Okonkwo, smiling, in a laboratory"',
        content,
    )
    head = head_of(response)
    assert head.meta["description"] == "Ada covers research <and> the people doing it."
    assert head.meta["og:image"] == f"{SITE_URL}/media/authors/ada.jpg"
    assert canonical_of(response) == f"{SITE_URL}/authors/ada-okonkwo/"
    feeds = [link for link in head.links if link.get("type") == "application/rss+xml"]
    assert f"{SITE_URL}/authors/ada-okonkwo/feed/" in [link["href"] for link in feeds]


def test_an_author_without_photo_or_stories_has_a_page_that_says_so(client):
    AuthorFactory(name="Ben Hale", slug="ben-hale")

    response = client.get("/authors/ben-hale/")

    assert response.status_code == 200
    assert "<img" not in response.text.split('class="author-header', 1)[1].split("</header>")[0]
    assert "No published stories yet." in response.text
    assert head_of(response).meta["description"] == "Stories by Ben Hale."


def test_unknown_author_is_404(client):
    assert client.get("/authors/no-such-person/").status_code == 404
    assert client.get("/authors/no-such-person/feed/").status_code == 404


def test_author_pages_paginate_within_their_stories(client, settings):
    settings.ARTICLES_PER_PAGE = 2
    ada, ben = AuthorFactory(), AuthorFactory()
    now = timezone.now()
    mine = []
    for i in range(10):
        story = ArticleFactory(
            publish_at=now - dt.timedelta(hours=i), authors=[ada] if i % 2 else [ben]
        )
        if i % 2:
            mine.append(story.slug)

    pages = follow(client, ada.get_absolute_url(), "Older stories")

    assert [slug for page in pages for slug in slugs_listed(page)] == mine
    assert len(pages) == 3
    cursor = Article.objects.get(slug=mine[3]).pk
    assert canonical_of(pages[-1]) == f"{SITE_URL}{ada.get_absolute_url()}?before={cursor}"
    assert pagination_links(pages[-1])["Newest stories"] == ada.get_absolute_url()
    back = follow(client, pagination_links(pages[-1])["Newer stories"], "Newer stories")
    assert [slugs_listed(page) for page in back] == [mine[2:4], mine[:2]]


def test_author_page_refuses_another_authors_story_as_cursor(client):
    ada = AuthorFactory()
    ArticleFactory.create_batch(3, authors=[ada])
    elsewhere = ArticleFactory()

    response = client.get(ada.get_absolute_url(), {"before": elsewhere.pk})

    assert response.status_code == 404


@pytest.mark.parametrize("n", [1, 10])
def test_author_page_query_budget_does_not_grow(client, django_assert_max_num_queries, settings, n):
    settings.PAGE_CACHE_SECONDS = 0
    ada = AuthorFactory()
    for _ in range(n):
        ArticleFactory(authors=[AuthorFactory(), ada], topics=[])
    # Author, page, topics prefetch, topic list (for the menu).
    with django_assert_max_num_queries(4):
        assert client.get(ada.get_absolute_url()).status_code == 200


def test_an_old_author_address_leads_to_the_renamed_author(client):
    ada = AuthorFactory(name="Ada Okonkwo", slug="ada-o")
    ArticleFactory(authors=[ada])
    ada.slug = "ada-okonkwo"
    services.author_save(author=ada)

    moved = client.get("/authors/ada-o/?before=1")

    assert moved.status_code == 301
    assert moved["Location"] == "/authors/ada-okonkwo/?before=1"
    assert client.get("/authors/ada-okonkwo/").status_code == 200


# Bylines


def _byline(response) -> str:
    return response.text.split('class="article-byline', 1)[1].split(">", 1)[1].split("</p>", 1)[0]


@pytest.mark.parametrize(
    ("names", "reads"),
    [
        (["Ada Okonkwo"], "By Ada Okonkwo ·"),
        (["Ada Okonkwo", "Ben Hale"], "By Ada Okonkwo and Ben Hale ·"),
        (["Ada Okonkwo", "Ben Hale", "Cy Ito"], "By Ada Okonkwo, Ben Hale and Cy Ito ·"),
    ],
)
def test_the_byline_names_every_author_in_order_each_linking_to_their_page(client, names, reads):
    authors = [AuthorFactory(name=name) for name in names]
    article = ArticleFactory(authors=authors)

    byline = _byline(client.get(article.get_absolute_url()))

    text = " ".join(re.sub(r"<[^>]+>", "", byline).split())
    assert text.startswith(reads)
    links = re.findall(r'<a class="article-author" href="([^"]+)">([^<]+)</a>', byline)
    assert links == [(author.get_absolute_url(), author.name) for author in authors]


def test_a_story_without_authors_has_no_by(client):
    article = ArticleFactory(authors=[])

    assert "By " not in _byline(client.get(article.get_absolute_url()))


def test_a_staff_preview_of_a_draft_shows_its_byline(staff_client):
    ada = AuthorFactory(name="Ada Okonkwo")
    draft = ArticleFactory(authors=[ada], **not_public("draft"))

    assert "Ada Okonkwo" in _byline(staff_client.get(draft.get_absolute_url()))
