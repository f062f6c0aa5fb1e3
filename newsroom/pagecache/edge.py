"""What the page cache tells caches in front of the site: a page's tags and how long to keep it.

Every public answer names the page's tags in ``xkey`` (Varnish's xkey vmod), and,
when ``EDGE_TAG_HEADERS`` asks for them, in ``Surrogate-Key`` (Fastly) and
``Cache-Tag`` (Cloudflare), so an edge can drop every page that shows a thing at
once. The purge of those tags after each bump is the edge app's
(``newsroom/edge/``): it hashes tags with ``edge_tag`` too, so the header and the
purge always agree.

Only when purges are configured (``EDGE_PURGE_URLS``) does a page get
``Surrogate-Control: max-age=EDGE_CACHE_SECONDS``, the lifetime Varnish keeps it
for (capped by the page's own next scheduled change); without purges the edge
keeps ``Cache-Control``'s ``s-maxage`` (``PAGE_CACHE_PROXY_SECONDS``) as before.
A page gets the long lifetime only when its tags are known, fit in the header,
and none of them was bumped while it rendered (``http._render_and_store``): an
edge that is told of every edit may keep a page for long only when the page is
one the edit's purge could reach.
"""

import hashlib
import re
import time

from django.conf import settings

# Tags up to this long go out as they are; longer ones as a digest of this length.
TAG_MAX_LENGTH = 32
# Varnish refuses a backend header line over 8 KB (its http_resp_hdr_len) and a PURGE
# request's header too (http_req_hdr_len); CDNs limit a tag header to about 16 KB.
# A page whose tags do not fit gets no tag header and no long lifetime rather than a
# truncated list, which would leave it unpurged for the pages it drops.
HEADER_MAX_BYTES = 8000
# The characters a tag keeps as it is: nothing a header list separates on.
_PLAIN = re.compile(r"[A-Za-z0-9:_.\-]+")


def edge_tag(tag: str) -> str:
    """``tag`` as the edge knows it: short, with no space or comma (else a digest)."""
    if len(tag) <= TAG_MAX_LENGTH and _PLAIN.fullmatch(tag):
        return tag
    return "h:" + hashlib.sha256(tag.encode()).hexdigest()[: TAG_MAX_LENGTH - 2]


def edge_tags(tags) -> list[str]:
    return sorted({edge_tag(tag) for tag in tags})


def tag_headers(tags) -> dict[str, str] | None:
    """The tag headers of a page showing ``tags``; None when they would not fit."""
    hashed = edge_tags(tags)
    headers = {}
    for name in settings.EDGE_TAG_HEADERS:
        value = (", " if name == "Cache-Tag" else " ").join(hashed)
        if len(name) + 2 + len(value) > HEADER_MAX_BYTES:
            return None
        headers[name] = value
    return headers


def purge_chunks(tags, *, limit: int = HEADER_MAX_BYTES - 100):
    """``tags`` (hashed) in space-separated lists, each short enough for one PURGE."""
    chunk: list[str] = []
    size = 0
    for tag in sorted(set(tags)):
        if chunk and size + 1 + len(tag) > limit:
            yield " ".join(chunk)
            chunk, size = [], 0
        chunk.append(tag)
        size += len(tag) + 1
    if chunk:
        yield " ".join(chunk)


def edge_caching() -> bool:
    """Whether pages may get the long edge lifetime: only when edits purge the edge."""
    return bool(settings.EDGE_PURGE_URLS and settings.EDGE_CACHE_SECONDS)


def edge_seconds(changes_at: float | None) -> int:
    """Seconds the edge may keep a page whose own next change is ``changes_at``."""
    seconds = settings.EDGE_CACHE_SECONDS
    if changes_at is not None:
        seconds = min(seconds, int(changes_at - time.time()))
    return max(seconds, 0)
