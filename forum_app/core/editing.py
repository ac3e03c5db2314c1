"""No lost edits for simple records (forums, organisations, programmes, grants, people).

A form that edits a record carries, hidden, the values it was opened with (``loaded``).
On save the service compares them with what is stored now: if someone else saved in
between, nothing is written and a ConflictError lists the fields that differ, so the
second person decides instead of silently undoing the first one's change. The re-shown
form is then based on the stored values (a knowing re-save goes through), and fields the
second person did not touch take the stored values, so saving again cannot revert the
other person's change unnoticed.

The check and the write happen in one transaction with the row locked (SELECT … FOR
UPDATE on PostgreSQL; on SQLite, write requests start with BEGIN IMMEDIATE), so two
saves cannot both pass the check.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import date
from typing import Any, Self

from flask_babel import gettext as _

from ..extensions import db
from .errors import ConflictError


def _plain(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


@dataclasses.dataclass(frozen=True)
class EditInput:
    """Base of the input dataclasses built from a form (and later from an API schema)."""

    @classmethod
    def of(cls, obj: Any) -> Self:
        """The input as it would be for the stored ``obj`` (its current values)."""
        return cls(**{f.name: getattr(obj, f.name) for f in dataclasses.fields(cls)})

    def values(self) -> dict[str, Any]:
        return {f.name: _plain(getattr(self, f.name)) for f in dataclasses.fields(self)}

    def encode(self) -> str:
        """For the hidden ``loaded`` field."""
        return json.dumps(self.values(), sort_keys=True, ensure_ascii=False)


def decode_loaded(raw: str | None) -> dict[str, Any] | None:
    """The values a form was opened with; None when missing or malformed."""
    if not raw:
        return None
    try:
        values = json.loads(raw)
    except ValueError:
        return None
    return values if isinstance(values, dict) else None


def _show(value: Any) -> str:
    if isinstance(value, list):
        return "\n".join(str(v) for v in value)
    return "" if value is None else str(value)


def ensure_unchanged(obj: Any, yours: EditInput, loaded: dict[str, Any] | None) -> None:
    """Refuse with ConflictError if ``obj`` changed since its form was opened with ``loaded``."""
    if obj is None:
        return  # a new record: nothing to overwrite
    # Hold the row until this transaction ends: this row only. The refresh repeats the eager loads
    # the object was loaded with (an action's forum, joined), and a bare FOR UPDATE would lock the
    # forum's row too, so every edit in one forum waited for the one before (tests/test_parallel_writes.py).
    db.session.refresh(obj, with_for_update={"of": type(obj)})
    saved = type(yours).of(obj).values()
    if loaded is None:
        raise ConflictError(_("The form was incomplete. Nothing was saved: reload the page and edit again."))
    if {k: loaded.get(k) for k in saved} == saved:
        return
    mine = yours.values()
    # Three ways: what you started from, what was saved meanwhile, what you typed.
    rows = [
        (name, _show(loaded.get(name)), _show(saved[name]), _show(mine[name]))
        for name in saved
        if saved[name] != mine[name] or saved[name] != loaded.get(name)
    ]
    raise ConflictError(
        _(
            "Someone else saved this after you opened the form. Your changes were not saved: compare them with "
            "the saved version below; the form now starts from the saved version, with your changes kept."
        ),
        rows,
    )


def rebase(form, loaded: dict[str, Any] | None, saved: EditInput, mine: EditInput) -> None:
    """After a conflict: the form's fields that its user did not change take the saved values,
    and its ``loaded`` becomes the saved version (so the next save is a knowing one)."""
    typed = mine.values()
    for name in saved.values():
        field = getattr(form, name, None)
        if field is None or loaded is None or name not in loaded:
            continue
        if typed[name] == loaded[name]:  # untouched by this person: show what is saved now
            value = getattr(saved, name)
            field.data = value if value is not None or not isinstance(field.data, int) else 0
            field.raw_data = None
    form.loaded.data = saved.encode()


def form_values(form, names: tuple[str, ...]) -> dict[str, str]:
    """The fields as the page shows them (and a browser submits them): text, comparable across saves."""
    return {name: getattr(form, name)._value() for name in names}


def rebase_form(form, names: tuple[str, ...], loaded: dict[str, Any] | None, saved: dict[str, str]) -> list:
    """After a conflict on a form compared field by field as text (e.g. a meeting's local date and times).

    Fields this person did not change take the saved values; the rows to show are those
    where anything differs: (field, what you started from, saved meanwhile, yours).
    """
    yours = form_values(form, names)
    rows = []
    for name in names:
        base = (loaded or {}).get(name)
        if yours[name] != saved[name] or base != saved[name]:
            rows.append((name, "" if base is None else base, saved[name], yours[name]))
        if base is not None and yours[name] == base and saved[name] != base:
            field = getattr(form, name)
            field.process_formdata([saved[name]])
            field.raw_data = [saved[name]]
    form.loaded.data = json.dumps(saved, sort_keys=True, ensure_ascii=False)
    return rows
