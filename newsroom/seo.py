"""What every public page says about itself to browsers, crawlers and link previews.

Shared by the apps' views: each page builds a ``PageMeta`` and ``base.html`` writes
it into <head>. Addresses are made from ``SITE_URL``, never from the request's Host.
"""

from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings


@dataclass(frozen=True)
class PageMeta:
    """What base.html puts in <head>: title, description, canonical URL, Open Graph and
    Twitter card tags."""

    title: str
    description: str
    path: str
    type: str = "website"
    image_url: str = ""
    # What the image shows, for readers of a link preview who cannot see it.
    image_alt: str = ""
    noindex: bool = False

    @property
    def url(self) -> str:
        return absolute_url(self.path)

    @property
    def document_title(self) -> str:
        """The <title>: the page's own title, then the site's name."""
        if self.title == settings.SITE_NAME:
            return self.title
        return f"{self.title} | {settings.SITE_NAME}"


def absolute_url(path: str) -> str:
    """``path`` on the public site address (SITE_URL), never on the request's Host.

    An address that is already absolute (an image on a CDN) is left alone.
    """
    if urlsplit(path).scheme:
        return path
    return settings.SITE_URL + "/" + path.lstrip("/")
