import datetime
import re
from html.parser import HTMLParser

import pytest
import reversion
import time_machine
from django.contrib.messages import get_messages
from django.utils import timezone
from reversion.models import Version

from articles import selectors, services
from articles.models import Article, Redirect, RelatedLink
from tests.factories import ArticleFactory, AuthorFactory, RelatedLinkFactory, TopicFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/articles/article/"
ADD = "/admin/articles/article/add/"


def first_version(article: Article) -> None:
    """Put the story as it is in its History, as its first version (as the demo's are):
    a save from the form that changes nothing records none."""
    with reversion.create_revision():
        reversion.add_to_revision(article)


def change_url(article: Article) -> str:
    return f"/admin/articles/article/{article.pk}/change/"


def link_rows(links: list[dict], *, initial: int = 0) -> dict:
    """The related_links inline's POST data: management form plus one row per dict."""
    data = {
        "related_links-TOTAL_FORMS": str(len(links)),
        "related_links-INITIAL_FORMS": str(initial),
        "related_links-MIN_NUM_FORMS": "0",
        "related_links-MAX_NUM_FORMS": "1000",
    }
    for index, link in enumerate(links):
        for key, value in link.items():
            data[f"related_links-{index}-{key}"] = "" if value is None else str(value)
    return data


def existing_link_rows(article: Article) -> list[dict]:
    return [
        {
            "id": link.pk,
            "article": article.pk,
            "position": link.position,
            "target_article": link.target_article_id,
            "url": link.url,
            "title": link.title,
            "summary": link.summary,
        }
        for link in article.related_links.all()
    ]


def correction_rows(corrections: list[dict], *, initial: int | None = None) -> dict:
    """The corrections inline's POST data; rows with an "id" are the existing ones."""
    data = {
        "corrections-TOTAL_FORMS": str(len(corrections)),
        "corrections-INITIAL_FORMS": str(
            sum(1 for row in corrections if row.get("id")) if initial is None else initial
        ),
        "corrections-MIN_NUM_FORMS": "0",
        "corrections-MAX_NUM_FORMS": "1000",
    }
    for index, row in enumerate(corrections):
        for key, value in row.items():
            data[f"corrections-{index}-{key}"] = "" if value is None else str(value)
    return data


def existing_correction_rows(article: Article) -> list[dict]:
    rows = []
    for correction in article.corrections.all():
        posted = timezone.localtime(correction.posted_at)
        rows.append(
            {
                "id": correction.pk,
                "article": article.pk,
                "kind": correction.kind,
                "posted_at_0": posted.strftime("%Y-%m-%d"),
                "posted_at_1": posted.strftime("%H:%M:%S"),
                "text": correction.text,
            }
        )
    return rows


def byline_rows(bylines: list[dict], *, initial: int | None = None) -> dict:
    """The authors inline's POST data; rows with an "id" are the existing ones."""
    data = {
        "bylines-TOTAL_FORMS": str(len(bylines)),
        "bylines-INITIAL_FORMS": str(
            sum(1 for row in bylines if row.get("id")) if initial is None else initial
        ),
        "bylines-MIN_NUM_FORMS": "0",
        "bylines-MAX_NUM_FORMS": "1000",
    }
    for index, row in enumerate(bylines):
        for key, value in row.items():
            data[f"bylines-{index}-{key}"] = "" if value is None else str(value)
    return data


def existing_byline_rows(article: Article) -> list[dict]:
    return [
        {
            "id": byline.pk,
            "article": article.pk,
            "author": byline.author_id,
            "position": byline.position,
        }
        for byline in article.bylines.all()
    ]


def article_form(article: Article | None = None, *, links=None, **changes) -> dict:
    """The change form's POST data as a browser sends it for ``article`` (or a new one)."""
    article = article or ArticleFactory.build(slug="a-new-story")
    local_publish = timezone.localtime(article.publish_at) if article.publish_at else None
    local_unpublish = timezone.localtime(article.unpublish_at) if article.unpublish_at else None
    local_pin = timezone.localtime(article.pinned_until) if article.pinned_until else None
    existing = existing_link_rows(article) if article.pk else []
    data = {
        "title": article.title,
        "slug": article.slug,
        "standfirst": article.standfirst,
        "body": article.body,
        "why_it_matters": article.why_it_matters,
        "status": article.status,
        "publish_at_0": local_publish.strftime("%Y-%m-%d") if local_publish else "",
        "publish_at_1": local_publish.strftime("%H:%M:%S") if local_publish else "",
        "unpublish_at_0": local_unpublish.strftime("%Y-%m-%d") if local_unpublish else "",
        "unpublish_at_1": local_unpublish.strftime("%H:%M:%S") if local_unpublish else "",
        "pinned_until_0": local_pin.strftime("%Y-%m-%d") if local_pin else "",
        "pinned_until_1": local_pin.strftime("%H:%M:%S") if local_pin else "",
        "impact_score": "" if article.impact_score is None else article.impact_score,
        "seo_description": article.seo_description,
        "hero_image_alt": article.hero_image_alt,
        "hero_image_caption": article.hero_image_caption,
        "hero_image_credit": article.hero_image_credit,
        "_save": "Save",
        **link_rows(existing + list(links or []), initial=len(existing)),
        **correction_rows(existing_correction_rows(article) if article.pk else []),
        **byline_rows(existing_byline_rows(article) if article.pk else []),
    }
    if article.pk:
        data["topics"] = [topic.pk for topic in article.topics.all()]
        data["opened_version"] = article.version
    data.update(changes)
    return data


@pytest.mark.parametrize("query", ["harbour", "Night ferries", "ferry-timetable-2027", "Okonkwo"])
def test_the_list_search_covers_headline_standfirst_slug_and_byline(editor_client, query):
    ArticleFactory(
        title="New harbour timetable",
        standfirst="Night ferries return in spring.",
        slug="ferry-timetable-2027",
        authors=[AuthorFactory(name="Ada Okonkwo")],
    )
    ArticleFactory(title="Budget vote delayed", slug="budget-vote", authors=[])

    listing = editor_client.get(CHANGELIST, {"q": query}).content.decode()

    assert "New harbour timetable" in listing
    assert "Budget vote delayed" not in listing


def test_the_list_filters_by_byline(editor_client):
    ada = AuthorFactory(name="Ada Okonkwo")
    ArticleFactory(title="By Ada", authors=[ada])
    ArticleFactory(title="By Ada and Ben", authors=[AuthorFactory(name="Ben Hale"), ada])
    ArticleFactory(title="By someone else", authors=[AuthorFactory(name="Cy Hale")])

    listing = editor_client.get(CHANGELIST, {"authors__id__exact": ada.pk}).content.decode()

    assert "By Ada" in listing
    assert "By Ada and Ben" in listing, "a second author counts too"
    assert "By someone else" not in listing
    assert "By authors" in editor_client.get(CHANGELIST).content.decode()


def inline_errors(response, prefix: str) -> list:
    """The errors of each row of the inline whose formset has ``prefix``."""
    (formset,) = [
        inline.formset
        for inline in response.context["inline_admin_formsets"]
        if inline.formset.prefix == prefix
    ]
    return formset.errors


def opened_version_in(html: str) -> str:
    return re.search(r'name="opened_version" value="(\d+)"', html).group(1)


class _FormReader(HTMLParser):
    """Collects what a browser would submit from the admin's change form."""

    def __init__(self):
        super().__init__()
        self.data: dict[str, list[str]] = {}
        self._textarea: str | None = None
        self._select: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        name = attrs.get("name")
        if tag == "input" and name and "__prefix__" not in name:
            kind = attrs.get("type", "text")
            if kind in {"checkbox", "radio"} and "checked" not in attrs:
                return
            if kind not in {"submit", "file"}:
                self.data.setdefault(name, []).append(attrs.get("value") or "")
        elif tag == "textarea" and name and "__prefix__" not in name:
            self._textarea = name
            self.data.setdefault(name, []).append("")
        elif tag == "select" and name and "__prefix__" not in name:
            self._select = name
            self.data.setdefault(name, [])
        elif tag == "option" and self._select and "selected" in attrs:
            self.data[self._select].append(attrs.get("value") or "")

    def handle_endtag(self, tag):
        if tag == "textarea":
            self._textarea = None
        elif tag == "select":
            self._select = None

    def handle_data(self, data):
        if self._textarea:
            self.data[self._textarea][-1] += data


