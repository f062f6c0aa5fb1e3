import datetime as dt
import re
from html import unescape
from html.parser import HTMLParser
from urllib.parse import urljoin

import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.views.defaults import server_error

from articles.models import SEARCH_CANDIDATES, Article, RelatedLink, Topic
from tests.factories import ArticleFactory, RelatedLinkFactory, TopicFactory

pytestmark = pytest.mark.django_db

SITE_URL = "https://news.example.org"


@pytest.fixture(autouse=True)
def _site_url(settings):
    # Differs from the test client's Host on purpose: links must never use the Host.
    settings.SITE_URL = SITE_URL


@pytest.fixture
def staff_client(client, django_user_model):
    user = django_user_model.objects.create_user("editor", password="pw", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_article"))
    client.force_login(user)
    return client


class _Head(HTMLParser):
    """Collects <meta> and <link> tags, the way a link-preview crawler reads them."""

    def __init__(self):
        super().__init__()
        self.meta, self.links, self.title, self._in_title = {}, [], "", False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "meta" and ("property" in attrs or "name" in attrs):
            self.meta[attrs.get("property") or attrs["name"]] = attrs.get("content")
        elif tag == "link":
            self.links.append(attrs)
        self._in_title = tag == "title"

    def handle_endtag(self, tag):
        self._in_title = False

    def handle_data(self, data):
        if self._in_title:
            self.title += data


def head_of(response):
    parser = _Head()
    parser.feed(response.content.decode())
    return parser


def canonical_of(response):
    return next(link["href"] for link in head_of(response).links if link["rel"] == "canonical")


def slugs_listed(response):
    card = r'class="article-card[^"]*" data-article-slug="([^"]+)"'
    return re.findall(card, response.content.decode())


def pagination_links(response):
    """The pagination links a reader can click, by their text, as paths to request."""
    content = response.content.decode()
    if 'class="pagination-nav' not in content:
        return {}
    nav = content.split('class="pagination-nav', 1)[1].split("</nav>", 1)[0]
    links = re.findall(r'<a class="page-link[^"]*"[^>]*href="([^"]+)">([^<]+)</a>', nav)
    here = response.request["PATH_INFO"]
    return {text: urljoin(here, unescape(href)) for href, text in links}


def follow(client, path, link):
    """Every page from ``path`` on, clicking ``link`` until it is gone."""
    pages = [client.get(path)]
    while link in pagination_links(pages[-1]):
        assert pages[-1].status_code == 200
        pages.append(client.get(pagination_links(pages[-1])[link]))
    assert pages[-1].status_code == 200
    return pages


def not_public(kind):
    now = timezone.now()
    return {
        "draft": {"status": Article.Status.DRAFT, "publish_at": None},
        "scheduled": {"publish_at": now + dt.timedelta(hours=2)},
        "withdrawn": {"status": Article.Status.WITHDRAWN, "publish_at": now - dt.timedelta(days=1)},
    }[kind]


# Home page


def test_home_lists_public_stories_newest_first(client):
    now = timezone.now()
    older = ArticleFactory(publish_at=now - dt.timedelta(days=2))
    newer = ArticleFactory(publish_at=now - dt.timedelta(hours=1))
    for kind in ("draft", "scheduled", "withdrawn"):
        ArticleFactory(slug=f"not-public-{kind}", **not_public(kind))

    response = client.get("/")

    assert response.status_code == 200
    assert slugs_listed(response) == [newer.slug, older.slug]
    assert "not-public-" not in response.content.decode()


def test_home_card_shows_standfirst_date_impact_and_topics(client):
    topic = TopicFactory(name="Climate", slug="climate")
    article = ArticleFactory(
        standfirst="Rivers rose overnight.",
        impact_score=68,
        publish_at=dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC),
        topics=[topic],
    )

    content = client.get("/").content.decode()

    card = content.split(f'data-article-slug="{article.slug}"', 1)[1].split("</article>", 1)[0]
    assert "Rivers rose overnight." in card
    assert ">2 Mar 2026</time>" in card
    assert '<span class="impact-score-value">68</span>' in card
    assert f'href="{topic.get_absolute_url()}"' in card


def test_scheduled_story_appears_on_the_home_page_by_itself():
    publish_at = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC)
    with time_machine.travel(publish_at - dt.timedelta(hours=1), tick=False):
        story = ArticleFactory(publish_at=publish_at)
        assert story.slug not in slugs_listed(Client().get("/"))
        assert Client().get(story.get_absolute_url()).status_code == 404

    with time_machine.travel(publish_at + dt.timedelta(seconds=1), tick=False):
        assert slugs_listed(Client().get("/")) == [story.slug]
        assert Client().get(story.get_absolute_url()).status_code == 200


