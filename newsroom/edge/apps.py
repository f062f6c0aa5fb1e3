from django.apps import AppConfig


class EdgeConfig(AppConfig):
    name = "newsroom.edge"
    label = "edge"
    verbose_name = "Edge purges"

    def ready(self):
        # The page cache names no app: it calls what registers with it.
        from newsroom.metrics import register_collector
        from newsroom.pagecache import store

        from . import services
        from .metrics import purge_collector

        store.on_invalidate(services.purge_record)
        register_collector(purge_collector)
