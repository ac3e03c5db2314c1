"""A real SMTP server on loopback (aiosmtpd) for the email tests, and helpers to read what it got."""

from __future__ import annotations

import asyncio
import email
import socket
import threading
from collections import Counter
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes

    @property
    def message(self) -> EmailMessage:
        return email.message_from_bytes(self.raw, policy=policy.default)


@dataclass
class Handler:
    """What the server answers. Per recipient: refused for good (550), deferred (451) on chosen
    attempts, or held at RCPT until released (a slow server, for races with the worker)."""

    received: list[Received] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)  # recipients answered 550
    # recipient → the attempts (1 = the first RCPT TO for it, 2 = the next, …) answered 451
    defer: dict[str, set[int]] = field(default_factory=dict)
    attempts: Counter = field(default_factory=Counter)  # RCPT TO seen per recipient
    # recipient → an event: its RCPT TO waits until the event is set; ``held`` is set meanwhile
    hold: dict[str, threading.Event] = field(default_factory=dict)
    held: threading.Event = field(default_factory=threading.Event)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        self.attempts[address] += 1
        if address in self.hold:
            self.held.set()
            await asyncio.get_running_loop().run_in_executor(None, self.hold[address].wait, 30)
        if address in self.refuse:
            return "550 5.1.1 No such user here"
        if self.attempts[address] in self.defer.get(address, ()):
            return "451 4.3.0 Mailbox busy, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content))
        return "250 Message accepted"


class SmtpServer:
    """Start, stop and start again on the same port (the "server down" tests)."""

    def __init__(self, port: int | None = None):
        self.port = port or free_port()
        self.handler = Handler()
        self.controller: Controller | None = None

    def start(self) -> SmtpServer:
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    @property
    def received(self) -> list[Received]:
        return self.handler.received

    def to(self, address: str) -> list[EmailMessage]:
        return [r.message for r in self.received if address in r.rcpt_tos]

    def to_raw(self, address: str) -> list[Received]:
        return [r for r in self.received if address in r.rcpt_tos]
