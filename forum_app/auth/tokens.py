"""Signed, single-purpose, expiring links (and the long-lived device cookie).

A token carries a purpose, a typed subject such as ``("user", 5)`` or
``("invitation", 12)``, when it was issued, and optionally an expiry of its own and a
binding. The purpose registry says, for each purpose:

- the subject type it names;
- how long a token lives: a maximum age read from the config, or an expiry that the
  caller gives per token (an RSVP link lives until its meeting ends, say);
- whether it is single-use, and how: a fingerprint of the subject's state at signing
  time goes into the token, and using the link changes that state. Password links
  fingerprint the password hash, so setting a password spends the link without any
  table of used tokens.

The purpose is the signer's salt, so a token for one purpose never reads as another.
Tokens are signed, not encrypted: they carry ids and keyed fingerprints, nothing secret.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import Enum
from typing import Any

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

from ..extensions import db
from ..models import ActionItem, Invitation, User, utcnow
from ..models.people import normalise_email

# Subject types a token may name, and the model each one loads.
SUBJECT_MODELS: dict[str, type] = {"user": User, "invitation": Invitation, "action": ActionItem}

Subject = tuple[str, int]


class LinkProblem(Enum):
    INVALID = "invalid"
    EXPIRED = "expired"
    USED = "used"


class LinkError(Exception):
    def __init__(self, problem: LinkProblem):
        super().__init__(problem.value)
        self.problem = problem


@dataclass(frozen=True)
class Purpose:
    name: str
    subject_type: str
    # A callable giving the maximum age from the config; None: each token carries its own expiry.
    max_age: Callable[[], timedelta] | None
    # A fingerprint of the subject's state that using the link changes; None: reusable.
    single_use: Callable[[Any], str] | None = None


@dataclass(frozen=True)
class Link:
    """What a valid token says."""

    purpose: str
    subject_type: str
    subject_id: int
    subject: Any  # the loaded object
    issued_at: datetime
    expires_at: datetime
    bind: str | None


def keyed_fingerprint(label: str, value: str) -> str:
    """A short HMAC of ``value`` under the app's secret (tokens are readable, so no plain hashes)."""
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"{label}\x00{value}".encode(), hashlib.sha256).hexdigest()[:20]


def password_fingerprint(user: User) -> str:
    return keyed_fingerprint("password", user.password_hash or "no-password")


def email_fingerprint(user: User) -> str:
    return keyed_fingerprint("email", normalise_email(user.email))


def _hours(setting: str) -> Callable[[], timedelta]:
    return lambda: timedelta(hours=current_app.config[setting])


def _days(setting: str) -> Callable[[], timedelta]:
    return lambda: timedelta(days=current_app.config[setting])


PURPOSES: dict[str, Purpose] = {
    p.name: p
    for p in [
        Purpose("set-password", "user", _hours("SET_PASSWORD_LINK_HOURS"), single_use=password_fingerprint),
        Purpose("reset-password", "user", _hours("RESET_PASSWORD_LINK_HOURS"), single_use=password_fingerprint),
        # Answer an invitation from the email: valid until the meeting ends, usable again to change the answer.
        Purpose("rsvp", "invitation", None),
        # Confirm (or decline) an action from the email: valid until the action closes.
        Purpose("action-confirm", "action", None),
        # Turn one kind of email off (List-Unsubscribe, RFC 8058): the kind, the email's language and
        # the address it was sent to are bound in; reusable (turning off twice changes nothing).
        Purpose("unsubscribe", "user", _days("UNSUBSCRIBE_LINK_DAYS")),
        # The "known device" cookie set at login: lets a correct password through an account lock.
        Purpose("device", "user", _days("LOGIN_DEVICE_COOKIE_DAYS")),
    ]
}


def _purpose(name: str) -> Purpose:
    try:
        return PURPOSES[name]
    except KeyError:
        raise ValueError(f"unknown link purpose {name!r}") from None


def _serializer(purpose: str) -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=f"forum-desk/link/{purpose}")


def _epoch(moment: datetime) -> int:
    if moment.tzinfo is None:
        raise ValueError("naive datetime; attach a time zone")
    return int(moment.timestamp())


def _load(subject_type: str, subject_id: int) -> Any:
    return db.session.get(SUBJECT_MODELS[subject_type], subject_id)


