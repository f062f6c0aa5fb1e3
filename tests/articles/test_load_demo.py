from datetime import timedelta
from io import StringIO

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone
from PIL import Image
from reversion.models import Version

from articles import demo_content as demo
from articles import selectors, services
from articles.models import (
    Article,
    ArticleAuthor,
    Author,
    Correction,
    Redirect,
    RelatedLink,
    Topic,
)
from articles.sanitize import sanitize_html
from tests.factories import ArticleFactory, TopicFactory

pytestmark = pytest.mark.django_db

DEMO = demo.load()
DEMO_SLUGS = [spec.slug for spec in DEMO.articles]
# The lead story, and the two stories its cards point at.
EU_AI_SLUG = "halvard-labs-refuses-eu-ai-code-of-practice"
RAG_SLUG = "retrieval-augmented-generation-at-scale"
BIOMED_SLUG = "ai-models-reshape-biomedical-research"


@pytest.fixture(autouse=True)
def _debug_on(settings, tmp_path):
    settings.DEBUG = True
    settings.MEDIA_ROOT = tmp_path / "media"  # the authors' portraits and the demo's pictures
    # The command hashes the demo password; the real hasher is slow on purpose.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def test_the_demo_file_names_only_topics_bylines_and_stories_it_has():
    topics = {topic.slug for topic in DEMO.topics}
    authors = {author.slug for author in DEMO.authors}
    assert len(set(DEMO_SLUGS)) == len(DEMO_SLUGS)
    assert DEMO.lead in DEMO_SLUGS
    for spec in DEMO.articles:
        assert set(spec.topics) <= topics, spec.slug
        assert spec.authors and set(spec.authors) <= authors, spec.slug
        assert spec.state in ("published", "scheduled", "draft"), spec.slug
        for link in spec.related:
            assert bool(link.article) != bool(link.url), spec.slug
            assert not link.article or link.article in DEMO_SLUGS, spec.slug
        assert not set(spec.old_slugs) & set(DEMO_SLUGS), spec.slug
        for note in spec.corrections:
            assert note.kind in Correction.Kind.values, spec.slug


def load_demo(*args) -> str:
    out = StringIO()
    call_command("load_demo", *args, stdout=out)
    return out.getvalue()


def snapshot() -> dict:
    """Every row the command could touch, as plain values."""
    user_model = get_user_model()
    return {
        "articles": list(Article.objects.order_by("pk").values()),
        "article_topics": list(
            Article.topics.through.objects.order_by("pk").values_list("article_id", "topic_id")
        ),
        "links": list(RelatedLink.objects.order_by("pk").values()),
        "bylines": list(ArticleAuthor.objects.order_by("pk").values()),
        "corrections": list(Correction.objects.order_by("pk").values()),
        "redirects": list(Redirect.objects.order_by("pk").values()),
        "topics": list(Topic.objects.order_by("pk").values()),
        "authors": list(Author.objects.order_by("pk").values()),
        "users": list(user_model.objects.order_by("pk").values()),
        "groups": list(Group.objects.order_by("pk").values_list("pk", "name")),
        "memberships": list(
            user_model.groups.through.objects.order_by("pk").values_list("user_id", "group_id")
        ),
    }


def test_loads_about_thirty_complete_articles_in_several_topics():
    load_demo()

    assert 28 <= Article.objects.count() <= 35
    assert 5 <= Topic.objects.count() <= 7
    assert all(topic.description for topic in Topic.objects.all())
    assert 3 <= Author.objects.count() <= 5
    assert all(author.bio for author in Author.objects.all())
    for article in Article.objects.prefetch_related("topics"):
        assert article.title and article.standfirst and article.why_it_matters
        assert article.body.startswith("<p>") and article.body.count("<p>") >= 2
        assert 0 <= article.impact_score <= 100
        assert 1 <= len(article.topics.all()) <= 3
        assert article.byline_authors()
        # Bodies went through the sanitizer: sanitizing again changes nothing.
        assert article.body == sanitize_html(article.body)


def test_eu_ai_article_has_impact_68_and_two_related_cards_in_order():
    load_demo()

    article = Article.objects.get(slug=EU_AI_SLUG)
    assert article.impact_score == 68
    assert article.is_published()
    assert "code of practice" in article.title
    links = list(article.related_links.all())
    assert [link.target_article.slug for link in links] == [RAG_SLUG, BIOMED_SLUG]
    assert [link.position for link in links] == [0, 1]
    assert all(link.target_article.is_published() for link in links)
    assert all(link.hidden_reason() == "" for link in links)
    assert "retrieval-augmented generation" in links[0].target_article.title.lower()
    assert "biomedical" in links[1].target_article.title.lower()


