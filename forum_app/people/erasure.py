"""Erasing a person: pseudonymised everywhere, their records kept.

The account keeps its id, so minutes they wrote, actions they owned and their attendance stay
counted and show "Former participant #id" (``User.name``, translated when shown). Gone: name,
address, phone, title, password, sessions, API tokens, calendar link, their received mail, the
throttle counters under their address, and their name and address in emails and in the audit
log. The audit log is a hash chain: how its entries are redacted without breaking it is in
docs/security.md ("Erasure and the audit chain").
"""

from __future__ import annotations

import re
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import delete, or_, select, update

from ..api.models import ApiToken
from ..auth import services as accounts
from ..core import audit
from ..core.clock import utcnow
from ..core.errors import ServiceError
from ..extensions import db
from ..models import (
    AuditEvent,
    Invitation,
    NotificationSettings,
    OutboxMessage,
    ReceivedMail,
    ThrottleCounter,
    User,
    UserSession,
)

SCAN_BATCH = 1000


def placeholder_email(user_id: int) -> str:
    """Unique (the column is) and unusable: ``.invalid`` never resolves (RFC 2606)."""
    return f"erased-{user_id}@erased.invalid"


def stored_pseudonym(user_id: int) -> str:
    """What replaces the name in stored text (audit summaries, emails): one language, since the
    text around it is stored in one too. Pages show ``User.name``, translated."""
    return f"Former participant #{user_id}"


def _replacer(needles: list[str], pseudonym: str):
    # Whole words only: erasing "Ana Petrović" leaves "Ana Petrovića"'s entries alone, and p7@x.org
    # leaves p17@x.org's.
    alternatives = "|".join(re.escape(n) for n in sorted(needles, key=len, reverse=True))
    pattern = re.compile(rf"(?<![\w.@+-])(?:{alternatives})(?![\w@-]|\.\w)", re.IGNORECASE)

    def replace(value: Any) -> Any:
        if isinstance(value, str):
            return pattern.sub(pseudonym, value)
        if isinstance(value, list):
            return [replace(v) for v in value]
        if isinstance(value, dict):
            return {k: replace(v) for k, v in value.items()}
        return value

    return replace


def erase(actor: User | None, person: User) -> int:
    """Pseudonymise ``person``; return how many audit entries were redacted. Flushes.

    ``actor`` None is the retention run (``people.retention``).
    """
    if person.erased_at is not None:
        raise ServiceError(_("This person has already been erased."))
    if actor is not None and actor.id == person.id:
        raise ServiceError(_("You cannot erase your own account."))
    if actor is not None and person.active:
        # Withdrawn from meetings still to come, like any deactivation (and audited as one).
        accounts.set_active(actor, person, False)
    uid = person.id
    needles = [text for text in {person.stored_name.strip(), person.email.strip()} if len(text) >= 3]
    replace = _replacer(needles, stored_pseudonym(uid)) if needles else (lambda value: value)
    now = utcnow()

    person.stored_name = stored_pseudonym(uid)
    person.email = placeholder_email(uid)
    person.phone = ""
    person.job_title = ""
    person.password_hash = None
    person.active = False
    person.erased_at = now
    db.session.execute(
        update(UserSession).where(UserSession.user_id == uid).values(revoked_at=now, ip="", user_agent="")
    )
    db.session.execute(
        update(ApiToken).where(ApiToken.user_id == uid, ApiToken.revoked_at.is_(None)).values(revoked_at=now)
    )
    db.session.execute(
        update(NotificationSettings)
        .where(NotificationSettings.user_id == uid)
        .values(feed_nonce=None, feed_token_hash=None)
    )
    db.session.execute(update(Invitation).where(Invitation.user_id == uid).values(rsvp_comment=""))
    if needles:
        db.session.execute(
            delete(ReceivedMail)
            .where(or_(ReceivedMail.user_id == uid, ReceivedMail.from_addr.in_(needles)))
            .execution_options(synchronize_session=False)
        )
        db.session.execute(
            delete(ThrottleCounter)
            .where(or_(*(ThrottleCounter.key.contains(n) for n in needles)))
            .execution_options(synchronize_session=False)
        )
        _redact_outbox(uid, replace)
    redacted = _redact_audit(uid, needles, replace)
    audit.record(
        actor,
        "person.erased",
        person,
        f"Erased person #{uid}",
        redacted=len(redacted),
        redacted_digest=audit.redaction_digest(redacted),
    )
    return len(redacted)


def _redact_outbox(uid: int, replace) -> None:
    """Emails to them lose their text; emails to others lose their name and address."""
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.to_user_id == uid)
        .values(to_addr=placeholder_email(uid), subject="", body_text="", body_html="", list_unsubscribe="")
    )
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.to_user_id == uid, OutboxMessage.status == "pending")
        .values(status="withdrawn")
    )
    columns = ("to_addr", "subject", "body_text", "body_html", "list_unsubscribe")
    last = 0
    while True:
        rows = db.session.execute(
            select(OutboxMessage.id, *(getattr(OutboxMessage, c) for c in columns))
            .where(OutboxMessage.id > last)
            .order_by(OutboxMessage.id)
            .limit(SCAN_BATCH)
        ).all()
        for row in rows:
            values = {c: replace(getattr(row, c)) for c in columns}
            if any(values[c] != getattr(row, c) for c in columns):
                db.session.execute(update(OutboxMessage).where(OutboxMessage.id == row.id).values(**values))
        if len(rows) < SCAN_BATCH:
            break
        last = rows[-1].id


def _redact_audit(uid: int, needles: list[str], replace) -> list[AuditEvent]:
    """Replace the name and address in sealed audit entries; the redacted entries, as they now read.

    Core updates, not the ORM: the ORM refuses any change to an audit entry (models.APPEND_ONLY),
    and this is the one change the chain is built to accept. Entries not sealed yet are sealed
    first, so each redacted entry comes before the erasure that accounts for it. An entry
    already redacted for someone else stays as it is (docs/security.md, limits).
    """
    if not needles:
        return []
    db.session.flush()
    changed: list[int] = []
    last = 0
    while True:
        rows = db.session.execute(
            select(AuditEvent.id, AuditEvent.summary, AuditEvent.data, AuditEvent.chain_version)
            .where(AuditEvent.id > last, AuditEvent.seq.is_not(None), AuditEvent.redacted_for.is_(None))
            .order_by(AuditEvent.id)
            .limit(SCAN_BATCH)
        ).all()
        for row in rows:
            summary, data = replace(row.summary), replace(row.data)
            if summary != row.summary or data != row.data:
                db.session.execute(
                    update(AuditEvent)
                    .where(AuditEvent.id == row.id)
                    .values(summary=summary, data=data, personal_salt=None, redacted_for=uid)
                )
                changed.append(row.id)
        if len(rows) < SCAN_BATCH:
            break
        last = rows[-1].id
    if not changed:
        return []
    return list(
        db.session.execute(
            select(AuditEvent).where(AuditEvent.id.in_(changed)).execution_options(populate_existing=True)
        ).scalars()
    )
