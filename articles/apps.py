from django.apps import AppConfig


class ArticlesConfig(AppConfig):
    name = "articles"
    verbose_name = "Articles"

    def ready(self):
        # Edits invalidate the cached pages that show them.
        from . import signals  # noqa: F401
