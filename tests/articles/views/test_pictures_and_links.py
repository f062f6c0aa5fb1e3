"""Pictures and links to our stories on the article page: the hero with its caption and
credit, body pictures in their sized versions, links that follow a renamed story, the
page cache refreshed when either changes, and what it costs in queries."""

import re

import pytest
from django.db import connection

from articles import services, tasks
from articles.models import Article, Picture
from tests.articles.pictures import image_bytes, upload
from tests.articles.views.pages import SITE_URL, head_of
from tests.factories import ArticleFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def busy_worker(monkeypatch):
    """The worker has not got round to the sizes yet: enqueued tasks wait here."""
    waiting = []
    monkeypatch.setattr(
        tasks.make_picture_sizes, "apply_async", lambda kwargs, **options: waiting.append(kwargs)
    )
    return waiting


def tag(content: str, name: str, containing: str) -> str:
    """The first ``<name …>`` tag of ``content`` that contains ``containing``."""
    return next(t for t in re.findall(rf"<{name}\b[^>]*>", content) if containing in t)


def attributes(markup: str) -> dict[str, str]:
    return dict(re.findall(r'([a-z-]+)="([^"]*)"', markup))


def hero_story(*, sized: bool, **kwargs) -> Article:
    """A live story whose 2000 x 1000 hero image went through the editors' form; its
    sized versions made when ``sized``, else still waiting for the worker."""
    article = ArticleFactory(**kwargs)
    article.hero_image = upload("bridge.jpg", image_bytes(2000, 1000))
    article.hero_image_alt = "The bridge at dawn"
    article.hero_image_caption = "Traffic crossed again on Monday."
    article.hero_image_credit = "Photo: Ana Ruiz"
    services.article_save(article=article, opened_version=article.version, user=None)
    if sized:
        tasks.make_picture_sizes(picture_id=article.hero_picture_id)
    article.refresh_from_db()
    return article


def body_picture(*, sized: bool = True) -> Picture:
    picture = services.picture_add(
        picture=Picture(file=upload("quay.jpg", image_bytes(1200, 800)), alt="The quay"),
        user=None,
    )
    if sized:
        tasks.make_picture_sizes(picture_id=picture.pk)
        picture.refresh_from_db()
    return picture


def figure(picture: Picture, *, alt="Ferries waiting at the quay", caption="", credit=""):
    """The markup the body editor stores for ``picture``."""
    words = caption + (" " if caption and credit else "")
    if credit:
        words += f'<span class="credit">{credit}</span>'
    return (
        f'<figure><img src="{picture.file.url}" alt="{alt}" width="{picture.width}" '
        f'height="{picture.height}" data-picture="{picture.pk}">'
        + (f"<figcaption>{words}</figcaption>" if words else "")
        + "</figure>"
    )


# The hero image


def test_the_hero_waits_for_its_sizes_as_the_original_with_its_size(client):
    article = hero_story(sized=False)

    content = client.get(article.get_absolute_url()).content.decode()

    img = attributes(tag(content, "img", "The bridge at dawn"))
    assert img["src"] == f"/media/{article.hero_image.name}"
    assert (img["width"], img["height"]) == ("2000", "1000")
    assert "srcset" not in img
    assert "<picture>" not in content


def test_the_hero_is_shown_in_its_sized_versions_above_the_fold(client):
    article = hero_story(sized=True)

    content = client.get(article.get_absolute_url()).content.decode()

    hero = content.split('<figure class="article-hero', 1)[1].split("</figure>", 1)[0]
    webp = attributes(tag(hero, "source", "image/webp"))
    img = attributes(tag(hero, "img", "The bridge at dawn"))
    stem = article.hero_image.name.rsplit(".", 1)[0]
    assert webp["srcset"] == ", ".join(
        f"/media/sizes/{stem}-{width}w.webp {width}w" for width in (480, 960, 1600)
    )
    assert img["srcset"] == ", ".join(
        f"/media/sizes/{stem}-{width}w.jpg {width}w" for width in (480, 960, 1600)
    )
    assert img["src"] == f"/media/sizes/{stem}-960w.jpg"
    assert webp["sizes"] == img["sizes"] == "(min-width: 47.5rem) 46rem, 100vw"
    assert (img["width"], img["height"]) == ("2000", "1000")
    # At the top of the page: fetched at once, first.
    assert "loading" not in img
    assert (img["fetchpriority"], img["decoding"]) == ("high", "async")


