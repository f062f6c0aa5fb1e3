"""The purge outbox: what each edge still has to be told."""

from django.db import models
from django.db.models import Count, Min, Q
from django.utils import timezone


class PurgeQuerySet(models.QuerySet):
    """The outbox rules, written once: the task, the sweep, ``manage.py edge`` and
    ``/metrics`` ask these, so they agree on what is unsent."""

    def unsent(self):
        return self.filter(sent_at__isnull=True)

    def summary_by_edge(self) -> dict[str, dict]:
        """Per edge: ``unsent`` and ``failing`` (unsent, tried at least once) counts and
        the ``oldest`` unsent row's creation time, in one query."""
        rows = (
            self.unsent()
            .values("edge")
            .annotate(
                unsent=Count("pk"),
                failing=Count("pk", filter=Q(attempts__gt=0)),
                oldest=Min("created_at"),
            )
            .order_by()
        )
        return {row.pop("edge"): row for row in rows}


class Purge(models.Model):
    """Tell ``edge`` (a Varnish's purge URL) to drop every page carrying one of ``tags``."""

    edge = models.CharField(max_length=500)
    # The tags as the edge knows them (pagecache.edge.edge_tag), space-separated.
    tags = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)

    objects = PurgeQuerySet.as_manager()

    class Meta:
        ordering = ["pk"]
        indexes = [
            models.Index(
                fields=["edge", "created_at"],
                condition=Q(sent_at__isnull=True),
                name="edge_purge_unsent",
            ),
            models.Index(fields=["sent_at"], name="edge_purge_sent"),
        ]

    def __str__(self) -> str:
        state = "sent" if self.sent_at else "unsent"
        return f"purge {self.pk} of {self.edge} ({state}): {self.tags[:80]}"
