"""What staff, and people holding a share link, see of a story readers do not see yet:
a draft, or a live story's unpublished changes (a draft of changes)."""

import datetime as dt
import re
from urllib.parse import urlsplit

import pytest
import time_machine
from django.conf import settings
from django.test import Client
from django.utils import timezone

from articles import selectors, services
from articles.models import Article
from tests.articles.views.pages import head_of, not_public
from tests.factories import ArticleFactory, TopicFactory, UserFactory

pytestmark = pytest.mark.django_db


def with_draft_of_changes(live: Article, *, user=None, **changes) -> Article:
    edited = Article.objects.get(pk=live.pk)
    for name, value in changes.items():
        setattr(edited, name, value)
    services.article_save_pending(
        article=edited, topics=list(live.topics.all()), opened_version=live.version, user=user
    )
    live.refresh_from_db()
    return live


def share_path(article: Article) -> str:
    """The path of a new share link (its address is on SITE_URL, not the test host)."""
    return urlsplit(selectors.share_link(article_id=article.pk).url).path


def assert_private_and_unindexed(response) -> None:
    assert "private" in response["Cache-Control"]
    assert "no-store" in response["Cache-Control"]
    assert "noindex" in response["X-Robots-Tag"]
    assert "X-Page-Cache" not in response
    assert not response.cookies


# Staff on the public address


@pytest.fixture
def staff_browser(editor_client):
    """An editor's browser after using the admin: it carries the staff cookie."""
    editor_client.get("/admin/")
    assert settings.STAFF_COOKIE_NAME in editor_client.cookies
    return editor_client


def test_staff_see_the_unpublished_changes_and_readers_the_live_story(staff_browser):
    live = ArticleFactory(title="Live headline", slug="budget")
    with_draft_of_changes(live, title="Changed headline", user=UserFactory(username="alice"))

    staff = staff_browser.get("/articles/budget/")
    reader = Client().get("/articles/budget/")

    staff_html = staff.content.decode()
    assert '<h1 class="article-title">Changed headline</h1>' in staff_html
    assert "This page shows changes saved by alice at" in staff_html
    assert "readers see the published version" in staff_html
    assert head_of(staff).meta["robots"] == "noindex"
    assert "no-store" in staff["Cache-Control"]
    assert staff["X-Page-Cache"] == "bypass"
    assert '<h1 class="article-title">Live headline</h1>' in reader.content.decode()
    assert "Changed headline" not in reader.content.decode()
    assert "Preview" not in reader.content.decode()


def test_search_feed_and_lists_keep_the_published_version():
    live = ArticleFactory(title="Harbour plan approved", slug="harbour")
    with_draft_of_changes(live, title="Harbour plan rejected", standfirst="Zanzibar turnaround.")

    for path in ("/", "/feed/", "/search/?q=harbour"):
        html = Client().get(path).content.decode()
        assert "Harbour plan approved" in html, path
        assert "rejected" not in html, path
    assert "Harbour plan" not in Client().get("/search/?q=zanzibar").content.decode()


def test_staff_without_changes_waiting_see_the_live_story_without_a_banner(staff_browser):
    ArticleFactory(title="Live headline", slug="budget")

    html = staff_browser.get("/articles/budget/").content.decode()

    assert "Live headline" in html
    assert "Preview — not published" not in html


# Share links


def test_a_share_link_shows_a_draft_to_someone_without_a_login():
    draft = ArticleFactory(title="Embargoed story", **not_public("draft"))

    response = Client().get(share_path(draft))

    assert response.status_code == 200
    html = response.content.decode()
    assert '<h1 class="article-title">Embargoed story</h1>' in html
    assert "Preview — not published." in html
    assert "shared with you by the newsroom" in html
    assert head_of(response).meta["robots"] == "noindex"
    assert_private_and_unindexed(response)
    assert Client().get(draft.get_absolute_url()).status_code == 404


