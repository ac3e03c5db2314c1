"""Columns selected straight into plain, frozen values, for lists that show many rows at a time.

A page of 25 forum cards or people loaded as ORM objects (with their related objects joined)
cost more in identity-map bookkeeping than the query itself, and the objects carry columns the
list never shows. ``Into(Card, col, ...)`` selects exactly the columns a row shows and builds
the row value from them, so ``select(Into(...))`` pages like an entity (``paginate`` reads its
``scalars()``).
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from sqlalchemy.orm import Bundle


class Into(Bundle):
    """The selected ``columns``, in the order of ``cls``'s fields, as one ``cls`` per row."""

    # One value per row, like an entity: select(Into(...)) gives scalars() of ``cls``.
    single_entity = True

    def __init__(self, cls: type, *columns: Any):
        names = [f.name for f in fields(cls)]
        if len(names) != len(columns):
            raise TypeError(
                f"{cls.__name__} has {len(names)} fields ({', '.join(names)}); {len(columns)} columns given"
            )
        # The bundle's name is part of SQLAlchemy's statement cache key: one per row class.
        super().__init__(f"{cls.__module__}.{cls.__qualname__}", *columns)
        self.row_class = cls

    def create_row_processor(self, query, procs, labels):
        make = self.row_class

        def row(values):
            return make(*[proc(values) for proc in procs])

        return row
