"""Which request or task a log line belongs to, and what no log line may hold.

The web middleware (``newsroom.middleware``) and Celery's task signals below
set one context variable; ``ContextFilter`` copies it onto every log record,
so a single formatter (``LOGGING`` in settings) writes::

    2026-05-04 09:12:01,337 INFO contact.services [req=4f1c…] verification started id=…
    2026-05-04 09:12:01,402 INFO contact.services [task=9b2e… contact.send_verification_code
    req=4f1c…] verification mail sent id=…

A task enqueued while a web request is handled carries that request's id in
a message header, so one id follows a contact submission from the form to the
mail. This module is imported by ``newsroom/celery.py`` so the worker connects
the signals before it starts.

``MaskEmailsFilter``, on the same handler, masks every email address a line would
write (``j***@example.com``), whoever logged it: our code, Django, Celery's own
retry and failure lines, and the tracebacks they carry.
"""

import logging
import logging.config
import re
import uuid
from contextvars import ContextVar
from dataclasses import dataclass

from celery import signals

# The message header that carries the web request id into a task.
REQUEST_ID_HEADER = "newsroom_request_id"
# What we accept from a client's or proxy's X-Request-ID: short and harmless in a log line.
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


@dataclass(frozen=True)
class LogContext:
    request_id: str = ""
    task_id: str = ""
    task_name: str = ""

    def __str__(self) -> str:
        parts = []
        if self.task_id:
            parts.append(f"task={self.task_id} {self.task_name}".rstrip())
        if self.request_id:
            parts.append(f"req={self.request_id}")
        return " ".join(parts) or "-"


_NO_CONTEXT = LogContext()
log_context: ContextVar[LogContext] = ContextVar("newsroom_log_context", default=_NO_CONTEXT)


def current_request_id() -> str:
    return log_context.get().request_id


def request_id_from(value: str | None) -> str:
    """The client's or proxy's id when it is sane, else a fresh one."""
    if value and _SANE_REQUEST_ID.fullmatch(value):
        return value
    return uuid.uuid4().hex


# What no log line may hold ------------------------------------------------------------


def mask_email(email: str) -> str:
    """``jane@example.com`` -> ``j***@example.com``: the domain stays, for operators."""
    local, _, domain = email.rpartition("@")
    return f"{local[:1]}***@{domain}" if local else "***"


# An address as it turns up in text someone else wrote: an SMTP reply
# (``<jane@example.com>: Recipient address rejected``), an exception's repr
# (``{'jane@example.com': (450, b'...')}``), a quoted local part. A local part may
# hold an apostrophe (o'brien@) but not start with one, so a repr's quote is not taken
# for part of it; the characters that delimit URLs, key=value pairs and reprs
# (= / ? # & { | }) end it, so ``email=jane@…`` keeps its key; ``*`` is never part of
# it, so a masked address is left as it is. The domain has a dot or is a literal
# ([192.0.2.1]), so a node name such as Celery's ``celery@worker-7`` stays readable.
_DOMAIN = r"(?:[\w-]+(?:\.[\w-]+)+|\[[^\]\s]{1,64}\])"
_ADDRESS = re.compile(
    rf'"[^"\r\n]{{1,62}}"@{_DOMAIN}'  # "jane doe"@example.com
    rf"|[\w!$+^~%-][\w!$'+^~%.-]{{0,63}}@{_DOMAIN}"
)


def mask_emails(text: str) -> str:
    """``text`` with every email address in it masked by ``mask_email``."""
    if "@" not in text:
        return text
    return _ADDRESS.sub(lambda match: mask_email(match.group()), text)


class MaskEmailsFilter(logging.Filter):
    """Mask the email addresses in everything a record would write.

    The message with its arguments, the traceback and the stack: an exception's text
    holds whatever the mail server answered, address included. Attached to the
    handler, so it masks what Django's and Celery's loggers write too. Never refuses
    a record, and never raises into the code that logs.
    """

    _formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: write it, and its arguments, masked
            message = f"{record.msg} (arguments not formatted: {record.args!r})"
            record.msg, record.args = mask_emails(message), ()
        else:
            masked = mask_emails(message)
            if masked != message:
                record.msg, record.args = masked, ()
        if record.exc_info and not record.exc_text:
            # What the handler's formatter would write, formatted once here to be masked.
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_emails(record.exc_text)
        if record.stack_info:
            record.stack_info = mask_emails(record.stack_info)
        return True


# Which request or task ------------------------------------------------------------------


class ContextFilter(logging.Filter):
    """Put the request/task context on every record the handler writes.

    Attached to the handler, not a logger, so records from every logger
    (Django's, Celery's, ours) get it.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        context = log_context.get()
        record.context = str(context)
        record.request_id = context.request_id
        record.task_id = context.task_id
        record.task_name = context.task_name
        return True


# Celery ---------------------------------------------------------------------------

# Context tokens of the tasks running in this process, by task id: a stack, since
# an eager task's retry runs again, nested, under the same id.
_task_tokens: dict[str, list] = {}


@signals.setup_logging.connect
def _use_django_logging(**kwargs) -> None:
    """The worker logs with the site's LOGGING (format, level), not Celery's own set-up.

    Connecting this signal is what stops Celery from replacing the root handlers.
    """
    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)


@signals.before_task_publish.connect
def _pass_request_id(headers=None, **kwargs) -> None:
    request_id = current_request_id()
    if request_id and headers is not None:
        headers.setdefault(REQUEST_ID_HEADER, request_id)


@signals.task_prerun.connect
def _enter_task(task_id=None, task=None, **kwargs) -> None:
    request = getattr(task, "request", None)
    # Through a broker the header is an attribute of the request; an eager task
    # runs inline and inherits the request id from the context it runs in.
    request_id = (
        getattr(request, REQUEST_ID_HEADER, None)
        or (getattr(request, "headers", None) or {}).get(REQUEST_ID_HEADER)
        or current_request_id()
    )
    context = LogContext(
        request_id=request_id_from(request_id) if request_id else "",
        task_id=task_id or "",
        task_name=getattr(task, "name", "") or "",
    )
    _task_tokens.setdefault(task_id, []).append(log_context.set(context))


@signals.task_postrun.connect
def _leave_task(task_id=None, **kwargs) -> None:
    tokens = _task_tokens.get(task_id)
    if not tokens:
        return
    token = tokens.pop()
    if not tokens:
        del _task_tokens[task_id]
    try:
        log_context.reset(token)
    except ValueError:
        # Set in another context (should not happen): fall back to no context.
        log_context.set(_NO_CONTEXT)
