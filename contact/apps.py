from django.apps import AppConfig


class ContactConfig(AppConfig):
    name = "contact"
    verbose_name = "Contact"

    def ready(self):
        # /metrics (newsroom/metrics.py) serves the outbox gauges; it names no app.
        from newsroom.metrics import register_collector

        from .metrics import outbox_collector

        register_collector(outbox_collector)