def test_home_shows_twenty_and_links_to_older_stories(client):
    now = timezone.now()
    stories = [ArticleFactory(publish_at=now - dt.timedelta(minutes=i)) for i in range(25)]

    first = client.get("/")
    older = client.get(pagination_links(first)["Older stories"])

    assert slugs_listed(first) == [story.slug for story in stories[:20]]
    assert "Newer stories" not in pagination_links(first)
    assert pagination_links(first)["Older stories"] == f"/?before={stories[19].pk}"
    assert slugs_listed(older) == [story.slug for story in stories[20:]]
    assert "Older stories" not in pagination_links(older)
    assert pagination_links(older)["Newer stories"] == f"/?after={stories[20].pk}"
    assert pagination_links(older)["Newest stories"] == "/"
    assert canonical_of(older) == f"{SITE_URL}/?before={stories[19].pk}"
    assert canonical_of(first) == f"{SITE_URL}/"


def test_home_with_one_page_has_no_pagination(client):
    ArticleFactory.create_batch(20)
    response = client.get("/")
    assert len(slugs_listed(response)) == 20
    assert pagination_links(response) == {}


def _stories_with_ties_and_hidden_ones():
    """Public stories, five of them published at the same second, among hidden ones.

    Returns the public ones in the order a reader must see them: newest first,
    and among stories of the same time the later-created (higher id) first.
    """
    now = timezone.now().replace(microsecond=0)
    tied = now - dt.timedelta(hours=3)
    times = [now - dt.timedelta(hours=h) for h in (1, 2)] + [tied] * 5
    times += [now - dt.timedelta(hours=h) for h in (4, 5, 6)]
    public = [ArticleFactory(publish_at=at) for at in times]
    for i, at in enumerate((now - dt.timedelta(minutes=150), tied, now - dt.timedelta(hours=5))):
        ArticleFactory(slug=f"not-public-{i}", status=Article.Status.WITHDRAWN, publish_at=at)
        public.append(ArticleFactory(publish_at=at))
    ArticleFactory(slug="not-public-draft", **not_public("draft"))
    ArticleFactory(slug="not-public-scheduled", **not_public("scheduled"))
    return sorted(public, key=lambda story: (story.publish_at, story.pk), reverse=True)


def test_older_then_newer_visits_every_public_story_once_in_order(client, settings):
    settings.ARTICLES_PER_PAGE = 3
    expected = [story.slug for story in _stories_with_ties_and_hidden_ones()]

    going_back = follow(client, "/", "Older stories")
    last = going_back[-1].request
    coming_forward = follow(client, f"{last['PATH_INFO']}?{last['QUERY_STRING']}", "Newer stories")

    assert [slug for page in going_back for slug in slugs_listed(page)] == expected
    assert [slug for page in reversed(coming_forward) for slug in slugs_listed(page)] == expected
    assert all(1 <= len(slugs_listed(page)) <= 3 for page in going_back + coming_forward)
    assert len(going_back) == len(coming_forward) == 5  # 13 stories, 3 a page
    assert "Newer stories" not in pagination_links(going_back[0])
    assert "Older stories" not in pagination_links(going_back[-1])
    assert "Newer stories" not in pagination_links(coming_forward[-1])


def test_a_story_published_while_reading_is_not_repeated_on_the_next_page(client, settings):
    settings.ARTICLES_PER_PAGE = 2
    now = timezone.now()
    stories = [ArticleFactory(publish_at=now - dt.timedelta(hours=i)) for i in range(1, 5)]

    first = client.get("/")
    ArticleFactory(slug="breaking", publish_at=now - dt.timedelta(minutes=1))
    older = client.get(pagination_links(first)["Older stories"])

    assert slugs_listed(older) == [stories[2].slug, stories[3].slug]


def test_home_page_follows_articles_per_page(client, settings):
    settings.ARTICLES_PER_PAGE = 2
    ArticleFactory.create_batch(3)
    first = client.get("/")
    assert len(slugs_listed(first)) == 2
    assert len(slugs_listed(client.get(pagination_links(first)["Older stories"]))) == 1


