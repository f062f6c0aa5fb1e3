"""Each outbox row names the Celery task that owns it (``delivery_task_id``).

Safe during a rolling deploy: the previous release never reads the column, and its
tasks send as before (a row already sent is skipped). Rows queued at deploy time
have no owner: the first task of this release to claim one becomes its owner, and
any other of this release that finds another owner stops.
"""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('contact', '0004_limit_records'),
    ]

    operations = [
        migrations.AddField(
            model_name='message',
            name='delivery_task_id',
            field=models.CharField(blank=True, editable=False, max_length=64),
        ),
        migrations.AddField(
            model_name='verification',
            name='delivery_task_id',
            field=models.CharField(blank=True, editable=False, max_length=64),
        ),
    ]
