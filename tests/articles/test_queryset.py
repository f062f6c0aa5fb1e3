import datetime as dt

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from articles.models import Article
from tests.factories import ArticleFactory

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC)


def hours_ago(hours):
    return NOW - dt.timedelta(hours=hours)


@time_machine.travel(NOW, tick=False)
def test_published_is_public_stories_only():
    public = ArticleFactory(publish_at=hours_ago(1))
    ArticleFactory(status=Article.Status.DRAFT, publish_at=None)
    ArticleFactory(status=Article.Status.WITHDRAWN, publish_at=hours_ago(2))
    ArticleFactory(publish_at=NOW + dt.timedelta(hours=1))

    assert list(Article.objects.published()) == [public]


def test_scheduled_story_becomes_public_by_itself_when_its_time_passes():
    with time_machine.travel(NOW, tick=False):
        story = ArticleFactory(publish_at=NOW + dt.timedelta(minutes=30))
        assert list(Article.objects.scheduled()) == [story]
        assert not Article.objects.published().exists()
        assert story.is_scheduled() and not story.is_published()

    with time_machine.travel(NOW + dt.timedelta(minutes=31), tick=False):
        assert list(Article.objects.published()) == [story]
        assert not Article.objects.scheduled().exists()
        assert story.is_published() and not story.is_scheduled()


def test_published_at_a_given_time():
    story = ArticleFactory(publish_at=NOW)
    assert not Article.objects.published(at=NOW - dt.timedelta(seconds=1)).exists()
    assert list(Article.objects.published(at=NOW)) == [story]


@time_machine.travel(NOW, tick=False)
def test_top_stories_weigh_impact_by_recency():
    fresh_60 = ArticleFactory(impact_score=60, publish_at=hours_ago(1))
    day_old_100 = ArticleFactory(impact_score=100, publish_at=hours_ago(25))
    fresh_20 = ArticleFactory(impact_score=20, publish_at=hours_ago(0))
    week_old_100 = ArticleFactory(impact_score=100, publish_at=hours_ago(24 * 7))

    assert Article.objects.top_stories() == [fresh_60, day_old_100, fresh_20, week_old_100]


@time_machine.travel(NOW, tick=False)
def test_top_stories_equal_weight_puts_newest_first():
    older = ArticleFactory(impact_score=50, publish_at=hours_ago(2))
    newer = ArticleFactory(impact_score=50, publish_at=hours_ago(2))

    assert Article.objects.top_stories() == [newer, older]


@time_machine.travel(NOW, tick=False)
def test_top_stories_leave_out_stories_that_are_not_public():
    public = ArticleFactory(impact_score=10, publish_at=hours_ago(1))
    ArticleFactory(impact_score=100, status=Article.Status.DRAFT, publish_at=None)
    ArticleFactory(impact_score=100, status=Article.Status.WITHDRAWN, publish_at=hours_ago(1))
    ArticleFactory(impact_score=100, publish_at=NOW + dt.timedelta(minutes=5))

    assert Article.objects.top_stories() == [public]


@time_machine.travel(NOW, tick=False)
def test_top_stories_rank_only_the_newest_candidates():
    ArticleFactory(impact_score=100, publish_at=hours_ago(3))
    newest = [ArticleFactory(impact_score=1, publish_at=hours_ago(1)) for _ in range(3)]

    top = Article.objects.top_stories(limit=5, candidates=3)

    assert set(top) == set(newest)


@time_machine.travel(NOW, tick=False)
def test_top_stories_limit():
    for hours in range(8):
        ArticleFactory(publish_at=hours_ago(hours))
    assert len(Article.objects.top_stories(limit=5)) == 5


def test_search_finds_words_in_headline_standfirst_and_body():
    in_title = ArticleFactory(title="Harbour bridge reopens")
    in_standfirst = ArticleFactory(standfirst="Engineers inspected the harbour overnight.")
    in_body = ArticleFactory(body="<p>Boats returned to the harbour at dawn.</p>")
    ArticleFactory(title="Unrelated story")

    found = set(Article.objects.published().search("harbour"))

    assert found == {in_title, in_standfirst, in_body}


def test_search_ranks_a_headline_match_first_on_postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("ranking needs PostgreSQL full-text search")
    ArticleFactory(
        body="<p>The harbour, the harbour, and the harbour again.</p>",
        publish_at=timezone.now() - dt.timedelta(minutes=1),
    )
    headline = ArticleFactory(
        title="Harbour plans", publish_at=timezone.now() - dt.timedelta(days=3)
    )

    assert Article.objects.published().search("harbour").first() == headline