@pytest.mark.parametrize(
    "query",
    [
        "before=abc",
        "before=0",
        "before=-1",
        "before=+{newest}",
        "before=0{newest}",
        "before={newest}.0",
        "before=",
        "after=",
        "before=99999999999999999999",
        "before=%D9%A1",  # an Arabic-Indic digit one
        "before=999999",
        "before={draft}",
        "before={scheduled}",
        "before={withdrawn}",
        "after={newest}",
        "before={oldest}",
        "before={newest}&after={oldest}",
        "before={newest}&before={newest}",
        "page=2",
        "page=0",
        "page=abc",
        "page=2&before={newest}",
    ],
)
def test_bad_or_unknown_cursor_is_404(client, query):
    newest, _, oldest = (
        ArticleFactory(publish_at=timezone.now() - dt.timedelta(hours=h)) for h in (1, 2, 3)
    )
    ids = {
        "newest": newest.pk,
        "oldest": oldest.pk,
        **{
            kind: ArticleFactory(**not_public(kind)).pk
            for kind in ("draft", "scheduled", "withdrawn")
        },
    }
    query = query.format(**ids)

    response = client.get(f"/?{query}")

    assert response.status_code == 404
    assert "Page not found" in response.content.decode()


def test_page_one_is_the_first_page(client):
    story = ArticleFactory()
    response = client.get("/?page=1")
    assert response.status_code == 200
    assert slugs_listed(response) == [story.slug]
    assert canonical_of(response) == f"{SITE_URL}/"


def test_home_top_stories_rank_impact_weighted_by_recency(client):
    now = timezone.now()
    ArticleFactory(slug="day-old-100", impact_score=100, publish_at=now - dt.timedelta(hours=25))
    ArticleFactory(slug="fresh-60", impact_score=60, publish_at=now - dt.timedelta(minutes=5))
    ArticleFactory(slug="draft-100", impact_score=100, **not_public("draft"))

    content = client.get("/").content.decode()

    strip = content.split('class="top-stories', 1)[1].split("</section>", 1)[0]
    assert "Top stories" in strip
    assert re.findall(r'class="top-story [^"]*" data-article-slug="([^"]+)"', strip) == [
        "fresh-60",
        "day-old-100",
    ]


def test_top_stories_only_on_the_first_page(client, settings):
    settings.ARTICLES_PER_PAGE = 1
    ArticleFactory.create_batch(3)
    first = client.get("/")
    older = client.get(pagination_links(first)["Older stories"])
    newer = client.get(
        pagination_links(client.get(pagination_links(older)["Older stories"]))["Newer stories"]
    )
    assert "Top stories" in first.content.decode()
    assert "Top stories" not in older.content.decode()
    assert "Top stories" not in newer.content.decode()


def test_home_with_no_stories(client):
    response = client.get("/")
    assert response.status_code == 200
    assert "No stories yet." in response.content.decode()


def test_topic_nav_lists_every_topic(client):
    topics = [TopicFactory(name=name, slug=name.lower()) for name in ("Economy", "Climate")]

    content = client.get("/").content.decode()

    nav = content.split('class="topic-nav', 1)[1].split("</nav>", 1)[0]
    assert re.findall(r'data-topic-slug="([^"]+)"', nav) == ["climate", "economy"]
    assert f'href="{topics[0].get_absolute_url()}"' in nav


# Topic page


def test_topic_page_lists_its_public_stories_only(client):
    topic = TopicFactory(name="Climate", slug="climate", description="Weather and warming.")
    mine = ArticleFactory(topics=[topic])
    ArticleFactory()
    ArticleFactory(topics=[topic], **not_public("draft"))

    response = client.get("/topics/climate/")

    assert response.status_code == 200
    assert slugs_listed(response) == [mine.slug]
    content = response.content.decode()
    assert "<h1" in content and "Climate</h1>" in content
    assert 'aria-current="page"' in content
    assert head_of(response).meta["description"] == "Weather and warming."
    assert canonical_of(response) == f"{SITE_URL}/topics/climate/"


def test_unknown_topic_is_404(client):
    assert client.get("/topics/no-such-topic/").status_code == 404


def test_topic_pages_paginate_within_the_topic(client, settings):
    settings.ARTICLES_PER_PAGE = 2
    topic, other = TopicFactory(), TopicFactory()
    now = timezone.now()
    mine = []
    for i in range(10):
        story = ArticleFactory(
            publish_at=now - dt.timedelta(hours=i), topics=[topic] if i % 2 else [other]
        )
        if i % 2:
            mine.append(story.slug)

    pages = follow(client, topic.get_absolute_url(), "Older stories")

    assert [slug for page in pages for slug in slugs_listed(page)] == mine
    assert len(pages) == 3
    deep = pages[-1]
    cursor = Article.objects.get(slug=mine[3]).pk
    assert canonical_of(deep) == f"{SITE_URL}{topic.get_absolute_url()}?before={cursor}"
    assert pagination_links(deep)["Newest stories"] == topic.get_absolute_url()


