"""The demo content of ``manage.py load_demo``, read from ``articles/demo/content.toml``.

The file holds the topics, bylines, stories and the demo editor's login, and
says how it is written; here it becomes the plain values the command loads.
"""

import functools
import tomllib
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import Literal

CONTENT = Path(__file__).resolve().parent / "demo" / "content.toml"
# The group the demo editor joins: the one the migrations give the editors' permissions.

State = Literal["published", "scheduled", "draft"]


@dataclass(frozen=True)
class DemoTopic:
    slug: str
    name: str
    description: str


@dataclass(frozen=True)
class DemoAuthor:
    slug: str
    name: str
    role: str
    bio: str


@dataclass(frozen=True)
class DemoLink:
    """A related card: another demo article (by slug) or an external URL."""

    article: str = ""
    url: str = ""
    title: str = ""
    summary: str = ""


@dataclass(frozen=True)
class DemoPending:
    """A draft of changes to a published demo story: the fields it changes, the rest kept."""

    title: str = ""
    standfirst: str = ""
    body: str = ""  # in the light markup, like a story's
    why_it_matters: str = ""
    impact_score: int | None = None

    def changes(self) -> dict:
        """The story's fields this draft changes, as the article holds them."""
        values = {
            "title": self.title,
            "standfirst": self.standfirst,
            "body": render_body(self.body) if self.body else "",
            "why_it_matters": self.why_it_matters,
            "impact_score": self.impact_score,
        }
        return {name: value for name, value in values.items() if value not in ("", None)}


@dataclass(frozen=True)
class DemoCorrection:
    """A correction, update or editor's note, made ``hours`` ago."""

    kind: str
    text: str
    hours: int


@dataclass(frozen=True)
class DemoPicture:
    """A picture drawn for the demo (``demo_pictures.draw``): its hero image, or one in
    its body after paragraph ``after``."""

    scene: str
    alt: str
    caption: str = ""
    credit: str = ""
    after: int = 0


@dataclass(frozen=True)
class DemoArticle:
    slug: str
    title: str
    standfirst: str
    body: str  # in the file's light markup: render_body() makes it HTML
    why_it_matters: str
    impact_score: int
    topics: tuple[str, ...]
    authors: tuple[str, ...]  # the byline, in order
    state: State = "published"
    hours: int = 0
    related: tuple[DemoLink, ...] = field(default=())
    pending: DemoPending | None = None
    corrections: tuple[DemoCorrection, ...] = field(default=())
    # Old addresses that lead to the story.
    old_slugs: tuple[str, ...] = field(default=())
    hero: DemoPicture | None = None
    pictures: tuple[DemoPicture, ...] = field(default=())


@dataclass(frozen=True)
class DemoAccount:
    """A demo login: a staff user in ``groups``, introduced as ``role``."""

    role: str
    username: str
    password: str
    groups: tuple[str, ...]


@dataclass(frozen=True)
class DemoContent:
    topics: tuple[DemoTopic, ...]
    authors: tuple[DemoAuthor, ...]
    articles: tuple[DemoArticle, ...]  # newest first
    lead: str  # the slug of the story the command names when it is done
    accounts: tuple[DemoAccount, ...]  # the editor first

    @property
    def editor_username(self) -> str:
        """The demo editor's, who saves the demo's drafts of changes."""
        return self.accounts[0].username

    @property
    def editor_password(self) -> str:
        return self.accounts[0].password


def squash(text: str) -> str:
    """One line of text from a wrapped one."""
    return " ".join(text.split())


def render_body(text: str) -> str:
    """HTML for a body written in the light markup: paragraphs apart by a blank line,
    ``## `` starting a subheading, ``> `` a pull quote."""
    html = []
    for block in text.strip().split("\n\n"):
        line = squash(block)
        if line.startswith("## "):
            html.append(f"<h2>{escape(line[3:], quote=False)}</h2>")
        elif line.startswith("> "):
            html.append(f"<blockquote><p>{escape(line[2:], quote=False)}</p></blockquote>")
        elif line:
            html.append(f"<p>{escape(line, quote=False)}</p>")
    return "".join(html)


def _squashed(table: dict, *, keep: tuple[str, ...] = ()) -> dict:
    return {
        key: squash(value) if isinstance(value, str) and key not in keep else value
        for key, value in table.items()
    }


def _article(table: dict) -> DemoArticle:
    table = _squashed(table, keep=("body",))
    return DemoArticle(
        **{
            **table,
            "topics": tuple(table["topics"]),
            "authors": tuple(table["authors"]),
            "related": tuple(DemoLink(**_squashed(link)) for link in table.get("related", ())),
            "pending": DemoPending(**_squashed(table["pending"], keep=("body",)))
            if "pending" in table
            else None,
            "corrections": tuple(
                DemoCorrection(**_squashed(note)) for note in table.get("corrections", ())
            ),
            "old_slugs": tuple(table.get("old_slugs", ())),
            "hero": DemoPicture(**_squashed(table["hero"])) if "hero" in table else None,
            "pictures": tuple(
                DemoPicture(**_squashed(picture)) for picture in table.get("pictures", ())
            ),
        }
    )


@functools.cache
def load(path: Path = CONTENT) -> DemoContent:
    with path.open("rb") as file:
        data = tomllib.load(file)
    return DemoContent(
        topics=tuple(DemoTopic(**_squashed(table)) for table in data["topics"]),
        authors=tuple(DemoAuthor(**_squashed(table)) for table in data["authors"]),
        articles=tuple(_article(table) for table in data["articles"]),
        lead=data["lead"],
        accounts=tuple(
            DemoAccount(**(table | {"groups": tuple(table["groups"])}))
            for table in data["accounts"]
        ),
    )