def form_data_in(html: str) -> dict:
    reader = _FormReader()
    reader.feed(html)
    # A browser drops the newline that opens a textarea and sends nothing for an empty select.
    data = {
        name: values if len(values) > 1 else values[0].removeprefix("\n")
        for name, values in reader.data.items()
        if values
    }
    data.pop("csrfmiddlewaretoken", None)
    data["_save"] = "Save"
    return data


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


# Saving with related links


def test_a_chief_editor_adds_an_article_with_related_links_in_their_order(chief_editor_client):
    first, second = ArticleFactory(), ArticleFactory()
    data = article_form(
        links=[
            {"position": 1, "target_article": second.pk},
            {"position": 2, "url": "https://example.org/report", "title": "The report"},
            {"position": 3, "target_article": first.pk},
        ],
        topics=[TopicFactory().pk],
    )

    response = chief_editor_client.post(ADD, data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    article = Article.objects.get(slug="a-new-story")
    assert [link.display_title for link in article.related_links.all()] == [
        second.title,
        "The report",
        first.title,
    ]
    assert article.version == 1


def test_saving_keeps_the_editors_order_and_puts_new_rows_last(chief_editor_client):
    article = ArticleFactory()
    targets = [ArticleFactory() for _ in range(3)]
    for position, target in zip([30, 10, 20], targets, strict=True):
        RelatedLinkFactory(article=article, target_article=target, position=position)
    newcomer = ArticleFactory()

    response = chief_editor_client.post(
        change_url(article), article_form(article, links=[{"target_article": newcomer.pk}])
    )

    assert response.status_code == 302
    saved = list(article.related_links.values_list("target_article", "position"))
    assert saved == [
        (targets[1].pk, 10),
        (targets[2].pk, 20),
        (targets[0].pk, 30),
        (newcomer.pk, 31),
    ]


def test_a_new_link_row_starts_without_a_position(editor_client):
    html = editor_client.get(ADD).content.decode()

    # Out of sight: rows are ordered by dragging them (django-admin-sortable2).
    assert re.search(r'<input type="hidden" name="related_links-0-position"(?![^>]*value=)', html)


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        pytest.param(
            [{"url": "https://example.org/a"}], "An external link needs a title", id="no-title"
        ),
        pytest.param(
            [{"title": "Nothing to point at"}],
            "Choose a target article or enter an external URL",
            id="neither",
        ),
        pytest.param(
            [{"target_article": "TARGET", "url": "https://example.org/a", "title": "x"}],
            "not both",
            id="both",
        ),
        pytest.param(
            [{"target_article": "TARGET"}, {"target_article": "TARGET"}],
            "is already in this list of related links",
            id="two-new-rows-same-target",
        ),
        pytest.param(
            [
                {"url": "https://example.org/a", "title": "A"},
                {"url": "https://example.org/a", "title": "A again"},
            ],
            "This URL is already in this list",
            id="two-new-rows-same-url",
        ),
        pytest.param([{"target_article": "SELF"}], "cannot link to itself", id="self-link"),
    ],
)
def test_link_rules_are_form_errors_and_nothing_is_saved(chief_editor_client, rows, message):
    article = ArticleFactory(title="Before")
    target = ArticleFactory()
    substitutes = {"TARGET": target.pk, "SELF": article.pk}
    rows = [{k: substitutes.get(v, v) for k, v in row.items()} for row in rows]

    response = chief_editor_client.post(
        change_url(article), article_form(article, links=rows, title="After")
    )

    assert response.status_code == 200
    assert message in response.content.decode()
    article.refresh_from_db()
    assert article.title == "Before"
    assert not article.related_links.exists()


@pytest.mark.parametrize("score", ["-1", "101"])
def test_impact_score_outside_0_100_gets_a_clear_error(editor_client, score):
    article = ArticleFactory(impact_score=50)

    response = editor_client.post(change_url(article), article_form(article, impact_score=score))

    assert response.status_code == 200
    assert "The impact score is a whole number from 0 to 100." in response.content.decode()
    article.refresh_from_db()
    assert article.impact_score == 50


# What the change form shows


def test_links_to_non_public_targets_are_flagged(editor_client):
    article = ArticleFactory()
    RelatedLinkFactory(article=article, target_article=ArticleFactory(status="draft"))
    RelatedLinkFactory(article=article, target_article=ArticleFactory(status="withdrawn"))
    RelatedLinkFactory(
        article=article,
        target_article=ArticleFactory(publish_at=timezone.now() + datetime.timedelta(days=1)),
    )
    RelatedLinkFactory(article=article, target_article=ArticleFactory())

    html = editor_client.get(change_url(article)).content.decode()

    assert "hidden on the live site: target is a draft" in html
    assert "hidden on the live site: target is withdrawn" in html
    assert "hidden on the live site: target is scheduled" in html
    assert "shown" in html


def test_change_form_lists_the_articles_linking_here(editor_client):
    target = ArticleFactory(status="withdrawn")
    linker = ArticleFactory(title="The linking story")
    RelatedLinkFactory(article=linker, target_article=target)

    html = editor_client.get(change_url(target)).content.decode()

    assert "Linked from" in html
    assert f'<a href="{change_url(linker)}">The linking story</a>' in html
    assert "hidden on the live site: target is withdrawn" in html


def test_live_article_has_view_on_site_and_a_draft_has_preview(editor_client):
    live = ArticleFactory()
    draft = ArticleFactory(status="draft")

    live_html = editor_client.get(change_url(live)).content.decode()
    draft_html = editor_client.get(change_url(draft)).content.decode()

    assert "View on site" in live_html
    assert ">Preview</a>" not in live_html
    assert f'href="{draft.get_absolute_url()}"' in draft_html
    assert ">Preview</a>" in draft_html
    assert "View on site" not in draft_html


# Actions


def test_publish_now_action_makes_articles_live(chief_editor_client):
    draft = ArticleFactory(status="draft", publish_at=None)
    scheduled = ArticleFactory(publish_at=timezone.now() + datetime.timedelta(days=3))

    response = chief_editor_client.post(
        CHANGELIST,
        {"action": "publish_now", "_selected_action": [draft.pk, scheduled.pk], "post": "yes"},
    )

    assert response.status_code == 302
    for article in (draft, scheduled):
        article.refresh_from_db()
        assert article.is_published()
        assert article.version == 2
    assert "2 articles are live now." in messages_of(response)


def test_withdraw_action_warns_with_the_linking_articles(editor_client):
    target = ArticleFactory(title="Target story")
    RelatedLinkFactory(target_article=target, article=ArticleFactory(title="Linker one"))
    RelatedLinkFactory(target_article=target, article=ArticleFactory(title="Linker two"))

    response = editor_client.post(
        CHANGELIST, {"action": "withdraw", "_selected_action": [target.pk], "post": "yes"}
    )

    target.refresh_from_db()
    assert target.status == Article.Status.WITHDRAWN
    warning = next(m for m in messages_of(response) if "link to it" in m)
    assert "Target story" in warning
    assert "Linker one" in warning
    assert "Linker two" in warning
    assert RelatedLink.objects.filter(target_article=target).count() == 2


def test_saving_the_form_as_withdrawn_warns_with_the_linking_articles(editor_client):
    target = ArticleFactory()
    RelatedLinkFactory(target_article=target, article=ArticleFactory(title="Linker one"))

    response = editor_client.post(change_url(target), article_form(target, status="withdrawn"))

    assert response.status_code == 302
    assert any("Linker one" in m for m in messages_of(response))


# Edit conflicts


def test_a_save_based_on_an_older_version_is_refused_and_nothing_is_overwritten(
    make_chief_editor_client,
):
    article = ArticleFactory(title="Original")
    RelatedLinkFactory(article=article, position=1)
    alice = make_chief_editor_client(username="alice")
    bob = make_chief_editor_client(username="bob")
    alice_opened = opened_version_in(alice.get(change_url(article)).content.decode())
    bob_opened = opened_version_in(bob.get(change_url(article)).content.decode())
    original_links = list(article.related_links.values_list("pk", "target_article", "position"))

    saved = alice.post(
        change_url(article),
        article_form(article, title="Alice's headline", opened_version=alice_opened),
    )
    bob_rows = [{**row, "DELETE": "on"} for row in existing_link_rows(article)]
    refused = bob.post(
        change_url(article),
        article_form(article, title="Bob's headline", opened_version=bob_opened)
        | link_rows(
            [*bob_rows, {"url": "https://example.org/bob", "title": "Bob's link"}],
            initial=len(bob_rows),
        ),
    )

    assert saved.status_code == 302
    assert refused.status_code == 200
    html = refused.content.decode()
    assert "Someone else (alice) saved this article at" in html
    assert "(Europe/London time) after you opened it; your changes were not saved." in html
    article.refresh_from_db()
    assert article.title == "Alice's headline"
    assert article.version == 2
    assert (
        list(article.related_links.values_list("pk", "target_article", "position"))
        == original_links
    )