def test_some_related_cards_are_external_links_with_their_own_title():
    load_demo()

    external = RelatedLink.objects.filter(target_article__isnull=True)
    assert external.exists()
    for link in external:
        assert link.url.startswith("https://example.org/")
        assert link.title and link.summary


def test_every_editorial_state_is_represented():
    load_demo()

    demo_articles = Article.objects.filter(slug__in=DEMO_SLUGS)
    drafts = demo_articles.filter(status=Article.Status.DRAFT)
    scheduled = demo_articles.scheduled()
    assert 1 <= drafts.count() <= 2
    assert scheduled.count() == 1
    published = Article.objects.published()
    assert not published.filter(pk__in=drafts).exists()
    assert not published.filter(pk__in=scheduled).exists()
    assert published.count() == demo_articles.count() - drafts.count() - 1


def test_publish_times_spread_over_past_weeks_newest_first_in_demo_order():
    load_demo()

    published = list(Article.objects.published())
    expected = [spec.slug for spec in DEMO.articles if spec.state == "published"]
    assert [article.slug for article in published] == expected
    oldest = published[-1].publish_at
    assert timezone.now() - oldest > timedelta(weeks=2)


def test_creates_demo_editor_in_editors_group_and_prints_login():
    output = load_demo()

    editor = get_user_model().objects.get(username=DEMO.editor_username)
    assert editor.is_staff and editor.is_active
    assert not editor.is_superuser
    assert editor.groups.filter(name="Editors").exists()
    assert editor.has_usable_password()
    assert editor.check_password(DEMO.editor_password)
    assert "Demo editor login: http://testserver/admin/" in output
    assert f"user editor / password {DEMO.editor_password}" in output


def test_a_demo_chief_editor_may_publish_and_the_demo_editor_may_not():
    output = load_demo()

    chief = get_user_model().objects.get(username="chief")
    editor = get_user_model().objects.get(username=DEMO.editor_username)
    assert set(chief.groups.values_list("name", flat=True)) == {"Editors", "Chief editors"}
    assert chief.check_password("chief-demo-2026") and not chief.is_superuser
    assert services.can_publish(chief) and not services.can_publish(editor)
    assert "Demo chief editor login: http://testserver/admin/ user chief / password" in output


def test_reset_puts_a_demo_chief_editor_back_in_its_groups():
    load_demo()
    chief = get_user_model().objects.get(username="chief")
    chief.groups.remove(Group.objects.get(name="Chief editors"))

    output = load_demo("--reset")

    assert "user chief: membership of Chief editors" in output
    assert chief.groups.filter(name="Chief editors").exists()


def test_demo_editor_may_edit_articles_through_the_editors_group():
    load_demo()

    editor = get_user_model().objects.get(username=DEMO.editor_username)
    assert editor.has_perm("articles.change_article")
    assert editor.has_perm("articles.add_relatedlink")


def test_running_twice_leaves_the_same_rows_and_spares_editors_own_work():
    load_demo()
    own_topic = TopicFactory(name="Local", slug="local")
    own = ArticleFactory(slug="editors-own-story", topics=[own_topic])
    # An editor may link their own story to demo stories; the command leaves that alone.
    RelatedLink.objects.create(
        article=own, target_article=Article.objects.get(slug=RAG_SLUG), position=0
    )
    before = snapshot()

    output = load_demo()

    assert snapshot() == before
    assert "Rows: 0 created" in output
    eu = Article.objects.get(slug=EU_AI_SLUG)
    assert list(eu.related_links.values_list("target_article__slug", flat=True)) == [
        RAG_SLUG,
        BIOMED_SLUG,
    ]
    assert Group.objects.filter(name="Editors").count() == 1


def edit_the_demo():
    """What an editor might do to the demo between two ``make run``s."""
    eu = Article.objects.get(slug=EU_AI_SLUG)
    eu.title = "Our own headline"
    eu.body = "<p>Our own first paragraph.</p><p>And a second one.</p>"
    eu.impact_score = 10
    eu.save()
    eu.related_links.filter(position=1).delete()
    Topic.objects.filter(slug="climate").update(name="Climate & Energy", description="Ours.")
    editor = get_user_model().objects.get(username=DEMO.editor_username)
    editor.set_password("a-password-the-editor-chose")
    editor.is_staff = False
    editor.save()
    editor.groups.clear()
    return eu, editor


