"""Search's "Did you mean …": a misspelt word corrected from the public stories' own words.

Asked only when a search finds nothing. Each word of the query the archive does
not have (four letters or more, letters only) is matched with the closest words
the published stories do have, and the corrected query is offered only when it
finds public stories: a suggestion never leads to nothing, and never shows a
word only a draft, a scheduled or a withdrawn story holds.

- PostgreSQL: the word list the database keeps with the search vector
  (``SearchWord``, migration 0011), by trigram similarity (pg_trgm's ``%``
  through its GIN index), closest first, then the most used.
- Other databases (SQLite, the embedded layout): the words of the public
  stories, read from them once and kept in the cache until a public story
  changes or the schedule does (``SITEMAP_TAG``, ``next_scheduled_change``),
  compared with Python's ``difflib``. Fine for the archive of a small site;
  reading every story again after an edit costs time with a large one.
"""

import difflib
import html
import re
import time
from dataclasses import dataclass

from django.contrib.postgres.search import TrigramSimilarity
from django.db import connection
from django.utils.html import strip_tags

from newsroom.pagecache import values

from .cachetags import SITEMAP_TAG, next_scheduled_change
from .models import SEARCH_WORD, Article, SearchWord

# A query word shorter than this is taken as typed: too little to tell a typo by.
MIN_LENGTH = 4
# The words of a query corrected at most, and the corrections tried for it.
MAX_WORDS = 3
CANDIDATES = 3
# difflib's similarity a word must reach to be offered (SQLite).
CUTOFF = 0.75
# The words kept: as migration 0011's ``articles_story_words`` has them.
STORY_WORD = re.compile(r"[^\W\d_]{3,40}")


@dataclass(frozen=True)
class Suggestion:
    """A corrected search: the whole query to search for, and its pieces to show, each
    with whether it is a correction."""

    query: str
    parts: tuple[tuple[str, bool], ...]


def search_suggestion(query: str) -> Suggestion | None:
    """The query with its misspelt words corrected, when that finds public stories;
    else None.
    """
    typed = [
        word
        for word in dict.fromkeys(token.lower() for token in SEARCH_WORD.findall(query))
        if len(word) >= MIN_LENGTH and word.isalpha()
    ]
    if not typed:
        return None
    if connection.vendor == "postgresql":
        closest = _closest_in_word_list(typed)
    else:
        closest = _closest_in_stories(typed)
    closest = {word: found for word, found in closest.items() if found}
    if not closest:
        return None
    for attempt in range(CANDIDATES):
        if attempt and all(len(found) <= attempt for found in closest.values()):
            break
        choice = {word: found[min(attempt, len(found) - 1)] for word, found in closest.items()}
        suggestion = _corrected(query, choice)
        if Article.objects.published().matching(suggestion.query).exists():
            return suggestion
    return None


def _closest_in_word_list(typed: list[str]) -> dict[str, list[str]]:
    known = set(SearchWord.objects.filter(word__in=typed).values_list("word", flat=True))
    return {
        word: list(
            SearchWord.objects.filter(word__trigram_similar=word)
            .annotate(similarity=TrigramSimilarity("word", word))
            .order_by("-similarity", "-articles", "word")
            .values_list("word", flat=True)[:CANDIDATES]
        )
        for word in [word for word in typed if word not in known][:MAX_WORDS]
    }


def _closest_in_stories(typed: list[str]) -> dict[str, list[str]]:
    counts = public_words()
    return {
        word: sorted(
            difflib.get_close_matches(word, counts, n=CANDIDATES, cutoff=CUTOFF),
            key=lambda found, word=word: (
                -difflib.SequenceMatcher(None, word, found).ratio(),
                -counts[found],
                found,
            ),
        )
        for word in [word for word in typed if word not in counts][:MAX_WORDS]
    }


def public_words() -> dict[str, int]:
    """Each word of the public stories, with how many hold it (the non-PostgreSQL path).

    Kept until a published story changes (``SITEMAP_TAG``) or the next scheduled
    change, when a story goes live or comes down by itself.
    """

    def compute():
        counts: dict[str, int] = {}
        stories = Article.objects.published().values_list("title", "standfirst", "body")
        for parts in stories.iterator():
            text = html.unescape(strip_tags(" ".join(parts))).lower()
            for word in set(STORY_WORD.findall(text)):
                counts[word] = counts.get(word, 0) + 1
        return next_scheduled_change(), counts

    _until, counts = values.cached_value(
        "search-words",
        [SITEMAP_TAG],
        compute,
        valid=lambda kept: kept[0] is None or kept[0] > time.time(),
    )
    return counts


def _corrected(query: str, choice: dict[str, str]) -> Suggestion:
    """``query`` with each word of ``choice`` replaced, in the case it was typed in."""
    parts: list[tuple[str, bool]] = []
    end = 0
    for match in SEARCH_WORD.finditer(query):
        replacement = choice.get(match.group().lower())
        if replacement is None:
            continue
        parts.append((query[end : match.start()], False))
        parts.append((_same_case(match.group(), replacement), True))
        end = match.end()
    parts.append((query[end:], False))
    parts = [(text, corrected) for text, corrected in parts if text]
    return Suggestion(query="".join(text for text, _ in parts), parts=tuple(parts))


def _same_case(typed: str, word: str) -> str:
    if typed.isupper() and len(typed) > 1:
        return word.upper()
    if typed[:1].isupper():
        return word[:1].upper() + word[1:]
    return word
