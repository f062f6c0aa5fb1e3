import importlib
from types import SimpleNamespace

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from tests.articles.test_admin import article_form
from tests.factories import (
    CHIEF_EDITORS_PERMISSIONS,
    EDITORS_ARTICLE_PERMISSIONS,
    ArticleFactory,
    EditorFactory,
)

pytestmark = pytest.mark.django_db


def test_editors_group_has_exactly_the_article_permissions():
    """The contact inbox permissions are checked in tests/contact/test_admin.py."""
    group = Group.objects.get(name="Editors")

    granted = {
        f"{permission.content_type.app_label}.{permission.codename}"
        for permission in group.permissions.filter(content_type__app_label="articles")
    }

    assert granted == EDITORS_ARTICLE_PERMISSIONS


def test_an_editor_logs_in_and_works_on_articles_but_not_on_users(https_client):
    EditorFactory(username="eve", password="a long editor password")
    # A draft: with the review step on, a live story's text is a chief editor's to publish.
    article = ArticleFactory(title="Before", status="draft", publish_at=None)
    client = https_client

    login = client.post(
        "/admin/login/?next=/admin/", {"username": "eve", "password": "a long editor password"}
    )
    assert login.status_code == 302
    for url in (
        "/admin/articles/article/",
        "/admin/articles/article/add/",
        f"/admin/articles/article/{article.pk}/change/",
        f"/admin/articles/article/{article.pk}/history/",
        "/admin/articles/topic/",
        "/admin/articles/author/",
    ):
        assert client.get(url).status_code == 200, url

    saved = client.post(
        f"/admin/articles/article/{article.pk}/change/", article_form(article, title="After")
    )
    assert saved.status_code == 302
    article.refresh_from_db()
    assert article.title == "After"

    assert client.get("/admin/auth/user/").status_code == 403
    assert client.get("/admin/auth/group/").status_code == 403


def test_the_group_migration_reverses_and_reapplies():
    migration = importlib.import_module("articles.migrations.0002_editors_group")
    state_apps = (
        MigrationExecutor(connection).loader.project_state(("articles", "0002_editors_group")).apps
    )
    schema_editor = SimpleNamespace(connection=connection)

    migration.delete_editors_group(state_apps, schema_editor)
    assert not Group.objects.filter(name="Editors").exists()
    migration.create_editors_group(state_apps, schema_editor)
    # 0004 adds the corrections' and redirects' permissions to the group 0002 made,
    # 0008 the byline rows' and 0009 the pictures'.
    for name, codename, revoke, grant in [
        ("0004_redirects_corrections", "add_correction", "revoke_editors", "grant_editors"),
        ("0008_authors", "add_articleauthor", "revoke_editors", "grant_editors"),
        (
            "0009_pictures",
            "add_picture",
            "editors_may_not_use_pictures",
            "editors_may_use_pictures",
        ),
    ]:
        later = importlib.import_module(f"articles.migrations.{name}")
        later_apps = MigrationExecutor(connection).loader.project_state(("articles", name)).apps
        getattr(later, revoke)(later_apps, schema_editor)
        assert not Group.objects.filter(name="Editors", permissions__codename=codename).exists()
        getattr(later, grant)(later_apps, schema_editor)

    assert Group.objects.get(name="Editors").permissions.count() == len(EDITORS_ARTICLE_PERMISSIONS)


def test_an_editor_made_after_the_group_is_gone_gets_the_migrations_permissions():
    """As after a transactional test, which empties the tables the migrations filled."""
    migrated = set(Group.objects.get(name="Editors").permissions.all())
    Group.objects.filter(name="Editors").delete()

    editor = EditorFactory()

    assert set(editor.groups.get(name="Editors").permissions.all()) == migrated


# The review step: Editors write, Chief editors publish (articles 0007)


def test_editors_may_not_publish_and_chief_editors_may_only_publish():
    chief_editors = Group.objects.get(name="Chief editors")

    granted = {
        f"{permission.content_type.app_label}.{permission.codename}"
        for permission in chief_editors.permissions.all()
    }

    assert granted == CHIEF_EDITORS_PERMISSIONS
    assert "articles.publish_article" not in EDITORS_ARTICLE_PERMISSIONS
    assert (
        not Group.objects.get(name="Editors")
        .permissions.filter(codename="publish_article")
        .exists()
    )


def test_an_editor_added_to_chief_editors_may_publish(https_client):
    editor = EditorFactory(username="eve", password="a long editor password")
    draft = ArticleFactory(status="draft", publish_at=None)
    https_client.post(
        "/admin/login/?next=/admin/", {"username": "eve", "password": "a long editor password"}
    )

    refused = https_client.post(
        f"/admin/articles/article/{draft.pk}/change/", article_form(draft, status="published")
    )
    editor.groups.add(Group.objects.get(name="Chief editors"))
    published = https_client.post(
        f"/admin/articles/article/{draft.pk}/change/", article_form(draft, status="published")
    )

    assert refused.status_code == 200
    assert published.status_code == 302
    draft.refresh_from_db()
    assert draft.is_published()


def test_the_chief_editors_migration_reverses_and_reapplies():
    migration = importlib.import_module("articles.migrations.0007_publish_permission")
    state_apps = (
        MigrationExecutor(connection)
        .loader.project_state(("articles", "0007_publish_permission"))
        .apps
    )
    schema_editor = SimpleNamespace(connection=connection)

    migration.delete_chief_editors_group(state_apps, schema_editor)
    assert not Group.objects.filter(name="Chief editors").exists()
    migration.create_chief_editors_group(state_apps, schema_editor)

    assert [p.codename for p in Group.objects.get(name="Chief editors").permissions.all()] == [
        "publish_article"
    ]