def test_topic_page_refuses_another_topics_story_as_cursor(client):
    topic, other = TopicFactory(), TopicFactory()
    ArticleFactory.create_batch(3, topics=[topic])
    elsewhere = ArticleFactory(topics=[other])

    response = client.get(topic.get_absolute_url(), {"before": elsewhere.pk})

    assert response.status_code == 404


# Article page


def test_article_page_anatomy_top_to_bottom(client):
    article = ArticleFactory(
        title="Bridge reopens after repairs",
        standfirst="Traffic returns to the river crossing.",
        body="<p>The first paragraph.</p><p>The second paragraph.</p>",
        why_it_matters="Forty thousand commuters use it daily.",
        impact_score=68,
        author__name="Jane Reporter",
    )

    response = client.get(f"/articles/{article.slug}/")

    assert response.status_code == 200
    content = response.content.decode()
    in_order = [
        "<h1",
        "Bridge reopens after repairs",
        "Traffic returns to the river crossing.",
        "Jane Reporter",
        "<p>The first paragraph.</p><p>The second paragraph.</p>",
        "Why it matters",
        "Forty thousand commuters use it daily.",
        '<span class="impact-score-value">68</span>',
        '<span class="impact-score-label">Impact Score</span>',
        "Contact Us",
        "Got questions? Use the form to contact us",
    ]
    position = content.index("<body")
    for fragment in in_order:
        position = content.index(fragment, position)  # raises when missing or out of order


def visible_text(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def test_the_contact_box_names_the_buttons_by_their_labels(client):
    article = ArticleFactory(slug="bridge-reopens")

    content = client.get(article.get_absolute_url()).content.decode()

    box = re.search(r'<section class="contact-us.*?</section>', content, re.S).group(0)
    link = re.search(r'<a class="contact-us-link[^"]*" href="([^"]+)">([^<]+)</a>', box)
    label = link.group(2)
    assert visible_text(box) == (
        f"Contact Us Got questions? Use the form to contact us "
        f"The {label} button below opens the form. When you click Next there, we send a "
        f"verification code to your email. After verifying it you can enter your message. "
        f"{label}"
    )
    # "Next" is the form's own button, the one that sends the code.
    form = client.get(unescape(link.group(1))).content.decode()
    assert re.search(r'<button type="submit"[^>]*name="next">Next</button>', form)


def test_article_page_links_to_contact_with_the_article(client):
    article = ArticleFactory(slug="bridge-reopens")

    content = client.get(article.get_absolute_url()).content.decode()

    assert f'href="{reverse("contact:start")}?article=bridge-reopens"' in content


def _article_topics(response) -> list[str]:
    return re.findall(r'class="article-topic [^"]*" href="([^"]+)">([^<]+)</a>', response.text)


def test_article_page_shows_its_topics_in_the_menus_order(client):
    article = ArticleFactory(
        topics=[
            TopicFactory(name="Zoning", slug="zoning"),
            TopicFactory(name="Arts", slug="arts"),
            TopicFactory(name="Media", slug="media"),
        ]
    )
    TopicFactory(name="Business", slug="business")

    response = client.get(article.get_absolute_url())

    assert _article_topics(response) == [
        ("/topics/arts/", "Arts"),
        ("/topics/media/", "Media"),
        ("/topics/zoning/", "Zoning"),
    ]


def test_a_renamed_topic_shows_on_every_article_page_at_once(
    client, settings, django_capture_on_commit_callbacks
):
    settings.PAGE_CACHE_SECONDS = 0  # the topic list is kept even when pages are not
    arts = TopicFactory(name="Arts", slug="arts")
    first, second = ArticleFactory(topics=[arts]), ArticleFactory(topics=[arts])
    client.get(first.get_absolute_url())

    with django_capture_on_commit_callbacks(execute=True):
        arts.name = "Culture"
        arts.save()

    for article in (first, second):
        assert _article_topics(client.get(article.get_absolute_url())) == [
            ("/topics/arts/", "Culture")
        ]


def test_a_topic_added_behind_the_sites_back_still_shows_on_its_articles(client, settings):
    settings.PAGE_CACHE_SECONDS = 0  # a page render, not a stored page
    article = ArticleFactory(topics=[TopicFactory(name="Arts", slug="arts")])
    client.get(article.get_absolute_url())  # the topic list is kept without the new one
    # A bulk import sends no signals, so nothing tells the kept topic list.
    (media,) = Topic.objects.bulk_create([Topic(name="Media", slug="media")])
    Article.topics.through.objects.create(article=article, topic=media)

    assert _article_topics(client.get(article.get_absolute_url())) == [
        ("/topics/arts/", "Arts"),
        ("/topics/media/", "Media"),
    ]


def test_unknown_article_is_404(client):
    assert client.get("/articles/no-such-story/").status_code == 404


@pytest.mark.parametrize("kind", ["draft", "scheduled", "withdrawn"])
def test_story_that_is_not_public_is_404_to_visitors(client, django_user_model, kind):
    article = ArticleFactory(**not_public(kind))
    assert client.get(article.get_absolute_url()).status_code == 404

    # Signed in is not enough; neither is staff without the permission.
    client.force_login(django_user_model.objects.create_user("reader", password="pw"))
    assert client.get(article.get_absolute_url()).status_code == 404
    intern = django_user_model.objects.create_user("intern", password="pw", is_staff=True)
    client.force_login(intern)
    assert client.get(article.get_absolute_url()).status_code == 404


@pytest.mark.parametrize("kind", ["draft", "scheduled", "withdrawn"])
def test_staff_preview_a_story_that_is_not_public_with_a_banner(staff_client, kind):
    article = ArticleFactory(title="Embargoed story", **not_public(kind))

    response = staff_client.get(article.get_absolute_url())

    assert response.status_code == 200
    content = response.content.decode()
    assert "Preview — not published" in content
    assert "Embargoed story" in content
    assert head_of(response).meta["robots"] == "noindex"
    assert "no-store" in response["Cache-Control"]


def test_change_permission_also_allows_preview(client, django_user_model):
    user = django_user_model.objects.create_user("writer", password="pw", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="change_article"))
    client.force_login(user)
    article = ArticleFactory(**not_public("draft"))

    assert client.get(article.get_absolute_url()).status_code == 200