def test_a_save_that_slips_in_after_the_forms_check_is_refused_on_the_form_too(
    make_chief_editor_client, monkeypatch
):
    article = ArticleFactory(title="Original")
    alice = make_chief_editor_client(username="alice")
    bob = make_chief_editor_client(username="bob")
    bob_opened = opened_version_in(bob.get(change_url(article)).content.decode())
    alice.post(change_url(article), article_form(article, title="Alice's headline"))
    # Bob's form is checked as if before Alice saved: only the save itself sees her.
    checks = []
    real_check = services.article_check_edit
    monkeypatch.setattr(
        services,
        "article_check_edit",
        lambda **kwargs: checks.append(kwargs) if len(checks) == 0 else real_check(**kwargs),
    )

    refused = bob.post(
        change_url(article),
        article_form(article, title="Bob's headline", opened_version=bob_opened),
    )

    assert refused.status_code == 200
    assert len(checks) == 1
    assert "Someone else (alice) saved this article at" in refused.content.decode()
    article.refresh_from_db()
    assert (article.title, article.version) == ("Alice's headline", 2)


def test_a_save_on_the_latest_version_succeeds_and_counts_a_version(editor_client):
    article = ArticleFactory(status=Article.Status.DRAFT, publish_at=None)
    opened = opened_version_in(editor_client.get(change_url(article)).content.decode())

    first = editor_client.post(
        change_url(article), article_form(article, title="Edited once", opened_version=opened)
    )
    second = editor_client.post(
        change_url(article), article_form(article, title="Edited twice", opened_version="2")
    )

    assert first.status_code == 302
    assert second.status_code == 302
    article.refresh_from_db()
    assert article.version == 3


def test_an_action_after_the_form_was_opened_also_refuses_the_save(chief_editor_client):
    article = ArticleFactory(status="draft", publish_at=None)
    opened = opened_version_in(chief_editor_client.get(change_url(article)).content.decode())
    chief_editor_client.post(
        CHANGELIST, {"action": "publish_now", "_selected_action": [article.pk], "post": "yes"}
    )

    response = chief_editor_client.post(
        change_url(article), article_form(article, status="draft", opened_version=opened)
    )

    assert response.status_code == 200
    article.refresh_from_db()
    assert article.status == Article.Status.PUBLISHED


# History: compare and restore


def test_history_compare_and_restore_bring_back_title_and_links(chief_editor_client):
    article = ArticleFactory(title="First headline")
    first_target = ArticleFactory(title="First target")
    chief_editor_client.post(
        change_url(article), article_form(article, links=[{"target_article": first_target.pk}])
    )
    article.refresh_from_db()
    rows = [{**row, "DELETE": "on"} for row in existing_link_rows(article)]
    chief_editor_client.post(
        change_url(article),
        article_form(article, title="Second headline")
        | link_rows([*rows, {"url": "https://example.org/x", "title": "X"}], initial=len(rows)),
    )
    article.refresh_from_db()
    assert article.title == "Second headline"
    assert [link.url for link in article.related_links.all()] == ["https://example.org/x"]
    old, new = Version.objects.get_for_object(article).order_by("pk")

    history = chief_editor_client.get(f"/admin/articles/article/{article.pk}/history/")
    compare = chief_editor_client.get(
        f"/admin/articles/article/{article.pk}/history/compare/",
        {"version_id1": old.pk, "version_id2": new.pk},
    )
    revision_url = f"/admin/articles/article/{article.pk}/history/{old.pk}/"
    restore_form = chief_editor_client.get(revision_url)

    assert history.status_code == 200
    assert compare.status_code == 200
    assert "<del>First</del> <ins>Second</ins> headline" in compare.content.decode()
    assert restore_form.status_code == 200
    assert opened_version_in(restore_form.content.decode()) == "3"
    article.refresh_from_db()
    assert article.title == "Second headline", "looking at an old version changes nothing"

    restore_data = form_data_in(restore_form.content.decode())
    restored = chief_editor_client.post(revision_url, restore_data)

    assert restored.status_code == 302
    article.refresh_from_db()
    assert article.title == "First headline"
    assert [link.target_article for link in article.related_links.all()] == [first_target]
    assert article.version == 4, "a restore counts on from the live version"


def test_restore_refuses_when_someone_saved_after_the_restore_page_was_opened(
    make_chief_editor_client,
):
    # Winter: Europe/London is UTC, so the times below are the ones the message shows.
    day = datetime.datetime(2026, 1, 12, tzinfo=datetime.UTC)
    alice, bob = (
        make_chief_editor_client(username="alice"),
        make_chief_editor_client(username="bob"),
    )
    with time_machine.travel(day.replace(hour=9), tick=False):
        article = ArticleFactory(title="First headline")
        alice.post(change_url(article), article_form(article))
    article.refresh_from_db()
    with time_machine.travel(day.replace(hour=10), tick=False):
        alice.post(change_url(article), article_form(article, title="Second headline"))
    article.refresh_from_db()
    old = Version.objects.get_for_object(article).order_by("pk").first()
    revision_url = f"/admin/articles/article/{article.pk}/history/{old.pk}/"
    opened = opened_version_in(alice.get(revision_url).content.decode())
    with time_machine.travel(day.replace(hour=11, minute=5), tick=False):
        bob.post(
            change_url(article),
            article_form(article, title="Third headline", opened_version=opened),
        )
    article.refresh_from_db()

    refused = alice.post(
        revision_url, article_form(article, title="First headline", opened_version=opened)
    )

    assert refused.status_code == 200
    # The save that got in the way, not the version being restored (09:00).
    assert "Someone else (bob) saved this article at 11:05 (Europe/London time)" in (
        refused.content.decode()
    )
    article.refresh_from_db()
    assert article.title == "Third headline"


def test_compare_needs_permission_on_articles(make_editor_client):
    from django.contrib.auth.models import Group

    article = ArticleFactory()
    client = make_editor_client(username="staff-only")
    Group.objects.get(name="Editors").user_set.clear()

    response = client.get(
        f"/admin/articles/article/{article.pk}/history/compare/",
        {"version_id1": 1, "version_id2": 2},
    )

    assert response.status_code == 403


# Time zone


def test_time_zone_is_named_on_the_list_and_the_form(editor_client):
    ArticleFactory()

    changelist = editor_client.get(CHANGELIST).content.decode()
    form = editor_client.get(ADD).content.decode()

    assert "(Europe/London time)" in changelist
    assert "Enter it in Europe/London time." in form


def test_a_publish_time_entered_in_london_summer_time_is_stored_in_utc(chief_editor_client):
    data = article_form(status="published")
    data |= {"publish_at_0": "01/07/2030", "publish_at_1": "12:00"}

    response = chief_editor_client.post(ADD, data)

    assert response.status_code == 302
    article = Article.objects.get(slug="a-new-story")
    assert article.publish_at == datetime.datetime(2030, 7, 1, 11, 0, tzinfo=datetime.UTC)
    changelist = chief_editor_client.get(CHANGELIST).content.decode()
    # Shown back in London time: noon, not 11:00.
    assert "1 Jul 2030, 12:00 BST" in changelist


# The list: status, filters, search


def test_scheduled_articles_say_so_in_the_list(editor_client):
    ArticleFactory(title="Due tomorrow", publish_at=timezone.now() + datetime.timedelta(days=1))

    html = editor_client.get(CHANGELIST).content.decode()

    assert "<strong>Scheduled</strong>" in html


@pytest.mark.parametrize(
    ("visibility", "expected"),
    [
        ("live", {"Live story"}),
        ("scheduled", {"Scheduled story"}),
        ("draft", {"Draft story"}),
        ("withdrawn", {"Withdrawn story"}),
    ],
)
def test_visibility_filter(editor_client, visibility, expected):
    ArticleFactory(title="Live story")
    ArticleFactory(title="Scheduled story", publish_at=timezone.now() + datetime.timedelta(hours=2))
    ArticleFactory(title="Draft story", status="draft")
    ArticleFactory(title="Withdrawn story", status="withdrawn")

    response = editor_client.get(CHANGELIST, {"visibility": visibility})

    assert {a.title for a in response.context["cl"].result_list} == expected