def test_a_share_link_shows_the_unpublished_changes_while_readers_see_the_live_story():
    live = ArticleFactory(title="Live headline", slug="budget", topics=[TopicFactory()])
    with_draft_of_changes(live, title="Changed headline", standfirst="A new standfirst.")
    path = share_path(live)

    shared = Client().get(path)
    public = Client().get("/articles/budget/")

    assert "Changed headline" in shared.content.decode()
    assert "A new standfirst." in shared.content.decode()
    assert_private_and_unindexed(shared)
    assert "Live headline" in public.content.decode()
    assert "Changed headline" not in public.content.decode()

    services.article_publish_pending(article=live, user=None)
    after = Client().get(path)
    assert after.status_code == 302, "once published, the link sends its reader to the story"
    assert after["Location"] == "/articles/budget/"


def test_a_share_link_stops_working_after_its_hours(settings):
    settings.SHARE_LINK_HOURS = 48
    draft = ArticleFactory(**not_public("draft"))
    path = share_path(draft)

    with time_machine.travel(timezone.now() + dt.timedelta(hours=47)):
        assert Client().get(path).status_code == 200
    with time_machine.travel(timezone.now() + dt.timedelta(hours=49)):
        response = Client().get(path)

    assert response.status_code == 410
    assert "This preview link has expired" in response.content.decode()
    assert_private_and_unindexed(response)


def test_revoking_ends_every_link_made_before_and_new_ones_work():
    draft = ArticleFactory(**not_public("draft"))
    old = share_path(draft)

    services.article_revoke_share_links(article=draft)

    refused = Client().get(old)
    assert refused.status_code == 410
    assert "This preview link was withdrawn by the newsroom" in refused.content.decode()
    assert Client().get(share_path(draft)).status_code == 200


@pytest.mark.parametrize(
    "mangle",
    [
        pytest.param(lambda token: token[:-3], id="cut-short"),
        pytest.param(lambda token: token.replace(":", ":x", 1), id="tampered"),
        pytest.param(lambda token: "not-a-token", id="made-up"),
    ],
)
def test_a_forged_or_mangled_link_is_a_clear_404(mangle):
    draft = ArticleFactory(**not_public("draft"))
    token = share_path(draft).strip("/").split("/")[-1]

    response = Client().get(f"/preview/{mangle(token)}/")

    assert response.status_code == 404
    assert "This preview link is not valid" in response.content.decode()
    assert_private_and_unindexed(response)


def test_a_link_to_another_article_cannot_be_made_from_a_valid_one():
    draft, other = ArticleFactory(**not_public("draft")), ArticleFactory(**not_public("draft"))
    token = share_path(draft).strip("/").split("/")[-1]
    forged = re.sub(r"^[^:]+", share_path(other).strip("/").split("/")[-1].split(":")[0], token)

    assert Client().get(f"/preview/{forged}/").status_code == 404


def test_a_link_to_a_deleted_story_says_it_is_gone():
    draft = ArticleFactory(**not_public("draft"))
    path = share_path(draft)
    draft.delete()

    response = Client().get(path)

    assert response.status_code == 410
    assert "This story is no longer available" in response.content.decode()


def test_the_share_link_page_in_the_admin_makes_and_revokes_links(editor_client):
    draft = ArticleFactory(title="Embargoed story", **not_public("draft"))
    share_admin = f"/admin/articles/article/{draft.pk}/share/"
    change = editor_client.get(f"/admin/articles/article/{draft.pk}/change/").content.decode()
    assert f'href="{share_admin}"' in change

    made = editor_client.post(share_admin, {"_create": "1"}).content.decode()
    url = re.search(r'id="share-link"[^>]*value="([^"]+)"', made).group(1)
    assert url.startswith(f"{settings.SITE_URL}/preview/")
    assert "Works until" in made
    reader = Client()
    assert "Embargoed story" in reader.get(urlsplit(url).path).content.decode()

    revoked = editor_client.post(share_admin, {"_revoke": "1"})
    assert revoked.status_code == 302
    assert reader.get(urlsplit(url).path).status_code == 410


def test_only_editors_make_share_links(client):
    draft = ArticleFactory(**not_public("draft"))

    response = client.post(f"/admin/articles/article/{draft.pk}/share/", {"_create": "1"})

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
