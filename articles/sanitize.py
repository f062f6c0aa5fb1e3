"""The one HTML sanitizer for article bodies.

Whatever an editor pastes, only this allowlist survives: no script or style,
no event handlers, no ``javascript:`` (or any non-web) URLs. It runs when the
body is saved and again when it is rendered, so rows written around the
admin (imports, bulk loads) are safe too.

Besides text, a body holds what the editor's two tools write
(``articles/static/articles/admin/body-editor.js``):

- a picture of our library, ``<figure><img src="<MEDIA_URL>…" alt width height
  data-picture="<id>"><figcaption>caption <span class="credit">credit</span>
  </figcaption></figure>``: an image from anywhere but our own uploads loses its
  address, and an image without one is removed;
- a link to one of our stories, ``<a href="/articles/<slug>/" data-article="<id>">``,
  which the page points at the story's address of the day (``articles/body.py``).
"""

import re

import nh3
from django.conf import settings

ALLOWED_TAGS = {
    *("p", "br", "hr", "h2", "h3", "h4", "blockquote", "pre", "ul", "ol", "li"),  # blocks
    *("strong", "b", "em", "i", "u", "s", "sub", "sup", "code", "a"),  # inline
    *("figure", "img", "figcaption", "span"),  # pictures, and their credit
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title", "data-article"},
    "img": {"src", "alt", "width", "height", "data-picture"},
    "span": {"class"},
}
# The one class a body may use: a picture's credit.
CREDIT = "credit"
ALLOWED_URL_SCHEMES = {"http", "https", "mailto"}
# Numbers only: an id, or a size in pixels.
NUMBER = re.compile(r"[1-9][0-9]{0,8}")
NUMBERED = {("a", "data-article"), ("img", "data-picture"), ("img", "width"), ("img", "height")}
# What may follow MEDIA_URL in an image's address: a stored file's name.
MEDIA_NAME = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_./-]*")
# An image left without an address (a foreign one was removed) is no image.
IMG_WITHOUT_SRC = re.compile(r"<img\b(?![^>]*\bsrc=)[^>]*>")


def is_own_media(url: str) -> bool:
    """``url`` is a file of our uploads: MEDIA_URL and a plain file name after it."""
    if not url.startswith(settings.MEDIA_URL):
        return False
    name = url[len(settings.MEDIA_URL) :]
    return bool(MEDIA_NAME.fullmatch(name)) and ".." not in name.split("/") and "//" not in name


def _filter_attribute(tag: str, attribute: str, value: str) -> str | None:
    if (tag, attribute) in NUMBERED:
        return value if NUMBER.fullmatch(value) else None
    if tag == "img" and attribute == "src":
        return value if is_own_media(value) else None
    if attribute == "class":
        return CREDIT if CREDIT in value.split() else None
    return value


_cleaner = nh3.Cleaner(
    tags=ALLOWED_TAGS,
    attributes=ALLOWED_ATTRIBUTES,
    attribute_filter=_filter_attribute,
    url_schemes=ALLOWED_URL_SCHEMES,
    # Links editors add go to other sites: never pass our referrer or window.
    link_rel="noopener noreferrer",
    strip_comments=True,
)


def sanitize_html(html: str) -> str:
    """Return ``html`` with everything outside the allowlist removed."""
    if not html:
        return ""
    cleaned = IMG_WITHOUT_SRC.sub("", _cleaner.clean(html)).strip()
    # The editor leaves an empty paragraph in an empty document.
    return "" if cleaned in {"<p></p>", "<p><br></p>"} else cleaned