def test_search_looks_in_title_and_standfirst(editor_client):
    ArticleFactory(title="Flood defences approved")
    ArticleFactory(title="Council news", standfirst="The flood barrier opens next week.")
    ArticleFactory(title="Transport")

    response = editor_client.get(CHANGELIST, {"q": "flood"})

    assert {a.title for a in response.context["cl"].result_list} == {
        "Flood defences approved",
        "Council news",
    }


def test_topics_filter_and_column(editor_client):
    climate = TopicFactory(name="Climate")
    ArticleFactory(title="Heatwave", topics=[climate])
    ArticleFactory(title="Elections")

    response = editor_client.get(CHANGELIST, {"topics__id__exact": climate.pk})

    assert {a.title for a in response.context["cl"].result_list} == {"Heatwave"}
    assert "Climate" in response.content.decode()


# The review step: editors ask, chief editors publish


def form_errors(response) -> dict:
    return response.context["adminform"].form.errors


def test_an_editor_who_tries_to_publish_gets_the_rule_and_keeps_every_word(editor_client):
    data = article_form(
        title="Ferry strike called off",
        slug="ferry-strike",
        standfirst="Crews accept the new offer.",
        body="<p>The union said on Friday the offer was fair.</p>",
        status="published",
    )

    response = editor_client.post(ADD, data)

    assert response.status_code == 200
    html = response.content.decode()
    assert "Only chief editors (the “Can publish articles” permission) may publish" in html
    assert "status" in form_errors(response)
    for typed in ("Ferry strike called off", "Crews accept the new offer.", "offer was fair"):
        assert typed in html
    assert not Article.objects.filter(slug="ferry-strike").exists()


@pytest.mark.parametrize(
    "change",
    [
        pytest.param({"status": "published"}, id="publish-a-draft"),
        pytest.param({"status": "published", "publish_at_0": "2030-01-01"}, id="schedule"),
    ],
)
def test_an_editor_cannot_publish_or_schedule_a_draft_from_the_form(editor_client, change):
    draft = ArticleFactory(status="draft")

    response = editor_client.post(change_url(draft), article_form(draft, **change))

    assert response.status_code == 200
    html = response.content.decode()
    assert "Only chief editors" in html
    # The form shown again is still a draft's: a preview and the way to ask for review.
    assert "View on site" not in html
    assert ">Preview</a>" in html
    assert 'name="_request_review"' in html
    draft.refresh_from_db()
    assert (draft.status, draft.version) == (Article.Status.DRAFT, 1)


def test_an_editor_cannot_move_a_live_storys_publish_time(editor_client):
    live = ArticleFactory(title="Mayor resigns")

    moved = editor_client.post(
        change_url(live), article_form(live, publish_at_0="2030-01-01", title="Mayor resigns!")
    )

    assert moved.status_code == 200
    assert "Only chief editors" in str(form_errors(moved)["publish_at"])
    # One refusal: the publish time's says it all.
    assert "Readers would see" not in moved.content.decode()
    live.refresh_from_db()
    assert (live.title, live.is_published()) == ("Mayor resigns", True)


def test_publish_now_is_not_offered_to_an_editor_and_does_nothing_if_sent(editor_client):
    draft = ArticleFactory(status="draft", publish_at=None)

    changelist = editor_client.get(CHANGELIST).content.decode()
    response = editor_client.post(
        CHANGELIST, {"action": "publish_now", "_selected_action": [draft.pk], "post": "yes"}
    )

    assert 'value="publish_now"' not in changelist
    assert 'value="redate"' not in changelist
    assert 'value="request_review"' in changelist
    assert response.status_code in (200, 302)
    draft.refresh_from_db()
    assert draft.status == Article.Status.DRAFT


def test_with_the_review_step_off_an_editor_publishes_as_before(editor_client, settings):
    settings.ARTICLE_REVIEW_REQUIRED = False
    draft = ArticleFactory(status="draft", publish_at=None)

    added = editor_client.post(ADD, article_form(status="published"))
    acted = editor_client.post(
        CHANGELIST, {"action": "publish_now", "_selected_action": [draft.pk], "post": "yes"}
    )

    assert added.status_code == 302
    assert Article.objects.get(slug="a-new-story").is_published()
    assert "1 article is live now." in messages_of(acted)
    draft.refresh_from_db()
    assert draft.is_published()


def test_an_editor_asks_for_review_and_the_chief_editor_sees_who_and_when(
    make_editor_client, chief_editor_client
):
    ana = make_editor_client(username="ana")
    moment = datetime.datetime(2026, 1, 12, 9, 30, tzinfo=datetime.UTC)  # winter: London = UTC
    ArticleFactory(title="Not asked", status="draft")
    data = article_form(title="Library to close", slug="library", status="draft")
    data["_request_review"] = "Save and ask for review"

    form_page = ana.get(ADD).content.decode()
    with time_machine.travel(moment, tick=False):
        asked = ana.post(ADD, data)

    assert 'name="_request_review"' in form_page
    assert asked.status_code == 302
    assert "“Library to close” is ready for review" in " ".join(messages_of(asked))
    article = Article.objects.get(slug="library")
    assert article.status == Article.Status.DRAFT
    listed = chief_editor_client.get(CHANGELIST, {"review": "ready"})
    assert [a.title for a in listed.context["cl"].result_list] == ["Library to close"]
    listing = listed.content.decode()
    assert "Ready for review" in listing
    assert "Asked by ana at 12 Jan 2026, 09:30 GMT" in listing
    change_form = chief_editor_client.get(change_url(article)).content.decode()
    assert "Asked by ana at 12 Jan 2026, 09:30 GMT" in change_form

    published = chief_editor_client.post(
        change_url(article), article_form(article, status="published")
    )

    assert published.status_code == 302
    article.refresh_from_db()
    assert article.is_published()
    assert article.review_requested_at is None
    assert not chief_editor_client.get(CHANGELIST, {"review": "ready"}).context["cl"].result_list


def test_the_ask_for_review_action_marks_drafts_and_refuses_live_stories(editor_client):
    draft = ArticleFactory(title="A draft", status="draft")
    live = ArticleFactory(title="A live story")

    response = editor_client.post(
        CHANGELIST, {"action": "request_review", "_selected_action": [draft.pk, live.pk]}
    )

    draft.refresh_from_db()
    live.refresh_from_db()
    assert draft.review_requested_at is not None
    assert live.review_requested_at is None
    shown = messages_of(response)
    assert "1 article is ready for review." in shown
    assert any("“A live story” was not changed" in message for message in shown)


# The review step on a live story: what readers see changes only through a chief editor

READERS_WOULD_SEE = "Readers would see this change at once"


@pytest.mark.parametrize("button", ["_save", "_continue", "_addanother"])
def test_an_editor_saving_a_live_storys_text_is_refused_and_keeps_what_was_typed(
    editor_client, client, button
):
    live = ArticleFactory(title="Mayor resigns", slug="mayor")
    data = article_form(live, title="Mayor resigns after vote", standfirst="Typed with care.")
    del data["_save"]
    data[button] = "Save and publish"

    response = editor_client.post(change_url(live), data)

    assert response.status_code == 200
    form = response.context["adminform"].form
    assert READERS_WOULD_SEE in " ".join(form.non_field_errors())
    assert "“Save and ask for review”" in " ".join(form.non_field_errors())
    page = response.content.decode()
    assert 'value="Mayor resigns after vote"' in page
    assert "Typed with care." in page
    live.refresh_from_db()
    assert (live.title, live.version) == ("Mayor resigns", 1)
    assert selectors.pending_edit(article_id=live.pk) is None
    assert (
        '<h1 class="article-title">Mayor resigns</h1>'
        in client.get("/articles/mayor/").content.decode()
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("topics", READERS_WOULD_SEE),
        ("slug", READERS_WOULD_SEE),
        ("link", "Readers would see these changes to the related links at once"),
        ("correction", "Readers would see this correction or update at once"),
    ],
)
def test_an_editor_changing_what_else_readers_see_of_a_live_story_is_refused(
    editor_client, change, message
):
    live = ArticleFactory(slug="first", topics=[TopicFactory()])
    changes = {
        "topics": {"topics": [TopicFactory().pk]},
        "slug": {"slug": "second"},
        "link": {"links": [{"target_article": ArticleFactory().pk}]},
        "correction": correction_rows(
            [{"kind": "correction", "posted_at_0": "", "posted_at_1": "", "text": "Oops."}]
        ),
    }[change]
    data = article_form(live, links=changes.pop("links", None))
    data.update(changes)
    if change == "correction":
        made = timezone.localtime() - datetime.timedelta(minutes=5)
        data["corrections-0-posted_at_0"] = made.strftime("%Y-%m-%d")
        data["corrections-0-posted_at_1"] = made.strftime("%H:%M:%S")

    response = editor_client.post(change_url(live), data)

    assert response.status_code == 200
    assert message in response.content.decode()
    live.refresh_from_db()
    assert (live.slug, live.version) == ("first", 1)
    assert not live.related_links.exists()
    assert not live.corrections.exists()


