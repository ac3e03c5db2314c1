"""Paging for lists: two queries per page (count and rows), whatever the table size."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app
from sqlalchemy import Select, func, select

from ..extensions import db


@dataclass
class Page:
    items: list[Any]
    number: int
    size: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))

    @property
    def has_prev(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages


def parse_page_number(raw: str | None) -> int:
    """A page number from the query string; anything malformed means page 1."""
    try:
        number = int(raw or 1)
    except (TypeError, ValueError):
        return 1
    return min(max(number, 1), 100_000)


def paginate(stmt: Select, raw_page: str | None, size: int | None = None) -> Page:
    size = size or current_app.config["PAGE_SIZE"]
    number = parse_page_number(raw_page)
    total = db.session.execute(select(func.count()).select_from(stmt.order_by(None).subquery())).scalar_one()
    items = db.session.execute(stmt.limit(size).offset((number - 1) * size)).unique().scalars().all()
    return Page(items=list(items), number=number, size=size, total=total)
