"""Search forgives: "Did you mean …" from the public stories' own words.

These run on the test run's database (PostgreSQL in CI: the word list the database
keeps, pg_trgm); tests/articles/test_search_sqlite.py runs the embedded layout's
path on SQLite.
"""

import re
from html import unescape

import pytest
from django.db import connection
from django.utils import timezone

from articles import services, spelling
from articles.models import Article, SearchWord
from tests.articles.views.pages import not_public, queries_of, slugs_listed
from tests.factories import ArticleFactory, EditorFactory

pytestmark = pytest.mark.django_db


def suggestion_of(response) -> tuple[str, str] | None:
    """The "Did you mean" link's text and address, or None."""
    found = re.search(
        r'<p class="search-suggestion">Did you mean <a href="([^"]+)">(.*?)</a>\?</p>',
        response.content.decode(),
    )
    if found is None:
        return None
    return re.sub(r"<[^>]+>", "", found.group(2)), unescape(found.group(1))


def suggested(client, query: str) -> str | None:
    found = suggestion_of(client.get("/search/", {"q": query}))
    return found[0] if found else None


def test_a_misspelt_word_gets_a_link_to_the_corrected_search(client):
    salmon = ArticleFactory(
        title="Salmon return to the river", body="<p>The weir came down in May.</p>"
    )
    recycling = ArticleFactory(
        title="Town hall meeting",
        standfirst="Bins for every street.",
        body="<p>The <strong>recycling</strong> plan starts in June.</p>",
    )

    response = client.get("/search/", {"q": "salmn"})

    assert slugs_listed(response) == []
    text, url = suggestion_of(response)
    assert text == "salmon"
    assert url == "/search/?q=salmon"
    assert slugs_listed(client.get(url)) == [salmon.slug]
    # From the body too, and marked as the corrected word.
    response = client.get("/search/", {"q": "recyling"})
    assert 'Did you mean <a href="/search/?q=recycling"><strong>recycling</strong></a>?' in (
        response.content.decode()
    )
    assert slugs_listed(client.get("/search/?q=recycling")) == [recycling.slug]


def test_only_the_misspelt_word_is_corrected_as_it_was_typed(client):
    ArticleFactory(title="Salmon farms close", body="<p>The river is clean again.</p>")

    assert suggested(client, "Salmn farms") == "Salmon farms"
    assert suggested(client, "river SALMN") == "river SALMON"


def test_a_search_that_finds_stories_suggests_nothing(client):
    ArticleFactory(title="Salmon return", body="<p>A salmn, the sign said, misspelt.</p>")

    response = client.get("/search/", {"q": "salmn"})

    assert len(slugs_listed(response)) == 1
    assert suggestion_of(response) is None
    assert suggested(client, "salmom") == "salmon"


def test_no_suggestion_when_nothing_is_close(client):
    ArticleFactory(title="Salmon return to the river")

    assert suggested(client, "xylophone") is None
    assert suggested(client, "rivver") == "river"
    assert "No stories match your search." in client.get("/search/?q=xylophone").content.decode()


@pytest.mark.parametrize("kind", ["draft", "scheduled", "withdrawn", "taken_down"])
def test_words_readers_cannot_see_are_never_suggested(client, kind):
    ArticleFactory(title="Sturgeon spotted upstream", **not_public(kind))
    ArticleFactory(title="Salmon return to the river")

    assert suggested(client, "sturgen") is None
    assert suggested(client, "salmn") == "salmon"


def test_a_draft_of_changes_words_are_never_suggested(client):
    story = ArticleFactory(title="Salmon return to the river")
    edited = Article.objects.get(pk=story.pk)
    edited.title = "Sturgeon return to the river"
    services.article_save_pending(
        article=edited,
        topics=[],
        opened_version=edited.version,
        user=EditorFactory(),
    )

    assert suggested(client, "sturgen") is None
    assert suggested(client, "salmn") == "salmon"


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run an edit as a request does, committing: the page cache hears of it then
    (SQLite's word list is kept there)."""

    def run(change):
        with django_capture_on_commit_callbacks(execute=True):
            return change()

    return run


def test_the_word_list_follows_publishing_editing_withdrawing_and_deleting(client, committed):
    story = ArticleFactory(
        title="Sturgeon spotted", **not_public("draft"), body="<p>By the weir.</p>"
    )
    assert suggested(client, "sturgen") is None

    def publish():
        story.status = Article.Status.PUBLISHED
        story.publish_at = timezone.now()
        story.save()

    committed(publish)
    assert suggested(client, "sturgen") == "sturgeon"

    def rename():
        story.title = "Lamprey spotted"
        story.save()

    committed(rename)
    assert suggested(client, "sturgen") is None
    assert suggested(client, "lampry") == "lamprey"

    committed(lambda: services.article_withdraw(article=story, user=None))
    assert suggested(client, "lampry") is None

    committed(lambda: services.article_publish_now(article=story, user=None))
    assert suggested(client, "lampry") == "lamprey"

    committed(lambda: Article.objects.filter(pk=story.pk).delete())
    assert suggested(client, "lampry") is None


def test_a_word_stays_while_another_public_story_holds_it(client, committed):
    first = ArticleFactory(title="Sturgeon spotted")
    ArticleFactory(title="Sturgeon counted")
    assert suggested(client, "sturgen") == "sturgeon"

    committed(lambda: services.article_withdraw(article=first, user=None))

    assert suggested(client, "sturgen") == "sturgeon"


def kept_words() -> dict[str, int]:
    """The word list suggestions come from: the database's on PostgreSQL, else the one
    read from the public stories."""
    if connection.vendor == "postgresql":
        return dict(SearchWord.objects.values_list("word", "articles"))
    return spelling.public_words()


def test_the_word_list_holds_each_public_word_once_with_its_stories(client):
    ArticleFactory(
        title="Salmon return", standfirst="The river.", body='<p>The <a href="/x">salmon</a>.</p>'
    )
    ArticleFactory(title="Salmon farms", standfirst="In 2024.", body="<p>Well-known &amp; old.</p>")
    ArticleFactory(title="Secret plans", **not_public("draft"))

    words = kept_words()

    assert words["salmon"] == 2
    assert words["the"] == 1
    assert {"return", "river", "farms", "known", "well", "old"} <= set(words)
    # No tags, entities, numbers, hyphenated wholes, or a draft's words.
    assert not {"href", "amp", "2024", "well-known", "secret", "plans"} & set(words)


def test_a_suggestion_costs_a_few_queries(client):
    ArticleFactory(title="Salmon return to the river")
    ArticleFactory.create_batch(5, title="Other news")

    queries = [sql for sql in queries_of(client, "/search/?q=salmn+river") if "SELECT" in sql]

    # The search, then: which words are known, the closest to the unknown one, and
    # whether the corrected search finds a story (the topic list is read for the menu).
    # Elsewhere the public stories' words are read instead, with the next scheduled
    # change that ends their stay in the cache (two queries), once: then kept.
    assert len(queries) == (5 if connection.vendor == "postgresql" else 6), queries
