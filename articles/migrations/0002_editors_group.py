"""The Editors group: exactly the permissions the people who run articles need.

Editors may add, change, delete and view articles, related links, topics and
bylines. History, compare and restore come with the article permissions, so no
permission on reversion's own models is needed. Users and groups stay with
superusers. The contact app adds its message-inbox permissions to this group in
a migration of its own.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUP_NAME = "Editors"
MODELS = ["article", "relatedlink", "topic", "author"]
ACTIONS = ["add", "change", "delete", "view"]


def create_editors_group(apps, schema_editor):
    # Permissions are normally created after all migrations ran (post_migrate);
    # on a fresh database they do not exist yet, so create them now.
    app_config = apps.get_app_config("articles")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0, using=schema_editor.connection.alias)
    app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    codenames = [f"{action}_{model}" for model in MODELS for action in ACTIONS]
    permissions = list(
        Permission.objects.using(schema_editor.connection.alias).filter(
            content_type__app_label="articles", codename__in=codenames
        )
    )
    if len(permissions) != len(codenames):
        missing = set(codenames) - {permission.codename for permission in permissions}
        raise RuntimeError(f"Permissions missing for the Editors group: {sorted(missing)}")
    group, _ = Group.objects.using(schema_editor.connection.alias).get_or_create(name=GROUP_NAME)
    group.permissions.add(*permissions)


def delete_editors_group(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Group.objects.using(schema_editor.connection.alias).filter(name=GROUP_NAME).delete()


class Migration(migrations.Migration):

    dependencies = [
        ("articles", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.RunPython(create_editors_group, delete_editors_group),
    ]
