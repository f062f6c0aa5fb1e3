"""What every public page says about itself to browsers, crawlers and link previews.

Shared by the apps' views: each page builds a ``PageMeta`` and ``base.html`` writes
it into <head>. Addresses are made from ``SITE_URL``, never from the request's Host.
"""

from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.templatetags.static import static

# The picture a link preview shows for a page without one of its own: the site's name
# on its colours, 1200 x 630 as Open Graph asks. A static file of the site.
DEFAULT_SHARE_IMAGE = "articles/share.png"
DEFAULT_SHARE_IMAGE_SIZE = (1200, 630)


@dataclass(frozen=True)
class ShareImage:
    """The picture a link preview shows (``og:image``), with its size and alt text."""

    url: str
    width: int | None
    height: int | None
    alt: str


@dataclass(frozen=True)
class PageMeta:
    """What base.html puts in <head>: title, description, canonical URL, Open Graph."""

    title: str
    description: str
    path: str
    type: str = "website"
    image_url: str = ""
    # The image's size and alt text, when it has its own.
    image_width: int | None = None
    image_height: int | None = None
    image_alt: str = ""
    noindex: bool = False

    @property
    def url(self) -> str:
        return absolute_url(self.path)

    @property
    def share_image(self) -> ShareImage:
        """The page's own image, or the site's (``DEFAULT_SHARE_IMAGE``)."""
        if self.image_url:
            return ShareImage(
                url=self.image_url,
                width=self.image_width,
                height=self.image_height,
                alt=self.image_alt,
            )
        width, height = DEFAULT_SHARE_IMAGE_SIZE
        return ShareImage(
            url=absolute_url(static(DEFAULT_SHARE_IMAGE)),
            width=width,
            height=height,
            alt=settings.SITE_NAME,
        )

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
