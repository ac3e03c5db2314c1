"""The delivery worker: send what is due in the outbox over SMTP, with retries.

How one run works (``deliver_due``):

1. Nothing due: done, without touching the mail server.
2. Open one SMTP connection *before* taking any lock, so no row (and on SQLite no write
   lock) is held while a slow or dead server is being reached. If it cannot be opened,
   every due message records the error and waits longer (a mail server that is down
   delays mail, it never drops it: such errors never use up the attempts).
3. Then one message per transaction: take the oldest due ``pending`` row — on PostgreSQL
   with ``FOR UPDATE SKIP LOCKED``, so several workers share the queue without two
   sending the same row; on SQLite the write transaction (``BEGIN IMMEDIATE``) does the
   same for the one worker there is — send it, record the outcome, commit. The row
   stays locked while it is sent, so a message withdrawn meanwhile (an invitee removed)
   waits for the send to finish and is then seen as sent; a withdrawn row is never taken.
4. Mail to one person about one meeting goes in the order it was queued: a message waits
   while an older one for the same pair is waiting (deferred), and a calendar message for
   which a newer one exists is withdrawn, never sent (see ``ordering``).

A refusal by the server for this message (5xx) fails it at once; a temporary one (4xx)
is retried after growing delays until ``MAIL_MAX_ATTEMPTS``. Each attempt's error is kept
in ``last_error``. If the worker dies between the server's "250 OK" and the commit, that
message is sent again: at least once is the only promise SMTP allows.
"""

from __future__ import annotations

import smtplib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid, parseaddr
from typing import cast
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import CursorResult, func, select, update

from ..core.clock import utcnow
from ..extensions import db
from ..inbound.addresses import meeting_reply_address
from ..models import OutboxMessage
from .ordering import INVITATION_KINDS, SUPERSEDED, newer_calendar_message, not_behind_older
from .outbox import forget_links

# Minutes to wait after the 1st, 2nd, … failed attempt; the last value repeats.
RETRY_MINUTES = (1, 5, 15, 60, 180, 360)
CONNECTION_RETRY_CAP = timedelta(minutes=30)


def retry_delay(attempts: int) -> timedelta:
    return timedelta(minutes=RETRY_MINUTES[min(max(attempts, 1), len(RETRY_MINUTES)) - 1])


# --- the message as MIME ----------------------------------------------------------------------
# Built with the standard library's EmailMessage and sent with smtplib, so a Flask-Mail upgrade
# cannot change what an invitation looks like on the wire:
#
#   multipart/mixed
#     multipart/alternative: text/plain, text/html, text/calendar; method=…   (simplest first)
#     application/ics: invite.ics (the same bytes)
#
# without a calendar, multipart/alternative (text and HTML) or text/plain alone.


def _ascii_address(address: str) -> str:
    """``address`` with its domain in IDNA (xn--…), as mail servers without SMTPUTF8 take it."""
    local, _at, domain = address.rpartition("@")
    return f"{local}@{domain.encode('idna').decode('ascii')}" if local and not domain.isascii() else address


class _Verbatim(str):
    """A header value written out as it is, on one line (RFC 5322 allows 998 characters).

    The email package folds a long value without spaces, such as a link in angle brackets,
    into RFC 2047 encoded words; mail providers read ``List-Unsubscribe`` raw and would find
    no link. Only for ASCII values without line breaks.
    """

    name: str

    def __new__(cls, name: str, value: str) -> _Verbatim:
        if not value.isascii() or "\r" in value or "\n" in value:
            raise ValueError(f"{name}: not a one-line ASCII value")
        header = super().__new__(cls, value)
        header.name = name
        return header

    def fold(self, *, policy) -> str:
        return f"{self.name}: {self}{policy.linesep}"


def message_id_domain(msg: EmailMessage) -> str:
    """The sender's domain (in IDNA), else BASE_URL's host: never the machine's own name
    (``make_msgid``'s default, a container's random host name), which spam filters count against us."""
    addresses = msg["From"].addresses if msg["From"] is not None else ()
    domain = addresses[0].domain if addresses else ""
    domain = domain or urlsplit(current_app.config["BASE_URL"]).hostname or ""
    return domain.encode("idna").decode("ascii") if domain else "localhost"


def _unsubscribe_headers(msg: EmailMessage, url: str) -> None:
    """Reminders and notices: a link that turns that kind of email off (RFC 2369), and, when it is
    https, the one-click POST mail providers offer as an "Unsubscribe" button (RFC 8058)."""
    msg["List-Unsubscribe"] = _Verbatim("List-Unsubscribe", f"<{url}>")
    if url.startswith("https://"):
        msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"


