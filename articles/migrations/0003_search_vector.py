"""A stored, indexed search vector for PostgreSQL full-text search.

Computing the vector of every body at query time made search cost grow with the
archive (seconds at a few thousand articles). On PostgreSQL a trigger now keeps
``search_vector`` up to date on every insert and every change of the headline,
standfirst or body, and a GIN index serves the match. On other databases the
column stays empty and search falls back to substring matching.
"""

import django.contrib.postgres.search
from django.db import migrations

FORWARD = """
CREATE FUNCTION articles_article_search_vector() RETURNS trigger AS $$
BEGIN
    NEW.search_vector :=
        setweight(to_tsvector('english', coalesce(NEW.title, '')), 'A')
        || setweight(to_tsvector('english', coalesce(NEW.standfirst, '')), 'B')
        || setweight(to_tsvector('english', coalesce(NEW.body, '')), 'C');
    RETURN NEW;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER articles_article_search_vector
    BEFORE INSERT OR UPDATE OF title, standfirst, body ON articles_article
    FOR EACH ROW EXECUTE FUNCTION articles_article_search_vector();

UPDATE articles_article SET title = title;

CREATE INDEX article_search_vector_idx ON articles_article USING gin (search_vector);
"""

BACKWARD = """
DROP INDEX IF EXISTS article_search_vector_idx;
DROP TRIGGER IF EXISTS articles_article_search_vector ON articles_article;
DROP FUNCTION IF EXISTS articles_article_search_vector();
"""


def on_postgresql(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("articles", "0002_editors_group"),
    ]

    operations = [
        migrations.AddField(
            model_name="article",
            name="search_vector",
            field=django.contrib.postgres.search.SearchVectorField(editable=False, null=True),
        ),
        migrations.RunPython(on_postgresql(FORWARD), on_postgresql(BACKWARD)),
    ]
