"""The delivery worker: send what is due in the outbox through Flask-Mail, with retries.

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

A refusal by the server for this message (5xx) fails it at once; a temporary one (4xx)
is retried after growing delays until ``MAIL_MAX_ATTEMPTS``. Each attempt's error is kept
in ``last_error``. If the worker dies between the server's "250 OK" and the commit, that
message is sent again: at least once is the only promise SMTP allows.
"""
from __future__ import annotations

import smtplib
import socket
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.charset import QP, Charset
from email.encoders import encode_base64
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import formatdate

import flask_mail
from flask import current_app
from flask_mail import sanitize_address, sanitize_addresses, sanitize_subject
from sqlalchemy import func, select, update

from ..core.clock import utcnow
from ..extensions import db, mail
from ..models import OutboxMessage

# Minutes to wait after the 1st, 2nd, … failed attempt; the last value repeats.
RETRY_MINUTES = (1, 5, 15, 60, 180, 360)
CONNECTION_RETRY_CAP = timedelta(minutes=30)


def retry_delay(attempts: int) -> timedelta:
    return timedelta(minutes=RETRY_MINUTES[min(max(attempts, 1), len(RETRY_MINUTES)) - 1])


# --- the message as MIME ----------------------------------------------------------------------

def _text_part(text: str, subtype: str) -> MIMEText:
    charset = Charset("utf-8")
    charset.body_encoding = QP  # readable in the raw message and by filters; any line length
    return MIMEText(text, subtype, charset)


def _calendar_part(data: bytes, method: str) -> MIMEBase:
    """``text/calendar; method=REQUEST; charset="UTF-8"``, base64: the part clients act on.

    Flask-Mail's ``alts`` builds ``MIMEText(content, subtype)``, which can carry a charset
    but no ``method`` parameter, and without it Outlook and Gmail show a plain attachment
    instead of Accept / Decline. Written as Google writes it (method unquoted).
    """
    part = MIMEBase("text", "calendar")
    part.replace_header("Content-Type", f'text/calendar; method={method}; charset="UTF-8"')
    part.set_payload(data)
    encode_base64(part)
    return part


def _ics_attachment(data: bytes, filename: str) -> MIMEBase:
    """The same bytes as a file. ``application/ics``, not ``text/calendar``: a second
    text/calendar part with a method makes some Outlook versions process the invitation twice."""
    part = MIMEBase("application", "ics", name=filename)
    part.set_payload(data)
    encode_base64(part)
    part.add_header("Content-Disposition", "attachment", filename=filename)
    return part


