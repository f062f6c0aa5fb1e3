"""Purging the edge: every page-cache bump also purges its tags from each Varnish.

The page cache names each public page's tags in its ``xkey`` header
(``newsroom/pagecache/edge.py``). This app tells the Varnish servers of
``EDGE_PURGE_URLS`` about every bump, as the contact mails are sent: through an
outbox in the database (DESIGN.md: enqueue after commit, and keep an outbox).

- ``models.Purge``: one row per bump and edge, written in the edit's transaction
  (``services.purge_record``, which the page cache calls for each
  ``store.invalidate()`` and ``store.clear()``), so a purge is never lost with a
  broker or a worker.
- ``tasks.purge``: after the commit, one task per edge sends one ``PURGE`` with the
  tags of every unsent row of that edge (``services.purge_send``), retried with
  backoff on transient errors; ``tasks.purge_sweep`` (beat) sends what a broker
  outage or a lost task left, and prunes old sent rows.
- ``metrics``: unsent rows and the oldest unsent age per edge, purge attempts by
  outcome; ``manage.py edge --check`` asks each edge and reports the same.

Sending a row twice is harmless (a purge of a page that is gone purges nothing);
a sent row is never sent again.
"""
