"""Second factor: TOTP codes (RFC 6238) from an authenticator app, and one-time recovery codes.

Sign-in with a second factor is two steps. The password step (``services.authenticate``) starts
no session: it leaves a *pending* state in the signed cookie (who, when, where to go next), good
for ``SECOND_FACTOR_PENDING_MINUTES``. Only when the code passes does ``sessions.start_session``
write the ``user_session`` row and Flask-Login sign the person in. A person whose role requires a
second factor (``permissions.second_factor_required``) but who has none is taken from the
password step to enrolment, and signed in once enrolment is confirmed with a first code.

A code is accepted once: the time step it was made for is stored (``User.totp_last_step``) by a
conditional UPDATE that only raises it, so a replayed code, or two requests racing with the same
code, fail. Wrong codes are counted by the same throttle as passwords (rule ``second-factor``).

During enrolment the new secret is not stored until the first code confirms it: the page carries
it in a signed, time-stamped hidden field (the page shows the secret anyway, for manual entry),
so opening the page changes no row.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import cast

import pyotp
import segno
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app, session
from flask_babel import gettext as _
from flask_babel import ngettext
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import CursorResult, delete, func, select, update
from sqlalchemy.orm.attributes import set_committed_value

from .. import permissions
from ..core import audit
from ..core.errors import KeptRefusal, ServiceError
from ..extensions import db
from ..models import RecoveryCode, User
from . import throttle
from .sessions import revoke_all_sessions

STEP_SECONDS = 30  # what every authenticator app uses
DIGITS = 6
# Codes from one step before or after now are taken too: phone clocks drift by some seconds.
DRIFT_STEPS = 1
RECOVERY_CODE_COUNT = 10
RECOVERY_CODE_ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"  # 5 bits a character, no 0/1/8/9
RECOVERY_CODE_LENGTH = 16  # 80 random bits
PENDING_KEY = "second_factor_pending"
SEALED_PREFIX = "v1:"
ENROL_SALT = "second-factor-enrol"


class SecondFactorThrottled(KeptRefusal):
    """Too many wrong codes: refused without trying; the audited refusal is kept."""

    def __init__(self, message: str, wait_minutes: int):
        super().__init__(message, field="code")
        self.wait_minutes = wait_minutes


class WrongCode(KeptRefusal):
    """A wrong or used code: counted by the throttle and audited, both kept by the commit point."""


# --- codes --------------------------------------------------------------------------


def _cipher() -> AESGCM:
    """AES-256-GCM with a key derived from SECRET_KEY for this one purpose (HKDF-SHA256)."""
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"forum-desk totp secret").derive(
        current_app.config["SECRET_KEY"].encode()
    )
    return AESGCM(key)


def seal_secret(user_id: int, secret: str) -> str:
    """The TOTP secret as stored: encrypted, bound to its account (a row copied to another account
    does not open). Whoever reads the database alone (a backup, a dump) cannot compute codes."""
    nonce = secrets.token_bytes(12)
    sealed = _cipher().encrypt(nonce, secret.encode(), str(user_id).encode())
    return SEALED_PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode()


def open_secret(user: User) -> str | None:
    """``user``'s TOTP secret, or None when there is none or it no longer opens (SECRET_KEY changed:
    the recovery codes, hashed without the key, still work, and the person enrols again)."""
    stored = user.totp_secret
    if not stored or not stored.startswith(SEALED_PREFIX):
        return None
    try:
        raw = base64.urlsafe_b64decode(stored[len(SEALED_PREFIX) :])
        return _cipher().decrypt(raw[:12], raw[12:], str(user.id).encode()).decode()
    except (InvalidTag, ValueError):
        return None


def new_secret() -> str:
    """A fresh TOTP secret: 160 random bits in base32 (what RFC 4226 recommends)."""
    return pyotp.random_base32(32)


def time_step(now: datetime) -> int:
    return int(now.timestamp()) // STEP_SECONDS


def _clean(code: str) -> str:
    return "".join(ch for ch in (code or "") if ch.isalnum()).lower()


def _matching_step(secret: str, code: str, now: datetime, after: int | None) -> int | None:
    """The time step near ``now`` for which ``code`` is the TOTP of ``secret``, if later than ``after``."""
    code = _clean(code)
    if len(code) != DIGITS or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS)
    current = time_step(now)
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if (after is None or step > after) and hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _claim_step(user: User, step: int) -> bool:
    """Record ``step`` as used, unless it (or a later one) already was. Atomic: of two requests
    with the same code, the second one's UPDATE matches no row (it waits for the first's lock and
    then sees the raised step)."""
    result = cast(
        CursorResult,
        db.session.execute(
            update(User)
            .where(User.id == user.id, (User.totp_last_step.is_(None)) | (User.totp_last_step < step))
            .values(totp_last_step=step)
            .execution_options(synchronize_session=False)
        ),
    )
    if result.rowcount != 1:
        return False
    set_committed_value(user, "totp_last_step", step)
    return True


def _hash_recovery_code(code: str) -> str:
    return hashlib.sha256(_clean(code).encode()).hexdigest()


def _new_recovery_codes(user: User, now: datetime) -> list[str]:
    """Replace ``user``'s recovery codes with new ones; the codes are returned to be shown once."""
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = []
    for _n in range(RECOVERY_CODE_COUNT):
        raw = "".join(secrets.choice(RECOVERY_CODE_ALPHABET) for _i in range(RECOVERY_CODE_LENGTH))
        codes.append("-".join(raw[i : i + 4] for i in range(0, RECOVERY_CODE_LENGTH, 4)))
        db.session.add(RecoveryCode(user_id=user.id, code_hash=_hash_recovery_code(raw), created_at=now))
    db.session.flush()
    return codes


