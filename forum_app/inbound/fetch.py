"""Reading the reply mailbox over IMAP (``flask forum mail fetch [--loop]``), with the standard library's imaplib.

One run: log in, take every message in the mailbox (oldest first), hand each to
``services.receive`` and commit, and only then delete it from the mailbox. A run that dies
between the commit and the delete meets the message again next time: the same bytes are a
duplicate and change nothing, so at-least-once reading is safe. A message larger than
``INBOUND_MAX_BYTES`` is not downloaded: its headers are kept and it is deleted too.

``--loop`` waits for new mail with IMAP IDLE (RFC 2177) when the server offers it, renewed
every few minutes (servers drop idle connections after 30), else polls every ``interval``
seconds; a lost connection is opened again after a pause.
"""

from __future__ import annotations

import contextlib
import imaplib
import re
import select
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from io import BufferedReader
from typing import cast
from urllib.parse import unquote, urlsplit

from flask import current_app

from ..core.clock import utcnow
from ..core.commit import attempt
from ..extensions import db
from .services import purge_expired, receive

IDLE_RENEW_SECONDS = 5 * 60
PURGE_EVERY = timedelta(hours=1)
_SIZE = re.compile(rb"RFC822\.SIZE (\d+)")


class ConfigurationError(RuntimeError):
    pass


@dataclass(frozen=True)
class Mailbox:
    host: str
    port: int
    tls: bool  # imaps: TLS from the start; imap: STARTTLS when the server offers it
    user: str
    password: str
    folder: str


def mailbox_from_url(url: str | None) -> Mailbox:
    """``imap://user:password@host:143/INBOX`` or ``imaps://…:993/Folder`` (user and password URL-encoded)."""
    if not url:
        raise ConfigurationError("IMAP_URL is not set (e.g. imaps://forum-desk:secret@mail.example.org/INBOX).")
    parts = urlsplit(url)
    if parts.scheme not in ("imap", "imaps") or not parts.hostname:
        raise ConfigurationError("IMAP_URL must look like imap://user:password@host:port/INBOX (or imaps://).")
    tls = parts.scheme == "imaps"
    return Mailbox(
        host=parts.hostname,
        port=parts.port or (993 if tls else 143),
        tls=tls,
        user=unquote(parts.username or ""),
        password=unquote(parts.password or ""),
        folder=unquote(parts.path.lstrip("/")) or "INBOX",
    )


def connect(box: Mailbox, timeout: float) -> imaplib.IMAP4:
    context = ssl.create_default_context()
    imap: imaplib.IMAP4
    if box.tls:
        imap = imaplib.IMAP4_SSL(box.host, box.port, ssl_context=context, timeout=timeout)
    else:
        imap = imaplib.IMAP4(box.host, box.port, timeout=timeout)
        if "STARTTLS" in imap.capabilities:
            imap.starttls(ssl_context=context)
    try:
        imap.login(box.user, box.password)
        status, _data = imap.select(_quoted(box.folder))
        if status != "OK":
            raise imaplib.IMAP4.error(f"cannot open the mailbox {box.folder!r}")
    except BaseException:
        _close(imap)
        raise
    return imap