def build_email(message: OutboxMessage) -> EmailMessage:
    sender = current_app.config["MAIL_DEFAULT_SENDER"]
    msg = EmailMessage(policy=SMTP)  # CRLF line ends on the wire; non-ASCII names as RFC 2047 words
    msg["Subject"] = message.subject
    msg["From"] = sender
    to_addr = _ascii_address(message.to_addr)
    msg["To"] = Address(message.to_user.name, addr_spec=to_addr) if message.to_user is not None else to_addr
    # From an aware UTC time: "+0000". "-0000" would mean "zone unknown" (RFC 5322 3.3), which spam
    # filters score against a message; an explicit zone never depends on how "GMT" is parsed back.
    msg["Date"] = format_datetime(utcnow())
    msg["Message-ID"] = make_msgid(domain=message_id_domain(msg))
    if message.list_unsubscribe:
        _unsubscribe_headers(msg, message.list_unsubscribe)
    # Automatic mail: no out-of-office replies to it (RFC 3834); the outbox id ties a bounce to its row.
    msg["Auto-Submitted"] = "auto-generated"
    msg["X-Forum-Desk-Outbox"] = str(message.id)
    if message.meeting_id is not None:
        # Replies about a meeting go to Forum Desk's address for it, as the calendar's answers do (inbound).
        msg["Reply-To"] = Address(parseaddr(sender)[0], addr_spec=meeting_reply_address(message.meeting_id))
    # Quoted-printable: readable in the raw message and by filters, and any line length is safe.
    msg.set_content(message.body_text, cte="quoted-printable")
    if message.body_html:
        msg.add_alternative(message.body_html, subtype="html", cte="quoted-printable")
    calendar = next((a for a in message.attachments or [] if a.get("calendar_method")), None)
    if calendar is not None:
        data = calendar["data"].encode("utf-8")
        # The part clients act on: without the method parameter Outlook and Gmail show a plain
        # attachment instead of Accept / Decline. Bytes, not text, so it and the file below are
        # the same bytes (text would have its line ends rewritten).
        # (``method="REQUEST"``: EmailMessage quotes every parameter, the same value by RFC 2045.)
        msg.add_alternative(
            data, "text", "calendar", cte="base64", params={"method": calendar["calendar_method"], "charset": "UTF-8"}
        )
        # The same bytes as a file. application/ics, not text/calendar: a second text/calendar part
        # with a method makes some Outlook versions process the invitation twice.
        msg.add_attachment(data, "application", "ics", filename=calendar["filename"])
    return msg


# --- the SMTP connection ----------------------------------------------------------------------------


def open_connection() -> smtplib.SMTP:
    """A connection to the server named in Flask-Mail's settings (MAIL_SERVER, MAIL_PORT, …) now.

    Read at each run, so tests can start servers on free ports. With a timeout: a server that
    accepts and then hangs must not stall the worker.
    """
    config = current_app.config
    timeout = config.get("MAIL_TIMEOUT", 20)
    server, port = config["MAIL_SERVER"], config["MAIL_PORT"]
    host = (
        smtplib.SMTP_SSL(server, port, timeout=timeout)
        if config.get("MAIL_USE_SSL")
        else smtplib.SMTP(server, port, timeout=timeout)
    )
    try:
        if config.get("MAIL_USE_TLS"):
            host.starttls()
        if config.get("MAIL_USERNAME") and config.get("MAIL_PASSWORD"):
            host.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
    except BaseException:
        host.close()
        raise
    return host


def send(host: smtplib.SMTP, email: EmailMessage) -> None:
    """Send ``email`` to its one recipient, from the sender's address (the envelope says no names)."""
    host.send_message(
        email, from_addr=email["From"].addresses[0].addr_spec, to_addrs=[email["To"].addresses[0].addr_spec]
    )


# --- one run ----------------------------------------------------------------------------------------


@dataclass
class DeliveryReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    held: int = 0  # delivery is off (development without MAIL_SERVER): left readable in the outbox
    withdrawn: int = 0  # calendar messages about meetings already over: not sent
    superseded: int = 0  # calendar messages replaced by a newer one for the same person and meeting: not sent
    errors: list[str] = field(default_factory=list)


def delivery_enabled() -> bool:
    return bool(current_app.config.get("MAIL_DELIVERY", True))


def _due(now: datetime):
    stmt = (
        select(OutboxMessage)
        .where(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now, not_behind_older())
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
    )
    if db.session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True, of=OutboxMessage)
    return stmt


