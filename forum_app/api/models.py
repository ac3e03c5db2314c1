"""Personal API tokens: named, shown once, stored as a hash, revocable, read-only or read-write."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..models.base import Base, utcnow
from ..models.people import User


class ApiToken(Base):
    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    # sha256 of the secret: the secret itself is shown once, when the token is made, and never kept.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The first characters of the secret, so the person can tell their tokens apart.
    prefix: Mapped[str] = mapped_column(String(12))
    can_write: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()