def test_the_hero_shows_its_caption_and_credit(client):
    article = hero_story(sized=False)

    content = client.get(article.get_absolute_url()).content.decode()

    assert (
        '<figcaption class="article-hero-caption">Traffic crossed again on Monday. '
        '<span class="credit">Photo: Ana Ruiz</span></figcaption>'
    ) in content


def test_link_previews_take_the_heros_widest_jpeg_with_its_size_and_alt(client):
    article = hero_story(sized=True)

    meta = head_of(client.get(article.get_absolute_url())).meta

    stem = article.hero_image.name.rsplit(".", 1)[0]
    assert meta["og:image"] == f"{SITE_URL}/media/sizes/{stem}-1600w.jpg"
    assert (meta["og:image:width"], meta["og:image:height"]) == ("1600", "800")
    assert meta["og:image:alt"] == "The bridge at dawn"


def test_the_page_is_refreshed_when_the_heros_sizes_are_ready(anonymous, edit, busy_worker):
    article = edit(lambda: hero_story(sized=False))
    assert busy_worker == [{"picture_id": article.hero_picture_id}]
    assert "srcset" not in anonymous.get(article.get_absolute_url()).content.decode()
    assert anonymous.get(article.get_absolute_url())["X-Page-Cache"] == "hit"

    edit(lambda: tasks.make_picture_sizes(picture_id=article.hero_picture_id))

    response = anonymous.get(article.get_absolute_url())
    assert response["X-Page-Cache"] == "miss"
    assert "srcset" in response.content.decode()


# Pictures in the body


def test_a_body_picture_is_shown_in_its_sizes_lazily_with_its_caption_and_credit(client):
    picture = body_picture()
    article = ArticleFactory(
        body="<p>Before.</p>"
        + figure(picture, caption="Ferries wait for the tide.", credit="Photo: Sam Lee")
        + "<p>After.</p>"
    )

    content = client.get(article.get_absolute_url()).content.decode()

    body = content.split('<div class="article-body">', 1)[1].split("</div>", 1)[0]
    img = attributes(tag(body, "img", "Ferries waiting"))
    assert img["alt"] == "Ferries waiting at the quay", "the alt typed for this story"
    assert (img["width"], img["height"]) == ("1200", "800")
    assert (img["loading"], img["decoding"]) == ("lazy", "async")
    assert "fetchpriority" not in img
    stem = picture.file.name.rsplit(".", 1)[0]
    assert img["srcset"] == ", ".join(
        f"/media/sizes/{stem}-{width}w.jpg {width}w" for width in (480, 960, 1200)
    )
    assert 'type="image/webp"' in body
    assert (
        '<figcaption>Ferries wait for the tide. <span class="credit">Photo: Sam Lee</span>'
        "</figcaption></figure><p>After.</p>"
    ) in body


def test_a_body_picture_without_sizes_yet_is_the_original_with_its_size(client):
    picture = body_picture(sized=False)
    article = ArticleFactory(body=figure(picture))

    content = client.get(article.get_absolute_url()).content.decode()

    img = attributes(tag(content, "img", "Ferries waiting"))
    assert img["src"] == picture.file.url
    assert (img["width"], img["height"], img["loading"]) == ("1200", "800", "lazy")
    assert "srcset" not in img


def test_the_page_is_refreshed_when_a_body_pictures_sizes_are_ready(anonymous, edit, busy_worker):
    picture = edit(lambda: body_picture(sized=False))
    article = edit(lambda: linking(figure(picture)))
    assert "srcset" not in anonymous.get(article.get_absolute_url()).content.decode()
    assert anonymous.get(article.get_absolute_url())["X-Page-Cache"] == "hit"

    edit(lambda: tasks.make_picture_sizes(picture_id=picture.pk))

    assert "srcset" in anonymous.get(article.get_absolute_url()).content.decode()


# Links to our stories


def story_link(target: Article, text: str = "the vote") -> str:
    return f'<a href="{target.get_absolute_url()}" data-article="{target.pk}">{text}</a>'


