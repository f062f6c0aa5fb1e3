"""Build a benchmark database of N published articles on PostgreSQL, quickly.

Drops and creates the database (default ``bench_pages``) on a loopback
PostgreSQL, migrates it, then loads with COPY: 20 topics, 10 authors and N
articles of about 600 words each (deterministic text from the word list below
and ``--seed``, and three made-up names per story, so the archive has as many
distinct words as a real one: the word list search's "Did you mean" looks in),
3 topics and 3 related links to other articles each, and one author each (every
fifth article a second one). The search-vector trigger (articles migration 0003)
fills ``search_vector`` as the rows arrive; the search-word trigger (0011) is off
during the COPY and the word list built in one statement after it. Prints what it
built, how long each part took and the rows/s.

    .venv/bin/python bench/build.py --articles 10000
    .venv/bin/python bench/serve.py --database bench_pages     # then measure it
"""

import argparse
import os
import random
import secrets
import sys
import time
import urllib.parse
from datetime import UTC, datetime, timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(BASE_DIR))

from bench.common import fresh_database, require_loopback  # noqa: E402

TOPICS = [
    "Politics", "Economy", "Business", "Technology", "Science", "Health", "Climate",
    "Education", "Transport", "Housing", "Crime", "Courts", "World", "Europe", "Culture",
    "Music", "Film", "Sport", "Food", "Travel",
]  # fmt: skip
AUTHORS = [
    "Ada Brennan", "Tomás Ruiz", "Mei Lin", "Kofi Mensah", "Ingrid Holm",
    "Samir Haddad", "Olga Petrova", "James Okafor", "Lucía Navarro", "Hannah Weiss",
]  # fmt: skip
# Written for this bench: the vocabulary of a city desk. "council", "budget" and
# "buses" are common enough that the search row has many matches to rank.
VOCABULARY = """
the a of to and in that for on with as by at from it its this their which was were
is are has have had will would could should may said says told officials council
city mayor budget plan proposal vote members committee residents public local
government minister ministry department agency report study data figures numbers
million billion percent year years month week day morning evening tuesday friday
new old first last next early late several many most more less over under after
before during since while when where because although however meanwhile also still
buses trains station route routes fares transport traffic road roads bridge
housing rents homes tenants landlords school schools teachers pupils hospital
doctors nurses patients health care waiting lists climate energy prices heat
water flood river rain summer winter court judge trial case police officers
investigation company companies workers jobs wages strike union market shares
investors bank rates inflation growth tax taxes spending cuts services funding
opposition party leader election campaign voters poll support critics supporters
community neighbourhood street park library museum festival music film season
team match coach players fans stadium league title record history future change
decision debate question answer concern warning risk cost costs price increase
drop rise fall higher lower wider longer shorter better worse clear open closed
announced approved rejected delayed expected planned reported confirmed warned
argued agreed denied asked called promised launched opened closed moved raised
"""
WORDS = VOCABULARY.split()
# Syllables of made-up names (people, places, firms) of two or three of them: about
# 250,000 names, as many distinct words as a real archive of 100,000 stories has.
SYLLABLES = """
ba be bi bo bu da de di do du fa fe fi fo ga ge gi go ka ke ki ko ku la le li lo lu
ma me mi mo mu na ne ni no nu pa pe pi po ra re ri ro ru sa se si so ta te ti to
va ve vi vo za ze zo zu
""".split()  # noqa: SIM905 - a block of text reads better than 63 quoted strings


def sentences(rng: random.Random, count: int) -> list[str]:
    out = []
    for _ in range(count):
        words = rng.choices(WORDS, k=rng.randint(9, 22))
        out.append(" ".join(words).capitalize() + ".")
    return out


def name(rng: random.Random) -> str:
    return "".join(rng.choices(SYLLABLES, k=rng.randint(2, 3))).capitalize()


def body(rng: random.Random, words: int = 600) -> str:
    """About ``words`` words in paragraphs of four to six sentences of 9-22 words,
    then a sentence naming three made-up people or places."""
    paragraphs, total = [], 0
    while total < words:
        text = " ".join(sentences(rng, rng.randint(4, 6)))
        total += text.count(" ") + 1
        paragraphs.append(f"<p>{text}</p>")
    paragraphs.append(f"<p>Named in the report: {name(rng)}, {name(rng)} and {name(rng)}.</p>")
    return "\n".join(paragraphs)


def copy_rows(cursor, model, rows, *, columns: list[str]) -> int:
    """COPY ``rows`` (tuples in ``columns`` order) into ``model``'s table."""
    from psycopg import sql

    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(model._meta.db_table), sql.SQL(", ").join(map(sql.Identifier, columns))
    )
    count = 0
    with cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row(row)
            count += 1
    return count


def article_columns() -> tuple[list[str], dict]:
    """Every column of the article table but the id and the trigger-filled search
    vector, with the model's default for the columns the build does not set."""
    from articles.models import Article

    defaults = {}
    for field in Article._meta.concrete_fields:
        if field.attname in {"id", "search_vector"}:
            continue
        defaults[field.column] = field.get_default()
    return ["id", *defaults], defaults


