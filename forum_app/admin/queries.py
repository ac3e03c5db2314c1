"""What the administration lists show, as plain rows (core/rows.py)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from ..core.paging import Page, paginate
from ..core.rows import Into
from ..core.search import contains
from ..extensions import db
from ..models import Organisation, User
from ..models.people import USER_SEARCH_INDEX


@dataclass(slots=True, frozen=True)
class PersonRow:
    """A person as the people list shows them, as plain values."""

    id: int
    name: str
    email: str
    organisation: str | None
    role: str
    active: bool
    has_password: bool


_PERSON = Into(
    PersonRow,
    User.id,
    User.name,
    User.email,
    Organisation.name,
    User.role,
    User.active,
    User.password_hash.is_not(None),
)


def people_page(q: str, raw_page: str | None) -> Page:
    """A page of people by name (``Page.items`` are PersonRows), those matching ``q`` when given.

    Name and email are searched in their stored, normalised form (User.search_text, indexed; on
    SQLite through its trigram index).
    """
    matching = [contains(q, folded=User.search_text, trigram_table=USER_SEARCH_INDEX)] if q else []
    # Counted without the organisations (a person has at most one): the count reads only the index.
    total = db.session.execute(select(func.count()).select_from(User).where(*matching)).scalar_one()
    return paginate(
        select(_PERSON)
        .outerjoin(Organisation, Organisation.id == User.organisation_id)
        .where(*matching)
        .order_by(User.name),
        raw_page,
        total=total,
    )
