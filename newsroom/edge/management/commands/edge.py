"""The edges: each configured Varnish, whether it takes a purge, and what it still has to be told.

``--check`` also sends each edge an authenticated purge of a key no page carries
and exits 1 when one does not take it or has purges waiting longer than
``--max-age``; ``--purge-all`` empties every edge (a deploy step).
"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from newsroom.durations import short_age
from newsroom.edge import services
from newsroom.edge.models import Purge


class Command(BaseCommand):
    help = (
        "Show each edge (EDGE_PURGE_URLS) and its unsent purges. --check also asks each "
        "edge to take an authenticated purge and exits 1 when one does not or has purges "
        "waiting longer than --max-age; --purge-all empties every edge (after a deploy)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--check",
            action="store_true",
            help="Ask each edge to take a purge of a key no page carries; exit 1 on a problem.",
        )
        parser.add_argument(
            "--max-age",
            type=float,
            default=120.0,
            metavar="SECONDS",
            help="How long a purge may wait unsent before --check fails (default 120).",
        )
        parser.add_argument(
            "--purge-all",
            action="store_true",
            help="Purge every page from every edge now (a deploy step: the previous "
            "release's pages).",
        )

    def handle(self, *args, check, max_age, purge_all, **options):
        urls = settings.EDGE_PURGE_URLS
        if not urls:
            self.stdout.write("No edge configured (EDGE_PURGE_URLS is empty): nothing to purge.")
            return
        problems = []
        if purge_all:
            for url, outcome in services.purge_all().items():
                self.stdout.write(f"purge all: {url}: {outcome}")
                if outcome != "purged":
                    problems.append(f"{url} did not take the purge of every page")
        summary = Purge.objects.summary_by_edge()
        now = timezone.now()
        self.stdout.write(f"{'edge':<40}{'answers':<28}{'unsent':>7}{'failing':>8}  oldest unsent")
        for url in sorted({*urls, *summary}):
            row = summary.get(url, {"unsent": 0, "failing": 0, "oldest": None})
            answers = "-" if url not in urls else "(not asked)"
            if check and url in urls:
                try:
                    services.send_purge(url, services.CHECK_TAG)
                except services.PurgeFailed as exc:
                    answers = f"NO: {exc}"
                    problems.append(f"{url} does not take a purge: {exc}")
                else:
                    answers = "yes"
            elif url not in urls:
                answers = "not configured"
            age = (now - row["oldest"]).total_seconds() if row["oldest"] else None
            self.stdout.write(
                f"{url:<40}{answers[:27]:<28}{row['unsent']:>7}{row['failing']:>8}  "
                f"{short_age(age) if age is not None else '-'}"
            )
            if check and url in urls and age is not None and age > max_age:
                problems.append(
                    f"{url} has {row['unsent']} purge(s) waiting, oldest {short_age(age)}"
                )
        failing = (
            Purge.objects.unsent().exclude(last_error="").order_by("-pk").first()
            if summary
            else None
        )
        if failing is not None:
            self.stdout.write(f"\nLast error: {failing.edge}: {failing.last_error}")
        if problems:
            raise CommandError("; ".join(problems), returncode=1)
        if check:
            self.stdout.write("ok: every edge takes purges and none is waiting too long")
