"""Pinning a story to Top stories until a time (``Article.pinned_until``)."""

import datetime as dt
import re

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from articles.cachetags import next_scheduled_change
from articles.models import Article
from tests.articles.test_admin import article_form, change_url, messages_of
from tests.factories import ArticleFactory

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)


def hours_ago(hours: float) -> dt.datetime:
    return NOW - dt.timedelta(hours=hours)


def top_slugs(client) -> list[str]:
    html = client.get("/").content.decode()
    section = html.split('class="top-stories', 1)[1].split("</section>", 1)[0]
    return re.findall(r'class="top-story[^"]*" data-article-slug="([^"]+)"', section)


@time_machine.travel(NOW, tick=False)
def test_a_pinned_story_comes_first_in_top_stories_until_its_pin_ends():
    fresh = ArticleFactory(impact_score=90, publish_at=hours_ago(1))
    quiet = ArticleFactory(impact_score=5, publish_at=hours_ago(30))
    other = ArticleFactory(impact_score=60, publish_at=hours_ago(2))
    assert Article.objects.top_stories() == [fresh, other, quiet]

    quiet.pinned_until = NOW + dt.timedelta(hours=2)
    quiet.save()

    assert Article.objects.top_stories() == [quiet, fresh, other]
    assert Article.objects.top_stories(at=NOW + dt.timedelta(hours=2, seconds=1)) == [
        fresh,
        other,
        quiet,
    ]


@time_machine.travel(NOW, tick=False)
def test_a_pinned_story_older_than_every_candidate_is_still_shown_first():
    pinned = ArticleFactory(
        impact_score=10, publish_at=hours_ago(24 * 30), pinned_until=NOW + dt.timedelta(days=1)
    )
    newest = [ArticleFactory(impact_score=80, publish_at=hours_ago(hours)) for hours in (1, 2, 3)]

    top = Article.objects.top_stories(limit=3, candidates=3)

    assert top[0] == pinned
    assert top[1:] == newest[:2]


@time_machine.travel(NOW, tick=False)
def test_pinned_stories_rank_among_themselves_by_weight_and_never_repeat():
    low = ArticleFactory(impact_score=20, publish_at=hours_ago(1), pinned_until=NOW + HOUR)
    high = ArticleFactory(impact_score=70, publish_at=hours_ago(1), pinned_until=NOW + HOUR)
    plain = ArticleFactory(impact_score=100, publish_at=hours_ago(1))

    assert Article.objects.top_stories() == [high, low, plain]


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize(
    "hidden",
    [
        {"status": Article.Status.DRAFT, "publish_at": None},
        {"status": Article.Status.WITHDRAWN},
        {"publish_at": NOW + HOUR},
        {"unpublish_at": NOW - dt.timedelta(minutes=1), "publish_at": hours_ago(2)},
    ],
    ids=["draft", "withdrawn", "scheduled", "taken-down"],
)
def test_a_pin_never_shows_a_story_that_is_not_public(hidden):
    public = ArticleFactory(impact_score=10, publish_at=hours_ago(1))
    ArticleFactory(**{"impact_score": 99, "pinned_until": NOW + HOUR, **hidden})

    assert Article.objects.top_stories() == [public]


def test_the_home_page_puts_the_pinned_story_first_and_its_stored_copy_ends_with_the_pin():
    anonymous = Client()
    start = timezone.now().replace(microsecond=0)
    ArticleFactory(slug="big", impact_score=95, publish_at=start - HOUR)
    ArticleFactory(
        slug="explainer",
        impact_score=5,
        publish_at=start - 48 * HOUR,
        pinned_until=start + dt.timedelta(seconds=40),
    )

    with time_machine.travel(start, tick=False):
        assert top_slugs(anonymous) == ["explainer", "big"]
        assert anonymous.get("/")["X-Page-Cache"] == "hit"
        assert next_scheduled_change() == (start + dt.timedelta(seconds=40)).timestamp()

    with time_machine.travel(start + dt.timedelta(seconds=41), tick=False):
        assert anonymous.get("/")["X-Page-Cache"] == "miss"
        assert top_slugs(anonymous) == ["big", "explainer"]


