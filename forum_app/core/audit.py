"""Writing the audit trail, and the hash chain that shows it was not quietly edited.

``record`` is called by services inside their own transaction. After that transaction commits,
``core.commit.attempt`` calls ``seal``: it numbers the new entries and hashes each over its
fields and the previous entry's hash. ``verify`` (``flask forum audit verify``) recomputes the
chain and names the first entry that no longer matches: an edited row changes its hash, a
deleted or inserted one breaks the numbering or the link to its neighbour.

Sealing after the commit, not inside the writing transaction, keeps an RSVP from waiting on
every other writer for the chain's head (issue 25: no lock wider than the rows changed); the
sealers take the head in turn, each for a few milliseconds.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import secrets
from dataclasses import dataclass
from typing import Any

from flask import g, has_request_context, request
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError, OperationalError

from ..extensions import db
from ..models import AuditChainHead, AuditEvent, User
from .clock import utcnow

log = logging.getLogger("forum_app.audit")

OUTCOMES = ("ok", "refused", "denied", "failed")
# The entries a GET may append (every other GET writes nothing): a refusal (web.audit_denied), a
# download of figures (reports' exports) or of a document's file (documents.download), and a page that
# showed a confidential item in full (meetings.confidential): an auditor wants to find who read what,
# even though it changed nothing.
APPENDED_ON_READ = frozenset({"access.denied", "report.export", "document.download", "meeting.confidential.read"})
SEAL_BATCH = 500
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,32}$")


def new_request_id() -> str:
    """The request's id: the proxy's ``X-Request-Id`` when it sent a sane one, else a fresh one."""
    given = request.headers.get("X-Request-Id", "")
    return given if _REQUEST_ID.match(given) else secrets.token_hex(8)


def request_id() -> str:
    return g.get("request_id", "") if has_request_context() else ""


def client_address() -> str:
    """The caller's address (behind a proxy, ProxyFix has already put the real one here)."""
    if has_request_context():
        return (request.remote_addr or "")[:64]
    return ""


def record(
    actor: User | None, verb: str, obj: Any, summary: str = "", *, outcome: str = "ok", **data: Any
) -> AuditEvent:
    """Append an AuditEvent for ``verb`` on ``obj``; flushes so ``obj.id`` is known."""
    assert outcome in OUTCOMES, outcome
    db.session.flush()
    event = AuditEvent(
        # Stamped now, not by the column default at the next flush, which may come after
        # the caller's ``clock.at`` block has ended (the demo writing 2021's history).
        at=utcnow(),
        actor_id=actor.id if actor is not None else None,
        verb=verb,
        object_type=type(obj).__name__ if obj is not None else "",
        object_id=getattr(obj, "id", None),
        summary=summary[:500],
        data=data,
        ip=client_address(),
        outcome=outcome,
        request_id=request_id(),
    )
    db.session.add(event)
    # Tells ``attempt`` that this transaction has entries to seal once it commits.
    db.session.info["audit_unsealed"] = True
    return event


# --- the hash chain ---------------------------------------------------------------------------


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def personal_digest(salt: str, summary: str, data: Any) -> str:
    """The salted SHA-256 of an entry's personal part (its summary and data).

    Chain version 2 hashes this instead of the text. Erasing a person replaces the text and
    empties the salt: the chain still holds, and without the salt nobody can test a guessed
    name or address against the digest (a plain hash of "ana@example.org" can be guessed).
    """
    return hashlib.sha256((salt + _canonical([summary, data])).encode("utf-8")).hexdigest()


def entry_hash(event: AuditEvent, seq: int, prev_hash: str) -> str:
    """SHA-256 over the entry's fields, its number and the previous entry's hash.

    The fields go through JSON with sorted keys, so the same row read back from SQLite or
    PostgreSQL hashes the same; times are UTC and written to the microsecond. Version 1
    (entries sealed before erasure existed) hashes the summary and data as text; version 2
    hashes their salted digest (``personal_digest``) and the version itself.
    """
    fields = [
        seq,
        prev_hash,
        event.id,
        event.at.isoformat(timespec="microseconds"),
        event.actor_id,
        event.verb,
        event.object_type,
        event.object_id,
    ]
    if (event.chain_version or 1) >= 2:
        fields += ["v2", event.personal_digest]
    else:
        fields += [event.summary, event.data]
    fields += [event.ip, event.outcome, event.request_id]
    return hashlib.sha256(_canonical(fields).encode("utf-8")).hexdigest()


