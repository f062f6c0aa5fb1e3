"""Releases and the page cache: a deploy never serves the pages the previous release
rendered, with no one running a command (newsroom/pagecache/release.py)."""

import os
import shutil

import pytest
from django.test import Client

from newsroom.pagecache.release import release_id
from tests.factories import ArticleFactory
from tests.services import manage

pytestmark = pytest.mark.django_db

MARK = "<p>rendered-by-the-next-release</p>"


@pytest.fixture
def releases(settings, tmp_path):
    """Switch this process between the release as shipped and a next one whose article
    template differs, as a process of either release would start."""
    shipped = settings.TEMPLATES
    templates = tmp_path / "templates"
    shutil.copytree(settings.BASE_DIR / "templates", templates)
    detail = templates / "articles" / "article_detail.html"
    detail.write_text(
        detail.read_text().replace("{% block content %}", "{% block content %}" + MARK, 1)
    )
    changed = [{**shipped[0], "DIRS": [templates]}]

    def start(release: str) -> str:
        settings.TEMPLATES = {"shipped": shipped, "next": changed}[release]
        release_id.cache_clear()  # worked out anew, as at a process's start
        return release_id()

    yield start
    release_id.cache_clear()


def test_a_page_stored_by_one_release_is_not_served_by_the_next(releases):
    article = ArticleFactory(title="Harbour reopens")
    path = article.get_absolute_url()
    anonymous = Client()
    shipped = releases("shipped")
    assert anonymous.get(path)["X-Page-Cache"] == "miss"
    assert anonymous.get(path)["X-Page-Cache"] == "hit"

    assert releases("next") != shipped
    response = anonymous.get(path)

    assert response["X-Page-Cache"] == "miss"
    assert MARK.encode() in response.content
    assert anonymous.get(path)["X-Page-Cache"] == "hit"
    # During a rolling deploy the previous release's processes keep serving their own.
    releases("shipped")
    previous = anonymous.get(path)
    assert previous["X-Page-Cache"] == "hit"
    assert MARK.encode() not in previous.content


def test_an_edit_during_a_rolling_deploy_reaches_both_releases(
    releases, django_capture_on_commit_callbacks
):
    article = ArticleFactory(title="Ferry fares frozen")
    path = article.get_absolute_url()
    anonymous = Client()
    for release in ("shipped", "next"):
        releases(release)
        anonymous.get(path)
        assert anonymous.get(path)["X-Page-Cache"] == "hit"

    article.title = "Ferry fares rise"
    with django_capture_on_commit_callbacks(execute=True):
        article.save()

    for release in ("shipped", "next"):
        releases(release)
        response = anonymous.get(path)
        assert response["X-Page-Cache"] == "miss"
        assert b"Ferry fares rise" in response.content


def test_release_id_names_the_release_when_set(settings, releases):
    article = ArticleFactory()
    anonymous = Client()
    releases("shipped")
    anonymous.get(article.get_absolute_url())

    settings.RELEASE_ID = "2026-12-02.1"
    assert releases("shipped") == "2026-12-02.1"
    assert anonymous.get(article.get_absolute_url())["X-Page-Cache"] == "miss"


def test_every_process_of_a_release_names_it_alike(releases):
    """Web processes share stored pages only if each works out the same id."""
    here = releases("shipped")

    there = manage(
        "shell",
        "-c",
        "from newsroom.pagecache.release import release_id; print(release_id())",
        env=dict(os.environ),
    )

    assert there.split()[-1] == here  # after the shell's own line about its imports
