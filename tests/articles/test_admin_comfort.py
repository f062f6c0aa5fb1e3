"""The article admin as editors work in it: related links in a dragged order, suggested
stories to add, and a confirmation page before bulk actions change what readers see."""

import datetime as dt
import re

import pytest
from django.utils import timezone

from articles import selectors
from articles.models import Article, RelatedLink
from tests.articles.test_admin import (
    CHANGELIST,
    article_form,
    change_url,
    existing_link_rows,
    link_rows,
    messages_of,
)
from tests.factories import ArticleFactory, RelatedLinkFactory, TopicFactory

pytestmark = pytest.mark.django_db


def related_slugs(client, article) -> list[str]:
    html = client.get(article.get_absolute_url()).content.decode()
    section = html.split('class="related-content', 1)[1].split("</section>", 1)[0]
    return re.findall(r'href="/articles/([^/]+)/"', section)


# Related links in the order they are dragged to


def test_the_links_position_is_out_of_sight_and_each_saved_link_is_draggable(editor_client):
    story = ArticleFactory()
    RelatedLinkFactory(article=story, position=1)

    html = editor_client.get(change_url(story)).content.decode()

    group = html.split('id="related_links-group"', 1)[1].split('id="corrections-group"', 1)[0]
    assert re.search(r'<fieldset class="module[^"]*\bsortable\b', group)
    assert re.search(r'<input type="hidden" name="related_links-0-position"[^>]*_reorder_', group)
    assert 'type="number"' not in group
    assert "adminsortable2/js/adminsortable2" in html


def test_saving_the_dragged_order_puts_the_cards_in_that_order(
    chief_editor_client, client, django_capture_on_commit_callbacks
):
    story = ArticleFactory()
    targets = [ArticleFactory(slug=f"target-{n}") for n in range(3)]
    for position, target in enumerate(targets, start=1):
        RelatedLinkFactory(article=story, target_article=target, position=position)
    assert related_slugs(client, story) == ["target-0", "target-1", "target-2"]
    rows = existing_link_rows(story)
    # The script numbers the rows 1, 2, 3… in the order they were dropped in.
    for row, position in zip(rows, (3, 1, 2), strict=True):
        row["position"] = position

    with django_capture_on_commit_callbacks(execute=True):
        response = chief_editor_client.post(
            change_url(story), {**article_form(story), **link_rows(rows, initial=3)}
        )

    assert response.status_code == 302, messages_of(response)
    assert related_slugs(client, story) == ["target-1", "target-2", "target-0"]


def test_a_reordering_is_not_part_of_a_draft_of_changes(chief_editor_client):
    story = ArticleFactory()
    for position in (1, 2):
        RelatedLinkFactory(article=story, position=position)
    rows = existing_link_rows(story)
    rows[0]["position"], rows[1]["position"] = 2, 1

    response = chief_editor_client.post(
        change_url(story),
        {**article_form(story, _save_pending="x"), **link_rows(rows, initial=2)},
    )

    assert response.status_code == 200
    assert "Related links are not part of a draft of changes" in response.content.decode()
    assert list(story.related_links.values_list("position", flat=True)) == [1, 2]


def test_links_dropped_back_in_their_order_are_no_change_to_refuse(editor_client):
    # Dragged away and dropped back: the script numbers the same order anew.
    story = ArticleFactory()
    for position in (1, 2):
        RelatedLinkFactory(article=story, position=position)
    rows = existing_link_rows(story)
    rows[0]["position"], rows[1]["position"] = 5, 6

    response = editor_client.post(
        change_url(story),
        {
            **article_form(story, title="A sharper headline", _save_pending="x"),
            **link_rows(rows, initial=2),
        },
    )

    assert response.status_code == 302, messages_of(response)
    story.refresh_from_db()
    assert story.pending_edit.title == "A sharper headline"
    assert list(story.related_links.values_list("position", flat=True)) == [1, 2]


