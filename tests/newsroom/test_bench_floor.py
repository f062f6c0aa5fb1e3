"""The benchmark floor (/_bench/floor) exists only when BENCH_FLOOR is set."""

import importlib.util
import sys

import pytest
from django.test import override_settings

import newsroom.urls

pytestmark = pytest.mark.django_db

FLOOR_URLCONF = "newsroom._bench_floor_urls"


def test_floor_is_absent_by_default(client, settings):
    assert not settings.BENCH_FLOOR
    assert client.get("/_bench/floor").status_code == 404


@pytest.fixture
def floor_urlconf(settings, monkeypatch):
    """newsroom/urls.py imported afresh, as a process started with BENCH_FLOOR=1 would."""
    settings.BENCH_FLOOR = True
    monkeypatch.setenv("BENCH_FLOOR_BYTES", "5000")
    spec = importlib.util.spec_from_file_location(FLOOR_URLCONF, newsroom.urls.__file__)
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, FLOOR_URLCONF, module)
    spec.loader.exec_module(module)
    with override_settings(ROOT_URLCONF=FLOOR_URLCONF):
        yield


def test_floor_answers_a_constant_page_without_the_database(
    floor_urlconf, client, django_assert_num_queries
):
    with django_assert_num_queries(0):
        response = client.get("/_bench/floor")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/html; charset=utf-8"
    assert len(response.content) == 5000
    assert client.get("/_bench/floor").content == response.content
