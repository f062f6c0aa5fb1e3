import re
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest

from articles.models import Article
from articles.sanitize import ALLOWED_TAGS, sanitize_html
from tests.factories import ArticleFactory

pytestmark = pytest.mark.django_db

# The one script of a public page, the site's own (the topic menu's scroll hint).
SITE_SCRIPT = '<script src="/static/articles/topic-nav.js" defer></script>'


# The article's JSON-LD: data, with every "<" in it escaped, so it holds no tag.
STRUCTURED_DATA = re.compile(r'<script type="application/ld\+json">[^<]*</script>')


def scripts_beyond_the_sites(page: str) -> bool:
    """True when the page has a script other than the site's own one (and its data)."""
    page = STRUCTURED_DATA.sub("", page.replace(SITE_SCRIPT, "", 1), count=1)
    return "<script" in page.lower()


HOSTILE = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=https://evil.example/x.js></SCRIPT>",
    "<style>body{display:none}</style>",
    '<p style="background:url(javascript:alert(1))">styled</p>',
    "<img src=x onerror=alert(1)>",
    '<p onclick="alert(1)">click</p>',
    '<a href="https://ok.example/" onmouseover="alert(1)">hover</a>',
    '<a href="javascript:alert(1)">js</a>',
    '<a href="JaVaScRiPt:alert(1)">js upper</a>',
    '<a href=" javascript:alert(1)">js space</a>',
    '<a href="jav&#x09;ascript:alert(1)">js tab entity</a>',
    '<a href="&#106;avascript:alert(1)">js decimal entity</a>',
    '<a href="jav\tascript:alert(1)">js raw tab</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">data</a>',
    '<a href="vbscript:msgbox(1)">vb</a>',
    "<svg onload=alert(1)><script>alert(1)</script></svg>",
    '<svg><a xlink:href="javascript:alert(1)"><text>svg link</text></a></svg>',
    '<iframe src="https://evil.example/"></iframe>',
    '<object data="https://evil.example/x.swf"></object><embed src="x.swf">',
    '<math><mi xlink:href="javascript:alert(1)">math</mi></math>',
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
    "<!--<script>alert(1)</script>-->",
    '<form action="https://evil.example/"><input name="x"></form>',
    '<a href="https://ok.example/"><img src=x onerror=alert(1)>nested</a>',
    '<base href="https://evil.example/"><meta http-equiv="refresh" content="0;url=x">',
]