def test_published_story_has_no_preview_banner_even_for_staff(staff_client):
    content = staff_client.get(ArticleFactory().get_absolute_url()).content.decode()
    assert "Preview — not published" not in content


def test_related_cards_on_the_page(client):
    topic = TopicFactory()
    article = ArticleFactory(topics=[topic])
    RelatedLinkFactory(article=article, position=0, target_article__title="Curated story")
    RelatedLinkFactory(
        article=article,
        position=1,
        target_article=ArticleFactory(title="Draft story", **not_public("draft")),
    )
    RelatedLink.objects.create(
        article=article,
        position=2,
        url="https://example.org/report",
        title="Outside report",
        summary="A study elsewhere.",
    )
    ArticleFactory(title="Suggested story", topics=[topic])

    content = client.get(article.get_absolute_url()).content.decode()

    section = content.split('class="related-content', 1)[1].split("</section>", 1)[0]
    assert "Related content" in section
    assert "Draft story" not in section
    card = r'<div class="related-card card h-100" ([^>]*)>(.*?)</div>\s*</div>'
    cards = re.findall(card, section, re.S)
    assert [attrs for attrs, _ in cards] == [
        'data-curated="true"',
        'data-curated="true" data-external="true"',
        'data-suggested="true"',
    ]
    assert "Curated story" in cards[0][1]
    external = '<a class="related-card-link" href="https://example.org/report" rel="noopener">'
    assert external in cards[1][1]
    assert "A study elsewhere." in cards[1][1] and "https://example.org/report" in cards[1][1]
    assert "Suggested story" in cards[2][1] and "Suggested</span>" in cards[2][1]


def test_hero_image_with_alt_text_and_og_image(client):
    article = ArticleFactory(
        hero_image="articles/2026/03/bridge.jpg", hero_image_alt="The bridge at dawn"
    )

    response = client.get(article.get_absolute_url())

    assert 'alt="The bridge at dawn"' in response.content.decode()
    assert head_of(response).meta["og:image"] == f"{SITE_URL}/media/articles/2026/03/bridge.jpg"


def test_no_og_image_without_hero_image(client):
    response = client.get(ArticleFactory().get_absolute_url())
    assert "og:image" not in head_of(response).meta


# Meta tags


def test_article_meta_tags_use_site_url_not_the_request_host(client):
    article = ArticleFactory(title="Bridge reopens", seo_description="For link previews.")

    response = client.get(article.get_absolute_url(), HTTP_HOST="testserver")

    head = head_of(response)
    url = f"{SITE_URL}/articles/{article.slug}/"
    assert head.title == "Bridge reopens | Newsroom"
    assert canonical_of(response) == url
    assert head.meta["description"] == "For link previews."
    assert head.meta["og:title"] == "Bridge reopens"
    assert head.meta["og:description"] == "For link previews."
    assert head.meta["og:url"] == url
    assert head.meta["og:type"] == "article"
    assert head.meta["og:site_name"] == "Newsroom"
    assert "testserver" not in response.content.decode()


