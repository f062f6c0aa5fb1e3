"""What the mail outbox holds: counts, the oldest waiting mail, the failures.

``--retry`` queues the failed mails again; ``--check`` exits 1 when a mail has
waited too long, for a liveness probe that restarts a worker which stopped
consuming.
"""

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Count, F
from django.utils import timezone

from contact import services
from contact.models import OUTBOX_MODELS, Delivery, Message, Verification
from newsroom.durations import short_age
from newsroom.observability import mask_email, mask_emails


def _one_line(text: str, width: int = 120) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else f"{text[: width - 1]}…"


def oldest_waiting(now) -> tuple[float, str, object] | None:
    """The queued mail waiting longest for a send, as (seconds, kind, pk), or None.

    A mail counts from when it was queued (code issued, message received), so the
    outbox sweep enqueueing it again does not make it young. Mails waiting out a
    retry backoff are not waiting for a worker and are left out.
    """
    oldest = None
    for model in OUTBOX_MODELS:
        queued_at = model.OUTBOX_QUEUED_AT
        row = (
            model.objects.waiting_for_worker(now)
            .order_by(queued_at)
            .values_list("pk", queued_at)
            .first()
        )
        if row is not None:
            age = (now - row[1]).total_seconds()
            if oldest is None or age > oldest[0]:
                oldest = (age, model.OUTBOX_KIND, row[0])
    return oldest


class Command(BaseCommand):
    help = (
        "Show the mail outbox: queued, sent and failed mails, the oldest queued one and "
        "the failures with their last error. --retry queues the failed ones again; "
        "--check exits 1 when a queued mail has waited longer than --max-age minutes."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--retry",
            action="store_true",
            help="Queue failed mails again (code mails only while the code can still be typed in).",
        )
        parser.add_argument(
            "--check",
            action="store_true",
            help="Print one line and exit 1 when a mail waits longer than --max-age.",
        )
        parser.add_argument(
            "--max-age",
            type=float,
            default=5.0,
            metavar="MINUTES",
            help="How long a queued mail may wait for a worker before --check fails (default 5).",
        )
        parser.add_argument(
            "--limit",
            type=int,
            default=50,
            help="List at most this many failed mails, newest first (default 50).",
        )

    def handle(self, *args, retry, check, max_age, limit, **options):
        if retry:
            self.retry_failed()
        if check:
            self.check_age(max_age_seconds=max_age * 60)
            return
        self.report(limit=limit)

    def check_age(self, *, max_age_seconds: float) -> None:
        oldest = oldest_waiting(timezone.now())
        if oldest is None:
            self.stdout.write("ok: no mail waiting for a worker")
            return
        age, kind, pk = oldest
        line = f"oldest queued mail waited {short_age(age)} ({kind} {pk})"
        if age > max_age_seconds:
            raise CommandError(
                f"{line}, longer than {short_age(max_age_seconds)}: is a worker consuming?",
                returncode=1,
            )
        self.stdout.write(f"ok: {line}")

    def report(self, *, limit: int) -> None:
        now = timezone.now()
        states = [Delivery.QUEUED, Delivery.SENT, Delivery.FAILED]
        self.stdout.write(f"{'':<22}{'queued':>8}{'sent':>8}{'failed':>8}{'total':>8}")
        totals = dict.fromkeys(states, 0)
        for model in OUTBOX_MODELS:
            counts = dict(
                model.objects.values_list("delivery_state").annotate(n=Count("pk")).order_by()
            )
            for state in states:
                totals[state] += counts.get(state, 0)
            self._count_line(model.OUTBOX_LABEL, [counts.get(state, 0) for state in states])
        self._count_line("total", [totals[state] for state in states])

        oldest = oldest_waiting(now)
        if oldest is None:
            self.stdout.write("\nOldest queued mail: none waiting for a worker")
        else:
            age, kind, pk = oldest
            self.stdout.write(f"\nOldest queued mail: {short_age(age)} ({kind} {pk})")
        backing_off = sum(model.objects.retrying(now).count() for model in OUTBOX_MODELS)
        self.stdout.write(f"Waiting for a retry after an error: {backing_off}")

        failed = self._failed_rows()
        self.stdout.write(f"\nFailed: {len(failed)}")
        if not failed:
            return
        self.stdout.write(f"{'kind':<14}{'id':<38}{'address':<28}{'attempts':>8}  last error")
        for row in failed[:limit]:
            self.stdout.write(
                f"{row.OUTBOX_KIND:<14}{row.pk!s:<38}{mask_email(row.email):<28}"
                # Stored masked; masked again for rows stored before that was so.
                f"{row.delivery_attempts:>8}  {_one_line(mask_emails(row.delivery_error))}"
            )
        if len(failed) > limit:
            self.stdout.write(f"… and {len(failed) - limit} more (--limit)")

    def _count_line(self, label: str, numbers: list[int]) -> None:
        queued, sent, failed = numbers
        self.stdout.write(f"{label:<22}{queued:>8}{sent:>8}{failed:>8}{sum(numbers):>8}")

    def _failed_rows(self) -> list[Verification | Message]:
        """Every failed mail, the most recently queued first."""
        rows = [
            row
            for model in OUTBOX_MODELS
            for row in model.objects.failed().order_by(F(model.OUTBOX_QUEUED_AT).desc())
        ]
        return sorted(rows, key=lambda row: getattr(row, row.OUTBOX_QUEUED_AT), reverse=True)

    def retry_failed(self) -> None:
        # As the admin's action: delivery_retry mails a code only while its
        # verification is pending (sending it starts the code's lifetime again).
        failed = self._failed_rows()
        queued = services.delivery_retry(rows=failed)
        self.stdout.write(f"Queued {queued} failed mail(s) again.")
        if len(failed) > queued:
            self.stdout.write(
                f"Left {len(failed) - queued} alone: their verification is no longer pending."
            )