def _quoted(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _close(imap: imaplib.IMAP4) -> None:
    with contextlib.suppress(OSError, imaplib.IMAP4.error):
        imap.logout()


@dataclass
class FetchReport:
    received: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


def fetch_all(imap: imaplib.IMAP4, report: FetchReport) -> None:
    """Receive every message in the selected mailbox, deleting each once its row is committed."""
    limit = current_app.config["INBOUND_MAX_BYTES"]
    status, data = imap.uid("SEARCH", "UNDELETED")
    if status != "OK":
        raise imaplib.IMAP4.error(f"SEARCH failed: {data!r}")
    uids = data[0].split() if data and data[0] else []
    for uid in (value.decode("ascii") for value in uids):
        size = _size(imap, uid)
        part = "BODY.PEEK[HEADER]" if size > limit else "BODY.PEEK[]"
        status, fetched = imap.uid("FETCH", uid, f"({part})")
        raw = next((item[1] for item in fetched or [] if isinstance(item, tuple) and len(item) == 2), None)
        if status != "OK" or raw is None:
            report.errors.append(f"UID {uid}: could not be fetched")
            continue
        outcome = attempt(partial(_receive, raw, size))
        db.session.remove()
        if not outcome:
            # Left in the mailbox: the next run tries again.
            report.errors.append(f"UID {uid}: {outcome.message}")
            continue
        report.received += 1
        report.outcomes[outcome.value] = report.outcomes.get(outcome.value, 0) + 1
        imap.uid("STORE", uid, "+FLAGS.SILENT", r"(\Deleted)")
    if uids:
        imap.expunge()


def _receive(raw: bytes, size: int) -> str:
    return receive(raw, "imap", size=size).outcome


def _size(imap: imaplib.IMAP4, uid: str) -> int:
    status, data = imap.uid("FETCH", uid, "(RFC822.SIZE)")
    for item in data or []:
        text = item[0] if isinstance(item, tuple) else item
        match = _SIZE.search(text or b"")
        if status == "OK" and match:
            return int(match.group(1))
    return 0


def fetch_once() -> FetchReport:
    """One run against ``IMAP_URL``."""
    report = FetchReport()
    imap = connect(mailbox_from_url(current_app.config.get("IMAP_URL")), current_app.config.get("MAIL_TIMEOUT", 20))
    try:
        fetch_all(imap, report)
    finally:
        _close(imap)
    return report


# --- waiting for mail -----------------------------------------------------------------------------


def _buffered(imap: imaplib.IMAP4) -> bool:
    """Whether a line is already waiting (in imaplib's buffer or TLS's), without blocking."""
    sock = imap.sock
    if isinstance(sock, ssl.SSLSocket) and sock.pending():
        return True
    saved = sock.gettimeout()
    sock.settimeout(0.0)
    try:
        return bool(cast(BufferedReader, imap.file).peek(1))
    except (BlockingIOError, ssl.SSLWantReadError, TimeoutError):
        return False
    finally:
        sock.settimeout(saved)


def idle(imap: imaplib.IMAP4, seconds: float, stop: threading.Event) -> bool:
    """IMAP IDLE for at most ``seconds`` (or until ``stop``); whether the server reported new mail."""
    tag = imap._new_tag()
    imap.send(tag + b" IDLE\r\n")
    line = imap.readline()
    if not line.startswith(b"+"):
        raise imaplib.IMAP4.error(f"IDLE refused: {line!r}")
    news = False
    deadline = time.monotonic() + seconds
    while not news and not stop.is_set() and time.monotonic() < deadline:
        if not _buffered(imap) and not select.select([imap.sock], [], [], 0.5)[0]:
            continue
        line = imap.readline()
        if not line:
            raise imaplib.IMAP4.abort("the server closed the connection")
        news = line.startswith(b"*") and (b"EXISTS" in line or b"RECENT" in line)
    imap.send(b"DONE\r\n")
    while True:
        line = imap.readline()
        if not line:
            raise imaplib.IMAP4.abort("the server closed the connection")
        if line.startswith(tag):
            if b" OK" not in line:
                raise imaplib.IMAP4.error(f"IDLE ended badly: {line!r}")
            return news


def run_loop(
    stop: threading.Event,
    *,
    interval: float = 60,
    use_idle: bool = True,
    say: Callable[[str], None] = print,
) -> None:
    """Fetch, wait for more (IDLE or ``interval``), again, until ``stop``; purge expired mail hourly."""
    box = mailbox_from_url(current_app.config.get("IMAP_URL"))
    timeout = current_app.config.get("MAIL_TIMEOUT", 20)
    last_purge: datetime | None = None
    while not stop.is_set():
        try:
            imap = connect(box, timeout)
        except (OSError, imaplib.IMAP4.error) as exc:
            say(f"cannot reach the mailbox: {type(exc).__name__}: {exc}")
            stop.wait(interval)
            continue
        try:
            while not stop.is_set():
                if last_purge is None or utcnow() - last_purge >= PURGE_EVERY:
                    purged = attempt(lambda: purge_expired())
                    db.session.remove()
                    if purged and purged.value:
                        say(f"deleted {purged.value} received messages past their retention")
                    last_purge = utcnow()
                report = FetchReport()
                fetch_all(imap, report)
                if report.received or report.errors:
                    say(_summary(report))
                if use_idle and "IDLE" in imap.capabilities:
                    idle(imap, min(IDLE_RENEW_SECONDS, max(interval, 1) * 10), stop)
                else:
                    stop.wait(interval)
                    imap.noop()
        except (OSError, imaplib.IMAP4.error, imaplib.IMAP4.abort) as exc:
            say(f"mailbox connection lost: {type(exc).__name__}: {exc}")
            stop.wait(min(interval, 30))
        finally:
            _close(imap)


def _summary(report: FetchReport) -> str:
    outcomes = ", ".join(f"{name} {count}" for name, count in sorted(report.outcomes.items()))
    text = f"received {report.received}" + (f" ({outcomes})" if outcomes else "")
    return text + "".join(f"\n  {error}" for error in report.errors)
