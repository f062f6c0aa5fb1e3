"""Fixtures the page-cache tests of the articles share."""

import pytest
from django.test import Client


@pytest.fixture
def anonymous():
    """A reader: no session, so the page cache answers them."""
    return Client()


@pytest.fixture
def edit(django_capture_on_commit_callbacks):
    """Run an edit as the admin does: in a transaction whose commit invalidates."""

    def run(change):
        with django_capture_on_commit_callbacks(execute=True):
            return change()

    return run