def articles(n: int, *, seed: int, now: datetime, columns: list[str], defaults: dict):
    rng = random.Random(seed)  # noqa: S311 - reproducible text, not a secret
    for i in range(1, n + 1):
        title = " ".join(rng.choices(WORDS, k=rng.randint(6, 11))).capitalize()
        publish_at = now - timedelta(minutes=15 * i)
        values = {
            **defaults,
            "title": title[:200],
            "slug": f"bench-story-{i}",
            "standfirst": " ".join(sentences(rng, 2)),
            "body": body(rng),
            "why_it_matters": " ".join(sentences(rng, 2)),
            "impact_score": rng.randint(0, 100),
            "status": "published",
            "publish_at": publish_at,
            "created_at": publish_at,
            "updated_at": publish_at,
        }
        yield (i, *(values[column] for column in columns[1:]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--database", default="bench_pages")
    parser.add_argument(
        "--postgres",
        default="postgres://postgres@127.0.0.1:5432/postgres",
        help="a database to connect to while (re)creating --database",
    )
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    require_loopback(args.postgres)
    if args.articles < 10:
        parser.error("--articles: at least 10")

    wall = time.monotonic()
    database_url = fresh_database(args.postgres, args.database)
    os.environ.update(
        DATABASE_URL=database_url,
        DJANGO_SETTINGS_MODULE="newsroom.settings",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="127.0.0.1",
        LOG_LEVEL="WARNING",
    )
    import django

    django.setup()
    import psycopg
    from django.core.management import call_command
    from psycopg import sql

    from articles.models import Article, ArticleAuthor, Author, RelatedLink, Topic

    call_command("migrate", verbosity=0)
    migrated = time.monotonic()

    now = datetime.now(UTC)
    through = Article.topics.through
    columns, defaults = article_columns()
    n = args.articles
    with psycopg.connect(database_url) as conn, conn.cursor() as cursor:
        copy_rows(
            cursor,
            Topic,
            ((i, name, name.lower(), "") for i, name in enumerate(TOPICS, 1)),
            columns=["id", "name", "slug", "description"],
        )
        copy_rows(
            cursor,
            Author,
            ((i, name, f"author-{i}", "Reporter", "", "", "") for i, name in enumerate(AUTHORS, 1)),
            columns=["id", "name", "slug", "role", "bio", "photo", "photo_alt"],
        )
        started = time.monotonic()
        # Counting each story's words into the word list row by row would update the
        # same few thousand rows N times in one transaction; one statement after is
        # the same list.
        cursor.execute("ALTER TABLE articles_article DISABLE TRIGGER articles_article_search_words")
        copy_rows(
            cursor,
            Article,
            articles(n, seed=args.seed, now=now, columns=columns, defaults=defaults),
            columns=columns,
        )
        article_seconds = time.monotonic() - started
        started = time.monotonic()
        # Topics: three distinct ones of the twenty; links: three other articles.
        topic_rows = copy_rows(
            cursor,
            through,
            ((i, ((i * 7 + k * 5) % len(TOPICS)) + 1) for i in range(1, n + 1) for k in range(3)),
            columns=["article_id", "topic_id"],
        )
        byline_rows = copy_rows(
            cursor,
            ArticleAuthor,
            (
                (i, 1 + (i + k) % len(AUTHORS), k + 1)
                for i in range(1, n + 1)
                for k in range(1 if i % 5 else 2)
            ),
            columns=["article_id", "author_id", "position"],
        )
        link_rows = copy_rows(
            cursor,
            RelatedLink,
            (
                (i, k, (i - 1 + k * 37) % n + 1, "", "", "")
                for i in range(1, n + 1)
                for k in range(1, 4)
            ),
            columns=["article_id", "position", "target_article_id", "url", "title", "summary"],
        )
        for model in (Topic, Author, Article):
            table = model._meta.db_table
            cursor.execute(
                sql.SQL("SELECT setval(pg_get_serial_sequence({}, 'id'), {})").format(
                    sql.Literal(table),
                    sql.SQL("(SELECT max(id) FROM {})").format(sql.Identifier(table)),
                )
            )
        links_seconds = time.monotonic() - started
    with psycopg.connect(database_url) as conn:
        # After the COPY's commit: its foreign-key checks are pending until then.
        started = time.monotonic()
        conn.execute("SELECT articles_rebuild_search_words()")
        conn.execute("ALTER TABLE articles_article ENABLE TRIGGER articles_article_search_words")
        search_words = conn.execute("SELECT count(*) FROM articles_searchword").fetchone()[0]
        words_seconds = time.monotonic() - started
    with psycopg.connect(database_url, autocommit=True) as conn:
        started = time.monotonic()
        conn.execute("VACUUM ANALYZE")
        analyze_seconds = time.monotonic() - started

    total = time.monotonic() - wall
    print(f"built {args.database} on {urllib.parse.urlsplit(args.postgres).netloc}: {n} articles")
    print(
        f"  {len(TOPICS)} topics, {len(AUTHORS)} authors, {n} published articles "
        f"(~600 words each, seed {args.seed}), {topic_rows} topic links, "
        f"{byline_rows} bylines, {link_rows} related links"
    )
    print(f"  create + migrate  {migrated - wall:7.1f} s")
    print(
        f"  articles (COPY, search-vector trigger on)  {article_seconds:7.1f} s  "
        f"{n / article_seconds:,.0f} rows/s"
    )
    print(f"  search word list  {words_seconds:7.1f} s  {search_words:,} distinct words")
    print(
        f"  topics, bylines, related links (COPY)  {links_seconds:7.1f} s  "
        f"{(topic_rows + byline_rows + link_rows) / links_seconds:,.0f} rows/s"
    )
    print(f"  VACUUM ANALYZE  {analyze_seconds:7.1f} s")
    print(f"  total  {total:7.1f} s")
    print(f"database URL: {database_url}")


if __name__ == "__main__":
    main()
