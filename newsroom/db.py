"""How long the database may keep a visitor waiting, and how to tell that it gave up.

Two bounds, both kept by PostgreSQL itself:

- **Connecting** takes at most ``DATABASE_CONNECT_TIMEOUT`` seconds, in every
  process (the settings put it in the connection's options): a database that
  hangs instead of refusing costs a request that long, not gunicorn's whole
  worker timeout.
- **Each statement of a public request** takes at most
  ``DATABASE_STATEMENT_TIMEOUT_MS``: a query stuck behind a lock (a migration
  altering a table) or on a bad plan cannot hold a web worker for ever. The
  admin, management commands (migrations included) and Celery tasks run
  without it: an editor's save or a mail being recorded as sent must finish,
  not be cut by a page's budget. A request applies it with ``statement_budget``
  (``newsroom.middleware.DatabaseMiddleware``); the connection is given the
  budget when it is made, so a request that only reads the page cache never
  talks to the database for it.

A part of a page may ask for less within a transaction with ``time_limit``
(search does). What the visitor sees when the database gives up is the
middleware's business: ``unavailable`` tells which errors mean that.
"""

import contextvars
import weakref
from contextlib import contextmanager

from django.db import OperationalError, connection, transaction
from django.db.backends.signals import connection_created

# PostgreSQL's SQLSTATE for a statement cancelled by statement_timeout.
QUERY_CANCELED = "57014"

# The statement budget of the request this thread is handling (milliseconds), or
# None: none of ours, the server's own setting applies (no limit, unless the
# database or its role was given one).
_budget: contextvars.ContextVar[int | None] = contextvars.ContextVar(
    "statement_budget", default=None
)
# The budget each open PostgreSQL connection was given when it was made.
_given: "weakref.WeakKeyDictionary[object, int | None]" = weakref.WeakKeyDictionary()


def _give_budget(sender, connection, **kwargs) -> None:
    """A new connection takes the current request's budget as its session default.

    Set when the connection is made, before any transaction: a rollback cannot
    undo it, and a search's ``SET LOCAL`` lasts only for its own transaction.
    """
    if connection.vendor != "postgresql":
        return
    budget = _budget.get()
    _given[connection.connection] = budget
    if budget:
        with connection.cursor() as cursor:
            cursor.execute("SET statement_timeout = %s", [f"{budget}ms"])


connection_created.connect(_give_budget, dispatch_uid="newsroom.db.statement_budget")


@contextmanager
def statement_budget(milliseconds: int | None):
    """Statements on this thread's connection within the block take at most
    ``milliseconds`` (None or 0: no limit).

    A connection left open by an earlier request with another budget is closed
    here, before the request has used it, and the next query opens one with the
    right budget: that costs a connection when a web process switches between
    the admin and the public site, and nothing otherwise. A connection inside a
    transaction (a test's) is left as it is.
    """
    milliseconds = milliseconds or None
    token = _budget.set(milliseconds)
    try:
        raw = connection.connection
        if (
            raw is not None
            and connection.vendor == "postgresql"
            and not connection.in_atomic_block
            and _given.get(raw) != milliseconds
        ):
            connection.close()
        yield
    finally:
        _budget.reset(token)


@contextmanager
def time_limit(milliseconds: int):
    """A transaction whose statements take at most ``milliseconds`` (and never more
    than the request's own budget); OperationalError when PostgreSQL gives up
    (``timed_out`` tells). Other databases run the block without a limit.
    """
    limit = min(filter(None, (milliseconds, _budget.get())), default=None)
    if not limit or connection.vendor != "postgresql":
        yield
        return
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL statement_timeout = %s", [f"{int(limit)}ms"])
        yield


def timed_out(error: BaseException) -> bool:
    """PostgreSQL cancelled the statement at its time limit."""
    return getattr(error.__cause__, "sqlstate", None) == QUERY_CANCELED


def unavailable(error: BaseException) -> bool:
    """The database could not answer now: it refused or did not answer a connection,
    cancelled a statement at its time limit, was shutting down or out of resources,
    or gave up on a lock or a deadlock. On PostgreSQL, Django's OperationalError holds
    exactly these errors of the server's state (a mistake in the SQL is another
    class); on SQLite it also means a missing table, so only a locked file counts.
    """
    if not isinstance(error, OperationalError):
        return False
    if connection.vendor == "sqlite":
        return "database is locked" in str(error)
    return True
