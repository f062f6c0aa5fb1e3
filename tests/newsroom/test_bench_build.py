"""bench/build.py builds a database the site runs on: every column the models need,
the bylines, and the search word list "Did you mean" reads (a bench that breaks
when a model grows a column is found here, not on the day someone measures)."""

import os
import subprocess
import sys

import psycopg
from django.conf import settings

from bench.common import BASE_DIR, drop_database
from tests.conftest import need_postgres_and_redis

ARTICLES = 12


def test_build_makes_a_database_of_published_stories_with_bylines_and_words():
    need_postgres_and_redis()
    db = settings.DATABASES["default"]
    server = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT'] or 5432}"
    name = f"bench_build_test_{os.getpid()}"
    try:
        built = subprocess.run(  # noqa: S603 - fixed argv, our own script
            [
                sys.executable,
                "bench/build.py",
                *("--articles", str(ARTICLES), "--database", name),
                *("--postgres", f"{server}/{db['NAME']}"),
            ],
            cwd=BASE_DIR,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert built.returncode == 0, built.stderr[-3000:]

        with psycopg.connect(f"{server}/{name}") as conn:
            count = conn.execute
            assert count("SELECT count(*) FROM articles_article").fetchone() == (ARTICLES,)
            assert count(
                "SELECT count(*) FROM articles_article a WHERE NOT EXISTS "
                "(SELECT 1 FROM articles_articleauthor b WHERE b.article_id = a.id)"
            ).fetchone() == (0,), "every story has a byline"
            assert count("SELECT count(*) FROM articles_searchword").fetchone()[0] > 100
    finally:
        drop_database(f"{server}/{db['NAME']}", name)