def test_a_second_run_keeps_every_edit_to_demo_stories_links_topics_and_the_login():
    load_demo()
    eu, editor = edit_the_demo()
    before = snapshot()

    output = load_demo()

    assert snapshot() == before
    eu.refresh_from_db()
    assert eu.title == "Our own headline"
    assert eu.body.startswith("<p>Our own first paragraph.</p>")
    assert [link.target_article.slug for link in eu.related_links.all()] == [RAG_SLUG]
    assert Topic.objects.get(slug="climate").name == "Climate & Energy"
    editor.refresh_from_db()
    assert editor.check_password("a-password-the-editor-chose")
    assert not editor.is_staff
    assert "left as they are" in output
    assert "--reset" in output


def test_a_second_run_adds_back_only_what_is_missing():
    load_demo()
    # Deleted as an editor must: the links to the story first.
    RelatedLink.objects.filter(target_article__slug=RAG_SLUG).delete()
    Article.objects.filter(slug=RAG_SLUG).delete()
    get_user_model().objects.filter(username=DEMO.editor_username).delete()
    eu = Article.objects.get(slug=EU_AI_SLUG)
    Article.objects.filter(pk=eu.pk).update(title="Our own headline")

    output = load_demo()

    rag = Article.objects.get(slug=RAG_SLUG)
    assert rag.topics.exists()
    assert get_user_model().objects.get(username="editor").check_password(DEMO.editor_password)
    eu.refresh_from_db()
    assert eu.title == "Our own headline"
    # The story whose link was removed keeps the links it has; a reset restores them.
    assert [link.target_article.slug for link in eu.related_links.all()] == [BIOMED_SLUG]
    assert "Rows: 2 created" in output


def test_reset_restores_the_demo_and_says_what_it_overwrites_before_it_does():
    load_demo()
    original_publish_at = Article.objects.get(slug=EU_AI_SLUG).publish_at
    eu, editor = edit_the_demo()
    version = eu.version
    titles_when_announced = []

    class Output(StringIO):
        def write(self, text):
            if EU_AI_SLUG in text:
                titles_when_announced.append(Article.objects.get(pk=eu.pk).title)
            return super().write(text)

    out = Output()
    call_command("load_demo", "--reset", stdout=out)
    output = out.getvalue()

    assert f"article {EU_AI_SLUG}: headline, body, impact score, related links" in output
    assert "topic climate: name, description" in output
    assert "user editor: password, staff status, membership of Editors" in output
    assert "--reset overwrites 3 existing demo rows" in output
    assert titles_when_announced[0] == "Our own headline"  # announced, then overwritten
    eu.refresh_from_db()
    spec = next(spec for spec in DEMO.articles if spec.slug == EU_AI_SLUG)
    assert eu.title == spec.title
    assert eu.impact_score == 68
    assert eu.body == sanitize_html(demo.render_body(spec.body))
    assert eu.publish_at == original_publish_at
    assert eu.version == version + 1  # an admin form opened before the reset cannot save over it
    assert [link.target_article.slug for link in eu.related_links.all()] == [
        RAG_SLUG,
        BIOMED_SLUG,
    ]
    climate = Topic.objects.get(slug="climate")
    assert (climate.name, climate.description) == (
        "Climate",
        next(spec.description for spec in DEMO.topics if spec.slug == "climate"),
    )
    editor.refresh_from_db()
    assert editor.check_password(DEMO.editor_password)
    assert editor.is_staff
    assert editor.groups.filter(name="Editors").exists()
    assert "password editor-demo-2026" in output


def test_reset_of_an_untouched_demo_changes_nothing():
    load_demo()
    before = snapshot()

    output = load_demo("--reset")

    assert snapshot() == before
    assert "already as shipped" in output


def test_reuses_an_existing_editors_group_and_topic_of_the_same_name():
    Group.objects.get_or_create(name="Editors")
    climate = TopicFactory(name="Climate", slug="our-climate", description="Ours.")

    load_demo()

    assert Group.objects.filter(name="Editors").count() == 1
    assert Topic.objects.filter(name="Climate").count() == 1
    climate.refresh_from_db()
    assert climate.description == "Ours."
    assert climate.articles.filter(slug__in=DEMO_SLUGS).exists()