def redaction_digest(events: list[AuditEvent]) -> str:
    """What a ``person.erased`` entry records about the entries it redacted: every field of
    each, in id order, as they read after the redaction. ``verify`` recomputes it, so a
    redacted entry edited afterwards (or one redacted without an erasure) is found."""
    rows = [
        [
            e.id,
            e.at.isoformat(timespec="microseconds"),
            e.actor_id,
            e.verb,
            e.object_type,
            e.object_id,
            e.summary,
            e.data,
            e.ip,
            e.outcome,
            e.request_id,
            e.chain_version or 1,
            e.personal_digest,
            e.personal_salt,
        ]
        for e in sorted(events, key=lambda e: e.id)
    ]
    return hashlib.sha256(_canonical(rows).encode("utf-8")).hexdigest()


def seal(tries: int = 5) -> int:
    """Chain every committed entry not sealed yet; commit; return how many were sealed.

    Call it with no transaction open. The first statement writes the head row, so a second
    sealer waits for this one (PostgreSQL's row lock; SQLite's one writer) and then sees its
    result. Failing to seal never fails the change that wrote the entries: they are sealed
    by the next seal (``flask forum audit seal``, the mail worker's rounds, the next change).
    """
    sealed = 0
    for _ in range(tries):
        try:
            batch = _seal_batch()
        except (OperationalError, IntegrityError):
            # SQLite under a busy writer, or two first seals creating the head at once: again.
            db.session.rollback()
            continue
        sealed += batch
        if batch < SEAL_BATCH:
            break
    db.session.info.pop("audit_unsealed", None)
    return sealed


def _seal_batch() -> int:
    # A write first, to take the head before reading anything (see ``seal``).
    taken = db.session.execute(update(AuditChainHead).where(AuditChainHead.id == 1).values(seq=AuditChainHead.seq))
    if taken.rowcount == 0:  # type: ignore[attr-defined]
        db.session.add(AuditChainHead(id=1, seq=0, hash=""))
        db.session.flush()
    head = db.session.execute(
        select(AuditChainHead).where(AuditChainHead.id == 1).execution_options(populate_existing=True)
    ).scalar_one()
    events = (
        db.session.execute(select(AuditEvent).where(AuditEvent.seq.is_(None)).order_by(AuditEvent.id).limit(SEAL_BATCH))
        .scalars()
        .all()
    )
    if not events:
        db.session.rollback()
        return 0
    seq, prev = head.seq, head.hash
    for event in events:
        seq += 1
        if (event.chain_version or 1) >= 2:
            event.personal_salt = secrets.token_hex(16)
            event.personal_digest = personal_digest(event.personal_salt, event.summary, event.data)
        event.seq, event.prev_hash, event.hash = seq, prev, entry_hash(event, seq, prev)
        prev = event.hash
    head.seq, head.hash = seq, prev
    db.session.commit()
    # The head also goes to the application log, which lives outside the database: whoever
    # rewrites the whole chain from an edited entry onwards still disagrees with the log.
    log.info("audit chain sealed to %d %s", seq, prev)
    return len(events)


@dataclass(frozen=True)
class Verdict:
    """What ``verify`` found. ``broken`` is None when the chain holds."""

    checked: int
    unsealed: int
    broken: AuditEvent | None = None
    broken_seq: int | None = None
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.broken_seq is None