@pytest.mark.parametrize("path", ["/", "/search/?q=x", "/topics/climate/", "/articles/story/"])
def test_every_page_has_title_description_canonical_og_and_feed_link(client, path):
    topic = TopicFactory(slug="climate")
    ArticleFactory(slug="story", topics=[topic])

    response = client.get(path)

    head = head_of(response)
    assert head.title.strip()
    assert head.meta["description"]
    assert canonical_of(response).startswith(f"{SITE_URL}/")
    for prop in ("og:title", "og:description", "og:url", "og:type", "og:site_name"):
        assert head.meta[prop], prop
    assert {
        "rel": "alternate",
        "type": "application/rss+xml",
        "title": "Newsroom",
        "href": f"{SITE_URL}/feed/",
    } in head.links


# Search


def test_empty_search_shows_the_form_and_no_results(client):
    ArticleFactory(title="Anything")

    response = client.get("/search/", {"q": "   "})

    assert response.status_code == 200
    content = response.content.decode()
    assert 'name="q"' in content
    assert slugs_listed(response) == []
    assert "result" not in content.split("</form>", 2)[-1]


def test_search_finds_public_stories_only(client):
    found = ArticleFactory(title="Harbour bridge reopens")
    ArticleFactory(title="Harbour draft", **not_public("draft"))
    ArticleFactory(title="Harbour later", **not_public("scheduled"))
    ArticleFactory(title="Something else")

    response = client.get("/search/", {"q": "harbour"})

    assert slugs_listed(response) == [found.slug]
    assert "1 result for “harbour”" in response.content.decode()


def test_search_results_paginate_and_keep_the_query(client, settings):
    settings.ARTICLES_PER_PAGE = 2
    ArticleFactory.create_batch(3, title="Harbour news")

    first = client.get("/search/", {"q": "harbour"})
    second = client.get(pagination_links(first)["More results"])

    assert len(slugs_listed(first)) == 2
    assert pagination_links(first)["More results"] == "/search/?q=harbour&page=2"
    assert len(slugs_listed(second)) == 1
    assert pagination_links(second) == {"Previous results": "/search/?q=harbour"}
    assert canonical_of(second) == f"{SITE_URL}/search/?q=harbour&page=2"
    assert "3 results for “harbour”" in second.content.decode()
    assert not re.search(r"Page \d+ of", first.content.decode())


@pytest.mark.parametrize("page", ["2", "0", "abc"])
def test_search_page_out_of_range_is_404(client, page):
    ArticleFactory(title="Harbour news")
    assert client.get("/search/", {"q": "harbour", "page": page}).status_code == 404


def harbour_stories(count):
    """``count`` public stories matching "harbour", harbour-0 the newest, a minute apart."""
    now = timezone.now()
    Article.objects.bulk_create(
        Article(
            title=f"Harbour news {i}",
            slug=f"harbour-{i}",
            standfirst="The harbour.",
            body="<p>Boats.</p>",
            impact_score=10,
            status=Article.Status.PUBLISHED,
            publish_at=now - dt.timedelta(minutes=i),
        )
        for i in range(count)
    )


def test_search_ranks_only_the_newest_matches_and_says_so(client):
    harbour_stories(SEARCH_CANDIDATES + 5)

    pages = follow(client, "/search/?q=harbour", "More results")

    shown = [slug for page in pages for slug in slugs_listed(page)]
    assert sorted(shown) == sorted(f"harbour-{i}" for i in range(SEARCH_CANDIDATES))
    first = pages[0].content.decode()
    assert f"Showing the {SEARCH_CANDIDATES} most recent matches for “harbour”" in first
    assert "Refine your search" in first
    assert f"{SEARCH_CANDIDATES + 5} results" not in first
    assert f"{SEARCH_CANDIDATES} results" not in first


def test_search_with_exactly_the_cap_of_matches_is_not_capped(client, settings):
    settings.ARTICLES_PER_PAGE = 100
    harbour_stories(SEARCH_CANDIDATES)

    content = client.get("/search/", {"q": "harbour"}).content.decode()

    assert f"{SEARCH_CANDIDATES} results for “harbour”" in content
    assert "Refine your search" not in content


def test_search_query_is_capped(client):
    response = client.get("/search/", {"q": "harbour " * 100})
    assert response.status_code == 200
    assert response.context["query"] == ("harbour " * 100)[:200].strip()