def withdraw_stale(now: datetime) -> int:
    """Invitations, updates and cancellations for meetings already over are not sent.

    After a mail server was down for days (or when the demo replays 2021), they would only
    confuse. Flushes; the caller commits.
    """
    from ..models import Meeting

    over = select(Meeting.id).where(Meeting.ends_at < now)
    return cast(
        CursorResult,
        db.session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.status == "pending",
                OutboxMessage.kind.in_(INVITATION_KINDS),
                OutboxMessage.meeting_id.in_(over),
            )
            .values(status="withdrawn", last_error="not sent: the meeting was already over")
            .execution_options(synchronize_session=False)
        ),
    ).rowcount


def count_due(now: datetime) -> int:
    return db.session.execute(
        select(func.count())
        .select_from(OutboxMessage)
        .where(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now)
    ).scalar_one()


def _permanent(exc: Exception) -> bool:
    """The server refused this message for good (5xx): retrying cannot help."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _msg in exc.recipients.values())
    if isinstance(exc, smtplib.SMTPResponseException):
        return exc.smtp_code >= 500
    return False


def _describe(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}"[:2000]


def _record_failure(
    message: OutboxMessage, exc: Exception, now: datetime, report: DeliveryReport, connection_level: bool
) -> None:
    message.attempts += 1
    message.last_error = f"{now:%Y-%m-%d %H:%M:%S} UTC attempt {message.attempts}: {_describe(exc)}"
    limit = current_app.config.get("MAIL_MAX_ATTEMPTS", 8)
    if _permanent(exc) or (not connection_level and message.attempts >= limit):
        message.status = "failed"
        report.failed += 1
    else:
        delay = retry_delay(message.attempts)
        message.next_attempt_at = now + (min(delay, CONNECTION_RETRY_CAP) if connection_level else delay)
        report.retrying += 1
    report.errors.append(f"#{message.id}: {_describe(exc)}")


def _connection_failed(exc: Exception, now: datetime, limit: int, report: DeliveryReport) -> None:
    """The server could not be reached: every due message keeps the error and waits (never fails for it)."""
    messages = db.session.execute(_due(now).limit(limit)).scalars().all()
    for message in messages:
        _record_failure(message, exc, now, report, connection_level=True)
    db.session.commit()


def deliver_due(limit: int = 200, now: datetime | None = None) -> DeliveryReport:
    """Send up to ``limit`` due messages (see the module docstring)."""
    report = DeliveryReport()
    now = now or utcnow()
    report.withdrawn = withdraw_stale(now)
    db.session.commit()
    if not delivery_enabled():
        report.held = count_due(now)
        db.session.rollback()
        return report
    if count_due(now) == 0:
        db.session.rollback()
        return report
    db.session.rollback()  # no transaction (or SQLite write lock) held while connecting
    try:
        connection = open_connection()
    except (OSError, smtplib.SMTPException) as exc:
        _connection_failed(exc, now, limit, report)
        return report
    try:
        while report.sent + report.failed + report.retrying < limit:
            message = db.session.execute(_due(now).limit(1)).scalar_one_or_none()
            if message is None:
                db.session.rollback()
                break
            newer = newer_calendar_message(message)
            if newer is not None:
                message.status = "withdrawn"
                message.last_error = f"{SUPERSEDED} (#{newer})"
                report.superseded += 1
                db.session.commit()
                continue
            try:
                send(connection, build_email(message))
            except (TimeoutError, smtplib.SMTPServerDisconnected, ConnectionError) as exc:
                _record_failure(message, exc, now, report, connection_level=True)
                db.session.commit()
                break  # the connection is gone; the next run reconnects
            except (OSError, smtplib.SMTPException) as exc:
                _record_failure(message, exc, now, report, connection_level=False)
            else:
                message.attempts += 1
                message.status = "sent"
                message.sent_at = utcnow()
                forget_links(message)
                report.sent += 1
            db.session.commit()
    finally:
        try:
            connection.quit()
        except (OSError, smtplib.SMTPException):
            connection.close()
    return report


def retry(message: OutboxMessage) -> None:
    """An administrator asks for a failed (or waiting) message to be tried again now."""
    from flask_babel import gettext as _

    from ..core.errors import ServiceError

    if message.status not in ("failed", "pending"):
        raise ServiceError(_("Only a failed or waiting message can be retried."))
    message.status = "pending"
    message.attempts = 0
    message.next_attempt_at = utcnow()
