"""articles 0008: each story's single byline becomes its first author, and back."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("articles", "0007_publish_permission")]
AFTER = [("articles", "0008_authors")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_each_storys_byline_becomes_its_first_author_and_back():
    old = migrate(BEFORE)
    try:
        Author = old.get_model("articles", "Author")
        Article = old.get_model("articles", "Article")
        ada = Author.objects.create(name="Ada Okonkwo", slug="ada")
        ben = Author.objects.create(name="Ben Hale", slug="ben")
        story = {"standfirst": "S.", "body": "<p>B.</p>", "impact_score": 5}
        Article.objects.create(title="By Ada", slug="by-ada", author=ada, **story)
        by_ben = Article.objects.create(title="By Ben", slug="by-ben", author=ben, **story)
        Article.objects.create(title="Nobody", slug="nobody", author=None, **story)

        new = migrate(AFTER)

        Article = new.get_model("articles", "Article")
        ArticleAuthor = new.get_model("articles", "ArticleAuthor")
        bylines = {
            article.slug: list(
                ArticleAuthor.objects.filter(article=article)
                .order_by("position")
                .values_list("author__slug", flat=True)
            )
            for article in Article.objects.all()
        }
        assert bylines == {"by-ada": ["ada"], "by-ben": ["ben"], "nobody": []}

        # A second author added afterwards is dropped going back; the first stays.
        ArticleAuthor.objects.create(article_id=by_ben.pk, author_id=ada.pk, position=2)
        old = migrate(BEFORE)

        Article = old.get_model("articles", "Article")
        assert dict(Article.objects.values_list("slug", "author__slug")) == {
            "by-ada": "ada",
            "by-ben": "ben",
            "nobody": None,
        }
    finally:
        # Back to the latest state of every app, for the tests that run after this one.
        executor = MigrationExecutor(connection)
        migrate(executor.loader.graph.leaf_nodes())
