"""Signed, single-purpose, expiring links sent by email.

A token names one user and one purpose and carries a fingerprint of the user's current
password hash. Setting a password changes the hash, so the link works once: a reused
link fails as "already used" without any table of spent tokens.
"""
from __future__ import annotations

import hashlib
from enum import Enum

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from ..extensions import db
from ..models import User

PURPOSES = {"set-password": "SET_PASSWORD_LINK_HOURS", "reset-password": "RESET_PASSWORD_LINK_HOURS"}


class LinkProblem(Enum):
    INVALID = "invalid"
    EXPIRED = "expired"
    USED = "used"


class LinkError(Exception):
    def __init__(self, problem: LinkProblem):
        super().__init__(problem.value)
        self.problem = problem


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    if purpose not in PURPOSES:
        raise ValueError(f"unknown link purpose {purpose!r}")
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=f"forum-desk/{purpose}")


def _fingerprint(user: User) -> str:
    return hashlib.sha256((user.password_hash or "no-password").encode()).hexdigest()[:16]


def make_token(user: User, purpose: str) -> str:
    return _serializer(purpose).dumps({"u": user.id, "p": _fingerprint(user)})


def read_token(token: str, purpose: str) -> User:
    """The user a valid token names; raises LinkError saying why it is not valid."""
    max_age = current_app.config[PURPOSES[purpose]] * 3600
    try:
        payload = _serializer(purpose).loads(token, max_age=max_age)
    except SignatureExpired as exc:
        raise LinkError(LinkProblem.EXPIRED) from exc
    except BadSignature as exc:
        raise LinkError(LinkProblem.INVALID) from exc
    if not isinstance(payload, dict) or not isinstance(payload.get("u"), int):
        raise LinkError(LinkProblem.INVALID)
    user = db.session.get(User, payload["u"])
    if user is None or not user.active:
        raise LinkError(LinkProblem.INVALID)
    if payload.get("p") != _fingerprint(user):
        raise LinkError(LinkProblem.USED)
    return user