def test_an_editor_who_may_not_publish_cannot_reorder_a_live_storys_links(editor_client):
    story = ArticleFactory()
    for position in (1, 2):
        RelatedLinkFactory(article=story, position=position)
    rows = existing_link_rows(story)
    rows[0]["position"], rows[1]["position"] = 2, 1

    response = editor_client.post(
        change_url(story), {**article_form(story), **link_rows(rows, initial=2)}
    )

    assert response.status_code == 200
    assert "Readers would see these changes to the related links" in response.content.decode()
    assert list(story.related_links.values_list("position", flat=True)) == [1, 2]


# Suggested related stories


def test_the_form_lists_the_suggestions_readers_would_see_minus_the_linked_ones(editor_client):
    topic = TopicFactory()
    now = timezone.now()
    story = ArticleFactory(title="The story", topics=[topic])
    linked = ArticleFactory(title="Already linked", topics=[topic], impact_score=100)
    RelatedLinkFactory(article=story, target_article=linked)
    fresh = ArticleFactory(title="Fresh and big", topics=[topic], impact_score=90)
    older = ArticleFactory(
        title="Older and small",
        topics=[topic],
        impact_score=10,
        publish_at=now - dt.timedelta(days=9),
    )
    ArticleFactory(title="A draft", topics=[topic], status=Article.Status.DRAFT, publish_at=None)

    html = editor_client.get(change_url(story)).content.decode()

    listed = html.split('class="suggested-related"', 1)[1].split("</ul>", 1)[0]
    assert re.findall(r'data-article-id="(\d+)"><span>', listed) == [str(fresh.pk), str(older.pk)]
    assert "Already linked" not in listed
    assert "A draft" not in listed
    assert "The story<" not in listed
    assert listed.count(">Add as related</button>") == 2
    # The same scoring as the reader's page: the public page suggests them in this order.
    RelatedLink.objects.filter(article=story).delete()
    cards = selectors.article_page(slug=story.slug, reader=None).cards
    assert [card.article_id for card in cards if card.is_suggested] == [
        linked.pk,
        fresh.pk,
        older.pk,
    ]


def test_a_new_story_has_no_suggestions_yet(editor_client):
    html = editor_client.get("/admin/articles/article/add/").content.decode()

    assert "suggested-related" not in html
    assert "Suggested related stories" not in html


def test_a_story_without_topics_sharing_stories_says_so(editor_client):
    story = ArticleFactory()

    html = editor_client.get(change_url(story)).content.decode()

    assert "None: no other live story shares its topics." in html


def test_adding_a_suggestion_is_saving_a_related_link_with_the_inlines_rules(editor_client):
    # "Add as related" fills a related-link row; the save is the form's, so an editor who
    # may not publish gets the inline's refusal on a live story, and nothing is written.
    topic = TopicFactory()
    story = ArticleFactory(topics=[topic])
    suggestion = ArticleFactory(topics=[topic])

    response = editor_client.post(
        change_url(story),
        {**article_form(story), **link_rows([{"target_article": suggestion.pk}])},
    )

    assert response.status_code == 200
    assert "Readers would see these changes to the related links" in response.content.decode()
    assert not story.related_links.exists()


# Confirming bulk actions


@pytest.mark.parametrize("action", ["publish_now", "redate"])
def test_publishing_in_bulk_asks_first_and_changes_nothing_until_confirmed(
    chief_editor_client, action
):
    drafts = [
        ArticleFactory(title=f"Draft {n}", status=Article.Status.DRAFT, publish_at=None)
        for n in range(2)
    ]
    selected = [draft.pk for draft in drafts]

    asked = chief_editor_client.post(CHANGELIST, {"action": action, "_selected_action": selected})

    html = asked.content.decode()
    assert asked.status_code == 200
    assert "Draft 0" in html and "Draft 1" in html
    for pk in selected:
        assert f'name="_selected_action" value="{pk}"' in html
    assert not Article.objects.published().exists()

    done = chief_editor_client.post(
        CHANGELIST, {"action": action, "_selected_action": selected, "post": "yes"}
    )

    assert done.status_code == 302
    assert Article.objects.published().count() == 2