def test_an_editor_changing_a_live_storys_text_and_links_gets_one_refusal(editor_client):
    live = ArticleFactory(title="Mayor resigns")
    data = article_form(live, title="Mayor quits", links=[{"target_article": ArticleFactory().pk}])

    response = editor_client.post(change_url(live), data)

    page = response.content.decode()
    assert page.count("Readers would see") == 1
    assert READERS_WOULD_SEE in page
    assert not live.related_links.exists()


def test_an_editor_may_still_withdraw_a_live_story_from_its_form(editor_client):
    live = ArticleFactory(title="Mayor resigns")

    response = editor_client.post(change_url(live), article_form(live, status="withdrawn"))

    assert response.status_code == 302
    live.refresh_from_db()
    assert live.status == Article.Status.WITHDRAWN


def test_an_editor_may_add_a_correction_to_a_draft(editor_client):
    draft = ArticleFactory(status="draft", publish_at=None)
    made = timezone.localtime() - datetime.timedelta(minutes=5)
    data = article_form(draft) | correction_rows(
        [
            {
                "kind": "update",
                "posted_at_0": made.strftime("%Y-%m-%d"),
                "posted_at_1": made.strftime("%H:%M:%S"),
                "text": "Written before it goes out.",
            }
        ]
    )

    response = editor_client.post(change_url(draft), data)

    assert response.status_code == 302
    assert draft.corrections.get().text == "Written before it goes out."


def test_with_the_review_step_off_an_editor_saves_a_live_story_at_once(editor_client, settings):
    settings.ARTICLE_REVIEW_REQUIRED = False
    live = ArticleFactory(title="Mayor resigns")

    response = editor_client.post(change_url(live), article_form(live, title="Mayor quits"))

    assert response.status_code == 302
    live.refresh_from_db()
    assert live.title == "Mayor quits"


def test_save_and_ask_for_review_on_a_live_story_keeps_a_draft_until_a_chief_editor_publishes(
    make_editor_client, chief_editor_client, client, django_capture_on_commit_callbacks
):
    ana = make_editor_client(username="ana")
    live = ArticleFactory(title="Bridge opens", slug="bridge")
    form_page = ana.get(change_url(live)).content.decode()
    data = article_form(live, title="Bridge opens two weeks early")
    data["_request_review"] = "Save and ask for review"

    asked = ana.post(change_url(live), data)

    assert 'name="_request_review"' in form_page
    assert asked.status_code == 302
    assert asked.url == change_url(live)
    assert any("ready for review" in message for message in messages_of(asked))
    assert (
        '<h1 class="article-title">Bridge opens</h1>'
        in client.get("/articles/bridge/").content.decode()
    )
    assert selectors.pending_edit(article_id=live.pk).title == "Bridge opens two weeks early"
    listed = chief_editor_client.get(CHANGELIST, {"review": "ready"})
    assert [a.title for a in listed.context["cl"].result_list] == ["Bridge opens"]
    assert "Asked by ana at" in listed.content.decode()
    history = chief_editor_client.get(f"{change_url(live)[: -len('change/')]}history/")
    assert "asked for review" in history.content.decode()

    reviewed = form_data_in(chief_editor_client.get(change_url(live)).content.decode())
    # Committed, as in the admin: the page cache hears of it.
    with django_capture_on_commit_callbacks(execute=True):
        published = chief_editor_client.post(change_url(live), reviewed)

    assert published.status_code == 302
    live.refresh_from_db()
    assert live.title == "Bridge opens two weeks early"
    assert live.review_requested_at is None
    assert selectors.pending_edit(article_id=live.pk) is None
    assert not chief_editor_client.get(CHANGELIST, {"review": "ready"}).context["cl"].result_list
    page = client.get("/articles/bridge/").content.decode()
    assert '<h1 class="article-title">Bridge opens two weeks early</h1>' in page


def test_save_and_ask_for_review_on_a_live_story_refuses_what_a_draft_cannot_hold(editor_client):
    live = ArticleFactory(slug="first")
    data = article_form(live, slug="second", title="New headline")
    data["_request_review"] = "Save and ask for review"

    response = editor_client.post(change_url(live), data)

    assert response.status_code == 200
    assert "Slug is not part of a draft of changes" in str(form_errors(response)["slug"])
    live.refresh_from_db()
    assert live.review_requested_at is None
    assert selectors.pending_edit(article_id=live.pk) is None


def test_discarding_a_draft_of_changes_ends_its_review(editor_client):
    live = ArticleFactory(title="Live headline")
    data = article_form(live, title="Draft headline")
    data["_request_review"] = "Save and ask for review"
    editor_client.post(change_url(live), data)
    assert Article.objects.ready_for_review().filter(pk=live.pk).exists()

    editor_client.post(f"/admin/articles/article/{live.pk}/discard-changes/", {"opened_version": 2})

    live.refresh_from_db()
    assert live.review_requested_at is None
    assert live.title == "Live headline"


def test_an_editor_cannot_publish_a_draft_of_changes_from_the_form_that_shows_it(editor_client):
    live = ArticleFactory(title="Live headline")
    editor_client.post(
        change_url(live),
        article_form(live, title="Draft headline") | {"_save_pending": "Save draft of changes"},
    )
    data = form_data_in(editor_client.get(change_url(live)).content.decode())

    response = editor_client.post(change_url(live), data)

    assert response.status_code == 200
    assert READERS_WOULD_SEE in " ".join(response.context["adminform"].form.non_field_errors())
    assert Article.objects.get(pk=live.pk).title == "Live headline"
    assert selectors.pending_edit(article_id=live.pk).title == "Draft headline"


def test_publish_their_drafts_of_changes_is_not_offered_to_an_editor_and_does_nothing(
    editor_client,
):
    live = ArticleFactory(title="Live headline")
    edited = Article.objects.get(pk=live.pk)
    edited.title = "New"
    services.article_save_pending(article=edited, topics=[], opened_version=1, user=None)

    changelist = editor_client.get(CHANGELIST).content.decode()
    editor_client.post(CHANGELIST, {"action": "publish_changes", "_selected_action": [live.pk]})

    assert 'value="publish_changes"' not in changelist
    assert Article.objects.get(pk=live.pk).title == "Live headline"


def test_the_ask_for_review_action_takes_a_live_story_with_a_draft_of_changes(editor_client):
    live = ArticleFactory(title="Live headline")
    edited = Article.objects.get(pk=live.pk)
    edited.title = "New"
    services.article_save_pending(article=edited, topics=[], opened_version=1, user=None)

    response = editor_client.post(
        CHANGELIST, {"action": "request_review", "_selected_action": [live.pk]}
    )

    assert "1 article is ready for review." in messages_of(response)
    assert Article.objects.get(pk=live.pk).review_requested_at is not None


def test_an_editor_cannot_restore_a_version_of_a_live_story(editor_client, chief_editor_client):
    live = ArticleFactory(title="First headline")
    first_version(live)
    chief_editor_client.post(change_url(live), article_form(live, title="Second headline"))
    first = Version.objects.get_for_object(live).order_by("pk").first()
    revision_url = f"/admin/articles/article/{live.pk}/history/{first.pk}/"

    restore_form = editor_client.get(revision_url).content.decode()
    restored = editor_client.post(revision_url, form_data_in(restore_form))

    assert restored.status_code == 200
    assert READERS_WOULD_SEE in restored.content.decode()
    live.refresh_from_db()
    assert (live.title, live.version) == ("Second headline", 2)


# A draft with a headline only; what publishing needs


def test_a_draft_saves_with_a_headline_and_its_slug_only(editor_client):
    data = article_form(
        title="Storm warning", slug="storm-warning", standfirst="", body="", status="draft"
    )
    data |= {"impact_score": "", "publish_at_0": "", "publish_at_1": ""}

    response = editor_client.post(ADD, data)

    assert response.status_code == 302, form_errors(response)
    draft = Article.objects.get(slug="storm-warning")
    assert (draft.standfirst, draft.body, draft.impact_score) == ("", "", None)


