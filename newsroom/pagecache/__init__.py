"""Whole public pages in the cache, invalidated exactly when what they show changes.

The page cache knows nothing of what a site shows; the site names it in *tags*.
A page is stored with the tags of what it shows (declared by its view with
``http.shows()``, plus ``GLOBAL_TAG`` for what every page shows, a menu say).
An edit bumps the tags it touches (``store.invalidate()``), and every stored
page carrying one of them stops being served. Nothing is deleted: a page is
simply not valid any more, and the next request renders and stores it again.
The articles app says which tags its pages show and its edits bump
(``articles/cachetags.py``, ``articles/signals.py``).

- ``store``: tags and generations (validity), the pub/sub watcher that tells each
  process about bumps, and what happens when the cache fails (``CacheHealth``,
  ``PendingBumps``).
- ``values``: small values many pages share, kept until one of their tags is bumped.
- ``http``: the view decorator, ``cached_page``: stored pages, validators and
  304s, Cache-Control for proxies, staff bypass.
- ``release``: the release id in the keys of stored pages and values, so a
  deploy never serves what the previous release rendered.
- ``edge``: what caches in front are told: each page's tags (``xkey``, and
  ``Surrogate-Key``/``Cache-Tag`` behind a setting) and, only when edits purge
  them (``EDGE_PURGE_URLS``), a long lifetime (``Surrogate-Control``). The purges
  themselves are the edge app's (``newsroom/edge/``), which hears each
  invalidation through ``store.on_invalidate``: this package names no app.

Validity without clocks: the cache holds one counter, the *generation*, raised
by every bump. A bump records the generation it produced on each tag it
touches; a page records the generation current when its rendering began. The
page is valid while none of its tags was bumped after that (tag generation <=
page generation). A render that read the database before an editor's commit
started before the bump that followed the commit, so it can never be stored
as valid for that change.

A hit costs no query and, usually, no cache call either. Each web process keeps
the pages it served lately in its own memory (``PAGE_CACHE_LOCAL_BYTES``) with
the generation at which it last found them valid: while the generation has not
moved, nothing was bumped anywhere and the copy is still valid. Each process
hears the counter move over Redis pub/sub (``store.GenerationWatcher``), and
reads it from the cache only while it cannot hear it. When it has moved, the
page and its tags' generations are read in one round trip (an atomic MGET, so
they agree with each other) and the page checked again. A bump raises the
generation once more after writing its tags, so no process can remember a page
as valid at a generation whose tags were not all written yet.

A page also expires at a time its site may name (``cached_page(expires=…)``: the
next scheduled story's publish time or a live story's take-down time), and after
``PAGE_CACHE_SECONDS`` at the latest.

Staff are never served a stored page: a browser that has used the admin
carries the ``STAFF_COOKIE_NAME`` cookie (``newsroom.middleware``), and for
such a request the session is consulted; real staff get a fresh page marked
private. Only anonymous renders are stored, and only when they set no cookie
and read no session or CSRF token, so no visitor's state is ever stored.

If the cache is unreachable the site renders every page, logs, and carries on;
after a failure each process leaves the cache alone for a few seconds
(``store.CacheHealth``), so a Redis that is down or hangs slows no visitor down.
"""
