"""A small per-process LRU for what pages may reuse between requests while a stamp in the key stands.

Each app process keeps its own; correctness comes from the key, which carries a stamp read from
the database in the same request (``forum.figures_stamp``: reports/stamps.py), so every node sees
a change at its next read. Values are kept as they are: whoever puts one must not change it after.
"""
from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable
from typing import Any


_ALL: list["Kept"] = []


class Kept:
    def __init__(self, size: int):
        self.size = size
        self.items: OrderedDict[Hashable, Any] = OrderedDict()
        _ALL.append(self)

    def get(self, key: Hashable) -> Any:
        value = self.items.get(key)
        if value is not None:
            self.items.move_to_end(key)
        return value

    def put(self, key: Hashable, value: Any) -> None:
        self.items[key] = value
        self.items.move_to_end(key)
        while len(self.items) > self.size:
            self.items.popitem(last=False)

    def clear(self) -> None:
        self.items.clear()


def clear_all() -> None:
    """Forget everything kept (tests that measure the uncached path call this)."""
    for kept in _ALL:
        kept.clear()
