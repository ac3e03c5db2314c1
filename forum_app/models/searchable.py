"""The stored, folded copy of what people search in a list (``search_text``), kept by the ORM."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from sqlalchemy import String, event
from sqlalchemy.orm import Mapped, mapped_column

from ..core.search import SEARCH_TEXT_LENGTH, normalise


class Searchable:
    """Mixin for a model whose list people search: ``search_text`` holds its ``search_fields``
    folded (``core.search.normalise``, stored form), set on every insert and update below, and the
    list matches it with ``core.search.contains(q, folded=Model.search_text)``.

    Rows written without the ORM (``flask forum generate``, migrations) fill it themselves:
    generate.py with ``search_text_of``, migrations with their own copy of the fold.
    """

    search_fields: ClassVar[tuple[str, ...]]
    search_text: Mapped[str] = mapped_column(String(SEARCH_TEXT_LENGTH), default="")

    @classmethod
    def search_text_of(cls, values: Mapping[str, str | None]) -> str:
        """The ``search_text`` of a row with these ``values`` (by field name)."""
        return normalise(*(values.get(name) for name in cls.search_fields), stored=True)[:SEARCH_TEXT_LENGTH]


@event.listens_for(Searchable, "before_insert", propagate=True)
@event.listens_for(Searchable, "before_update", propagate=True)
def _keep_search_text(mapper, connection, target: Searchable) -> None:
    target.search_text = target.search_text_of({name: getattr(target, name) for name in target.search_fields})
