"""Search on the embedded default, SQLite, whatever database this test run uses.

CI runs the suite on PostgreSQL, whose full-text search never reaches the SQLite
path; so the stories are written and searched through ``/search/`` in a process
of their own on SQLite (``embedded_var``), once for every case below.
"""

import json
import shutil
import subprocess
import sys

import pytest

from tests.services import BASE_DIR, embedded_env

STORIES = {
    "ai-rules": ("AI rules agreed in Brussels", "Ministers settle the text.", "<p>Late.</p>"),
    "minister-said": (
        "Minister backs the plan",
        "The minister said it would work.",
        "<p>She said so twice, plainly.</p>",
    ),
    "council-budget": (
        "Budget vote delayed",
        "A late amendment holds it up.",
        "<p>The council meets again on Monday.</p>",
    ),
    "council-only": ("Council elects a new leader", "A close vote.", "<p>Nothing else.</p>"),
    "harbour": ("Harbour wall repaired", "Storm damage fixed.", "<p>Works end in May.</p>"),
    "markup": (
        "Emphasis in the body",
        "Formatting, not words.",
        '<p><strong>Bold</strong> claims, <a href="https://example.org/council">a link</a>'
        " and R&amp;D spending.</p>",
    ),
    "zurich": ("Zürich trams go electric", "The ÉCOLE line first.", "<p>Quietly.</p>"),
}

CASES = {
    "ai": {"ai-rules"},  # a whole word: not the "ai" in "said"
    "AI": {"ai-rules"},
    "said": {"minister-said"},
    "plain": set(),  # "plainly" is another word
    "council budget": {"council-budget"},  # every word, across headline and body
    "budget council": {"council-budget"},  # in any order
    "BUDGET Council": {"council-budget"},
    "council": {"council-budget", "council-only"},
    "council leader": {"council-only"},
    "harbour storm may": {"harbour"},  # headline, standfirst and body together
    "harbour bridge": set(),
    '"harbour"': {"harbour"},  # punctuation is not part of a word
    "strong": set(),  # a tag's name is not a word of the story
    "href": set(),
    "example": set(),  # nor is an address inside a link
    "amp": set(),  # nor an entity's name
    "bold claims": {"markup"},
    "zürich": {"zurich"},  # case-insensitive beyond ASCII
    "école": {"zurich"},
    "!!!": set(),
}

SCRIPT = """
import json, re, sys
import django
django.setup()
from django.test import Client
from tests.factories import ArticleFactory

given = json.load(sys.stdin)
for slug, (title, standfirst, body) in given["stories"].items():
    ArticleFactory(slug=slug, title=title, standfirst=standfirst, body=body)
client = Client()
found = {}
for query in given["queries"]:
    response = client.get("/search/", {"q": query})
    assert response.status_code == 200, (query, response.status_code)
    found[query] = re.findall(r'data-article-slug="([^"]+)"', response.content.decode())
print(json.dumps(found))
"""


@pytest.fixture(scope="module")
def sqlite_results(tmp_path_factory, migrated_embedded_var):
    var = tmp_path_factory.mktemp("search") / "var"
    shutil.copytree(migrated_embedded_var, var)
    result = subprocess.run(  # noqa: S603 - our own script, fixed argv
        [sys.executable, "-c", SCRIPT],
        cwd=BASE_DIR,
        env=embedded_env(var),
        input=json.dumps({"stories": STORIES, "queries": list(CASES)}),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.splitlines()[-1])


@pytest.mark.parametrize(("query", "expected"), CASES.items(), ids=list(CASES))
def test_sqlite_search_matches_every_word_whole_in_any_order_and_case(
    sqlite_results, query, expected
):
    assert set(sqlite_results[query]) == expected


SUGGESTIONS_SCRIPT = """
import json, re
import django
django.setup()
from django.test import Client
from django.utils import timezone
from articles.models import Article
from tests.factories import ArticleFactory

ArticleFactory(title="Salmon return to the river", body="<p>The weir came down.</p>")
draft = ArticleFactory(title="Sturgeon spotted", status="draft", publish_at=None)
client = Client()


def suggested(query):
    content = client.get("/search/", {"q": query}).content.decode()
    link = r'class="search-suggestion">Did you mean <a href="([^"]+)">(.*?)</a>'
    found = re.search(link, content)
    return [found.group(1), re.sub(r"<[^>]+>", "", found.group(2))] if found else None


found = {"salmn": suggested("salmn"), "draft": suggested("sturgen")}
draft.status = Article.Status.PUBLISHED
draft.publish_at = timezone.now()
draft.save()
found["published"] = suggested("sturgen")
print(json.dumps(found))
"""


def test_sqlite_suggests_from_the_public_stories_words_only(migrated_embedded_var, tmp_path):
    """The embedded layout's "Did you mean": difflib over the public stories' words,
    kept in the cache until a public story changes."""
    var = tmp_path / "var"
    shutil.copytree(migrated_embedded_var, var)
    result = subprocess.run(  # noqa: S603 - our own script, fixed argv
        [sys.executable, "-c", SUGGESTIONS_SCRIPT],
        cwd=BASE_DIR,
        env=embedded_env(var),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    found = json.loads(result.stdout.splitlines()[-1])

    assert found["salmn"] == ["/search/?q=salmon", "salmon"]
    assert found["draft"] is None
    assert found["published"] == ["/search/?q=sturgeon", "sturgeon"]