def test_a_pin_set_in_the_admin_refreshes_the_stored_home_page(
    chief_editor_client, django_capture_on_commit_callbacks, settings
):
    # An old, quiet story: on no list the home page shows, so none of its own tags is.
    settings.ARTICLES_PER_PAGE = 2
    anonymous = Client()
    # To the second, as the form sends it back: the save changes nothing but the pin.
    long_ago = timezone.now().replace(microsecond=0) - 72 * HOUR
    quiet = ArticleFactory(slug="quiet", impact_score=5, publish_at=long_ago)
    for number in range(6):
        ArticleFactory(slug=f"big-{number}", impact_score=95)
    assert "quiet" not in top_slugs(anonymous)
    assert anonymous.get("/")["X-Page-Cache"] == "hit"
    pin = timezone.localtime(timezone.now() + dt.timedelta(days=1))

    with django_capture_on_commit_callbacks(execute=True):
        response = chief_editor_client.post(
            change_url(quiet),
            article_form(
                quiet,
                pinned_until_0=pin.strftime("%Y-%m-%d"),
                pinned_until_1=pin.strftime("%H:%M:%S"),
            ),
        )

    assert response.status_code == 302, messages_of(response)
    quiet.refresh_from_db()
    assert quiet.pinned_until == pin.replace(microsecond=0)
    assert anonymous.get("/")["X-Page-Cache"] == "miss"
    assert top_slugs(anonymous)[0] == "quiet"


def _pin_fields(moment: dt.datetime) -> dict:
    local = timezone.localtime(moment)
    return {
        "pinned_until_0": local.strftime("%Y-%m-%d"),
        "pinned_until_1": local.strftime("%H:%M:%S"),
    }


def test_an_editor_who_may_not_publish_cannot_pin_a_live_story(editor_client):
    live = ArticleFactory(title="Live story")

    response = editor_client.post(
        change_url(live), article_form(live, **_pin_fields(timezone.now() + HOUR))
    )

    assert response.status_code == 200
    assert "Readers would see this change at once" in response.content.decode()
    live.refresh_from_db()
    assert live.pinned_until is None


def test_an_editor_may_pin_a_draft_and_publishing_it_then_pins_it(editor_client):
    draft = ArticleFactory(status=Article.Status.DRAFT, publish_at=None)

    response = editor_client.post(
        change_url(draft), article_form(draft, **_pin_fields(timezone.now() + HOUR))
    )

    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.pinned_until is not None


def test_with_the_review_step_off_an_editor_pins_a_live_story(editor_client, settings):
    settings.ARTICLE_REVIEW_REQUIRED = False
    live = ArticleFactory()

    response = editor_client.post(
        change_url(live), article_form(live, **_pin_fields(timezone.now() + HOUR))
    )

    assert response.status_code == 302
    live.refresh_from_db()
    assert live.pinned_until is not None


def test_a_pin_that_has_already_ended_is_refused_next_to_the_field_keeping_the_form(
    chief_editor_client,
):
    live = ArticleFactory()

    response = chief_editor_client.post(
        change_url(live),
        article_form(live, title="A headline typed here", **_pin_fields(timezone.now() - HOUR)),
    )

    html = response.content.decode()
    assert response.status_code == 200
    field = html.split("field-pinned_until", 1)[1].split('<div class="form-row', 1)[0]
    assert "This time has already passed" in field
    assert 'value="A headline typed here"' in html
    live.refresh_from_db()
    assert live.pinned_until is None


def test_a_draft_of_changes_does_not_hold_a_pin(chief_editor_client):
    live = ArticleFactory()

    response = chief_editor_client.post(
        change_url(live),
        article_form(live, _save_pending="Save draft", **_pin_fields(timezone.now() + HOUR)),
    )

    assert response.status_code == 200
    field = response.content.decode().split("field-pinned_until", 1)[1]
    assert "is not part of a draft of changes" in field.split('<div class="form-row', 1)[0]


def test_the_pin_field_is_on_the_form_with_its_help(editor_client):
    html = editor_client.get(change_url(ArticleFactory())).content.decode()

    assert 'name="pinned_until_0"' in html
    assert "comes first in Top stories" in html
