"""Clear ``next_attempt_at`` on mails already sent.

Sending used to leave the time of the last enqueue behind, so the editors'
inbox showed a "next attempt" for a notification that had gone out. Sending
now clears it; this clears what earlier sends left.
"""

from django.db import migrations


def clear_next_attempt(apps, schema_editor):
    for name in ("Verification", "Message"):
        model = apps.get_model("contact", name)
        model.objects.using(schema_editor.connection.alias).filter(
            delivery_state="sent", next_attempt_at__isnull=False
        ).update(next_attempt_at=None)


class Migration(migrations.Migration):
    dependencies = [("contact", "0002_editors_contact_permissions")]

    # Nothing to restore: a sent mail has no next attempt either way.
    operations = [migrations.RunPython(clear_next_attempt, migrations.RunPython.noop)]