def linking(body: str) -> Article:
    """A live story with ``body`` and three curated cards of other stories: no suggested
    card can show (and tag) the story its body links to."""
    article = ArticleFactory(body=body)
    for position, target in enumerate(ArticleFactory.create_batch(3)):
        article.related_links.create(target_article=target, position=position)
    return article


def links_in(client, article: Article) -> list[tuple[str, str]]:
    content = client.get(article.get_absolute_url()).content.decode()
    body = content.split('<div class="article-body">', 1)[1].split("</div>", 1)[0]
    return re.findall(r'<a href="([^"]+)"[^>]*>([^<]*)</a>', body)


def test_a_link_to_a_renamed_story_goes_to_its_new_address(client):
    target = ArticleFactory(slug="council-vote")
    article = ArticleFactory(body=f"<p>After {story_link(target)} came the budget.</p>")
    target.slug = "council-votes-no"
    services.article_save(article=target, opened_version=target.version, user=None)

    assert links_in(client, article) == [("/articles/council-votes-no/", "the vote")]


def test_a_renamed_story_refreshes_the_cached_pages_that_link_to_it(anonymous, edit):
    target = edit(lambda: ArticleFactory(slug="council-vote"))
    article = edit(lambda: linking(f"<p>See {story_link(target)}.</p>"))
    assert links_in(anonymous, article) == [("/articles/council-vote/", "the vote")]

    target.slug = "council-votes-no"
    edit(lambda: services.article_save(article=target, opened_version=target.version, user=None))

    assert links_in(anonymous, article) == [("/articles/council-votes-no/", "the vote")]


@pytest.mark.parametrize("gone", ["withdrawn", "deleted"])
def test_a_link_to_a_story_readers_cannot_see_shows_as_its_text(anonymous, edit, gone):
    target = edit(lambda: ArticleFactory())
    article = edit(lambda: linking(f"<p>See {story_link(target)} here.</p>"))
    assert links_in(anonymous, article) == [(target.get_absolute_url(), "the vote")]

    if gone == "withdrawn":
        edit(lambda: services.article_withdraw(article=target, user=None))
    else:
        edit(target.delete)

    content = anonymous.get(article.get_absolute_url()).content.decode()
    assert "<p>See the vote here.</p>" in content


def test_a_link_pointed_elsewhere_since_is_left_as_the_editor_made_it(client):
    target = ArticleFactory()
    article = ArticleFactory(
        body=f'<p><a href="https://example.org/" data-article="{target.pk}">elsewhere</a></p>'
    )

    assert links_in(client, article) == [("https://example.org/", "elsewhere")]


# What it costs


def _queries(client, django_assert_num_queries, article, expected):
    with django_assert_num_queries(expected):
        assert client.get(article.get_absolute_url()).status_code == 200


def test_pictures_and_story_links_cost_one_query_each_and_only_when_the_body_has_them(
    client, django_assert_num_queries, settings
):
    """The page costs two queries (the story with its hero picture and topic ids, its
    links); one more fetches every picture of the body, one more every story it links
    to, each only for a body that has some (as corrections do)."""
    settings.PAGE_CACHE_SECONDS = 0
    plain = 2 if connection.vendor == "postgresql" else 3
    others = ArticleFactory.create_batch(3, topics=[])
    picture, other = body_picture(), body_picture()
    hero = hero_story(sized=True, topics=[])
    client.get(ArticleFactory(topics=[]).get_absolute_url())  # keeps the topic list and menu

    def story(body, article=None):
        article = article or ArticleFactory(body=body, topics=[])
        for position, target in enumerate(others):
            article.related_links.create(target_article=target, position=position)
        return article

    _queries(client, django_assert_num_queries, story("<p>Text only.</p>"), plain)
    # The hero picture comes with the story's row.
    _queries(client, django_assert_num_queries, story("", article=hero), plain)
    _queries(client, django_assert_num_queries, story(figure(picture) + figure(other)), plain + 1)
    _queries(
        client,
        django_assert_num_queries,
        story(f"<p>{story_link(others[0])} and {story_link(others[1])}</p>" + figure(picture)),
        plain + 2,
    )
