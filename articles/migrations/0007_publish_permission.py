"""The Chief editors group: the people who may publish.

With the review step on (``ARTICLE_REVIEW_REQUIRED``, the default) publishing,
scheduling and bringing back a story take the "Can publish articles" permission
(``articles.publish_article``, added by 0006). The Editors group does not have it:
editors write and ask for review. This group holds that one permission and nothing
else, so a chief editor is a member of both Editors (to edit) and Chief editors
(to publish); superusers have every permission anyway.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUP_NAME = "Chief editors"
CODENAME = "publish_article"


def create_chief_editors_group(apps, schema_editor):
    # As in 0002: on a fresh database the permission does not exist yet (it is
    # normally created after all migrations ran).
    app_config = apps.get_app_config("articles")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0, using=schema_editor.connection.alias)
    app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    alias = schema_editor.connection.alias
    permission = Permission.objects.using(alias).get(
        content_type__app_label="articles", codename=CODENAME
    )
    group, _ = Group.objects.using(alias).get_or_create(name=GROUP_NAME)
    group.permissions.add(permission)


def delete_chief_editors_group(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Group.objects.using(schema_editor.connection.alias).filter(name=GROUP_NAME).delete()


class Migration(migrations.Migration):

    dependencies = [
        ("articles", "0006_review_unpublish"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.RunPython(create_chief_editors_group, delete_chief_editors_group),
    ]
