"""Readers and editors see a time in one format, in the site's time zone, naming it."""

import datetime

import pytest

from tests.factories import ArticleFactory, MessageFactory

pytestmark = pytest.mark.django_db

WINTER = datetime.datetime(2025, 12, 2, 14, 5, tzinfo=datetime.UTC)
SUMMER = datetime.datetime(2025, 7, 1, 13, 5, tzinfo=datetime.UTC)


@pytest.mark.parametrize(
    ("moment", "shown"),
    [(WINTER, "2 Dec 2025, 14:05 GMT"), (SUMMER, "1 Jul 2025, 14:05 BST")],
)
def test_the_article_page_and_the_admin_lists_show_a_time_alike(
    client, editor_client, moment, shown
):
    ArticleFactory(slug="story", publish_at=moment)
    MessageFactory(received_at=moment)

    page = client.get("/articles/story/").content.decode()
    articles = editor_client.get("/admin/articles/article/").content.decode()
    inbox = editor_client.get("/admin/contact/message/").content.decode()

    assert f">{shown}</time>" in page
    assert f">{shown}</td>" in articles
    assert f">{shown}</td>" in inbox


def test_a_scheduled_story_preview_names_its_time_the_same_way(editor_client):
    ArticleFactory(
        slug="soon", publish_at=datetime.datetime(2099, 1, 5, 9, 30, tzinfo=datetime.UTC)
    )

    page = editor_client.get("/articles/soon/").content.decode()

    assert "This story is scheduled for" in page
    assert ">5 Jan 2099, 09:30 GMT</time>" in page


def test_cards_show_the_date_of_the_same_format(client):
    ArticleFactory(publish_at=WINTER)

    home = client.get("/").content.decode()

    assert ">2 Dec 2025</time>" in home


def test_the_zone_is_the_sites(client, settings):
    settings.TIME_ZONE = "America/New_York"
    ArticleFactory(slug="story", publish_at=WINTER)

    assert ">2 Dec 2025, 09:05 EST</time>" in client.get("/articles/story/").content.decode()
