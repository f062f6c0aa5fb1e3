"""The one HTML sanitizer for article bodies.

Whatever an editor pastes, only this allowlist survives: no script or style,
no event handlers, no ``javascript:`` (or any non-web) URLs. It runs when the
body is saved and again when it is rendered, so rows written around the
admin (imports, bulk loads) are safe too.
"""

import nh3

ALLOWED_TAGS = {
    *("p", "br", "hr", "h2", "h3", "h4", "blockquote", "pre", "ul", "ol", "li"),  # blocks
    *("strong", "b", "em", "i", "u", "s", "sub", "sup", "code", "a"),  # inline
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}}
ALLOWED_URL_SCHEMES = {"http", "https", "mailto"}

_cleaner = nh3.Cleaner(
    tags=ALLOWED_TAGS,
    attributes=ALLOWED_ATTRIBUTES,
    url_schemes=ALLOWED_URL_SCHEMES,
    # Links editors add go to other sites: never pass our referrer or window.
    link_rel="noopener noreferrer",
    strip_comments=True,
)


def sanitize_html(html: str) -> str:
    """Return ``html`` with everything outside the allowlist removed."""
    if not html:
        return ""
    cleaned = _cleaner.clean(html).strip()
    # The editor leaves an empty paragraph in an empty document.
    return "" if cleaned in {"<p></p>", "<p><br></p>"} else cleaned