@pytest.mark.parametrize(
    "query",
    [
        "\x00",
        "harbour\x00bridge",
        "'\"\\;--",
        "a & | ! ( ) : * <->",
        '"unterminated',
        "-",
        "or",
        "the",
        "%_%",
        "<script>alert(1)</script>",
        "ünïcødé 北京 🙂",
        "x" * 5000,
        '"harbour" -bridge or',
        '"" - or -',
    ],
)
def test_search_survives_bad_input(client, query):
    ArticleFactory(title="Harbour bridge")
    response = client.get("/search/", {"q": query})
    assert response.status_code == 200
    assert "<script>alert(1)</script>" not in response.content.decode()


def test_search_pages_are_not_indexed(client):
    assert head_of(client.get("/search/", {"q": "x"})).meta["robots"] == "noindex"


# Error pages


def test_404_page_is_the_sites(client):
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()
    assert head_of(response).meta["description"]


def test_500_page_renders_without_context_or_database(rf, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = server_error(rf.get("/"))
    assert response.status_code == 500
    assert "Something went wrong" in response.content.decode()


# Cacheable public pages


PUBLIC_PATHS = [
    "/",
    "/?page=1",
    "/?before={story}",
    "/topics/climate/?after={story}",
    "/articles/story/",
    "/topics/climate/",
    "/search/",
    "/search/?q=story",
    "/feed/",
    "/sitemap.xml",
    "/robots.txt",
]


@pytest.mark.parametrize("path", PUBLIC_PATHS)
def test_public_pages_carry_no_per_visitor_state(client, path):
    climate = TopicFactory(slug="climate")
    now = timezone.now()
    story = ArticleFactory(slug="story", title="A story", topics=[climate])
    ArticleFactory(publish_at=now - dt.timedelta(days=1), topics=[climate])
    ArticleFactory(publish_at=now, topics=[climate])

    response = client.get(path.format(story=story.pk))

    assert response.status_code == 200
    assert not response.cookies
    assert "cookie" not in response.get("Vary", "").lower()
    assert "csrfmiddlewaretoken" not in response.content.decode()


@pytest.mark.parametrize("path", ["/", "/articles/story/", "/topics/climate/"])
def test_public_pages_ignore_a_signed_in_visitor(staff_client, path):
    ArticleFactory(slug="story", topics=[TopicFactory(slug="climate")])

    response = staff_client.get(path)

    assert "cookie" not in response.get("Vary", "").lower()
    assert not response.cookies


@pytest.mark.parametrize("path", ["/", "/articles/story/", "/topics/climate/", "/search/?q=a"])
def test_pages_have_no_inline_script_or_style_and_no_cdn(client, path):
    ArticleFactory(slug="story", title="A story", topics=[TopicFactory(slug="climate")])

    content = client.get(path).content.decode()

    # One script, the topic menu's, from the site itself and deferred.
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", content, re.DOTALL)
    assert scripts == [(' src="/static/articles/topic-nav.js" defer', "")]
    assert content.count("<script") == 1
    assert not re.search(r"\sstyle=", content)
    assert "<style" not in content
    stylesheets = re.findall(r'<link rel="stylesheet" href="([^"]+)"', content)
    assert stylesheets == ["/static/bootstrap/css/bootstrap.min.css", "/static/articles/site.css"]
    assert 'name="viewport" content="width=device-width, initial-scale=1"' in content


# Query budgets


def _article_with(n):
    topics = TopicFactory.create_batch(n)
    article = ArticleFactory(topics=topics)
    for position in range(n):
        RelatedLinkFactory(article=article, position=position, target_article__topics=topics)
    return article


@pytest.mark.parametrize("n", [1, 10])
def test_article_page_query_budget_does_not_grow(
    client, django_assert_max_num_queries, settings, n
):
    settings.PAGE_CACHE_SECONDS = 0  # every request renders (tests/articles/test_pagecache.py)
    article = _article_with(n)
    # The article (with its topic ids), its related links, suggestions when fewer
    # than three links; the topic list (the menu is built from it) until it is kept.
    with django_assert_max_num_queries(5):
        assert client.get(article.get_absolute_url()).status_code == 200


def test_an_article_page_with_its_cards_curated_costs_two_queries(
    client, django_assert_num_queries, settings
):
    settings.PAGE_CACHE_SECONDS = 0
    article = _article_with(3)
    client.get(ArticleFactory(topics=[]).get_absolute_url())  # keeps the topic list and menu

    # The article with its topic ids and its links; elsewhere than PostgreSQL
    # the topics take a query of their own.
    with django_assert_num_queries(2 if connection.vendor == "postgresql" else 3):
        response = client.get(article.get_absolute_url())

    assert len(_article_topics(response)) == 3
    assert response.text.count('data-curated="true"') == 3


def _queries(client, path):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(path).status_code == 200
    return [query["sql"] for query in queries.captured_queries]


@pytest.mark.parametrize("n", [1, 10])
def test_home_page_query_budget_does_not_grow(client, django_assert_max_num_queries, settings, n):
    settings.PAGE_CACHE_SECONDS = 0
    topics = TopicFactory.create_batch(n)
    ArticleFactory.create_batch(n, topics=topics)
    # Page, topics prefetch, top stories, topic list (for the menu).
    with django_assert_max_num_queries(4):
        assert client.get("/").status_code == 200


@pytest.mark.parametrize("n", [1, 10])
def test_topic_page_query_budget_does_not_grow(client, django_assert_max_num_queries, settings, n):
    settings.PAGE_CACHE_SECONDS = 0
    topics = TopicFactory.create_batch(n)
    ArticleFactory.create_batch(n, topics=topics)
    # Topic, page, topics prefetch, topic list (for the menu).
    with django_assert_max_num_queries(4):
        assert client.get(topics[0].get_absolute_url()).status_code == 200


@pytest.mark.parametrize("listing", ["home", "topic"])
def test_deep_list_pages_cost_what_the_first_page_costs(client, settings, listing):
    settings.ARTICLES_PER_PAGE = 2
    settings.PAGE_CACHE_SECONDS = 0  # measure renders, not cache hits
    topic = TopicFactory()
    now = timezone.now()
    for i in range(12):
        ArticleFactory(publish_at=now - dt.timedelta(hours=i), topics=[topic])
    path = "/" if listing == "home" else topic.get_absolute_url()
    pages = follow(client, path, "Older stories")
    deep = pagination_links(pages[-2])["Older stories"]
    deep_newer = pagination_links(pages[-1])["Newer stories"]

    second, deepest, coming_back = (
        _queries(client, page)
        for page in (pagination_links(pages[0])["Older stories"], deep, deep_newer)
    )

    assert len(pages) == 6
    assert len(second) == len(deepest) == len(coming_back) <= len(_queries(client, path))
    for sql in second + deepest + coming_back:
        assert "COUNT(" not in sql.upper()
        assert "OFFSET" not in sql.upper()


def test_a_search_the_database_cannot_finish_in_time_asks_to_refine(client, settings, monkeypatch):
    from articles.models import ArticleQuerySet
    from tests.conftest import need_postgres_and_redis

    need_postgres_and_redis()
    settings.SEARCH_TIME_LIMIT_MS = 50
    ArticleFactory(title="Council budget vote")
    real_search = ArticleQuerySet.search

    def slow_search(self, query, **kwargs):
        # As slow as a quoted phrase of common words over a big archive.
        return real_search(self, query, **kwargs).extra(where=["(SELECT true FROM pg_sleep(1))"])

    monkeypatch.setattr(ArticleQuerySet, "search", slow_search)

    started = timezone.now()
    response = client.get("/search/", {"q": '"council budget"'})

    assert response.status_code == 200
    assert (timezone.now() - started).total_seconds() < 0.9
    assert "took too long" in response.content.decode()
    assert slugs_listed(response) == []
    # The connection is usable again, without the limit.
    monkeypatch.setattr(ArticleQuerySet, "search", real_search)
    assert "Council budget vote" in client.get("/search/", {"q": "council"}).content.decode()


def test_search_query_budget_does_not_grow_or_count(client, settings):
    settings.ARTICLES_PER_PAGE = 2
    ArticleFactory.create_batch(2, title="Harbour news", topics=TopicFactory.create_batch(3))
    few = _queries(client, "/search/?q=harbour")
    ArticleFactory.create_batch(10, title="Harbour news", topics=TopicFactory.create_batch(3))
    many = _queries(client, "/search/?q=harbour&page=3")

    few, many = ([sql for sql in run if sql.startswith("SELECT")] for run in (few, many))

    # Matching ids, the page's cards, their topics; the topic list once, then from the cache.
    # (Besides these, the time limit is set for the first: SET LOCAL in a transaction.)
    assert len(few) == 4
    assert len(many) == 3
    assert not any("COUNT(" in sql.upper() for sql in few + many)


# robots.txt


def test_robots_txt(client):
    response = client.get("/robots.txt")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    lines = response.content.decode().splitlines()
    assert "User-agent: *" in lines
    assert "Allow: /" in lines
    assert "Disallow: /admin/" in lines
    assert "Disallow: /contact/" in lines
    assert f"Sitemap: {SITE_URL}/sitemap.xml" in lines
