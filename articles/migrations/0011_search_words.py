"""The published stories' words, for search's "Did you mean …".

A word list kept with the search vector (0003), by the database itself: after
every insert, delete, or change of an article's status, headline, standfirst or
body, a trigger adds the words of a story that is now published and takes away
those of one that was, so ``articles_searchword`` holds each word of the
published stories with the number of stories that hold it. Bulk loads that turn
the trigger off (bench/build.py) call ``articles_rebuild_search_words()`` after.

The words are the lexemes of PostgreSQL's 'simple' text search configuration
(lower-cased, unstemmed; tags and entities of the body are not words) of three
to forty letters, with no digit or punctuation. A GIN trigram index (pg_trgm)
finds the words closest to a misspelt one. Nothing on SQLite.
"""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations, models

FORWARD = """
CREATE FUNCTION articles_story_words(title text, standfirst text, body text)
RETURNS text[] LANGUAGE sql STABLE AS $$
    SELECT coalesce(array_agg(lexeme ORDER BY lexeme), '{}')
    FROM unnest(tsvector_to_array(to_tsvector(
        'simple',
        coalesce(title, '') || ' ' || coalesce(standfirst, '') || ' ' || coalesce(body, '')
    ))) AS lexeme
    WHERE char_length(lexeme) BETWEEN 3 AND 40 AND lexeme !~ '[0-9[:punct:]]'
$$;

CREATE FUNCTION articles_article_search_words() RETURNS trigger AS $$
DECLARE
    before text[] := '{}';
    after text[] := '{}';
BEGIN
    IF TG_OP = 'UPDATE'
        AND OLD.status IS NOT DISTINCT FROM NEW.status
        AND OLD.title IS NOT DISTINCT FROM NEW.title
        AND OLD.standfirst IS NOT DISTINCT FROM NEW.standfirst
        AND OLD.body IS NOT DISTINCT FROM NEW.body THEN
        RETURN NULL;
    END IF;
    IF TG_OP <> 'INSERT' AND OLD.status = 'published' THEN
        before := articles_story_words(OLD.title, OLD.standfirst, OLD.body);
    END IF;
    IF TG_OP <> 'DELETE' AND NEW.status = 'published' THEN
        after := articles_story_words(NEW.title, NEW.standfirst, NEW.body);
    END IF;
    -- One statement, in word order: two saves at once lock the rows they share in
    -- the same order, so they wait for each other instead of deadlocking.
    INSERT INTO articles_searchword AS kept (word, articles)
    SELECT word, sum(delta) FROM (
        SELECT unnest(after) AS word, 1 AS delta
        UNION ALL
        SELECT unnest(before), -1
    ) AS changes
    GROUP BY word
    HAVING sum(delta) <> 0
    ORDER BY word
    ON CONFLICT (word) DO UPDATE SET articles = kept.articles + EXCLUDED.articles;
    DELETE FROM articles_searchword
    WHERE articles <= 0 AND word = ANY(before);
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER articles_article_search_words
    AFTER INSERT OR DELETE OR UPDATE OF status, title, standfirst, body ON articles_article
    FOR EACH ROW EXECUTE FUNCTION articles_article_search_words();

CREATE FUNCTION articles_rebuild_search_words() RETURNS void LANGUAGE sql AS $$
    DELETE FROM articles_searchword;
    INSERT INTO articles_searchword (word, articles)
    SELECT word, count(*)
    FROM articles_article, unnest(articles_story_words(title, standfirst, body)) AS word
    WHERE status = 'published'
    GROUP BY word;
$$;

SELECT articles_rebuild_search_words();

CREATE INDEX searchword_trigram_idx ON articles_searchword USING gin (word gin_trgm_ops);
"""

BACKWARD = """
DROP INDEX IF EXISTS searchword_trigram_idx;
DROP FUNCTION IF EXISTS articles_rebuild_search_words();
DROP TRIGGER IF EXISTS articles_article_search_words ON articles_article;
DROP FUNCTION IF EXISTS articles_article_search_words();
DROP FUNCTION IF EXISTS articles_story_words(text, text, text);
"""


def on_postgresql(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("articles", "0010_pin"),
    ]

    operations = [
        # pg_trgm is a trusted extension (PostgreSQL 13+); CI's superuser may create
        # it anyway. A no-op on SQLite.
        TrigramExtension(),
        migrations.CreateModel(
            name="SearchWord",
            fields=[
                (
                    "word",
                    models.CharField(
                        max_length=40, primary_key=True, serialize=False, verbose_name="word"
                    ),
                ),
                ("articles", models.IntegerField(verbose_name="articles")),
            ],
            options={
                "verbose_name": "search word",
                "verbose_name_plural": "search words",
            },
        ),
        migrations.RunPython(on_postgresql(FORWARD), on_postgresql(BACKWARD)),
    ]
