import datetime as dt
import xml.etree.ElementTree as ET
from email.utils import parsedate_to_datetime

import pytest
import time_machine
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from articles import services
from articles.models import Article
from tests.factories import ArticleFactory, AuthorFactory, TopicFactory

pytestmark = pytest.mark.django_db

SITE_URL = "https://news.example.org"


@pytest.fixture(autouse=True)
def _site_url(settings):
    settings.SITE_URL = SITE_URL


DC_CREATOR = "{http://purl.org/dc/elements/1.1/}creator"


def feed_items(client, path="/feed/"):
    response = client.get(path)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/rss+xml")
    root = ET.fromstring(response.content)  # noqa: S314 - our own response, not untrusted input
    assert root.tag == "rss" and root.get("version") == "2.0"
    return root.find("channel"), root.find("channel").findall("item")


def test_feed_is_rss_with_public_stories_newest_first(client):
    now = timezone.now()
    older = ArticleFactory(title="Older", publish_at=now - dt.timedelta(days=1))
    newer = ArticleFactory(
        title="Newer & <better>",
        standfirst="Summary with <b>angle</b> brackets & ampersands.",
        publish_at=now - dt.timedelta(hours=1),
    )
    ArticleFactory(title="Draft", status=Article.Status.DRAFT, publish_at=None)
    ArticleFactory(title="Scheduled", publish_at=now + dt.timedelta(hours=1))
    ArticleFactory(title="Withdrawn", status=Article.Status.WITHDRAWN, publish_at=now)

    channel, items = feed_items(client)

    assert channel.findtext("title") == "Newsroom"
    assert channel.findtext("link") == f"{SITE_URL}/"
    assert [item.findtext("title") for item in items] == ["Newer & <better>", "Older"]
    first = items[0]
    assert first.findtext("description") == "Summary with <b>angle</b> brackets & ampersands."
    assert first.findtext("link") == f"{SITE_URL}/articles/{newer.slug}/"
    assert first.findtext("guid") == f"{SITE_URL}/articles/{newer.slug}/"
    assert parsedate_to_datetime(first.findtext("pubDate")) == newer.publish_at.replace(
        microsecond=0
    )
    assert items[1].findtext("link") == f"{SITE_URL}/articles/{older.slug}/"


def test_feed_self_link_uses_site_url_not_the_request_host(client):
    ArticleFactory()
    channel, _ = feed_items(client)
    self_link = channel.find("{http://www.w3.org/2005/Atom}link")
    assert self_link.get("href") == f"{SITE_URL}/feed/"
    assert b"testserver" not in client.get("/feed/").content


def test_feed_holds_the_latest_twenty(client):
    now = timezone.now()
    stories = [ArticleFactory(publish_at=now - dt.timedelta(minutes=i)) for i in range(22)]

    _, items = feed_items(client)

    assert [item.findtext("title") for item in items] == [story.title for story in stories[:20]]


def test_empty_feed_is_still_valid(client):
    _, items = feed_items(client)
    assert items == []


def test_feed_links_keep_a_path_in_site_url(client, settings):
    settings.SITE_URL = "https://example.org/news"
    story = ArticleFactory(slug="story")
    _, items = feed_items(client)
    assert items[0].findtext("link") == f"https://example.org/news{story.get_absolute_url()}"


def test_an_items_updated_time_is_its_latest_correction(client):
    published = timezone.now().replace(microsecond=0) - dt.timedelta(days=3)
    corrected = published + dt.timedelta(days=2)
    with time_machine.travel(published, tick=False):
        story = ArticleFactory(title="Corrected", publish_at=published)
        ArticleFactory(title="Untouched", publish_at=published - dt.timedelta(hours=1))
    with time_machine.travel(corrected, tick=False):
        services.correction_add(article=story, text="A name was misspelt.", user=None)

    channel, items = feed_items(client)

    updated = {
        item.findtext("title"): parse_datetime(
            item.findtext("{http://www.w3.org/2005/Atom}updated")
        )
        for item in items
    }
    assert updated == {"Corrected": corrected, "Untouched": published}
    assert parsedate_to_datetime(channel.findtext("lastBuildDate")) == corrected


def test_an_items_author_is_its_byline_in_order(client):
    ArticleFactory(
        title="Two authors",
        authors=[AuthorFactory(name="Ada Okonkwo"), AuthorFactory(name="Ben Hale")],
    )
    ArticleFactory(title="No author", authors=[])

    _, items = feed_items(client)

    creators = {item.findtext("title"): item.findtext(DC_CREATOR) for item in items}
    assert creators == {"Two authors": "Ada Okonkwo and Ben Hale", "No author": None}


# Per-topic and per-author feeds


def test_a_topic_feed_lists_that_topics_public_stories(client):
    climate = TopicFactory(name="Climate", slug="climate")
    now = timezone.now()
    older = ArticleFactory(title="Older", topics=[climate], publish_at=now - dt.timedelta(days=1))
    newer = ArticleFactory(title="Newer", topics=[climate, TopicFactory()])
    ArticleFactory(title="Elsewhere")
    ArticleFactory(title="Draft", topics=[climate], status=Article.Status.DRAFT, publish_at=None)

    channel, items = feed_items(client, "/topics/climate/feed/")

    assert [item.findtext("title") for item in items] == [newer.title, older.title]
    assert channel.findtext("title") == "Climate | Newsroom"
    assert channel.findtext("link") == f"{SITE_URL}/topics/climate/"
    self_link = channel.find("{http://www.w3.org/2005/Atom}link")
    assert self_link.get("href") == f"{SITE_URL}/topics/climate/feed/"


def test_an_author_feed_lists_the_stories_they_wrote_or_co_wrote(client):
    ada = AuthorFactory(name="Ada Okonkwo", slug="ada-okonkwo")
    now = timezone.now()
    alone = ArticleFactory(title="Alone", authors=[ada], publish_at=now - dt.timedelta(days=1))
    shared = ArticleFactory(title="Shared", authors=[AuthorFactory(name="Ben Hale"), ada])
    ArticleFactory(title="Someone else's")
    ArticleFactory(title="Scheduled", authors=[ada], publish_at=now + dt.timedelta(hours=1))

    channel, items = feed_items(client, "/authors/ada-okonkwo/feed/")

    assert [item.findtext("title") for item in items] == [shared.title, alone.title]
    assert [item.findtext(DC_CREATOR) for item in items] == [
        "Ben Hale and Ada Okonkwo",
        "Ada Okonkwo",
    ]
    assert channel.findtext("title") == "Ada Okonkwo | Newsroom"
    assert channel.findtext("link") == f"{SITE_URL}/authors/ada-okonkwo/"


def test_unknown_topic_feed_is_404(client):
    assert client.get("/topics/no-such-topic/feed/").status_code == 404


def test_the_topic_page_names_its_feed_for_feed_readers(client):
    climate = TopicFactory(name="Climate", slug="climate")

    content = client.get(climate.get_absolute_url()).text

    assert (
        '<link rel="alternate" type="application/rss+xml" title="Climate | Newsroom" '
        f'href="{SITE_URL}/topics/climate/feed/">'
    ) in content