def verify(batch: int = 2000) -> Verdict:
    """Recompute the chain from its first entry; name the first one that no longer matches.

    Reads in pages of ``batch`` by ``seq``, so memory does not grow with the log.
    """
    prev_hash, expected, checked = "", 1, 0
    # Redacted entries seen so far, by the erased person, until their ``person.erased`` entry.
    redacted: dict[int, list[AuditEvent]] = {}
    while True:
        page = (
            db.session.execute(
                select(AuditEvent).where(AuditEvent.seq >= expected).order_by(AuditEvent.seq).limit(batch)
            )
            .scalars()
            .all()
        )
        for event in page:
            if event.seq != expected:
                return Verdict(checked, 0, event, expected, f"entry {expected} is missing (deleted?)")
            if event.prev_hash != prev_hash:
                return Verdict(checked, 0, event, expected, "its link to the previous entry does not match")
            problem = _check_entry(event, expected, prev_hash, redacted)
            if problem:
                return Verdict(checked, 0, event, expected, problem)
            prev_hash, expected, checked = event.hash or "", expected + 1, checked + 1
        if len(page) < batch:
            break
        db.session.expunge_all()  # keep memory flat on a long log (redacted entries are few)
    for events in redacted.values():
        first = min(events, key=lambda e: e.seq or 0)
        return Verdict(checked, 0, first, first.seq, "it was redacted but no erasure of that person follows (edited?)")
    head = db.session.get(AuditChainHead, 1)
    last = expected - 1
    if head is not None and (head.seq, head.hash) != (last, prev_hash):
        return Verdict(checked, 0, None, head.seq, f"the chain ends at entry {last} but its head says {head.seq}")
    unsealed = db.session.scalar(select(db.func.count()).select_from(AuditEvent).where(AuditEvent.seq.is_(None)))
    return Verdict(checked, unsealed or 0)


def _check_entry(event: AuditEvent, seq: int, prev_hash: str, redacted: dict[int, list[AuditEvent]]) -> str:
    """Why ``event`` breaks the chain, or "" when it holds."""
    version = event.chain_version or 1
    if event.redacted_for is not None:
        # Its text was replaced by an erasure: a version 2 entry still proves every other field
        # by its hash; the text (and a version 1 entry whole) is proved by the erasure's digest.
        if version >= 2 and event.hash != entry_hash(event, seq, prev_hash):
            return "its content does not match its hash (edited?)"
        redacted.setdefault(event.redacted_for, []).append(event)
        return ""
    if event.hash != entry_hash(event, seq, prev_hash):
        return "its content does not match its hash (edited?)"
    if version >= 2 and event.personal_digest != personal_digest(event.personal_salt or "", event.summary, event.data):
        return "its content does not match its hash (edited?)"  # its summary or data, by their digest
    if event.verb == "person.erased" and event.object_type == "User" and event.object_id is not None:
        events = redacted.pop(event.object_id, [])
        data = event.data or {}
        if data.get("redacted", 0) != len(events) or data.get("redacted_digest", "") != redaction_digest(events):
            return "the entries this erasure redacted no longer match it (edited?)"
    return ""


def record_denied(actor: User | None) -> AuditEvent:
    """An access refused with 403, by the route's pattern and its numeric ids: never the path
    itself, which for emailed links holds a token."""
    rule = request.url_rule.rule if request.url_rule is not None else ""
    ids = {name: value for name, value in (request.view_args or {}).items() if isinstance(value, int)}
    return record(actor, "access.denied", None, f"{request.method} {rule}"[:500], outcome="denied", **ids)


def apply_changes(obj: Any, **values: Any) -> dict[str, list[str]]:
    """Set attributes on ``obj``; return ``{name: [old, new]}`` for those that changed (for the audit)."""
    changes: dict[str, list[str]] = {}
    for name, value in values.items():
        old = getattr(obj, name)
        if old != value:
            changes[name] = [str(old), str(value)]
            setattr(obj, name, value)
    return changes


def create_or_update(actor: User | None, obj: Any, model: type, noun: str, label: str, **values: Any) -> Any:
    """Create ``model(**values)`` when ``obj`` is None, else apply ``values`` to it; audit either.

    The audit verb is ``<noun>.create`` or ``<noun>.update`` (only when something changed,
    with the changed fields).
    """
    if obj is None:
        obj = model(**values)
        db.session.add(obj)
        record(actor, f"{noun}.create", obj, f"Created {label}")
    else:
        changes = apply_changes(obj, **values)
        if changes:
            record(actor, f"{noun}.update", obj, f"Updated {label}", changes=changes)
    return obj
