"""Small values many pages share (a rendered menu, a list of rows), kept until a tag is bumped."""

from django.conf import settings
from django.core.cache import cache

from . import store
from .release import release_id

# Values this process found valid, with the generation it found them valid at.
local_values: dict[str, tuple[object, int]] = {}
LOCAL_VALUES_MAX = 1000
# How long a value stays in the cache while the page cache is off (PAGE_CACHE_SECONDS = 0):
# long, but not for ever, so the values of a release that is gone are dropped in time.
OFF_SECONDS = 24 * 3600


# What _kept answers when the cache holds no valid copy.
_MISSING = object()


def _full_key(key: str) -> str:
    return f"{store.KEY_PREFIX}:value:{release_id()}:{key}"


def _kept(key: str, tags, valid):
    """The value kept under ``key`` (a full key) if still valid, else ``_MISSING``.

    Reads this process's memory, then the cache (errors propagate).
    """
    local = local_values.get(key)
    if local is not None and local[1] == store.watcher.current() and valid(local[0]):
        return local[0]
    if not store.health.usable():
        return _MISSING
    found = cache.get_many([store.GENERATION_KEY, key, *(store.tag_key(tag) for tag in tags)])
    if key in found and store.GENERATION_KEY in found:
        generation, value = found[key]
        if valid(value) and store.unbumped_since(generation, tags, found):
            if len(local_values) >= LOCAL_VALUES_MAX:
                local_values.clear()
            local_values[key] = (value, int(found[store.GENERATION_KEY]))
            return value
    return _MISSING


def cached_value(key: str, tags, compute, *, valid=lambda value: True):
    """``compute()``, kept in the cache until one of ``tags`` (or ``GLOBAL_TAG``) is bumped.

    Like pages, a value found valid is also kept in this process's memory for as
    long as the generation does not move. ``valid(value)`` can refuse a kept value
    (one that names a time now past, say). Falls back to ``compute()`` when the
    cache is unreachable. Like pages, values belong to the release that computed
    them (``release``).
    """
    key = _full_key(key)
    tags = {store.GLOBAL_TAG, *tags}
    try:
        value = _kept(key, tags, valid)
        if value is not _MISSING:
            return value
        if not store.health.usable():
            return compute()
        generation = store.current_generation()
    except Exception:
        store.health.failed("could not read %s", key)
        return compute()
    value = compute()
    try:
        cache.set(key, (generation, value), timeout=settings.PAGE_CACHE_SECONDS or OFF_SECONDS)
    except Exception:
        store.health.failed("could not keep %s", key)
    return value


def kept_value(key: str, tags, *, default=None, valid=lambda value: True):
    """What ``cached_value`` keeps under ``key``, never computed: ``default`` when
    the cache holds no valid copy or cannot be reached. For pages that must not
    wait for the database (the error pages).
    """
    key = _full_key(key)
    try:
        value = _kept(key, {store.GLOBAL_TAG, *tags}, valid)
    except Exception:
        store.health.failed("could not read %s", key)
        return default
    return default if value is _MISSING else value