def _use_recovery_code(user: User, code: str, now: datetime) -> bool:
    if len(_clean(code)) != RECOVERY_CODE_LENGTH:
        return False
    result = cast(
        CursorResult,
        db.session.execute(
            update(RecoveryCode)
            .where(
                RecoveryCode.user_id == user.id,
                RecoveryCode.code_hash == _hash_recovery_code(code),
                RecoveryCode.used_at.is_(None),
            )
            .values(used_at=now)
            .execution_options(synchronize_session=False)
        ),
    )
    return result.rowcount == 1


def recovery_codes_left(user: User) -> int:
    return db.session.execute(
        select(func.count(RecoveryCode.id)).where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
    ).scalar_one()


def check_code(user: User, code: str, *, now: datetime) -> str:
    """Accept ``code`` (from the app, or a recovery code) for ``user``; returns "totp" or "recovery".

    Throttled like a password (counted before the check, forgiven on success). A wrong, used or
    replayed code raises WrongCode, which the commit point keeps together with its count.
    """
    result = throttle.attempt([throttle.key("second-factor", str(user.id))], now)
    if not result.allowed:
        audit.record(user, "user.second_factor_throttled", user, outcome="refused", wait_minutes=result.wait_minutes)
        raise SecondFactorThrottled(
            ngettext(
                "Too many wrong codes. Try again in %(num)d minute.",
                "Too many wrong codes. Try again in %(num)d minutes.",
                result.wait_minutes,
            ),
            result.wait_minutes,
        )
    method = None
    secret = open_secret(user) if user.totp_enabled_at is not None else None
    if user.totp_enabled_at is not None:
        step = _matching_step(secret, code, now, user.totp_last_step) if secret else None
        if step is not None and _claim_step(user, step):
            method = "totp"
        elif _use_recovery_code(user, code, now):
            method = "recovery"
            audit.record(user, "user.recovery_code_used", user, codes_left=recovery_codes_left(user))
    if method is None:
        audit.record(user, "user.second_factor_failed", user, outcome="failed")
        raise WrongCode(_("The code is not correct, or it was already used."), field="code")
    throttle.succeeded(result, now)
    return method


# --- enrolment and management ---------------------------------------------------------


def provisioning_uri(user: User, secret: str) -> str:
    """The otpauth:// address an authenticator app reads from the QR code."""
    issuer = current_app.config["SECOND_FACTOR_ISSUER"]
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).provisioning_uri(
        name=user.email, issuer_name=issuer
    )


def qr_code(user: User, secret: str) -> str:
    """The QR code of the provisioning address as a data: SVG image, drawn here: no outside service
    sees the secret, and the page's CSP (img-src 'self' data:) allows it without inline styles."""
    return segno.make(provisioning_uri(user, secret), error="m").svg_data_uri(scale=5, border=2)


