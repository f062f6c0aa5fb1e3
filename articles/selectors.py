"""Read-side queries more than one caller needs."""

from newsroom.pagecache import values
from newsroom.pagecache.store import GLOBAL_TAG

from .models import Topic


def kept_topics() -> list[Topic]:
    """Every topic in the topics' order, kept in the cache until a topic changes.

    Every page's menu is built from it, and an article page takes its topics from
    it (``Article.objects.for_page(topics=…)``). Kept as plain rows, under a key
    that names the columns; made into topics on each call, so no caller shares an
    instance with another.
    """
    fields = [field.attname for field in Topic._meta.concrete_fields]
    rows = values.cached_value(
        f"topics:{','.join(fields)}",
        [GLOBAL_TAG],
        lambda: list(Topic.objects.values_list(*fields)),
    )
    return [Topic.from_db(None, fields, row) for row in rows]