def test_scheduled_story_goes_live_and_only_a_reset_schedules_it_again():
    load_demo()
    published_before = dict(Article.objects.published().values_list("slug", "publish_at"))

    with time_machine.travel(timezone.now() + timedelta(days=5), tick=False):
        load_demo()
        demo_articles = Article.objects.filter(slug__in=DEMO_SLUGS)
        assert demo_articles.scheduled().count() == 0  # its time came; a restart leaves it
        load_demo("--reset")
        assert demo_articles.scheduled().count() == 1
        published_after = dict(
            Article.objects.filter(slug__in=published_before).values_list("slug", "publish_at")
        )

    # Stories already out keep their times, even on a reset: the front page keeps its order.
    assert published_after == published_before


def test_refuses_to_run_with_debug_off(settings):
    settings.DEBUG = False

    with pytest.raises(CommandError, match=r"DEBUG off.*--force"):
        load_demo()

    assert not Article.objects.exists()
    assert not get_user_model().objects.filter(username=DEMO.editor_username).exists()


def test_force_loads_with_debug_off(settings):
    settings.DEBUG = False

    load_demo("--force")

    assert Article.objects.filter(slug=EU_AI_SLUG).exists()


# A live story with a draft of changes


PENDING_SLUG = "city-council-approves-four-day-week-pilot"


def test_one_live_story_has_a_draft_of_changes_that_readers_do_not_see(client, settings):
    settings.SITE_URL = "http://testserver"
    load_demo()

    story = Article.objects.get(slug=PENDING_SLUG)
    pending = selectors.pending_edit(article_id=story.pk)
    spec = next(spec for spec in DEMO.articles if spec.slug == PENDING_SLUG)
    assert spec.state == "published"
    assert story.is_published()
    assert story.title == spec.title
    assert pending.title == spec.pending.title != spec.title
    assert pending.impact_score == spec.pending.impact_score
    assert pending.body == story.body, "fields the draft does not name are the story's"
    assert pending.saved_by.username == DEMO.editor_username
    assert list(pending.topics.all()) == list(story.topics.all())
    assert spec.pending.title not in client.get(story.get_absolute_url()).content.decode()
    assert [spec.slug for spec in DEMO.articles if spec.pending] == [PENDING_SLUG]


def test_only_published_demo_stories_have_drafts_of_changes():
    assert all(spec.state == "published" for spec in DEMO.articles if spec.pending)


def test_a_published_draft_of_changes_is_not_brought_back_and_a_reset_restores_it():
    load_demo()
    story = Article.objects.get(slug=PENDING_SLUG)
    services.article_publish_pending(article=story, user=None)

    load_demo()
    assert selectors.pending_edit(article_id=story.pk) is None

    output = load_demo("--reset")
    assert f"article {PENDING_SLUG}: draft of changes" in output
    story.refresh_from_db()
    spec = next(spec for spec in DEMO.articles if spec.slug == PENDING_SLUG)
    assert story.title == spec.title
    assert selectors.pending_edit(article_id=story.pk).title == spec.pending.title


# Corrections and old addresses

COUNCIL_SLUG = "city-council-approves-four-day-week-pilot"
COUNCIL_OLD_SLUG = "council-backs-four-day-week"


def test_a_demo_story_carries_a_correction_and_answers_an_old_address(client):
    load_demo()

    council = Article.objects.get(slug=COUNCIL_SLUG)
    correction = council.corrections.get()
    assert correction.kind == Correction.Kind.CORRECTION
    assert "32 to 23" in correction.text
    assert council.latest_correction_at == correction.posted_at > council.publish_at
    page = client.get(council.get_absolute_url()).content.decode()
    assert "Updated <time" in page
    assert "32 to 23" in page
    moved = client.get(f"/articles/{COUNCIL_OLD_SLUG}/")
    assert (moved.status_code, moved["Location"]) == (301, council.get_absolute_url())


def test_a_reset_brings_back_a_removed_correction_and_old_address():
    load_demo()
    council = Article.objects.get(slug=COUNCIL_SLUG)
    council.corrections.all().delete()
    council.redirects.all().delete()

    output = load_demo("--reset")

    assert f"article {COUNCIL_SLUG}: corrections and updates, old addresses" in output
    council.refresh_from_db()
    assert council.corrections.count() == 1
    assert council.latest_correction_at is not None
    assert list(council.redirects.values_list("old_slug", flat=True)) == [COUNCIL_OLD_SLUG]


# History: every demo story starts with a version to go back to


def first_versions() -> dict[str, list]:
    return {
        slug: list(
            Version.objects.get_for_object(Article.objects.get(slug=slug))
            .order_by("pk")
            .values_list("revision__comment", flat=True)
        )
        for slug in DEMO_SLUGS
    }