def grouped(secret: str) -> str:
    """The secret in groups of four, easier to type into an app by hand."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def _enrol_serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=ENROL_SALT)


def enrolment_token(user: User, secret: str, now: datetime) -> str:
    """The new secret, signed for ``user`` and stamped with ``now``, for the enrolment form."""
    return _enrol_serializer().dumps({"u": user.id, "s": secret, "t": int(now.timestamp())})


def read_enrolment_token(user: User, token: str, now: datetime) -> str | None:
    """The secret in ``token`` if it was made for ``user`` within the pending lifetime."""
    try:
        data = _enrol_serializer().loads(token or "")
    except BadSignature:
        return None
    if not isinstance(data, dict) or data.get("u") != user.id or not isinstance(data.get("s"), str):
        return None
    if not isinstance(data.get("t"), int):
        return None
    age = int(now.timestamp()) - data["t"]
    if not 0 <= age <= current_app.config["SECOND_FACTOR_PENDING_MINUTES"] * 60:
        return None
    return data["s"]


def enrol(user: User, token: str, code: str, *, now: datetime) -> list[str]:
    """Turn the second factor on with the secret in ``token``, confirmed by a first ``code``.

    Returns the new recovery codes, to be shown once."""
    if user.totp_enabled_at is not None:
        raise ServiceError(_("The second factor is already turned on."))
    secret = read_enrolment_token(user, token, now)
    if secret is None:
        raise ServiceError(_("This setup page was open too long. Scan the new code below."), field="code")
    step = _matching_step(secret, code, now, None)
    if step is None:
        raise ServiceError(
            _("That code does not match. Check that the phone's clock is right and enter the code the app shows now."),
            field="code",
        )
    user.totp_secret = seal_secret(user.id, secret)
    user.totp_enabled_at = now
    user.totp_last_step = step
    codes = _new_recovery_codes(user, now)
    audit.record(user, "user.second_factor_enrolled", user)
    return codes


def regenerate_recovery_codes(user: User, *, now: datetime) -> list[str]:
    """New recovery codes for ``user``; every earlier one stops working."""
    if user.totp_enabled_at is None:
        raise ServiceError(_("The second factor is not turned on."))
    codes = _new_recovery_codes(user, now)
    audit.record(user, "user.recovery_codes_regenerated", user)
    return codes


def disable(user: User) -> None:
    """Turn the second factor off (not for a person whose role requires it)."""
    permissions.ensure(permissions.second_factor_disable_lock(user))
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    audit.record(user, "user.second_factor_disabled", user)


def reset_by_administrator(actor: User, user: User) -> None:
    """An administrator turns off the second factor of someone who lost both phone and recovery
    codes (after checking who is asking, outside the app). Every session of theirs ends; if their
    role requires a second factor they enrol again at their next sign-in."""
    if user.id == actor.id:
        raise ServiceError(_("Use your own second factor page for your own account."))
    if user.totp_enabled_at is None:
        raise ServiceError(_("This person has no second factor turned on."))
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    revoke_all_sessions(user)
    audit.record(actor, "user.second_factor_reset", user, f"Second factor of {user.email} reset")


# --- the step between the password and the second factor ------------------------------


def step_after_password(user: User) -> str | None:
    """What the sign-in asks after the password: "code", "enrol", or None (signed in now)."""
    if user.totp_enabled_at is not None:
        return "code"
    if permissions.second_factor_required(user):
        return "enrol"
    return None


@dataclass(frozen=True)
class Pending:
    user: User
    step: str  # "code" or "enrol"
    next: str


def _password_stamp(user: User) -> int:
    return int(user.password_changed_at.timestamp()) if user.password_changed_at else 0


def begin_pending(user: User, step: str, next_url: str, now: datetime) -> None:
    """Remember, in the signed cookie only, that ``user`` gave the right password at ``now``.

    Nothing else of any earlier session is kept. The state names the password it was earned
    with (its change time): a password reset in between ends it."""
    session.clear()
    session[PENDING_KEY] = {
        "uid": user.id,
        "at": int(now.timestamp()),
        "step": step,
        "next": next_url,
        "pw": _password_stamp(user),
    }


def read_pending(now: datetime) -> Pending | None:
    """The person half-way through signing in, if the state is fresh and still true."""
    data = session.get(PENDING_KEY)
    if not isinstance(data, dict):
        return None
    try:
        age = int(now.timestamp()) - int(data["at"])
        user_id = int(data["uid"])
    except (KeyError, TypeError, ValueError):
        return None
    if not 0 <= age <= current_app.config["SECOND_FACTOR_PENDING_MINUTES"] * 60:
        return None
    user = db.session.get(User, user_id)
    if user is None or not user.active or data.get("pw") != _password_stamp(user):
        return None
    step = step_after_password(user)
    if step is None:
        return None  # turned off meanwhile: sign in with the password again
    return Pending(user=user, step=step, next=str(data.get("next") or ""))


def clear_pending() -> None:
    session.pop(PENDING_KEY, None)


def complete_sign_in(user: User, method: str, now: datetime) -> None:
    """The second step passed: the sign-in is complete (the caller starts the session)."""
    user.last_login_at = now
    audit.record(user, "user.login", user, second_factor=method)