class OutboxEmail(flask_mail.Message):
    """A Flask-Mail message whose body is built here, so the calendar part can carry its method.

    multipart/mixed
      multipart/alternative: text/plain, text/html, text/calendar; method=…   (simplest last)
      application/ics: invite.ics (the same bytes)
    """

    def __init__(self, *args, calendar: dict | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.calendar = calendar

    def _message(self):
        alternative = MIMEMultipart("alternative")
        alternative.attach(_text_part(self.body or "", "plain"))
        if self.html:
            alternative.attach(_text_part(self.html, "html"))
        if self.calendar is None:
            msg = alternative if self.html else _text_part(self.body or "", "plain")
        else:
            data = self.calendar["data"].encode("utf-8")
            alternative.attach(_calendar_part(data, self.calendar["calendar_method"]))
            msg = MIMEMultipart("mixed")
            msg.attach(alternative)
            msg.attach(_ics_attachment(data, self.calendar["filename"]))
        encoding = self.charset or "utf-8"
        msg["Subject"] = sanitize_subject(self.subject or "", encoding)
        msg["From"] = sanitize_address(self.sender, encoding)
        msg["To"] = ", ".join(sanitize_addresses(self.recipients, encoding))
        msg["Date"] = formatdate(self.date, localtime=False)
        msg["Message-ID"] = self.msgId
        for key, value in (self.extra_headers or {}).items():
            msg[key] = value
        from email import policy

        msg.policy = policy.SMTP  # CRLF line ends on the wire
        return msg


def build_email(message: OutboxMessage) -> OutboxEmail:
    recipient = (message.to_user.name, message.to_addr) if message.to_user is not None else message.to_addr
    calendar = next((a for a in message.attachments or [] if a.get("calendar_method")), None)
    return OutboxEmail(
        subject=message.subject, recipients=[recipient], body=message.body_text, html=message.body_html or None,
        sender=current_app.config["MAIL_DEFAULT_SENDER"], calendar=calendar,
        # Automatic mail: no out-of-office replies to it (RFC 3834); the outbox id ties a bounce to its row.
        extra_headers={"Auto-Submitted": "auto-generated", "X-Forum-Desk-Outbox": str(message.id)},
    )


# --- the SMTP connection ----------------------------------------------------------------------------

class _Connection(flask_mail.Connection):
    """Flask-Mail's connection with a timeout: a server that accepts and then hangs must not stall the worker."""

    def configure_host(self):
        timeout = current_app.config.get("MAIL_TIMEOUT", 20)
        state = self.mail
        if state.use_ssl:
            host = smtplib.SMTP_SSL(state.server, state.port, timeout=timeout)
        else:
            host = smtplib.SMTP(state.server, state.port, timeout=timeout)
        if state.use_tls:
            host.starttls()
        if state.username and state.password:
            host.login(state.username, state.password)
        return host


def open_connection() -> _Connection:
    """A connection to the server named in the config now (tests start servers on free ports)."""
    state = mail.init_mail(current_app.config, current_app.debug, False)
    state.suppress = False
    connection = _Connection(state)
    connection.__enter__()
    return connection


# --- one run ----------------------------------------------------------------------------------------

@dataclass
class DeliveryReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    held: int = 0  # delivery is off (development without MAIL_SERVER): left readable in the outbox
    withdrawn: int = 0  # calendar messages about meetings already over: not sent
    errors: list[str] = field(default_factory=list)


def delivery_enabled() -> bool:
    return bool(current_app.config.get("MAIL_DELIVERY", True))


def _due(now: datetime):
    stmt = (select(OutboxMessage)
            .where(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now)
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id))
    if db.session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True, of=OutboxMessage)
    return stmt


def withdraw_stale(now: datetime) -> int:
    """Invitations, updates and cancellations for meetings already over are not sent.

    After a mail server was down for days (or when the demo replays 2021), they would only
    confuse. Flushes; the caller commits.
    """
    from ..models import Meeting
    from .meetings import INVITATION_KINDS

    over = select(Meeting.id).where(Meeting.ends_at < now)
    return db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.status == "pending", OutboxMessage.kind.in_(INVITATION_KINDS),
               OutboxMessage.meeting_id.in_(over))
        .values(status="withdrawn", last_error="not sent: the meeting was already over")
        .execution_options(synchronize_session=False)
    ).rowcount


def count_due(now: datetime) -> int:
    return db.session.execute(select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now)).scalar_one()


def _permanent(exc: Exception) -> bool:
    """The server refused this message for good (5xx): retrying cannot help."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _msg in exc.recipients.values())
    if isinstance(exc, smtplib.SMTPResponseException):
        return exc.smtp_code >= 500
    return False


def _describe(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}"[:2000]


def _record_failure(message: OutboxMessage, exc: Exception, now: datetime, report: DeliveryReport,
                    connection_level: bool) -> None:
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
            try:
                connection.send(build_email(message))
            except (smtplib.SMTPServerDisconnected, socket.timeout, ConnectionError) as exc:
                _record_failure(message, exc, now, report, connection_level=True)
                db.session.commit()
                break  # the connection is gone; the next run reconnects
            except (OSError, smtplib.SMTPException) as exc:
                _record_failure(message, exc, now, report, connection_level=False)
            else:
                message.attempts += 1
                message.status = "sent"
                message.sent_at = utcnow()
                report.sent += 1
            db.session.commit()
    finally:
        try:
            connection.__exit__(None, None, None)
        except (OSError, smtplib.SMTPException):
            pass
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
