"""The benchmark floor (/_bench/floor) is bench/floor.py's, never the site's."""

import importlib
import importlib.util
import sys

import pytest
from django.test import override_settings

import newsroom.settings
from bench import floor

pytestmark = pytest.mark.django_db

FLOOR_URLCONF = "bench._floor_5000_bytes"


def test_the_site_has_no_floor(client, settings):
    assert settings.ROOT_URLCONF == "newsroom.urls"
    assert client.get("/_bench/floor").status_code == 404


def test_the_floor_runs_on_the_sites_settings_with_its_own_urlconf():
    floor_settings = importlib.import_module("bench.floor_settings")

    def settings_of(module):
        return {name: getattr(module, name) for name in dir(module) if name.isupper()}

    differ = {
        name
        for name in settings_of(newsroom.settings).keys() | settings_of(floor_settings).keys()
        if settings_of(newsroom.settings).get(name) != settings_of(floor_settings).get(name)
    }
    assert differ == {"ROOT_URLCONF"}
    assert floor_settings.ROOT_URLCONF == "bench.floor"


@pytest.fixture
def floor_urlconf(monkeypatch):
    """bench/floor.py imported afresh, as serve.py's gunicorn imports it."""
    monkeypatch.setenv("BENCH_FLOOR_BYTES", "5000")
    spec = importlib.util.spec_from_file_location(FLOOR_URLCONF, floor.__file__)
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


def test_the_floor_urlconf_serves_the_site_too(floor_urlconf, client):
    assert client.get("/robots.txt").status_code == 200
    assert client.get("/no-such-page/").status_code == 404
