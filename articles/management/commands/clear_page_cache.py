from django.core.management.base import BaseCommand

from newsroom.pagecache import store


class Command(BaseCommand):
    help = (
        "Make every cached public page stale, e.g. after rows were changed behind the site's "
        "back (SQL, a restore). Deploys need none: each release stores pages of its own. "
        "Pages are rendered again on their next request."
    )

    def handle(self, *args, **options):
        store.clear()
        self.stdout.write("Every cached page is stale now; each renders again on its next request.")