def test_publishing_an_unfinished_draft_names_what_is_missing_and_keeps_the_text(
    chief_editor_client,
):
    draft = ArticleFactory(
        title="Storm warning", standfirst="", body="", impact_score=None, status="draft"
    )

    response = chief_editor_client.post(
        change_url(draft),
        article_form(draft, status="published", why_it_matters="Roads may flood."),
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert "To publish, add: standfirst, body, impact score." in html
    assert "Roads may flood." in html
    errors = form_errors(response)
    assert (
        errors["standfirst"] == errors["body"] == errors["impact_score"] == ["Needed to publish."]
    )
    draft.refresh_from_db()
    assert draft.status == Article.Status.DRAFT


def test_publish_now_on_an_unfinished_draft_says_what_is_missing(chief_editor_client):
    draft = ArticleFactory(title="Storm warning", standfirst="", status="draft")

    response = chief_editor_client.post(
        CHANGELIST, {"action": "publish_now", "_selected_action": [draft.pk], "post": "yes"}
    )

    assert (
        "“Storm warning” was not changed: To publish, add: standfirst. Needed to publish."
        in messages_of(response)
    )
    draft.refresh_from_db()
    assert draft.status == Article.Status.DRAFT


# Taking a story down at a set time


def test_a_chief_editor_sets_a_take_down_time(chief_editor_client):
    live = ArticleFactory()

    response = chief_editor_client.post(
        change_url(live),
        article_form(live, unpublish_at_0="2030-01-10", unpublish_at_1="18:00:00"),
    )

    assert response.status_code == 302
    live.refresh_from_db()
    assert live.unpublish_at == datetime.datetime(2030, 1, 10, 18, 0, tzinfo=datetime.UTC)
    assert live.is_published()


@pytest.mark.parametrize(
    ("unpublish", "message"),
    [
        pytest.param(
            ("2030-01-01", "11:59:00"),
            "The take-down time must be after the publish time (1 Jan 2030, 12:00",
            id="before-publishing",
        ),
        pytest.param(
            ("2020-01-01", "12:00:00"),
            "This take-down time has already passed.",
            id="already-passed",
        ),
    ],
)
def test_a_take_down_time_that_cannot_work_is_a_clear_error(
    chief_editor_client, unpublish, message
):
    data = article_form(status="published", publish_at_0="2030-01-01", publish_at_1="12:00:00")
    if message.startswith("This"):
        data |= {"publish_at_0": "2019-01-01"}
    data |= {"unpublish_at_0": unpublish[0], "unpublish_at_1": unpublish[1]}

    response = chief_editor_client.post(ADD, data)

    assert response.status_code == 200
    assert message in str(form_errors(response)["unpublish_at"])
    assert not Article.objects.filter(slug="a-new-story").exists()


def test_a_story_past_its_take_down_time_says_so_in_the_list_and_filter(editor_client):
    now = timezone.now()
    ArticleFactory(
        title="Event listing", publish_at=now - datetime.timedelta(days=2), unpublish_at=now
    )
    ArticleFactory(title="Still up")

    response = editor_client.get(CHANGELIST, {"visibility": "taken_down"})

    assert [a.title for a in response.context["cl"].result_list] == ["Event listing"]
    assert "<strong>Taken down</strong>" in response.content.decode()


# A live story: drafts of changes


def submit_buttons(html: str) -> dict[str, str]:
    """The change form's submit buttons: name -> label."""
    return dict(
        (name, value)
        for value, name in re.findall(
            r'<input type="submit" value="([^"]+)"[^>]*name="(\w+)"', html
        )
    )


def test_a_live_storys_form_says_save_publishes_and_offers_a_draft_of_changes(
    chief_editor_client, editor_client
):
    live = ArticleFactory()
    draft = ArticleFactory(status="draft", publish_at=None)

    live_buttons = submit_buttons(chief_editor_client.get(change_url(live)).content.decode())
    draft_buttons = submit_buttons(chief_editor_client.get(change_url(draft)).content.decode())
    editors_buttons = submit_buttons(editor_client.get(change_url(live)).content.decode())

    assert live_buttons["_save"] == "Save and publish"
    assert live_buttons["_continue"] == "Save, publish and continue editing"
    assert live_buttons["_save_pending"] == "Save draft of changes"
    assert draft_buttons["_save"] == "Save"
    assert "_save_pending" not in draft_buttons
    # An editor who may not publish: no button says it publishes; asking for review does.
    assert (editors_buttons["_save"], editors_buttons["_continue"]) == (
        "Save",
        "Save and continue editing",
    )
    assert editors_buttons["_request_review"] == "Save and ask for review"
    assert editors_buttons["_save_pending"] == "Save draft of changes"


def test_saving_a_draft_of_changes_keeps_the_live_story_and_reopens_on_the_draft(
    make_editor_client,
):
    live = ArticleFactory(title="Live headline", standfirst="Live standfirst.")
    alice = make_editor_client(username="alice")

    response = alice.post(
        change_url(live),
        article_form(live, title="Draft headline", standfirst="Draft standfirst.")
        | {"_save_pending": "Save draft of changes"},
    )

    assert response.status_code == 302
    assert response["Location"] == change_url(live)
    assert any("saved as a draft of changes" in m for m in messages_of(response))
    live.refresh_from_db()
    assert (live.title, live.standfirst, live.version) == ("Live headline", "Live standfirst.", 2)
    reopened = alice.get(change_url(live)).content.decode()
    assert 'value="Draft headline"' in reopened
    assert "Draft standfirst." in reopened
    assert "You are editing unpublished changes saved by alice at" in reopened
    assert "readers see the published version" in reopened
    assert f'href="/admin/articles/article/{live.pk}/discard-changes/"' in reopened
    assert opened_version_in(reopened) == "2"


def test_save_and_publish_on_the_draft_publishes_it(chief_editor_client):
    live = ArticleFactory(title="Live headline")
    chief_editor_client.post(
        change_url(live),
        article_form(live, title="Draft headline") | {"_save_pending": "Save draft of changes"},
    )
    data = form_data_in(chief_editor_client.get(change_url(live)).content.decode())

    response = chief_editor_client.post(change_url(live), data)

    assert response.status_code == 302
    live.refresh_from_db()
    assert live.title == "Draft headline"
    assert "You are editing unpublished changes" not in (
        chief_editor_client.get(change_url(live)).content.decode()
    )


def test_two_editors_cannot_overwrite_each_others_draft_of_changes(make_editor_client):
    live = ArticleFactory(title="Live headline")
    alice, bob = make_editor_client(username="alice"), make_editor_client(username="bob")
    bob_opened = opened_version_in(bob.get(change_url(live)).content.decode())
    alice.post(
        change_url(live),
        article_form(live, title="Alice's draft") | {"_save_pending": "Save draft of changes"},
    )

    refused = bob.post(
        change_url(live),
        article_form(live, title="Bob's draft", opened_version=bob_opened)
        | {"_save_pending": "Save draft of changes"},
    )

    assert refused.status_code == 200
    assert "Someone else (alice) saved this article at" in refused.content.decode()
    assert 'value="Bob&#x27;s draft"' in refused.content.decode(), "nothing Bob typed is lost"
    live.refresh_from_db()
    assert live.title == "Live headline"
    assert 'value="Alice&#x27;s draft"' in alice.get(change_url(live)).content.decode()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"slug": "a-new-address"}, "Slug is not part of a draft of changes"),
        ({"status": "withdrawn"}, "Status is not part of a draft of changes"),
    ],
)
def test_a_draft_of_changes_refuses_what_only_the_live_story_has(editor_client, change, message):
    live = ArticleFactory(title="Live headline")

    response = editor_client.post(
        change_url(live),
        article_form(live, title="Draft headline", **change)
        | {"_save_pending": "Save draft of changes"},
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert message in html
    assert 'value="Draft headline"' in html
    live.refresh_from_db()
    assert (live.title, live.version) == ("Live headline", 1)


def test_a_draft_of_changes_refuses_changed_related_links(editor_client):
    live = ArticleFactory()

    response = editor_client.post(
        change_url(live),
        article_form(live, links=[{"target_article": ArticleFactory().pk}])
        | {"_save_pending": "Save draft of changes"},
    )

    assert response.status_code == 200
    assert "Related links are not part of a draft of changes" in response.content.decode()
    assert not live.related_links.exists()


def test_a_draft_of_changes_refuses_a_new_correction_instead_of_dropping_it(editor_client):
    live = ArticleFactory()
    posted = timezone.localtime() - datetime.timedelta(minutes=5)
    correction = {
        "kind": "correction",
        "posted_at_0": posted.strftime("%Y-%m-%d"),
        "posted_at_1": posted.strftime("%H:%M:%S"),
        "text": "An earlier version misspelt the mayor's name.",
    }

    response = editor_client.post(
        change_url(live),
        article_form(live, title="A changed headline")
        | correction_rows([correction])
        | {"_save_pending": "Save draft of changes"},
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert "Corrections and updates are not part of a draft of changes" in html
    assert "An earlier version misspelt the mayor&#x27;s name." in html, "nothing typed is lost"
    assert not live.corrections.exists()
    assert selectors.pending_edit(article_id=live.pk) is None


def test_the_draft_of_changes_shows_in_history_and_compare(editor_client):
    live = ArticleFactory(title="Live headline")
    first_version(live)
    editor_client.post(
        change_url(live),
        article_form(live, title="Draft headline") | {"_save_pending": "Save draft of changes"},
    )
    published, draft = Version.objects.get_for_object(live).order_by("pk")

    history = editor_client.get(f"/admin/articles/article/{live.pk}/history/").content.decode()
    compare = editor_client.get(
        f"/admin/articles/article/{live.pk}/history/compare/",
        {"version_id1": published.pk, "version_id2": draft.pk},
    ).content.decode()

    assert "Draft of changes saved (not published): Changed Headline." in history
    assert "<del>Live</del> <ins>Draft</ins> headline" in compare


def test_restoring_the_draft_of_changes_from_history_publishes_it(chief_editor_client):
    politics, sport = TopicFactory(name="Politics"), TopicFactory(name="Sport")
    live = ArticleFactory(title="Live headline", topics=[politics])
    chief_editor_client.post(
        change_url(live),
        article_form(live, title="Draft headline", topics=[sport.pk])
        | {"_save_pending": "Save draft of changes"},
    )
    draft = Version.objects.get_for_object(live).get()
    revision_url = f"/admin/articles/article/{live.pk}/history/{draft.pk}/"

    restore_form = chief_editor_client.get(revision_url).content.decode()
    assert 'value="Draft headline"' in restore_form
    assert "You are editing unpublished changes" not in restore_form
    restored = chief_editor_client.post(revision_url, form_data_in(restore_form))

    assert restored.status_code == 302
    live.refresh_from_db()
    assert live.title == "Draft headline"
    assert list(live.topics.all()) == [sport]
    assert selectors.pending_edit(article_id=live.pk) is None


def test_restoring_an_older_version_shows_that_version_not_the_draft(editor_client):
    live = ArticleFactory(title="First headline")
    first_version(live)
    editor_client.post(
        change_url(live),
        article_form(live, title="Draft headline") | {"_save_pending": "Save draft of changes"},
    )
    first = Version.objects.get_for_object(live).order_by("pk").first()

    restore_form = editor_client.get(
        f"/admin/articles/article/{live.pk}/history/{first.pk}/"
    ).content.decode()

    assert 'value="First headline"' in restore_form
    assert 'value="Draft headline"' not in restore_form


def test_discarding_asks_first_then_drops_the_draft_of_changes(editor_client):
    live = ArticleFactory(title="Live headline")
    editor_client.post(
        change_url(live),
        article_form(live, title="Draft headline") | {"_save_pending": "Save draft of changes"},
    )
    discard_url = f"/admin/articles/article/{live.pk}/discard-changes/"

    confirm = editor_client.get(discard_url).content.decode()
    assert "Draft headline" in confirm
    assert selectors.pending_edit(article_id=live.pk) is not None
    response = editor_client.post(discard_url, {"opened_version": "2"})

    assert response.status_code == 302
    assert any("were discarded" in m for m in messages_of(response))
    assert selectors.pending_edit(article_id=live.pk) is None
    live.refresh_from_db()
    assert live.title == "Live headline"
    assert 'value="Live headline"' in editor_client.get(change_url(live)).content.decode()


def test_publish_changes_action_publishes_the_drafts_of_changes(chief_editor_client):
    live = ArticleFactory(title="Live headline")
    edited = Article.objects.get(pk=live.pk)
    edited.title = "New"
    services.article_save_pending(
        article=edited,
        topics=[],
        opened_version=1,
        user=None,
    )

    response = chief_editor_client.post(
        CHANGELIST, {"action": "publish_changes", "_selected_action": [live.pk]}
    )

    assert "1 draft of changes is live now." in messages_of(response)
    live.refresh_from_db()
    assert live.title == "New"


def test_the_list_filters_stories_with_a_draft_of_changes(editor_client):
    waiting = ArticleFactory(title="Waiting")
    ArticleFactory(title="Plain")
    editor_client.post(
        change_url(waiting),
        article_form(waiting, title="Waiting, edited") | {"_save_pending": "Save draft of changes"},
    )

    response = editor_client.get(CHANGELIST, {"changes": "waiting"})

    assert [a.title for a in response.context["cl"].result_list] == ["Waiting"]
    assert 'Published <span class="changes-waiting">(unpublished changes)</span>' in (
        response.content.decode()
    )


# Preview of unsaved changes


def test_preview_shows_the_forms_text_on_the_article_page_and_saves_nothing(editor_client):
    article = ArticleFactory(title="Saved headline")
    preview_url = f"/admin/articles/article/{article.pk}/preview/"
    assert f'formaction="{preview_url}"' in editor_client.get(change_url(article)).content.decode()

    response = editor_client.post(
        preview_url, article_form(article, title="Unsaved headline", body="<p>Unsaved body</p>")
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert '<h1 class="article-title">Unsaved headline</h1>' in html
    assert "Unsaved body" in html
    assert "Preview — not published." in html
    assert "unsaved changes" in html
    assert '<meta name="robots" content="noindex">' in html
    assert response["X-Robots-Tag"].startswith("noindex")
    assert "no-store" in response["Cache-Control"]
    assert "private" in response["Cache-Control"]
    article.refresh_from_db()
    assert (article.title, article.version) == ("Saved headline", 1)


def test_preview_of_a_story_not_saved_yet(editor_client):
    response = editor_client.post(
        "/admin/articles/article/add/preview/", article_form(title="A story in the making")
    )

    assert response.status_code == 200
    assert "A story in the making" in response.content.decode()
    assert not Article.objects.filter(slug="a-new-story").exists()


def test_preview_of_an_invalid_form_shows_its_errors(editor_client):
    article = ArticleFactory()

    response = editor_client.post(
        f"/admin/articles/article/{article.pk}/preview/",
        article_form(article, impact_score="300", title=""),
    )

    assert response.status_code == 400
    html = response.content.decode()
    assert "The impact score is a whole number from 0 to 100." in html
    assert "Headline:" in html
    assert "article-title" not in html


def test_preview_is_for_signed_in_staff_only(client):
    article = ArticleFactory()

    response = client.post(f"/admin/articles/article/{article.pk}/preview/", article_form(article))

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


# Corrections and updates


def local_split(moment) -> dict:
    local = timezone.localtime(moment)
    return {"posted_at_0": local.strftime("%Y-%m-%d"), "posted_at_1": local.strftime("%H:%M:%S")}


def test_a_chief_editor_adds_a_correction_that_readers_see_with_its_time(
    chief_editor_client, client
):
    article = ArticleFactory(publish_at=timezone.now() - datetime.timedelta(hours=3))
    made = (timezone.now() - datetime.timedelta(minutes=10)).replace(microsecond=0)

    form_page = chief_editor_client.get(change_url(article))
    response = chief_editor_client.post(
        change_url(article),
        article_form(article)
        | correction_rows(
            [{"kind": "correction", "text": "The vote was 31 to 24.", **local_split(made)}]
        ),
    )

    assert "Corrections and updates" in form_page.content.decode()
    assert response.status_code == 302
    article.refresh_from_db()
    assert article.latest_correction_at == made
    assert article.version == 2
    page = client.get(article.get_absolute_url()).content.decode()
    assert "The vote was 31 to 24." in page
    assert f'Updated <time datetime="{made.isoformat()}">' in page


def test_a_correction_dated_in_the_future_is_an_error_next_to_its_time(editor_client):
    article = ArticleFactory()
    tomorrow = timezone.now() + datetime.timedelta(days=1)

    response = editor_client.post(
        change_url(article),
        article_form(article)
        | correction_rows([{"kind": "update", "text": "Kept text.", **local_split(tomorrow)}]),
    )

    assert response.status_code == 200
    errors = inline_errors(response, "corrections")
    assert errors[0]["posted_at"] == ["A correction cannot be dated in the future."]
    assert "Kept text." in response.content.decode()
    assert not article.corrections.exists()


def test_removing_the_last_correction_takes_the_updated_time_away(chief_editor_client, client):
    article = ArticleFactory(publish_at=timezone.now() - datetime.timedelta(hours=3))
    services.correction_add(article=article, text="A name was misspelt.", user=None)
    article.refresh_from_db()
    rows = [{**row, "DELETE": "on"} for row in existing_correction_rows(article)]

    response = chief_editor_client.post(
        change_url(article), article_form(article) | correction_rows(rows)
    )

    assert response.status_code == 302
    article.refresh_from_db()
    assert article.latest_correction_at is None
    assert "Updated" not in client.get(article.get_absolute_url()).content.decode()


def test_history_compare_shows_a_correction_and_a_restore_brings_it_back(chief_editor_client):
    article = ArticleFactory()
    chief_editor_client.post(change_url(article), article_form(article, title="Before the note"))
    article.refresh_from_db()
    chief_editor_client.post(
        change_url(article),
        article_form(article)
        | correction_rows(
            [{"kind": "editors_note", "text": "Names changed to protect a source.",
              **local_split(timezone.now())}]
        ),
    )  # fmt: skip
    article.refresh_from_db()
    rows = [{**row, "DELETE": "on"} for row in existing_correction_rows(article)]
    chief_editor_client.post(change_url(article), article_form(article) | correction_rows(rows))
    _deleted, with_note, without = Version.objects.get_for_object(article).order_by("-pk")[:3]

    compare = chief_editor_client.get(
        f"/admin/articles/article/{article.pk}/history/compare/",
        {"version_id1": without.pk, "version_id2": with_note.pk},
    )
    assert "Names changed to protect a source." in compare.content.decode()

    revision_url = f"/admin/articles/article/{article.pk}/history/{with_note.pk}/"
    restored = chief_editor_client.post(
        revision_url, form_data_in(chief_editor_client.get(revision_url).content.decode())
    )
    assert restored.status_code == 302
    article.refresh_from_db()
    assert [c.text for c in article.corrections.all()] == ["Names changed to protect a source."]
    assert article.latest_correction_at is not None


# Publishing a withdrawn story again, and re-dating


def test_publish_now_brings_a_withdrawn_story_back_at_its_original_time(chief_editor_client):
    published_at = timezone.now() - datetime.timedelta(days=4)
    story = ArticleFactory(status="withdrawn", publish_at=published_at)
    draft = ArticleFactory(status="draft", publish_at=None)

    chief_editor_client.post(
        CHANGELIST,
        {"action": "publish_now", "_selected_action": [story.pk, draft.pk], "post": "yes"},
    )

    story.refresh_from_db()
    draft.refresh_from_db()
    assert story.is_published() and story.publish_at == published_at
    assert draft.is_published()
    assert timezone.now() - draft.publish_at < datetime.timedelta(seconds=5)


def test_redate_to_now_is_an_action_of_its_own(chief_editor_client):
    story = ArticleFactory(status="withdrawn", publish_at=timezone.now() - datetime.timedelta(4))

    changelist = chief_editor_client.get(CHANGELIST).content.decode()
    response = chief_editor_client.post(
        CHANGELIST, {"action": "redate", "_selected_action": [story.pk], "post": "yes"}
    )

    assert '<option value="redate">Re-date to now</option>' in changelist
    story.refresh_from_db()
    assert story.is_published()
    assert timezone.now() - story.publish_at < datetime.timedelta(seconds=5)
    assert "1 article is live, re-dated to now." in messages_of(response)


# Addresses


def test_renaming_a_live_story_lists_its_old_address_on_its_page(chief_editor_client):
    story = ArticleFactory(slug="first-address")

    response = chief_editor_client.post(
        change_url(story), article_form(story, slug="second-address")
    )

    assert response.status_code == 302
    redirect = Redirect.objects.get()
    assert (redirect.old_slug, redirect.article) == ("first-address", story)
    page = chief_editor_client.get(change_url(story)).content.decode()
    assert (
        f'href="/admin/articles/redirect/{redirect.pk}/change/">/articles/first-address/<' in page
    )


def test_a_new_story_on_an_old_address_needs_the_editor_to_take_it_over(chief_editor_client):
    moved = ArticleFactory(slug="old-address", title="The moved story")
    Redirect.objects.create(kind="article", old_slug="gone-address", article=moved)
    data = article_form(slug="gone-address", title="A story of its own")

    refused = chief_editor_client.post(ADD, data)

    assert refused.status_code == 200
    form = refused.context["adminform"].form
    assert form.errors["slug"] == [
        "/articles/gone-address/ is an old address of “The moved story”: readers who follow "
        "it are sent there. To use it here, tick “Take over this address” below and save "
        "again; that redirect is then removed."
    ]
    html = refused.content.decode()
    assert 'type="checkbox" name="take_over_address"' in html
    assert 'value="A story of its own"' in html, "nothing typed is lost"
    assert not Article.objects.filter(slug="gone-address").exists()

    taken = chief_editor_client.post(ADD, data | {"take_over_address": "on"})

    assert taken.status_code == 302
    assert Article.objects.get(slug="gone-address").title == "A story of its own"
    assert not Redirect.objects.exists()


def test_the_take_over_checkbox_is_hidden_until_it_is_needed(editor_client):
    html = editor_client.get(ADD).content.decode()

    assert 'type="hidden" name="take_over_address"' in html
    assert 'type="checkbox" name="take_over_address"' not in html


def test_a_topic_renamed_in_the_admin_keeps_its_old_address_and_guards_it(editor_client):
    topic = TopicFactory(name="Sport", slug="sport")
    topic_url = f"/admin/articles/topic/{topic.pk}/change/"

    renamed = editor_client.post(
        topic_url, {"name": "Sports", "slug": "sports", "description": "", "_save": "Save"}
    )
    assert renamed.status_code == 302
    assert "/topics/sport/" in editor_client.get(topic_url).content.decode()

    new_topic = {"name": "Sport (old)", "slug": "sport", "description": "", "_save": "Save"}
    refused = editor_client.post("/admin/articles/topic/add/", new_topic)
    assert refused.status_code == 200
    assert "is an old address of “Sports”" in refused.context["adminform"].form.errors["slug"][0]
    taken = editor_client.post(
        "/admin/articles/topic/add/", new_topic | {"take_over_address": "on"}
    )
    assert taken.status_code == 302
    assert not Redirect.objects.exists()


def test_editors_edit_redirects_in_their_own_admin(editor_client, client):
    first, second = ArticleFactory(slug="first"), ArticleFactory(slug="second")
    redirect = Redirect.objects.create(kind="article", old_slug="old-first", article=first)
    url = f"/admin/articles/redirect/{redirect.pk}/change/"

    listing = editor_client.get("/admin/articles/redirect/").content.decode()
    moved = editor_client.post(
        url, {"kind": "article", "old_slug": "old-first", "article": second.pk, "topic": ""}
    )
    refused = editor_client.post(
        url, {"kind": "article", "old_slug": "second", "article": first.pk, "topic": ""}
    )

    assert "/articles/old-first/" in listing
    assert moved.status_code == 302
    assert client.get("/articles/old-first/")["Location"] == "/articles/second/"
    assert refused.status_code == 200
    assert refused.context["adminform"].form.errors["old_slug"] == [
        "/articles/second/ is the address of “" + second.title + "” now, so a redirect "
        "from it would never be used."
    ]


def test_a_headline_fix_keeps_the_publish_time_to_the_microsecond_and_the_lists_fresh(
    chief_editor_client, monkeypatch, django_capture_on_commit_callbacks
):
    """The form shows times to the second; a story published with now() must not
    move by a fraction of a second when an editor fixes its headline, or the lists
    and every page suggesting stories go stale with it (here and in Varnish)."""
    from newsroom.pagecache import store

    published = timezone.now().replace(microsecond=123456) - datetime.timedelta(hours=2)
    article = ArticleFactory(title="Ferry timetable stays the same", publish_at=published)
    bumped = []
    monkeypatch.setattr(store, "bump", lambda *tags: bumped.extend(tags))

    opened = form_data_in(chief_editor_client.get(change_url(article)).content.decode())
    opened["title"] = "Ferry timetable stays the same all winter"
    with django_capture_on_commit_callbacks(execute=True):
        response = chief_editor_client.post(change_url(article), opened)

    assert response.status_code == 302
    article.refresh_from_db()
    assert article.title == "Ferry timetable stays the same all winter"
    assert article.publish_at == published
    assert f"article:{article.pk}" in bumped
    assert "home" not in bumped