def test_withdrawing_in_bulk_names_the_live_stories_that_link_to_each(editor_client):
    target = ArticleFactory(title="Fair this weekend")
    lonely = ArticleFactory(title="Nobody links here")
    RelatedLinkFactory(target_article=target, article=ArticleFactory(title="Live linker"))
    RelatedLinkFactory(
        target_article=target,
        article=ArticleFactory(title="Draft linker", status=Article.Status.DRAFT, publish_at=None),
    )

    asked = editor_client.post(
        CHANGELIST, {"action": "withdraw", "_selected_action": [target.pk, lonely.pk]}
    )

    html = asked.content.decode()
    assert asked.status_code == 200
    linkers = html.split(f'data-article-id="{target.pk}"', 1)[1].split(
        f'data-article-id="{lonely.pk}"', 1
    )[0]
    assert "Live linker" in linkers
    assert "(related link)" in linkers
    assert "Draft linker" not in html
    after_lonely = html.split(f'data-article-id="{lonely.pk}"', 1)[1]
    assert "No live story links to it." in after_lonely.split("</li>", 1)[0]
    target.refresh_from_db()
    assert target.is_published()


def test_withdrawing_in_bulk_also_names_the_live_stories_whose_text_links_there(
    editor_client,
):
    target = ArticleFactory(title="Fair this weekend")
    neighbour = ArticleFactory(title="Fair next month")  # id-like prefix of no other
    link = f'<a href="{target.get_absolute_url()}" data-article="{target.pk}">the fair</a>'
    ArticleFactory(title="Text linker", body=f"<p>See {link}.</p>")
    ArticleFactory(
        title="Draft text linker",
        body=f"<p>See {link}.</p>",
        status=Article.Status.DRAFT,
        publish_at=None,
    )

    asked = editor_client.post(
        CHANGELIST, {"action": "withdraw", "_selected_action": [target.pk, neighbour.pk]}
    )

    html = asked.content.decode()
    about_target = html.split(f'data-article-id="{target.pk}"', 1)[1].split("</li>", 1)[0]
    assert "Text linker" in about_target
    assert "(link in the text)" in about_target
    assert "Draft text linker" not in html
    about_neighbour = html.split(f'data-article-id="{neighbour.pk}"', 1)[1].split("</li>", 1)[0]
    assert "No live story links to it." in about_neighbour


def test_no_take_me_back_returns_to_the_list_as_it_was(editor_client):
    story = ArticleFactory()

    asked = editor_client.post(
        f"{CHANGELIST}?status__exact=published",
        {"action": "withdraw", "_selected_action": [story.pk]},
    )

    html = asked.content.decode()
    assert re.search(
        r'<a href="/admin/articles/article/\?status__exact=published" class="button cancel-link">',
        html,
    )
    story.refresh_from_db()
    assert story.is_published()


def test_confirming_keeps_each_refusal_with_its_story(editor_client, settings):
    # An editor may withdraw; a story the service refuses still says why, by its title.
    story = ArticleFactory(title="Live story")
    withdrawn = editor_client.post(
        CHANGELIST, {"action": "withdraw", "_selected_action": [story.pk], "post": "yes"}
    )
    assert "1 article withdrawn." in messages_of(withdrawn)

    settings.ARTICLE_REVIEW_REQUIRED = False
    incomplete = ArticleFactory(
        title="Half written", status=Article.Status.DRAFT, publish_at=None, standfirst=""
    )
    refused = editor_client.post(
        CHANGELIST, {"action": "publish_now", "_selected_action": [incomplete.pk], "post": "yes"}
    )
    assert any(m.startswith("“Half written” was not changed:") for m in messages_of(refused))
