"""A local SMTP server (aiosmtpd) for outlet tests: keeps every message it accepts, parsed, in order."""

from __future__ import annotations

import contextlib
import email
import email.policy
import socket
from collections.abc import Iterator
from email.message import EmailMessage

from aiosmtpd.controller import Controller


class Mailbox:
    """aiosmtpd handler that stores the parsed messages and the envelope recipients."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], EmailMessage]] = []
        #: Set to an SMTP reply such as "451 4.3.0 try later" to refuse the next DATA with it.
        self.refuse_with: str | None = None

    async def handle_DATA(self, server, session, envelope) -> str:
        if self.refuse_with:
            return self.refuse_with
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append((list(envelope.rcpt_tos), message))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def running_smtp() -> Iterator[tuple[Controller, Mailbox]]:
    """A running SMTP server on 127.0.0.1 and a free port, with no TLS and no login."""
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield controller, mailbox
    finally:
        controller.stop()
