"""Give the Editors group the editors' inbox: triage messages, look at verifications.

Editors may view and change contact messages (the admin lets them change only
the status), view verifications, and mail a failed code again
(``retry_delivery``). They never add or delete either: messages come only from
the site, and old verifications are purged by a periodic task.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUP_NAME = "Editors"
CODENAMES = ["view_message", "change_message", "view_verification", "retry_delivery"]


def _contact_permissions(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    return Permission.objects.using(schema_editor.connection.alias).filter(
        content_type__app_label="contact", codename__in=CODENAMES
    )


def grant_contact_permissions(apps, schema_editor):
    # Permissions are normally created after all migrations ran (post_migrate);
    # on a fresh database they do not exist yet, so create them now.
    app_config = apps.get_app_config("contact")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0, using=schema_editor.connection.alias)
    app_config.models_module = None

    permissions = list(_contact_permissions(apps, schema_editor))
    if len(permissions) != len(CODENAMES):
        missing = set(CODENAMES) - {permission.codename for permission in permissions}
        raise RuntimeError(f"Permissions missing for the Editors group: {sorted(missing)}")
    Group = apps.get_model("auth", "Group")
    group, _ = Group.objects.using(schema_editor.connection.alias).get_or_create(name=GROUP_NAME)
    group.permissions.add(*permissions)


def revoke_contact_permissions(apps, schema_editor):
    # The group itself belongs to articles' migration; only take back what we gave.
    Group = apps.get_model("auth", "Group")
    group = Group.objects.using(schema_editor.connection.alias).filter(name=GROUP_NAME).first()
    if group is not None:
        group.permissions.remove(*_contact_permissions(apps, schema_editor))


class Migration(migrations.Migration):

    dependencies = [
        ("articles", "0002_editors_group"),
        ("contact", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="verification",
            options={
                "ordering": ["-created_at"],
                "permissions": [("retry_delivery", "Can retry a failed code mail")],
                "verbose_name": "verification",
                "verbose_name_plural": "verifications",
            },
        ),
        migrations.RunPython(grant_contact_permissions, revoke_contact_permissions),
    ]
