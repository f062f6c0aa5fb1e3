"""Render cost of the public pages as the archive grows.

Builds a throwaway test database (SQLite by default, PostgreSQL with
DATABASE_URL), fills it with N articles, then requests each public page
through Django's test client and prints the SQL queries per page and the
p50/p99 render time. Nothing here is a pass/fail test: it prints numbers.

    .venv/bin/python bench/pages.py --articles 1000 --requests 200
"""

import argparse
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "newsroom.settings")
os.environ.setdefault("SECRET_KEY", "bench-only-not-a-secret")
os.environ.setdefault("ALLOWED_HOSTS", "testserver")
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
os.environ.setdefault("STATIC_NO_MANIFEST", "1")
os.environ.setdefault("LOG_LEVEL", "WARNING")  # no request log line per measured request

import django

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402
from django.utils import timezone  # noqa: E402

from articles.models import Article, RelatedLink, Topic  # noqa: E402

PARAGRAPH = (
    "<p>Officials met on Tuesday to weigh the proposal, which would change how the "
    "city pays for its buses. Supporters say the plan is overdue; critics want more time "
    "to study the numbers before a vote later this month.</p>"
)


def build(n_articles: int) -> None:
    topics = Topic.objects.bulk_create(
        Topic(name=f"Topic {i}", slug=f"topic-{i}") for i in range(20)
    )
    now = timezone.now()
    articles = Article.objects.bulk_create(
        Article(
            title=f"Bench story {i}",
            slug=f"bench-story-{i}",
            standfirst="A one-paragraph summary of a benchmark story.",
            body=PARAGRAPH * 12,
            why_it_matters="It shows how the site scales.",
            impact_score=i % 101,
            status=Article.Status.PUBLISHED,
            publish_at=now - timedelta(minutes=i),
        )
        for i in range(n_articles)
    )
    through = Article.topics.through
    through.objects.bulk_create(
        through(article_id=a.pk, topic_id=topics[(i + k) % len(topics)].pk)
        for i, a in enumerate(articles)
        for k in range(3)
    )
    RelatedLink.objects.bulk_create(
        RelatedLink(article=a, target_article=articles[(i + k) % n_articles], position=k)
        for i, a in enumerate(articles)
        for k in range(1, 4)
    )


def measure(client: Client, path: str, requests: int) -> tuple[int, float, float]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    # Read now: the next request clears the connection's query log the slice points into.
    query_count = len(queries)
    assert response.status_code == 200, (path, response.status_code)
    timings = []
    for _ in range(requests):
        start = time.perf_counter()
        client.get(path)
        timings.append((time.perf_counter() - start) * 1000)
    timings.sort()
    p99 = timings[min(len(timings) - 1, int(len(timings) * 0.99))]
    return query_count, statistics.median(timings), p99


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=100)
    args = parser.parse_args()

    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        started = time.perf_counter()
        build(args.articles)
        print(f"{connection.vendor}: built {args.articles} articles in "
              f"{time.perf_counter() - started:.1f}s")  # fmt: skip
        client = Client()
        middle = f"bench-story-{args.articles // 2}"
        # A home page nine tenths of the way back, as "Older stories" links to it.
        newest_first = Article.objects.order_by("-publish_at", "-id").values_list("pk", flat=True)
        deep = newest_first[args.articles * 9 // 10]
        pages = {
            "article": f"/articles/{middle}/",
            "home": "/",
            "home deep": f"/?before={deep}",
            "topic": "/topics/topic-3/",
            "search": "/search/?q=buses",
            "feed": "/feed/",
        }
        print(f"{'page':<14}{'queries':>8}{'p50 ms':>10}{'p99 ms':>10}")
        for name, path in pages.items():
            queries, p50, p99 = measure(client, path, args.requests)
            print(f"{name:<14}{queries:>8}{p50:>10.2f}{p99:>10.2f}")
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