class _Inspector(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems = []

    def handle_starttag(self, tag, attrs):
        if tag not in ALLOWED_TAGS:
            self.problems.append(f"tag <{tag}>")
        for name, value in attrs:
            if name.startswith("on") or name == "style":
                self.problems.append(f"attribute {name}")
            if name in {"href", "src", "xlink:href", "action"}:
                scheme = urlsplit((value or "").strip()).scheme.lower()
                if scheme not in {"http", "https", "mailto"}:
                    self.problems.append(f"{name}={value!r}")


def problems_in(html):
    inspector = _Inspector()
    inspector.feed(html)
    inspector.close()
    lowered = html.lower()
    inspector.problems += [
        word for word in ("<script", "javascript:", "vbscript:") if word in lowered
    ]
    return inspector.problems


@pytest.mark.parametrize("hostile", HOSTILE)
def test_hostile_html_is_defused(hostile):
    assert problems_in(sanitize_html(hostile)) == []


@pytest.mark.parametrize("hostile", HOSTILE)
def test_hostile_body_is_defused_on_full_clean(hostile):
    article = ArticleFactory.build(body=f"<p>Intro.</p>{hostile}")
    article.full_clean()
    assert problems_in(article.body) == []
    assert "<p>Intro.</p>" in article.body


@pytest.mark.parametrize("hostile", HOSTILE)
def test_hostile_body_written_around_validation_is_defused_when_rendered(client, hostile):
    article = ArticleFactory()
    Article.objects.filter(pk=article.pk).update(body=f"<p>Intro.</p>{hostile}")

    page = client.get(article.get_absolute_url()).content.decode()

    body = page.split('<div class="article-body">', 1)[1].split("</div>", 1)[0]
    assert problems_in(body) == []
    assert "<p>Intro.</p>" in body
    assert not scripts_beyond_the_sites(page)


def test_editor_formatting_survives():
    html = (
        "<h2>Heading</h2><p><strong>Bold</strong> <em>it</em> "
        '<a href="https://example.org/">link</a></p><ul><li>one</li></ul><blockquote>q</blockquote>'
    )
    cleaned = sanitize_html(html)
    for fragment in ("<h2>Heading</h2>", "<strong>Bold</strong>", "<li>one</li>", "<blockquote>"):
        assert fragment in cleaned
    assert '<a href="https://example.org/" rel="noopener noreferrer">link</a>' in cleaned


def test_plain_text_fields_are_escaped_on_the_page(client):
    article = ArticleFactory(
        title="<b>Headline</b>",
        standfirst="<script>alert('standfirst')</script>",
        why_it_matters='<img src=x onerror="alert(1)">',
    )

    page = client.get(article.get_absolute_url()).content.decode()

    assert "&lt;script&gt;alert(&#x27;standfirst&#x27;)&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in page
    assert "&lt;b&gt;Headline&lt;/b&gt;" in page
    assert not scripts_beyond_the_sites(page)


# Pictures and links to our stories: exactly what the body editor writes


PICTURE = (
    '<figure><img src="/media/pictures/2026/05/quay.jpg" alt="Ferries at the quay" '
    'width="1200" height="800" data-picture="7"><figcaption>Ferries wait for the tide. '
    '<span class="credit">Photo: Sam Lee</span></figcaption></figure>'
)


def test_a_picture_as_the_editor_stores_it_survives_whole():
    assert sanitize_html(PICTURE) == PICTURE


def test_a_link_to_one_of_our_stories_keeps_its_story():
    html = '<p><a href="/articles/council-vote/" data-article="42">the vote</a></p>'

    assert sanitize_html(html) == (
        '<p><a href="/articles/council-vote/" data-article="42" rel="noopener noreferrer">'
        "the vote</a></p>"
    )


@pytest.mark.parametrize(
    "src",
    [
        "https://evil.example/tracker.png",
        "//evil.example/x.png",
        "/static/articles/favicon.svg",
        "/media/../etc/passwd",
        "/media/pictures/../../settings.py",
        "/media/",
        "javascript:alert(1)",
        "data:image/png;base64,iVBORw0KGgo=",
        "/admin/logout/",
    ],
)
def test_an_image_from_anywhere_but_our_uploads_is_removed(src):
    cleaned = sanitize_html(f'<figure><img src="{src}" alt="x"><figcaption>c</figcaption></figure>')

    assert cleaned == "<figure><figcaption>c</figcaption></figure>"


def test_our_uploads_on_a_cdn_are_our_media(settings):
    settings.MEDIA_URL = "https://cdn.example.net/media/"
    html = '<img src="https://cdn.example.net/media/pictures/quay.jpg" alt="Quay">'

    assert sanitize_html(html) == html
    assert sanitize_html('<img src="/media/pictures/quay.jpg" alt="Quay">') == ""


@pytest.mark.parametrize(
    ("hostile", "kept"),
    [
        (
            '<img src="/media/a.jpg" alt="a" onerror="alert(1)" style="x" class="y">',
            '<img src="/media/a.jpg" alt="a">',
        ),
        (
            '<img src="/media/a.jpg" alt="a" width="100%" height="-1" data-picture="7 or 1">',
            '<img src="/media/a.jpg" alt="a">',
        ),
        (
            '<img src="/media/a.jpg" srcset="https://evil.example/x.png 2x" alt="a">',
            '<img src="/media/a.jpg" alt="a">',
        ),
        ('<span class="credit evil" onclick="x">Photo</span>', '<span class="credit">Photo</span>'),
        ('<span class="evil">Photo</span>', "<span>Photo</span>"),
        (
            '<a href="javascript:alert(1)" data-article="42">x</a>',
            '<a data-article="42" rel="noopener noreferrer">x</a>',
        ),
        (
            '<a href="/articles/a/" data-article="4x">x</a>',
            '<a href="/articles/a/" rel="noopener noreferrer">x</a>',
        ),
        (
            '<figure onclick="x" class="y"><figcaption style="x">c</figcaption></figure>',
            "<figure><figcaption>c</figcaption></figure>",
        ),
    ],
)
def test_picture_and_link_markup_keeps_known_attributes_only(hostile, kept):
    assert sanitize_html(hostile) == kept
