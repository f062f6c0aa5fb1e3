"""An SMTP server on loopback that keeps what it receives."""

import asyncio
import email
import email.policy
import re
import threading
from email.message import EmailMessage

from aiosmtpd.controller import Controller

from harness import free_port, wait_for


class SMTPServer:
    """aiosmtpd on loopback that keeps what it receives.

    ``reply`` sets what it answers to DATA: ``None`` accepts, a string such as
    ``"451 4.3.0 try again later"`` refuses. ``rcpt_reply`` does the same for each
    recipient (RCPT TO), with ``{address}`` standing for the address, which real
    servers name in their answer (``"450 4.2.1 <{address}>: try again later"``).
    ``refused`` counts the refusals of either. ``hold`` (a ``threading.Event``) keeps
    each DATA waiting until it is set, as a mail server that is slow to answer; a
    held mail is kept in ``dropped``, not delivered: its sender is taken to die meanwhile.
    ``delay`` (seconds) makes each DATA wait that long before it is accepted, as a mail
    server that is slow but fine.
    """

    def __init__(self) -> None:
        self.port = free_port()
        self.messages: list[EmailMessage] = []
        self.reply: str | None = None
        self.rcpt_reply: str | None = None
        self.refused = 0
        self.hold: threading.Event | None = None
        self.delay = 0.0
        self.held = 0
        self.dropped: list[EmailMessage] = []
        self._lock = threading.Lock()
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # aiosmtpd's
        with self._lock:
            if self.rcpt_reply:
                self.refused += 1
                return self.rcpt_reply.format(address=address)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd's handler hook
        if self.delay:
            await asyncio.sleep(self.delay)
        hold = self.hold
        if hold is not None:
            with self._lock:
                self.held += 1
                self.dropped.append(
                    email.message_from_bytes(envelope.content, policy=email.policy.default)
                )
            # Waits in a thread, so the server keeps answering other sessions.
            await asyncio.get_running_loop().run_in_executor(None, hold.wait, 60)
            return "421 4.3.0 held and dropped"
        with self._lock:
            if self.reply:
                self.refused += 1
                return self.reply
            message = email.message_from_bytes(envelope.content, policy=email.policy.default)
            self.messages.append(message)
        return "250 OK"

    def start(self) -> "SMTPServer":
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    def to(self, address: str) -> list[EmailMessage]:
        with self._lock:
            return [m for m in self.messages if address in str(m.get("To", ""))]

    def wait_for_mail(self, address: str, *, count: int = 1, timeout: float = 30) -> EmailMessage:
        mails = wait_for(
            lambda: len(self.to(address)) >= count and self.to(address),
            timeout=timeout,
            what=f"{count} mail(s) to {address}",
        )
        return mails[count - 1]

    def code_for(self, address: str, *, count: int = 1, timeout: float = 30) -> str:
        """The verification code in the ``count``-th mail to ``address``."""
        return code_in(self.wait_for_mail(address, count=count, timeout=timeout))


def code_in(mail: EmailMessage) -> str:
    """The 6-digit verification code in a mail's plain-text body."""
    text = mail.get_body(preferencelist=("plain",)).get_content()
    return re.search(r"\b(\d{6})\b", text).group(1)
