"""Reading a received message: its sender, the calendar answer or delivery report it carries, its text.

Only reading, no database: ``read(raw)`` turns bytes into a ``Received``. Everything here
expects hostile input: a part that cannot be decoded or a calendar that cannot be parsed is
skipped (the message then counts as a written reply or is left unmatched), never an error.
HTML is reduced to text and never kept as markup.
"""

from __future__ import annotations

import email
import html
import re
from dataclasses import dataclass, field
from datetime import datetime
from email import policy
from email.message import EmailMessage, Message
from email.utils import parseaddr

import nh3
from icalendar import Calendar

from .addresses import header_addresses, normal_address

MAX_TEXT = 5000  # characters of a written reply kept for the page and the organisers' email
OUTBOX_HEADER = "X-Forum-Desk-Outbox"
# Clients of the region write the line above a quotation in their own words.
_QUOTE_START = re.compile(
    r"^(-{2,}\s*(Original Message|Ursprüngliche Nachricht|Originalna poruka|Оригинална порака)\s*-{2,}"
    r"|_{10,}"
    r"|(On|Am|Le|Dana|На|Më)\s.{0,200}(wrote|schrieb|a écrit|napisao|napisala|je napisao|напиша|написа|shkroi):?"
    r"|(From|Von|Od|Од|Nga|De):\s.*)\s*$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Answer:
    """One ATTENDEE of a calendar REPLY."""

    address: str  # normalised
    partstat: str  # upper case, as written
    name: str = ""
    delegated_to: str = ""
    comment: str = ""


@dataclass(frozen=True)
class CalendarReply:
    method: str
    uid: str
    sequence: int
    dtstamp: datetime | None
    answers: tuple[Answer, ...]


@dataclass(frozen=True)
class Bounce:
    """A delivery status notification (RFC 3464) for one of our messages."""

    action: str  # failed, delayed, delivered, relayed, expanded
    recipient: str  # the Final-Recipient, normalised
    status: str  # e.g. 5.1.1
    diagnostic: str
    outbox_id: int | None  # from the returned message's X-Forum-Desk-Outbox header


@dataclass
class Received:
    from_addr: str = ""
    from_name: str = ""
    subject: str = ""
    message_id: str = ""
    recipients: list[str] = field(default_factory=list)  # where it was addressed, first the delivery headers
    automatic: bool = False  # an out-of-office or other automatic answer (RFC 3834 and the usual headers)
    report: bool = False  # a delivery status notification (multipart/report; report-type=delivery-status)
    calendar: CalendarReply | None = None
    bounce: Bounce | None = None
    text: str = ""


def parse_message(raw: bytes) -> EmailMessage:
    return email.message_from_bytes(raw, policy=policy.default)


def _header(message: Message, name: str) -> str:
    try:
        value = message.get(name)
    except Exception:  # a header the parser cannot even decode is as good as missing
        return ""
    return " ".join(str(value).split()) if value is not None else ""


def read(raw: bytes) -> Received:
    message = parse_message(raw)
    result = Received()
    from_header = _header(message, "From")
    found = header_addresses([from_header]) if from_header else []
    if found:
        result.from_addr = normal_address(found[0])
        result.from_name = parseaddr(from_header)[0][:200]
    result.subject = _header(message, "Subject")[:300]
    result.message_id = _header(message, "Message-ID")[:255]
    delivered = [_header(message, name) for name in ("Delivered-To", "X-Original-To", "Envelope-To", "To", "Cc")]
    result.recipients = header_addresses([value for value in delivered if value])
    result.automatic = _automatic(message)
    if _is_delivery_report(message):
        result.report = True
        result.bounce = _bounce(message)
        return result
    result.calendar = _calendar(message)
    result.text = reply_text(message)
    return result


def _automatic(message: Message) -> bool:
    auto = _header(message, "Auto-Submitted").lower()
    if auto and auto != "no":
        return True
    if _header(message, "X-Autoreply") or _header(message, "X-Autorespond"):
        return True
    return _header(message, "Precedence").lower() in {"bulk", "junk", "list", "auto_reply"}


# --- calendar answers -----------------------------------------------------------------------------


def _calendar_parts(message: Message) -> list[Message]:
    """text/calendar parts first (inline, where clients put the one they act on), then .ics attachments."""
    inline, attached = [], []
    for part in message.walk():
        if part.is_multipart():
            continue
        kind = part.get_content_type()
        filename = (part.get_filename() or "").lower()
        if kind == "text/calendar":
            inline.append(part)
        elif kind in ("application/ics", "application/octet-stream") and filename.endswith(".ics"):
            attached.append(part)
    return inline + attached


def _calendar(message: Message) -> CalendarReply | None:
    for part in _calendar_parts(message):
        try:
            data = part.get_payload(decode=True)
            if not isinstance(data, bytes):
                continue
            reply = _read_calendar(data)
        except Exception:  # icalendar refuses many malformed files: try the next part
            continue
        if reply is not None:
            return reply
    return None


def _read_calendar(data: bytes) -> CalendarReply | None:
    cal = Calendar.from_ical(data)
    method = str(cal.get("METHOD", "")).strip().upper()
    events = cal.walk("VEVENT")
    if not events:
        return None
    event = events[0]
    uid = str(event.get("UID", "")).strip()
    try:
        sequence = int(event.get("SEQUENCE", 0))
    except (TypeError, ValueError):
        sequence = 0
    dtstamp = None
    if event.get("DTSTAMP") is not None:
        try:
            value = event.decoded("DTSTAMP")
            dtstamp = value if isinstance(value, datetime) and value.tzinfo is not None else None
        except Exception:
            dtstamp = None
    comment = _text(event.get("COMMENT"))
    attendees = event.get("ATTENDEE") or []
    if not isinstance(attendees, list):
        attendees = [attendees]
    answers = []
    for attendee in attendees:
        params = getattr(attendee, "params", {})
        answers.append(
            Answer(
                address=normal_address(str(attendee)),
                partstat=str(params.get("PARTSTAT", "NEEDS-ACTION")).upper(),
                name=str(params.get("CN", ""))[:200],
                delegated_to=normal_address(str(params.get("DELEGATED-TO", ""))) if params.get("DELEGATED-TO") else "",
                # Google writes the invitee's note as X-RESPONSE-COMMENT; the others as COMMENT (RFC 5546).
                comment=comment or _text(params.get("X-RESPONSE-COMMENT")),
            )
        )
    return CalendarReply(method, uid, sequence, dtstamp, tuple(answers))


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        value = value[0] if value else ""
    return " ".join(str(value).split())[:500]


# --- delivery reports (bounces) ------------------------------------------------------------------


def _is_delivery_report(message: Message) -> bool:
    return (
        message.get_content_type() == "multipart/report"
        and str(message.get_param("report-type", "")).lower() == "delivery-status"
    )


def _bounce(message: Message) -> Bounce | None:
    status_fields: list[Message] = []
    outbox_id = None
    for part in message.walk():
        kind = part.get_content_type()
        if kind == "message/delivery-status":
            payload = part.get_payload()
            if isinstance(payload, list):
                status_fields = [block for block in payload if isinstance(block, Message)]
        elif kind in ("message/rfc822", "text/rfc822-headers", "message/rfc822-headers") and outbox_id is None:
            outbox_id = _outbox_id(part)
    for block in status_fields:
        action = _header(block, "Action").lower()
        if not action:
            continue  # the per-message block (Reporting-MTA …)
        recipient = _header(block, "Final-Recipient") or _header(block, "Original-Recipient")
        return Bounce(
            action=action,
            recipient=normal_address(recipient.split(";", 1)[-1]),
            status=_header(block, "Status")[:32],
            diagnostic=_header(block, "Diagnostic-Code")[:1000],
            outbox_id=outbox_id,
        )
    return Bounce("failed", "", "", "", outbox_id) if outbox_id is not None else None


def _outbox_id(part: Message) -> int | None:
    payload = part.get_payload()
    if isinstance(payload, list) and payload and isinstance(payload[0], Message):
        headers = payload[0]  # message/rfc822: the returned message, parsed
    else:
        data = part.get_payload(decode=True)
        if not isinstance(data, bytes):
            return None
        headers = email.message_from_bytes(data, policy=policy.default)
    value = _header(headers, OUTBOX_HEADER)
    return int(value) if value.isdigit() and len(value) < 12 else None


# --- the text of a written reply -------------------------------------------------------------------


def storable(text: str) -> str:
    """Text a database can hold: no NUL (PostgreSQL refuses it), no undecodable bytes (lone surrogates)."""
    return text.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")


def reply_text(message: Message) -> str:
    """What the person wrote: the plain-text body (else the HTML one reduced to text), without the
    quotation of our email below it, at most ``MAX_TEXT`` characters."""
    body = None
    if isinstance(message, EmailMessage):
        try:
            body = message.get_body(("plain", "html"))
        except Exception:
            body = None
    if body is None:
        return ""
    try:
        content = body.get_content()
    except Exception:
        return ""
    if not isinstance(content, str):
        return ""
    if body.get_content_type() == "text/html":
        content = html_to_text(content)
    return strip_quotation(content)[:MAX_TEXT]


def html_to_text(markup: str) -> str:
    """Text of an HTML body: tags (and what scripts and styles hold) dropped, entities read."""
    markup = re.sub(r"(?i)<br\s*/?>|</p>|</div>|</tr>|</li>|</h\d>", "\n", markup)
    cleaned = html.unescape(nh3.clean(markup, tags=set(), clean_content_tags={"script", "style", "head", "title"}))
    # Markup's indentation and the spaces around dropped tags are not the writer's.
    return "\n".join(" ".join(line.split()) for line in cleaned.split("\n"))


def strip_quotation(text: str) -> str:
    """The text above the quoted earlier message ("On … wrote:", "-----Original Message-----", "> …")."""
    kept = []
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if _QUOTE_START.match(line.strip()):
            break
        if line.lstrip().startswith(">"):
            continue
        kept.append(line.rstrip())
    text = "\n".join(kept).strip()
    return re.sub(r"\n{3,}", "\n\n", text)
