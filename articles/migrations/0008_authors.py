"""Authors with pages, and several authors per story, in order.

An author gets a role, a photo and the photo's alt text (required with a photo),
and a page at ``/authors/<slug>/`` whose old addresses redirect like a topic's. A
story's single byline (``Article.author``) becomes an ordered list of authors
(``ArticleAuthor``): each story's author becomes its first, and going back keeps
each story's first author. A draft of changes no longer holds the byline: like
related links, authors are changed on the live story. The Editors group may add,
change, delete and view the byline rows, as it may the stories.
"""

import django.db.models.deletion
from django.contrib.auth.management import create_permissions
from django.db import migrations, models

GROUP_NAME = "Editors"
CODENAMES = [f"{action}_articleauthor" for action in ("add", "change", "delete", "view")]


def copy_bylines(apps, schema_editor):
    Article = apps.get_model("articles", "Article")
    ArticleAuthor = apps.get_model("articles", "ArticleAuthor")
    alias = schema_editor.connection.alias
    rows = Article.objects.using(alias).filter(author__isnull=False).values_list("pk", "author_id")
    ArticleAuthor.objects.using(alias).bulk_create(
        ArticleAuthor(article_id=article_id, author_id=author_id, position=1)
        for article_id, author_id in rows.iterator()
    )


def keep_first_authors(apps, schema_editor):
    Article = apps.get_model("articles", "Article")
    ArticleAuthor = apps.get_model("articles", "ArticleAuthor")
    alias = schema_editor.connection.alias
    first = (
        ArticleAuthor.objects.using(alias)
        .filter(article=models.OuterRef("pk"))
        .order_by("position", "id")
        .values("author_id")[:1]
    )
    Article.objects.using(alias).update(author_id=models.Subquery(first))


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
    group.permissions.add(
        *Permission.objects.using(alias).filter(
            content_type__app_label="articles", codename__in=CODENAMES
        )
    )


def revoke_editors(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    alias = schema_editor.connection.alias
    for group in Group.objects.using(alias).filter(name=GROUP_NAME):
        group.permissions.remove(
            *Permission.objects.using(alias).filter(
                content_type__app_label="articles", codename__in=CODENAMES
            )
        )


class Migration(migrations.Migration):
    dependencies = [
        ("articles", "0007_publish_permission"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        # Authors: role, photo with its alt text, a bounded bio.
        migrations.AddField(
            model_name="author",
            name="role",
            field=models.CharField(
                blank=True,
                help_text="Shown under the name, e.g. “Science correspondent”.",
                max_length=100,
                verbose_name="role",
            ),
        ),
        migrations.AddField(
            model_name="author",
            name="photo",
            field=models.ImageField(blank=True, upload_to="authors/", verbose_name="photo"),
        ),
        migrations.AddField(
            model_name="author",
            name="photo_alt",
            field=models.CharField(
                blank=True,
                help_text=(
                    "What the photo shows, for readers who cannot see it. Needed with a photo."
                ),
                max_length=250,
                verbose_name="photo alt text",
            ),
        ),
        migrations.AlterField(
            model_name="author",
            name="bio",
            field=models.TextField(
                blank=True,
                help_text="A few sentences on the author's page; plain text, up to 600 characters.",
                max_length=600,
                verbose_name="short bio",
            ),
        ),
        migrations.AlterField(
            model_name="author",
            name="slug",
            field=models.SlugField(
                help_text="The author's page: /authors/<slug>/",
                max_length=150,
                unique=True,
                verbose_name="slug",
            ),
        ),
        migrations.AddConstraint(
            model_name="author",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("photo", ""), models.Q(("photo_alt", ""), _negated=True), _connector="OR"
                ),
                name="author_photo_has_alt",
            ),
        ),
        # Old author addresses.
        migrations.RemoveConstraint(model_name="redirect", name="redirect_target_matches_kind"),
        migrations.AddField(
            model_name="redirect",
            name="author",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="redirects",
                to="articles.author",
                verbose_name="author",
            ),
        ),
        migrations.AlterField(
            model_name="redirect",
            name="kind",
            field=models.CharField(
                choices=[("article", "Article"), ("topic", "Topic"), ("author", "Author")],
                max_length=10,
                verbose_name="kind",
            ),
        ),
        migrations.AlterField(
            model_name="redirect",
            name="old_slug",
            field=models.SlugField(
                help_text=(
                    "The old address: /articles/<old slug>/, /topics/<old slug>/ or "
                    "/authors/<old slug>/."
                ),
                max_length=200,
                verbose_name="old slug",
            ),
        ),
        migrations.AddConstraint(
            model_name="redirect",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(
                        ("article__isnull", False),
                        ("author__isnull", True),
                        ("kind", "article"),
                        ("topic__isnull", True),
                    ),
                    models.Q(
                        ("article__isnull", True),
                        ("author__isnull", True),
                        ("kind", "topic"),
                        ("topic__isnull", False),
                    ),
                    models.Q(
                        ("article__isnull", True),
                        ("author__isnull", False),
                        ("kind", "author"),
                        ("topic__isnull", True),
                    ),
                    _connector="OR",
                ),
                name="redirect_target_matches_kind",
            ),
        ),
        # Several authors per story, in order; the single byline becomes the first.
        migrations.CreateModel(
            name="ArticleAuthor",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("position", models.PositiveIntegerField(default=0, verbose_name="position")),
                (
                    "article",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="bylines",
                        to="articles.article",
                        verbose_name="article",
                    ),
                ),
                (
                    "author",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="bylines",
                        to="articles.author",
                        verbose_name="author",
                    ),
                ),
            ],
            options={
                "verbose_name": "author",
                "verbose_name_plural": "authors",
                "ordering": ["position", "id"],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("article", "author"),
                        name="articleauthor_unique_author",
                        violation_error_message="This author is already in the byline.",
                    )
                ],
            },
        ),
        migrations.RunPython(copy_bylines, keep_first_authors),
        migrations.RemoveField(model_name="article", name="author"),
        migrations.RemoveField(model_name="pendingedit", name="author"),
        migrations.AddField(
            model_name="article",
            name="authors",
            field=models.ManyToManyField(
                blank=True,
                related_name="articles",
                through="articles.ArticleAuthor",
                to="articles.author",
                verbose_name="authors",
            ),
        ),
        migrations.RunPython(grant_editors, revoke_editors),
    ]
