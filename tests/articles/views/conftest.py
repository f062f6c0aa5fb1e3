"""Fixtures of the public pages' tests."""

import pytest
from django.contrib.auth.models import Permission

from tests.articles.views.pages import SITE_URL


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
