"""What an article page tells search engines and link previews: JSON-LD and Twitter cards.

The JSON-LD is checked against schema.org's vocabulary: every ``@type`` and property
name must be a schema.org term, used on a type it belongs to, with a value of a type
it allows (``schemaorg_vocabulary.json``: the terms the page uses, copied from
schema.org's published vocabulary).
"""

import datetime as dt
import json
import re
from pathlib import Path

import pytest
import time_machine
from django.contrib.staticfiles import finders
from django.utils import timezone

from articles import services
from articles.models import Article
from tests.articles.views.pages import SITE_URL, head_of, not_public
from tests.factories import ArticleFactory, AuthorFactory

pytestmark = pytest.mark.django_db

VOCABULARY = json.loads((Path(__file__).parents[1] / "schemaorg_vocabulary.json").read_text())
LD_JSON = re.compile(r'<script type="application/ld\+json">(.*?)</script>', re.DOTALL)
ISO_DATE_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?([+-]\d\d:\d\d|Z)$")


def structured_data(response) -> list[dict]:
    return [json.loads(found) for found in LD_JSON.findall(response.content.decode())]


def ancestors(name: str, table: dict) -> list[str]:
    """``name`` and the types it is a subtype of, up to the top."""
    found = []
    while name is not None:
        found.append(name)
        name = table[name]
    return found


def literal_types(value) -> set[str]:
    """The schema.org data types a JSON literal can stand for."""
    if isinstance(value, bool):
        return {"Boolean"}
    if isinstance(value, str):
        kinds = {"Text"}
        if re.match(r"https?://", value):
            kinds.add("URL")
        if ISO_DATE_TIME.match(value):
            kinds.add("DateTime")
        return kinds
    return set()


def vocabulary_errors(node: dict, path: str = "$") -> list[str]:
    """What in ``node`` (a JSON-LD node, and the nodes in it) schema.org does not define."""
    errors = []
    types, properties = VOCABULARY["types"], VOCABULARY["properties"]
    kind = node.get("@type")
    if kind not in types:
        return [f"{path}: @type {kind!r} is not a schema.org type we know"]
    lineage = ancestors(kind, types)
    for name, value in node.items():
        if name.startswith("@"):
            continue
        term = properties.get(name)
        if term is None:
            errors.append(f"{path}.{name}: not a schema.org property we know")
            continue
        if not set(term["domain"]) & set(lineage):
            errors.append(f"{path}.{name}: not a property of {kind} ({lineage})")
        for index, item in enumerate(value if isinstance(value, list) else [value]):
            where = f"{path}.{name}[{index}]"
            if isinstance(item, dict):
                if "@type" not in item:
                    errors.append(f"{where}: a node without @type")
                    continue
                errors += vocabulary_errors(item, where)
                if item["@type"] in types and not set(term["range"]) & set(
                    ancestors(item["@type"], types)
                ):
                    errors.append(f"{where}: a {item['@type']} is not a value of {name}")
            elif not literal_types(item) & set(term["range"]) and not any(
                parent in term["range"]
                for kind_ in literal_types(item)
                for parent in ancestors(kind_, VOCABULARY["data_types"])
            ):
                errors.append(f"{where}: {item!r} is not a value of {name} ({term['range']})")
    return errors


def test_the_vocabulary_check_refuses_what_schema_org_does_not_define():
    assert vocabulary_errors({"@type": "NewsArticle", "headline": "A", "isFree": True})
    assert vocabulary_errors({"@type": "NewsStory", "headline": "A"})
    assert vocabulary_errors({"@type": "Person", "headline": "A"})  # not a Person's property
    assert vocabulary_errors({"@type": "NewsArticle", "author": {"@type": "WebPage"}})
    assert vocabulary_errors({"@type": "NewsArticle", "isAccessibleForFree": "yes"})
    assert not vocabulary_errors(
        {"@type": "NewsArticle", "headline": "A", "author": [{"@type": "Person", "name": "B"}]}
    )