def test_each_demo_story_starts_with_its_text_in_history_once():
    load_demo()
    with_draft = {spec.slug for spec in DEMO.articles if spec.pending is not None}

    versions = first_versions()
    load_demo()

    for slug, comments in versions.items():
        assert comments[0] == "Demo story as shipped.", slug
        assert len(comments) == (2 if slug in with_draft else 1), slug
    assert first_versions() == versions, "a second run adds no version"
    lead = Article.objects.get(slug=EU_AI_SLUG)
    first = Version.objects.get_for_object(lead).order_by("pk").first()
    held = {version.content_type.model for version in first.revision.version_set.all()}
    assert {"article", "relatedlink"} <= held
    assert first.field_dict["body"] == lead.body


def test_a_demo_storys_original_text_is_restored_from_history(chief_editor_client):
    from tests.articles.test_admin import article_form, change_url, form_data_in

    load_demo()
    story = Article.objects.get(slug=RAG_SLUG)
    original = (story.title, story.body)
    chief_editor_client.post(
        change_url(story),
        article_form(story, title="Rewritten headline", body="<p>Rewritten.</p>"),
    )
    story.refresh_from_db()
    assert story.title == "Rewritten headline"
    first = Version.objects.get_for_object(story).order_by("pk").first()
    revision_url = f"/admin/articles/article/{story.pk}/history/{first.pk}/"

    restored = chief_editor_client.post(
        revision_url, form_data_in(chief_editor_client.get(revision_url).content.decode())
    )

    assert restored.status_code == 302
    story.refresh_from_db()
    assert (story.title, story.body) == original


def test_reset_records_the_story_put_back_in_history():
    load_demo()
    story = Article.objects.get(slug=RAG_SLUG)
    Article.objects.filter(pk=story.pk).update(title="Changed behind the demo's back")

    load_demo("--reset")
    load_demo("--reset")

    comments = list(
        Version.objects.get_for_object(story)
        .order_by("pk")
        .values_list("revision__comment", flat=True)
    )
    assert comments == [
        "Demo story as shipped.",
        "Demo story put back as shipped (load_demo --reset).",
    ]


def test_the_lead_story_has_two_authors_with_roles_and_bios(client):
    load_demo()

    lead = Article.objects.get(slug=DEMO.lead)
    authors = lead.byline_authors()
    assert [author.name for author in authors] == ["Lucia Ferrand", "Maren Castell"]
    assert all(author.role and author.bio for author in Author.objects.all())
    page = client.get(lead.get_absolute_url()).text
    assert "By <a" in page and "Lucia Ferrand</a> and <a" in page
    author_page = client.get(authors[1].get_absolute_url()).text
    assert f'src="{authors[1].photo.url}" alt="Placeholder portrait of Maren Castell: the' in (
        author_page
    )


def test_each_demo_author_gets_a_described_portrait_drawn_at_load_time(settings):
    load_demo()

    for author in Author.objects.all():
        with Image.open(author.photo.path) as portrait:
            assert portrait.size == (320, 320)
        author.full_clean()  # alt text present
        assert author.name in author.photo_alt


def test_a_reset_brings_back_the_demo_byline():
    load_demo()
    lead = Article.objects.get(slug=DEMO.lead)
    services.article_set_authors(article=lead, authors=[Author.objects.get(slug="maren-castell")])

    output = load_demo("--reset")

    assert f"article {DEMO.lead}: authors" in output
    assert [author.slug for author in lead.byline_authors()] == ["lucia-ferrand", "maren-castell"]


def test_the_demo_has_a_story_with_a_captioned_hero_and_body_picture(
    client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        call_command("load_demo", stdout=StringIO())

    story = Article.objects.get(slug="river-restoration-brings-back-salmon")
    content = client.get(story.get_absolute_url()).content.decode()

    hero = content.split('<figure class="article-hero', 1)[1].split("</figure>", 1)[0]
    assert 'alt="A river winding between green hills' in hero
    assert '<span class="credit">Illustration: Newsroom demo</span>' in hero
    assert 'type="image/webp" srcset="' in hero, "its sized versions were made"
    body = content.split('<div class="article-body">', 1)[1].split("</div>", 1)[0]
    assert body.count("<figure>") == 1
    assert 'alt="Water tumbling down a ramp of boulders' in body
    assert "<figcaption>A rock ramp now lets fish climb" in body
    assert body.index("rock ramps") < body.index("<figure>") < body.index("one good year")
