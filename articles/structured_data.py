"""What an article page tells search engines about its story: schema.org JSON-LD.

A ``NewsArticle`` in a ``<script type="application/ld+json">`` in the page's head,
built from the same values as the page's other meta (``PageMeta``: canonical
address, description, image), so the two never disagree. A data block is not a
script a browser runs, so the Content-Security-Policy does not apply to it and it
needs no nonce: the public pages keep the same header for every visitor, and the
block is kept in the page cache with the page.
"""

import json

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.templatetags.static import static
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from newsroom.seo import PageMeta, absolute_url

from .models import Article

# The publisher's logo (articles/static/), a square PNG (512 px) as search engines ask for.
LOGO = "articles/logo.png"

# Inside <script>, "</script>" or "<!--" in a headline would end or change the
# element: these characters are written as JSON escapes, which mean the same
# to a JSON parser. (django.utils.html.json_script does this for
# type="application/json" only, and its table is not public.)
_SCRIPT_SAFE = str.maketrans({"<": "\\u003C", ">": "\\u003E", "&": "\\u0026"})


def _authors_of(authors) -> list[tuple[str, str]]:
    """The story's authors in byline order, each as (name, address of their author page)."""
    return [(author.name, absolute_url(author.get_absolute_url())) for author in authors]


def news_article(article: Article, *, meta: PageMeta, authors=()) -> dict:
    """The schema.org ``NewsArticle`` of a public story by ``authors`` (its byline, in
    order), as JSON-able values."""
    data = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": article.title,
        "description": meta.description,
        "datePublished": article.publish_at.isoformat(),
        # As article:modified_time: the last save or the latest correction.
        "dateModified": article.modified_at.isoformat(),
        "mainEntityOfPage": {"@type": "WebPage", "@id": meta.url},
        "isAccessibleForFree": True,
        "author": [
            {"@type": "Person", "name": name, "url": url} for name, url in _authors_of(authors)
        ],
        "publisher": {
            "@type": "Organization",
            "name": settings.SITE_NAME,
            "url": absolute_url(reverse("articles:home")),
            # No width or height: schema.org wants a Distance there, not a number.
            "logo": {"@type": "ImageObject", "url": absolute_url(static(LOGO))},
        },
    }
    # The picture link previews show: the story's own, else the site's.
    data["image"] = [meta.share_image.url]
    if not data["author"]:
        del data["author"]
    return data


def script_tag(data: dict) -> SafeString:
    """``data`` as a JSON-LD ``<script>`` element that no text in it can break out of."""
    text = json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, indent=None)
    return format_html(
        '<script type="application/ld+json">{}</script>',
        mark_safe(text.translate(_SCRIPT_SAFE)),  # noqa: S308 - JSON with <, > and & escaped
    )
