"""A story's body as readers get it, from the sanitized markup the editor stored.

The editor stores a picture as an ``<img data-picture="<id>">`` with the
original's address and size, and a link to one of our stories as an ``<a
data-article="<id>">`` with the story's address when it was chosen
(``articles/sanitize.py``). At render time:

- a picture is shown in its sized versions when they exist (``srcset``, WebP and
  JPEG), lazily and decoded off the main thread; the alt text is the one the
  editor typed for this use;
- a link to a story points at the story's address now, so a renamed story is
  reached directly; a link to a story that is not public (a draft, withdrawn,
  deleted) is shown as its text alone.

The page fetches what this needs in one query for its pictures and one for its
linked stories, only when the body has any (``selectors``), and its cache entry
is tagged with both, so the page is refreshed when either changes.

The markup is the sanitizer's output: attributes double-quoted, ``"`` and ``&``
escaped, no ``>`` inside a tag, and no link inside a link; the patterns rely on it.
"""

import html
import re

from django.template.loader import render_to_string
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from .models import Picture
from .pictures import shown

IMG = re.compile(r"<img\b([^>]*)>")
STORY_LINK = re.compile(r"<a\b([^>]*)>(.*?)</a>", re.DOTALL)
ATTRIBUTE = re.compile(r'([a-zA-Z][-a-zA-Z0-9]*)="([^"]*)"')
PICTURE_ID = re.compile(r'<img\b[^>]*\bdata-picture="(\d+)"')
ARTICLE_ID = re.compile(r'<a\b[^>]*\bdata-article="(\d+)"')
STORY_PATH = "/articles/"
# How wide a body picture is drawn: the article column (46rem), the whole screen on a phone.
BODY_SIZES = "(min-width: 47.5rem) 46rem, 100vw"


def picture_ids(body: str) -> set[int]:
    return {int(pk) for pk in PICTURE_ID.findall(body)}


def article_ids(body: str) -> set[int]:
    return {int(pk) for pk in ARTICLE_ID.findall(body)}


def figure(picture: Picture, *, alt: str, caption: str = "", credit: str = "") -> str:
    """The markup the body editor stores for ``picture`` with this use's texts."""
    words = format_html("{}", caption)
    if credit:
        space = " " if caption else ""
        words = format_html('{}{}<span class="credit">{}</span>', words, space, credit)
    img = format_html(
        '<img src="{}" alt="{}" width="{}" height="{}" data-picture="{}">',
        picture.file.url,
        alt,
        picture.width,
        picture.height,
        picture.pk,
    )
    if not words:
        return format_html("<figure>{}</figure>", img)
    return format_html("<figure>{}<figcaption>{}</figcaption></figure>", img, words)


def render(body: str, *, pictures: dict[int, Picture], stories: dict[int, str]) -> SafeString:
    """``body`` (sanitized) with its pictures and story links made as readers get them.

    ``pictures`` are the pictures its ids name (one missing is shown as stored), and
    ``stories`` the address of each public story it links to (a link to any other
    shows as its text).
    """

    def picture(match: re.Match) -> str:
        attributes = _attributes(match.group(1))
        found = pictures.get(_int(attributes.get("data-picture")))
        if found is None:
            return match.group(0)
        return render_to_string(
            "includes/picture.html",
            {"image": shown(found), "alt": attributes.get("alt", ""), "sizes": BODY_SIZES},
        ).strip()

    def story_link(match: re.Match) -> str:
        attributes = _attributes(match.group(1))
        href = attributes.get("href", "")
        if "data-article" not in attributes or not href.startswith(STORY_PATH):
            # Another link, or one an editor has since pointed elsewhere.
            return match.group(0)
        url = stories.get(_int(attributes["data-article"]))
        if url is None:
            return match.group(2)
        opening = match.group(1).replace(
            f'href="{html.escape(href)}"', f'href="{html.escape(url)}"', 1
        )
        return f"<a{opening}>{match.group(2)}</a>"

    return mark_safe(STORY_LINK.sub(story_link, IMG.sub(picture, body)))  # noqa: S308 - sanitized markup, escaped values


def _attributes(markup: str) -> dict[str, str]:
    return {name: html.unescape(value) for name, value in ATTRIBUTE.findall(markup)}


def _int(value) -> int | None:
    return int(value) if value and value.isdigit() else None
