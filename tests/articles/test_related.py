import datetime as dt

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from articles import selectors
from articles.models import Article, RelatedLink
from tests.factories import ArticleFactory, RelatedLinkFactory, TopicFactory

pytestmark = pytest.mark.django_db


def cards_of(article):
    # The page's own fetch, so the page's path is the one under test.
    return list(selectors.article_page(slug=article.slug, reader=AnonymousUser()).cards)


def link(article, position, **kwargs):
    return RelatedLinkFactory(article=article, position=position, **kwargs)


def test_curated_cards_keep_the_editors_order():
    article = ArticleFactory()
    third = link(article, 2)
    first = link(article, 0)
    second = link(article, 1)

    cards = cards_of(article)

    assert [card.url for card in cards] == [
        first.target_article.get_absolute_url(),
        second.target_article.get_absolute_url(),
        third.target_article.get_absolute_url(),
    ]
    assert all(not card.is_suggested for card in cards)


def test_equal_positions_keep_the_order_they_were_added_in_even_after_resaving():
    article = ArticleFactory()
    links = [link(article, 0) for _ in range(3)]
    links[0].summary = "Edited later."
    links[0].save()

    assert [card.title for card in cards_of(article)] == [
        link.target_article.title for link in links
    ]


def test_non_public_targets_are_hidden_and_the_rest_keep_their_order():
    article = ArticleFactory()
    shown_first = link(article, 0)
    link(article, 1, target_article=ArticleFactory(status=Article.Status.DRAFT, publish_at=None))
    link(
        article,
        2,
        target_article=ArticleFactory(
            status=Article.Status.WITHDRAWN, publish_at=timezone.now() - dt.timedelta(days=1)
        ),
    )
    scheduled = ArticleFactory(publish_at=timezone.now() + dt.timedelta(days=1))
    link(article, 3, target_article=scheduled)
    shown_second = link(article, 4)
    shown_third = link(article, 5)

    cards = cards_of(article)

    assert [card.title for card in cards] == [
        shown_first.target_article.title,
        shown_second.target_article.title,
        shown_third.target_article.title,
    ]
    assert not any(card.is_suggested for card in cards)


def test_curated_card_shows_the_editors_title_and_summary_over_the_targets():
    article = ArticleFactory()
    link(article, 0, title="Editor's headline", summary="Editor's summary.")
    card = cards_of(article)[0]
    assert (card.title, card.summary) == ("Editor's headline", "Editor's summary.")


def test_external_links_are_shown_and_marked_external():
    article = ArticleFactory()
    RelatedLink.objects.create(
        article=article,
        position=0,
        url="https://example.org/report",
        title="The report",
        summary="Read the full study.",
    )

    card = cards_of(article)[0]

    assert card.is_external and not card.is_suggested
    assert (card.title, card.summary, card.url) == (
        "The report",
        "Read the full study.",
        "https://example.org/report",
    )


def test_an_external_link_that_is_not_a_web_address_is_never_shown():
    article = ArticleFactory()
    bad = RelatedLink.objects.create(
        article=article, position=0, url="https://example.org/", title="Fine for now"
    )
    # Written around validation, as an import could.
    RelatedLink.objects.filter(pk=bad.pk).update(url="javascript:alert(1)")

    assert not any(card.url.startswith("javascript") for card in cards_of(article))


def test_suggestions_fill_up_to_three_after_the_curated_ones():
    topic = TopicFactory()
    article = ArticleFactory(topics=[topic])
    curated = link(article, 0)
    ArticleFactory.create_batch(4, topics=[topic])

    cards = cards_of(article)

    assert len(cards) == 3
    assert cards[0].url == curated.target_article.get_absolute_url() and not cards[0].is_suggested
    assert all(card.is_suggested for card in cards[1:])


def test_no_suggestions_when_three_curated_cards_are_public():
    article = ArticleFactory()
    for position in range(4):
        link(article, position)
    ArticleFactory.create_batch(3)

    cards = cards_of(article)

    assert len(cards) == 4
    assert not any(card.is_suggested for card in cards)


def test_suggestions_are_never_this_story_a_linked_story_a_duplicate_or_not_public():
    topic, other_topic = TopicFactory(), TopicFactory()
    article = ArticleFactory(topics=[topic, other_topic])
    linked = link(article, 0, target_article=ArticleFactory(topics=[topic, other_topic]))
    hidden_target = ArticleFactory(
        status=Article.Status.DRAFT, publish_at=None, topics=[topic, other_topic]
    )
    link(article, 1, target_article=hidden_target)
    ArticleFactory(status=Article.Status.DRAFT, publish_at=None, topics=[topic])
    ArticleFactory(publish_at=timezone.now() + dt.timedelta(hours=1), topics=[topic])
    # Shares two topics: joins would list it twice if the query were careless.
    both = ArticleFactory(topics=[topic, other_topic])
    one = ArticleFactory(topics=[topic])

    urls = [card.url for card in cards_of(article)]

    assert urls == [
        linked.target_article.get_absolute_url(),
        both.get_absolute_url(),
        one.get_absolute_url(),
    ]


def test_suggestions_prefer_shared_topics_over_freshness_and_impact():
    topic = TopicFactory()
    article = ArticleFactory(topics=[topic])
    shares_topic = ArticleFactory(
        topics=[topic], impact_score=10, publish_at=timezone.now() - dt.timedelta(days=30)
    )
    ArticleFactory(impact_score=100)
    ArticleFactory(impact_score=100)

    assert cards_of(article)[0].url == shares_topic.get_absolute_url()


def test_suggestions_without_shared_topics_prefer_fresh_and_high_impact_stories():
    article = ArticleFactory()
    now = timezone.now()
    old_low = ArticleFactory(impact_score=5, publish_at=now - dt.timedelta(days=60))
    fresh_high = ArticleFactory(impact_score=90, publish_at=now - dt.timedelta(hours=2))
    fresh_low = ArticleFactory(impact_score=5, publish_at=now - dt.timedelta(hours=1))

    assert [card.url for card in cards_of(article)] == [
        fresh_high.get_absolute_url(),
        fresh_low.get_absolute_url(),
        old_low.get_absolute_url(),
    ]


def test_a_lone_story_has_no_cards():
    assert cards_of(ArticleFactory()) == []
