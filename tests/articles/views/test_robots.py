"""robots.txt."""

import pytest

from tests.articles.views.pages import SITE_URL

pytestmark = pytest.mark.django_db


def test_robots_txt(client):
    response = client.get("/robots.txt")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    lines = response.content.decode().splitlines()
    assert "User-agent: *" in lines
    assert "Allow: /" in lines
    assert "Disallow: /admin/" in lines
    assert "Disallow: /contact/" in lines
    assert "Disallow: /preview/" in lines, "share links are for their holders only"
    assert f"Sitemap: {SITE_URL}/sitemap-news.xml" in lines
    assert f"Sitemap: {SITE_URL}/sitemap.xml" in lines
