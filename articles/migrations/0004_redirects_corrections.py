"""Corrections and updates on a story, and redirects from old addresses.

``Article.latest_correction_at`` keeps the time of a story's latest correction on
its row, so the page, the feed and the sitemap read it without another query.
The Editors group may add, change, delete and view both, as it may articles.
"""

import django.db.models.deletion
import django.utils.timezone
from django.contrib.auth.management import create_permissions
from django.db import migrations, models

GROUP_NAME = "Editors"
MODELS = ["correction", "redirect"]
ACTIONS = ["add", "change", "delete", "view"]


def grant_editors(apps, schema_editor):
    # As in 0002: the permissions of new models exist only after post_migrate.
    app_config = apps.get_app_config("articles")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0, using=schema_editor.connection.alias)
    app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    alias = schema_editor.connection.alias
    group = Group.objects.using(alias).filter(name=GROUP_NAME).first()
    if group is None:
        return
    codenames = [f"{action}_{model}" for model in MODELS for action in ACTIONS]
    group.permissions.add(
        *Permission.objects.using(alias).filter(
            content_type__app_label="articles", codename__in=codenames
        )
    )


def revoke_editors(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    alias = schema_editor.connection.alias
    codenames = [f"{action}_{model}" for model in MODELS for action in ACTIONS]
    for group in Group.objects.using(alias).filter(name=GROUP_NAME):
        group.permissions.remove(
            *Permission.objects.using(alias).filter(
                content_type__app_label="articles", codename__in=codenames
            )
        )


class Migration(migrations.Migration):

    dependencies = [
        ('articles', '0003_search_vector'),
    ]

    operations = [
        migrations.AddField(
            model_name='article',
            name='latest_correction_at',
            field=models.DateTimeField(blank=True, editable=False, null=True, verbose_name='latest correction'),
        ),
        migrations.CreateModel(
            name='Correction',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(choices=[('correction', 'Correction'), ('update', 'Update'), ('editors_note', "Editor's note")], default='correction', max_length=20, verbose_name='kind')),
                ('text', models.TextField(help_text='Plain text, shown to readers as written: what changed and why.', max_length=1000, verbose_name='text')),
                ('posted_at', models.DateTimeField(default=django.utils.timezone.now, help_text='When it was made; readers see it with the note.', verbose_name='time')),
                ('article', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='corrections', to='articles.article', verbose_name='article')),
            ],
            options={
                'verbose_name': 'correction or update',
                'verbose_name_plural': 'corrections and updates',
                'ordering': ['posted_at', 'id'],
            },
        ),
        migrations.CreateModel(
            name='Redirect',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(choices=[('article', 'Article'), ('topic', 'Topic')], max_length=10, verbose_name='kind')),
                ('old_slug', models.SlugField(help_text='The old address: /articles/<old slug>/ or /topics/<old slug>/.', max_length=200, verbose_name='old slug')),
                ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='created')),
                ('article', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='redirects', to='articles.article', verbose_name='article')),
                ('topic', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='redirects', to='articles.topic', verbose_name='topic')),
            ],
            options={
                'verbose_name': 'redirect',
                'verbose_name_plural': 'redirects',
                'ordering': ['kind', 'old_slug'],
                'constraints': [models.UniqueConstraint(fields=('kind', 'old_slug'), name='redirect_unique_old_address', violation_error_message='This old address already has a redirect; edit that one instead.'), models.CheckConstraint(condition=models.Q(models.Q(('article__isnull', False), ('kind', 'article'), ('topic__isnull', True)), models.Q(('article__isnull', True), ('kind', 'topic'), ('topic__isnull', False)), _connector='OR'), name='redirect_target_matches_kind')],
            },
        ),
        migrations.RunPython(grant_editors, revoke_editors),
    ]
