"""Personal API tokens: made (the secret shown once), found by their hash, revoked."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import select

from .. import permissions
from ..core import audit
from ..core.clock import utcnow
from ..core.errors import ServiceError
from ..extensions import db
from .models import ApiToken

PREFIX = "fd_"


@dataclass(frozen=True)
class TokenInput:
    name: str
    can_write: bool = False


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_token(user, data: TokenInput) -> tuple[ApiToken, str]:
    name = data.name.strip()
    if not name or len(name) > 100:
        raise ServiceError(_("Give the token a name (at most 100 characters)."), field="name")
    secret = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, name=name, token_hash=_hash(secret), prefix=secret[:10], can_write=data.can_write)
    db.session.add(token)
    db.session.flush()
    audit.record(user, "api_token.create", user, f"API token {name!r}", can_write=data.can_write)
    return token, secret


def own_token(user, token_id: int) -> ApiToken:
    """``user``'s token ``token_id``; someone else's, or none, is the same NotFound (404)."""
    token = db.session.get(ApiToken, token_id)
    permissions.require_visible(permissions.can_revoke_api_token(user, token))
    assert token is not None  # (require_visible refused a missing one)
    return token


def revoke_token(user, token_id: int) -> None:
    token = own_token(user, token_id)
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        audit.record(user, "api_token.revoke", user, f"API token {token.name!r}")


def user_for(secret: str) -> tuple[object, ApiToken] | None:
    """The active person and token behind a bearer secret, or None."""
    token = db.session.execute(select(ApiToken).where(ApiToken.token_hash == _hash(secret))).scalar_one_or_none()
    if token is None or token.revoked_at is not None or not token.user.active:
        return None
    return token.user, token


def tokens_of(user) -> list[ApiToken]:
    return list(db.session.execute(select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id)).scalars())
