"""Share links: a signed, expiring address at which someone without an admin login
reads a draft, or a live story's unpublished changes.

The token is Django's ``TimestampSigner`` over the article's id and its share
generation (``ShareKey``): the signature makes it unforgeable, its timestamp
lets it expire after ``SHARE_LINK_HOURS``, and raising the generation
("Revoke share links") ends every link made before. Nothing about a link is
stored; which version it shows is decided when it is opened.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core import signing
from django.utils import timezone

SALT = "articles.share-link"


class LinkRefused(Exception):
    """The link cannot be read: ``reason`` is "invalid", "expired" or "revoked"."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


@dataclass(frozen=True)
class LinkClaim:
    """What a valid token says: the article and the share generation it was made at."""

    article_id: int
    generation: int


def lifetime() -> timedelta:
    return timedelta(hours=settings.SHARE_LINK_HOURS)


def make_token(*, article_id: int, generation: int) -> str:
    return signing.TimestampSigner(salt=SALT).sign_object({"a": article_id, "g": generation})


def expires_at(made_at: datetime | None = None) -> datetime:
    return (made_at or timezone.now()) + lifetime()


def read_token(token: str) -> LinkClaim:
    """The claim of a token made by ``make_token``; LinkRefused when it is not one or is too old.

    Whether the claim's generation is still the article's is for the caller to check.
    """
    signer = signing.TimestampSigner(salt=SALT)
    try:
        data = signer.unsign_object(token, max_age=lifetime())
    except signing.SignatureExpired as error:
        raise LinkRefused("expired") from error
    except (signing.BadSignature, ValueError) as error:
        raise LinkRefused("invalid") from error
    try:
        return LinkClaim(article_id=int(data["a"]), generation=int(data["g"]))
    except (KeyError, TypeError, ValueError) as error:
        raise LinkRefused("invalid") from error