def test_an_article_page_carries_a_news_article(client, settings):
    settings.SITE_NAME = "The Valley Courier"
    author = AuthorFactory(name="Ada Brennan", slug="ada-brennan")
    published = timezone.now() - dt.timedelta(days=2)
    article = ArticleFactory(
        title="Floods reshape the river valley",
        slug="floods",
        standfirst="The river moved its bed overnight.",
        seo_description="How one night of rain moved a river.",
        authors=[author, AuthorFactory(name="Tomás Ruiz", slug="tomas-ruiz")],
        publish_at=published,
        hero_image="articles/2026/03/river.jpg",
        hero_image_alt="The river over its banks",
    )

    response = client.get("/articles/floods/")

    [data] = structured_data(response)
    assert data["@context"] == "https://schema.org"
    assert data["@type"] == "NewsArticle"
    assert data["headline"] == "Floods reshape the river valley"
    assert data["description"] == "How one night of rain moved a river."
    assert data["image"] == [f"{SITE_URL}/media/articles/2026/03/river.jpg"]
    assert dt.datetime.fromisoformat(data["datePublished"]) == published
    assert dt.datetime.fromisoformat(data["dateModified"]) == article.modified_at
    assert data["author"] == [
        {"@type": "Person", "name": "Ada Brennan", "url": f"{SITE_URL}/authors/ada-brennan/"},
        {"@type": "Person", "name": "Tomás Ruiz", "url": f"{SITE_URL}/authors/tomas-ruiz/"},
    ]
    assert data["publisher"]["@type"] == "Organization"
    assert data["publisher"]["name"] == "The Valley Courier"
    assert data["publisher"]["logo"]["@type"] == "ImageObject"
    assert data["publisher"]["logo"]["url"].startswith(f"{SITE_URL}/static/")
    logo = data["publisher"]["logo"]["url"].removeprefix(f"{SITE_URL}/static/")
    assert finders.find(logo) is not None
    assert data["mainEntityOfPage"] == {"@type": "WebPage", "@id": f"{SITE_URL}/articles/floods/"}
    assert data["isAccessibleForFree"] is True
    assert vocabulary_errors(data) == []


def test_a_story_without_byline_or_image_still_validates(client):
    ArticleFactory(slug="plain", authors=[])

    [data] = structured_data(client.get("/articles/plain/"))

    assert "author" not in data
    # The picture link previews show for it: the site's own.
    assert data["image"] == [f"{SITE_URL}/static/articles/share.png"]
    assert vocabulary_errors(data) == []


def test_date_modified_follows_a_correction_and_the_stored_page_is_refreshed(
    client, django_capture_on_commit_callbacks
):
    published = timezone.now() - dt.timedelta(days=3)
    with time_machine.travel(published, tick=False):
        article = ArticleFactory(slug="corrected", publish_at=published)
    first = client.get("/articles/corrected/")
    assert client.get("/articles/corrected/")["X-Page-Cache"] == "hit"
    assert structured_data(first) == structured_data(client.get("/articles/corrected/"))

    corrected = timezone.now() - dt.timedelta(minutes=5)
    with django_capture_on_commit_callbacks(execute=True):  # the commit purges the page
        services.correction_add(
            article=article, text="A date was wrong.", posted_at=corrected, user=None
        )

    [before] = structured_data(first)
    [data] = structured_data(client.get("/articles/corrected/"))
    assert dt.datetime.fromisoformat(before["dateModified"]) < published + dt.timedelta(minutes=1)
    assert dt.datetime.fromisoformat(data["dateModified"]) >= corrected
    assert dt.datetime.fromisoformat(data["dateModified"]) == (
        Article.objects.get(pk=article.pk).modified_at
    )
    assert (
        head_of(client.get("/articles/corrected/")).meta["article:modified_time"]
        == (data["dateModified"])
    )


def test_a_headline_cannot_break_out_of_the_script(client):
    title = 'Ends </script><script>alert("x")</script> & <!-- here'
    ArticleFactory(slug="tricky", title=title, standfirst="A </SCRIPT> standfirst.")

    content = client.get("/articles/tricky/").content.decode()

    [data] = structured_data(client.get("/articles/tricky/"))
    assert data["headline"] == title
    assert data["description"] == "A </SCRIPT> standfirst."
    assert "<script>alert" not in content
    assert content.count("<script") == content.count("</script>")


@pytest.mark.parametrize("kind", ["draft", "scheduled"])
def test_previews_carry_no_structured_data(staff_client, kind):
    ArticleFactory(slug="not-yet", **not_public(kind))

    response = staff_client.get("/articles/not-yet/")

    assert response.status_code == 200
    assert structured_data(response) == []


def test_twitter_card_with_an_image(client):
    ArticleFactory(
        slug="pictured",
        title="Bridge reopens",
        seo_description="Traffic is back.",
        hero_image="articles/2026/03/bridge.jpg",
        hero_image_alt="The bridge at dawn",
    )

    meta = head_of(client.get("/articles/pictured/")).meta

    assert meta["twitter:card"] == "summary_large_image"
    assert meta["twitter:title"] == "Bridge reopens"
    assert meta["twitter:description"] == "Traffic is back."
    assert meta["twitter:image"] == f"{SITE_URL}/media/articles/2026/03/bridge.jpg"
    assert meta["twitter:image:alt"] == "The bridge at dawn"
    assert meta["og:image:alt"] == "The bridge at dawn"


def test_twitter_card_without_an_image(client):
    ArticleFactory(slug="words-only", title="Council votes", seo_description="It passed.")

    meta = head_of(client.get("/articles/words-only/")).meta
    home = head_of(client.get("/")).meta

    # A small card, with the site's own picture.
    assert meta["twitter:card"] == "summary"
    assert meta["twitter:title"] == "Council votes"
    assert meta["twitter:description"] == "It passed."
    assert meta["twitter:image"] == f"{SITE_URL}/static/articles/share.png"
    assert home["twitter:card"] == "summary"
