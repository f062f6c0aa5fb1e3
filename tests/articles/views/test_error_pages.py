"""The site's own 404 and 500 pages."""

import pytest
from django.views.defaults import server_error

from tests.articles.views.pages import head_of

pytestmark = pytest.mark.django_db


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