def test_search_uses_stemming_on_postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("stemming needs PostgreSQL full-text search")
    story = ArticleFactory(title="Council votes on flooding plan")

    assert list(Article.objects.published().search("flooded")) == [story]


def test_search_follows_every_write_on_postgresql():
    """The stored vector is kept by the database: updates and bulk loads are found too."""
    if connection.vendor != "postgresql":
        pytest.skip("the stored search vector is PostgreSQL's")
    story = ArticleFactory(title="Council meets", body="<p>Nothing new.</p>")
    Article.objects.filter(pk=story.pk).update(body="<p>The lighthouse will close.</p>")
    bulk = Article.objects.bulk_create(
        [
            Article(
                title="Lighthouse keepers retire",
                slug="keepers",
                standfirst="After forty years.",
                body="<p>x</p>",
                impact_score=10,
                status=Article.Status.PUBLISHED,
                publish_at=timezone.now() - dt.timedelta(hours=2),
            )
        ]
    )

    found = list(Article.objects.published().search("lighthouse"))

    assert found == [bulk[0], story]  # the headline match ranks first
    Article.objects.filter(pk=story.pk).update(body="<p>Nothing about it.</p>")
    assert list(Article.objects.published().search("lighthouse")) == [bulk[0]]


@time_machine.travel(NOW, tick=False)
def test_search_takes_only_the_newest_candidates_then_ranks_them():
    ArticleFactory(title="Harbour history", publish_at=hours_ago(30))
    headline = ArticleFactory(title="Harbour plans", publish_at=hours_ago(2))
    in_body = ArticleFactory(body="<p>Boats left the harbour.</p>", publish_at=hours_ago(1))

    found = list(Article.objects.published().search("harbour", candidates=2))

    if connection.vendor == "postgresql":
        assert found == [headline, in_body]  # the headline match ranks first
    else:
        assert found == [in_body, headline]  # substring fallback: newest first


@time_machine.travel(NOW, tick=False)
def test_older_and_newer_than_split_stories_of_the_same_time_by_id():
    first, middle, last = (ArticleFactory(publish_at=hours_ago(1)) for _ in range(3))
    before = ArticleFactory(publish_at=hours_ago(2))
    after = ArticleFactory(publish_at=hours_ago(0))
    published = Article.objects.published()

    assert list(published.older_than(middle.pk)) == [first, before]
    assert list(published.newer_than(middle.pk)) == [after, last]


@time_machine.travel(NOW, tick=False)
def test_older_and_newer_than_a_story_outside_the_queryset_are_empty():
    ArticleFactory.create_batch(2, publish_at=hours_ago(1))
    draft = ArticleFactory(status=Article.Status.DRAFT, publish_at=None)
    withdrawn = ArticleFactory(status=Article.Status.WITHDRAWN, publish_at=hours_ago(2))
    published = Article.objects.published()

    for pk in (draft.pk, withdrawn.pk, withdrawn.pk + 1000):
        assert not published.older_than(pk).exists()
        assert not published.newer_than(pk).exists()


def test_a_story_leaves_the_public_site_by_itself_at_its_take_down_time():
    with time_machine.travel(NOW, tick=False):
        story = ArticleFactory(publish_at=hours_ago(2), unpublish_at=NOW + dt.timedelta(minutes=30))
        assert list(Article.objects.published()) == [story]
        assert story.is_published() and not story.is_taken_down()
        assert not Article.objects.taken_down().exists()

    with time_machine.travel(NOW + dt.timedelta(minutes=30), tick=False):
        assert not Article.objects.published().exists()
        assert not story.is_published() and story.is_taken_down()
        assert list(Article.objects.taken_down()) == [story]
        assert not Article.objects.top_stories()


def test_published_and_is_published_agree_at_every_moment_around_both_times():
    story = ArticleFactory(publish_at=NOW, unpublish_at=NOW + dt.timedelta(hours=1))
    for minutes in (-1, 0, 1, 59, 60, 61):
        moment = NOW + dt.timedelta(minutes=minutes)
        with time_machine.travel(moment, tick=False):
            assert story.is_published() == Article.objects.published().exists(), minutes
            assert story.is_published() == (0 <= minutes < 60), minutes