def make_link_token(
    purpose: str, subject: Subject, *, expires_at: datetime | None, bind: str | None, now: datetime | None = None
) -> str:
    """Sign a token for ``purpose`` naming ``subject`` (e.g. ``("invitation", 12)``).

    ``expires_at`` is required for purposes whose expiry is given per token and refused
    for purposes with a maximum age. ``bind`` is any string the reader must see again
    (e.g. a fingerprint of the address the link was sent to).
    """
    spec = _purpose(purpose)
    subject_type, subject_id = subject
    if subject_type != spec.subject_type or not isinstance(subject_id, int):
        raise ValueError(f"{purpose} links name a {spec.subject_type}, not {subject!r}")
    if (spec.max_age is None) != (expires_at is not None):
        raise ValueError(f"{purpose} links " + ("need an expiry" if spec.max_age is None else "have a fixed lifetime"))
    now = now or utcnow()
    payload: dict[str, Any] = {"s": [subject_type, subject_id], "i": _epoch(now)}
    if expires_at is not None:
        payload["e"] = _epoch(expires_at)
    if bind is not None:
        payload["b"] = bind
    if spec.single_use is not None:
        obj = _load(subject_type, subject_id)
        if obj is None:
            raise ValueError(f"no {subject_type} {subject_id}")
        payload["f"] = spec.single_use(obj)
    return _serializer(purpose).dumps(payload)


def read_link_token(token: str, purpose: str, now: datetime) -> Link:
    """What a valid token for ``purpose`` says at ``now``; raises LinkError saying why it is not valid."""
    spec = _purpose(purpose)
    try:
        payload = _serializer(purpose).loads(token)
    except BadSignature as exc:
        raise LinkError(LinkProblem.INVALID) from exc
    try:
        subject_type, subject_id = payload["s"]
        issued = int(payload["i"])
        expires = int(payload["e"]) if spec.max_age is None else None
        bind = payload.get("b")
    except (TypeError, KeyError, ValueError) as exc:
        raise LinkError(LinkProblem.INVALID) from exc
    if (
        subject_type != spec.subject_type
        or not isinstance(subject_id, int)
        or not (bind is None or isinstance(bind, str))
    ):
        raise LinkError(LinkProblem.INVALID)
    issued_at = datetime.fromtimestamp(issued, UTC)
    if spec.max_age is not None:
        expires_at = issued_at + spec.max_age()
    elif expires is not None:  # read above whenever the purpose has no max_age
        expires_at = datetime.fromtimestamp(expires, UTC)
    else:  # pragma: no cover - unreachable
        raise LinkError(LinkProblem.INVALID)
    if now >= expires_at:
        raise LinkError(LinkProblem.EXPIRED)
    obj = _load(subject_type, subject_id)
    if obj is None:
        raise LinkError(LinkProblem.INVALID)
    if spec.single_use is not None and not hmac.compare_digest(str(payload.get("f", "")), spec.single_use(obj)):
        raise LinkError(LinkProblem.USED)
    return Link(purpose, subject_type, subject_id, obj, issued_at, expires_at, bind)


# --- password links (set-password, reset-password) -------------------------------------------

PASSWORD_PURPOSES = ("set-password", "reset-password")


def make_password_token(user: User, purpose: str, now: datetime | None = None) -> str:
    """A set/reset link bound to the address it is sent to: changing the email kills it."""
    if purpose not in PASSWORD_PURPOSES:
        raise ValueError(f"{purpose!r} is not a password link")
    return make_link_token(purpose, ("user", user.id), expires_at=None, bind=email_fingerprint(user), now=now)


def read_password_token(token: str, purpose: str, now: datetime) -> User:
    """The active user a valid password link names; raises LinkError saying why it is not valid."""
    if purpose not in PASSWORD_PURPOSES:
        raise ValueError(f"{purpose!r} is not a password link")
    link = read_link_token(token, purpose, now)
    user: User = link.subject
    if not user.active:
        raise LinkError(LinkProblem.INVALID)
    # Sent to an address the account no longer uses: whoever reads that mailbox now has no claim.
    if link.bind is None or not hmac.compare_digest(link.bind, email_fingerprint(user)):
        raise LinkError(LinkProblem.INVALID)
    return user
