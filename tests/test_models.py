"""The data layer: constraints the database itself enforces, append-only history, UTC
timestamps, optimistic locking, and migrations that match the models.

Python-side checks can be bypassed (a script, a raw query, a future bug); these tests
make sure the database still refuses bad rows.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask
from sqlalchemy import Column, DateTime, Integer, Table, select, text
from sqlalchemy.exc import IntegrityError, StatementError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from forum_app.database import in_migrations
from forum_app.extensions import db
from forum_app.models import (
    ActionItem,
    ActionUpdate,
    AppendOnlyError,
    AuditEvent,
    Base,
    Forum,
    Meeting,
    Organisation,
    utcnow,
)
from forum_app.models.base import UTCDateTime

from .factories import Factory


@pytest.fixture
def seed(make: Factory, app: Flask) -> dict[str, Any]:
    """One row of each table the tests touch, committed; returns their ids.

    Request it before ``ctx``: on SQLite a writer in another session would wait for the
    test's own open transaction.
    """
    world = make.world()
    meeting = make.meeting(world["forum"])
    invitation = make.invite(meeting, world["participant"])
    spare_programme = make.programme()
    spare_org = make.organisation(name="Spare Organisation", country="BA")
    ids: dict[str, Any] = {
        **world,
        "meeting": meeting,
        "invitation": invitation,
        "spare_programme": spare_programme,
        "spare_org": spare_org,
        "user": make.user_id(world["outsider"]),
        "participant_id": make.user_id(world["participant"]),
    }
    with app.app_context():
        grant = db.session.get(Forum, world["forum"]).grant
        ids["org"], ids["programme"] = grant.holder_id, grant.programme_id
        action = ActionItem(
            forum_id=world["forum"],
            meeting_id=meeting,
            title="Agree a referral pathway",
            owner_id=ids["participant_id"],
        )
        db.session.add(action)
        db.session.flush()
        update = ActionUpdate(
            action_id=action.id, author_id=ids["participant_id"], kind="progress", note="First contact made"
        )
        event = AuditEvent(
            actor_id=ids["user"], verb="test.seed", object_type="Forum", object_id=world["forum"], summary="seeded"
        )
        db.session.add_all([update, event])
        db.session.commit()
        ids.update(action=action.id, action_update=update.id, audit_event=event.id)
        ids["forum_member"] = db.session.execute(
            text("SELECT id FROM forum_member WHERE user_id = :u"), {"u": ids["participant_id"]}
        ).scalar_one()
        ids["meeting_starts"] = db.session.get(Meeting, meeting).starts_at.replace(tzinfo=None)
        ids["grant_reference"] = db.session.get(Forum, world["other_forum"]).grant.reference
        ids["org_name"] = db.session.get(Organisation, spare_org).name
    return ids


# --- 1. the database refuses bad values --------------------------------------------------------------


@dataclass(frozen=True)
class Refusal:
    """A statement run once with an acceptable value (control) and once with a bad one."""

    name: str
    sql: str  # uses :v for the value under test and seed ids by name
    good: Callable[[dict], Any]
    bad: Callable[[dict], Any]
    markers: tuple[str, ...]  # one of these appears in the error (SQLite or PostgreSQL wording)


def fk(constraint: str) -> tuple[str, ...]:
    return (constraint, "FOREIGN KEY constraint failed")


REFUSALS = [
    Refusal(
        "organisation.kind",
        "UPDATE organisation SET kind = :v WHERE id = :org",
        lambda s: "police",
        lambda s: "bogus",
        ("ck_organisation_kind",),
    ),
    Refusal(
        "user_account.role",
        "UPDATE user_account SET role = :v WHERE id = :user",
        lambda s: "staff",
        lambda s: "root",
        ("ck_user_account_role",),
    ),
    Refusal(
        "meeting.state",
        "UPDATE meeting SET state = :v WHERE id = :meeting",
        lambda s: "held",
        lambda s: "bogus",
        ("ck_meeting_state",),
    ),
    Refusal(
        "meeting.ends_after_start",
        "UPDATE meeting SET ends_at = :v WHERE id = :meeting",
        lambda s: s["meeting_starts"] + timedelta(minutes=1),
        lambda s: s["meeting_starts"],
        ("ck_meeting_ends_after_start",),
    ),
    Refusal(
        "meeting.ends_before_start",
        "UPDATE meeting SET ends_at = :v WHERE id = :meeting",
        lambda s: s["meeting_starts"] + timedelta(hours=3),
        lambda s: s["meeting_starts"] - timedelta(hours=1),
        ("ck_meeting_ends_after_start",),
    ),
    Refusal(
        "meeting.ical_sequence",
        "UPDATE meeting SET ical_sequence = :v WHERE id = :meeting",
        lambda s: 3,
        lambda s: -1,
        ("ck_meeting_sequence_not_negative",),
    ),
    Refusal(
        "invitation.rsvp",
        "UPDATE invitation SET rsvp = :v WHERE id = :invitation",
        lambda s: "tentative",
        lambda s: "maybe",
        ("ck_invitation_rsvp",),
    ),
    Refusal(
        "invitation.attendance",
        "UPDATE invitation SET attendance = :v WHERE id = :invitation",
        lambda s: "present",
        lambda s: "late",
        ("ck_invitation_attendance",),
    ),
    Refusal(
        "forum_member.role",
        "UPDATE forum_member SET role = :v WHERE id = :forum_member",
        lambda s: "observer",
        lambda s: "chair",
        ("ck_forum_member_role",),
    ),
    Refusal(
        "action_item.state",
        "UPDATE action_item SET state = :v WHERE id = :action",
        lambda s: "in_progress",
        lambda s: "bogus",
        ("ck_action_item_state",),
    ),
    Refusal(
        "programme.period",
        "UPDATE programme SET starts_on = '2021-06-30', ends_on = :v WHERE id = :programme",
        lambda s: datetime(2021, 7, 2).date(),
        lambda s: datetime(2021, 6, 29).date(),
        ("ck_programme_period",),
    ),
    Refusal(
        "user_account.email unique",
        "UPDATE user_account SET email = :v WHERE id = :user",
        lambda s: "fresh@example.org",
        lambda s: s["participant"],
        ("uq_user_account_email", "user_account.email"),
    ),
    Refusal(
        "grant_agreement.reference unique",
        "UPDATE grant_agreement SET reference = :v WHERE id = :grant",
        lambda s: "HF-NEW-1",
        lambda s: s["grant_reference"],
        ("uq_grant_agreement_reference", "grant_agreement.reference"),
    ),
    Refusal(
        "organisation name+country unique",
        "UPDATE organisation SET name = :v, country = 'BA' WHERE id = :org",
        lambda s: "Another Name",
        lambda s: s["org_name"],
        ("uq_organisation_name_country", "organisation.name"),
    ),
    Refusal(
        "grant_agreement.programme_id fk",
        "UPDATE grant_agreement SET programme_id = :v WHERE id = :grant",
        lambda s: s["spare_programme"],
        lambda s: 999_999,
        fk("fk_grant_agreement_programme_id_programme"),
    ),
    Refusal(
        "grant_team.user_id fk",
        "INSERT INTO grant_team (grant_id, user_id, added_at) VALUES (:grant, :v, CURRENT_TIMESTAMP)",
        lambda s: s["user"],
        lambda s: 999_999,
        fk("fk_grant_team_user_id_user_account"),
    ),
    Refusal(
        "programme in use cannot be deleted",
        "DELETE FROM programme WHERE id = :v",
        lambda s: s["spare_programme"],
        lambda s: s["programme"],
        fk("fk_grant_agreement_programme_id_programme"),
    ),
]


@pytest.mark.parametrize("case", REFUSALS, ids=lambda c: c.name)
def test_database_refuses_bad_values(seed: dict, ctx: None, case: Refusal) -> None:
    """The control value is accepted, so the refusal is about the value, not a malformed statement."""
    result = db.session.execute(text(case.sql), {**seed, "v": case.good(seed)})
    assert result.rowcount == 1
    with pytest.raises(IntegrityError) as refused:
        db.session.execute(text(case.sql), {**seed, "v": case.bad(seed)})
        db.session.flush()
    db.session.rollback()
    message = str(refused.value.orig).lower()
    assert any(marker.lower() in message for marker in case.markers), message


def test_orm_objects_with_bad_values_are_refused_by_the_database(seed: dict, ctx: None) -> None:
    """The models carry no Python validation; a bad value set through the ORM still never reaches a row."""
    db.session.add(Organisation(name="Valid", kind="police", country="ME"))
    db.session.flush()  # control
    db.session.add(Organisation(name="Invalid", kind="bogus", country="ME"))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()
    assert db.session.execute(select(Organisation).where(Organisation.country == "ME")).first() is None


def test_every_connection_enforces_foreign_keys(app: Flask, ctx: None) -> None:
    """SQLite ignores foreign keys unless told so on every connection; PostgreSQL always checks.

    Two connections checked out at once are two different ones: each must refuse a row
    pointing at nothing.
    """
    with db.engine.connect() as first, db.engine.connect() as second:
        for conn in (first, second):
            if db.engine.dialect.name == "sqlite":
                raw = conn.connection.driver_connection
                assert raw.execute("PRAGMA foreign_keys").fetchone()[0] == 1
                assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
            with pytest.raises(IntegrityError), conn.begin():
                conn.execute(
                    text(
                        "INSERT INTO grant_team (grant_id, user_id, added_at) "
                        "VALUES (987654, 987654, CURRENT_TIMESTAMP)"
                    )
                )


# --- 2. append-only history -----------------------------------------------------------------------

APPEND_ONLY_CASES = [(ActionUpdate, "action_update", "note"), (AuditEvent, "audit_event", "summary")]


@pytest.mark.parametrize(("model", "key", "attribute"), APPEND_ONLY_CASES, ids=["ActionUpdate", "AuditEvent"])
def test_history_rows_cannot_be_modified_or_deleted(
    seed: dict, ctx: None, model: type, key: str, attribute: str
) -> None:
    """The follow-up record and the audit trail are never rewritten, only appended to."""
    row = db.session.get(model, seed[key])
    original = getattr(row, attribute)
    setattr(row, attribute, "rewritten")
    with pytest.raises(AppendOnlyError):
        db.session.flush()
    db.session.rollback()

    db.session.delete(db.session.get(model, seed[key]))
    with pytest.raises(AppendOnlyError):
        db.session.flush()
    db.session.rollback()

    db.session.expire_all()
    assert getattr(db.session.get(model, seed[key]), attribute) == original


def test_history_can_still_be_appended_and_other_rows_edited(seed: dict, ctx: None) -> None:
    """The guard is specific: new history rows and ordinary edits go through."""
    db.session.add(
        ActionUpdate(
            action_id=seed["action"],
            kind="state",
            from_state="proposed",
            to_state="accepted",
            author_id=seed["participant_id"],
        )
    )
    db.session.add(AuditEvent(verb="test.append", object_type="ActionItem", object_id=seed["action"]))
    db.session.get(ActionItem, seed["action"]).state = "accepted"
    db.session.commit()
    db.session.expire_all()
    updates = (
        db.session.execute(
            select(ActionUpdate.kind).where(ActionUpdate.action_id == seed["action"]).order_by(ActionUpdate.id)
        )
        .scalars()
        .all()
    )
    assert updates == ["progress", "state"]
    assert db.session.execute(
        select(AuditEvent.verb).where(AuditEvent.id >= seed["audit_event"]).order_by(AuditEvent.id)
    ).scalars().all() == ["test.seed", "test.append"]
    assert db.session.get(ActionItem, seed["action"]).state == "accepted"


# --- 3. timestamps --------------------------------------------------------------------------------


def test_datetimes_are_stored_as_utc_and_read_back_aware(seed: dict, ctx: None) -> None:
    """A local time goes in, the same instant comes back in UTC; the column holds the UTC wall time."""
    sarajevo = datetime(2021, 6, 30, 10, 0, tzinfo=ZoneInfo("Europe/Sarajevo"))  # CEST, UTC+2
    meeting = db.session.get(Meeting, seed["meeting"])
    meeting.starts_at, meeting.ends_at = sarajevo, sarajevo + timedelta(hours=3)
    db.session.commit()
    db.session.remove()

    meeting = db.session.get(Meeting, seed["meeting"])
    assert meeting.starts_at == sarajevo
    assert meeting.starts_at.tzinfo is UTC
    assert (meeting.starts_at.hour, meeting.ends_at.hour) == (8, 11)
    assert meeting.created_at.tzinfo is UTC
    stored = db.session.execute(
        text("SELECT starts_at FROM meeting WHERE id = :id").columns(starts_at=DateTime()), {"id": seed["meeting"]}
    ).scalar_one()
    assert stored == datetime(2021, 6, 30, 8, 0)


def test_naive_datetime_is_refused(seed: dict, ctx: None) -> None:
    """A naive datetime is ambiguous (which zone?); the column type refuses it instead of guessing."""
    meeting = db.session.get(Meeting, seed["meeting"])
    meeting.starts_at = datetime(2021, 6, 30, 10, 0)
    with pytest.raises(StatementError) as refused:
        db.session.flush()
    db.session.rollback()
    assert isinstance(refused.value.orig, ValueError)
    assert "naive" in str(refused.value.orig)


def test_created_at_is_computed_at_insert_time(ctx: None) -> None:
    """Two rows a moment apart get different, current timestamps (not a value frozen at import)."""
    before = utcnow()
    first = Organisation(name="First", kind="ngo", country="AL")
    db.session.add(first)
    db.session.commit()
    time.sleep(0.01)
    second = Organisation(name="Second", kind="ngo", country="AL")
    db.session.add(second)
    db.session.commit()
    after = utcnow()
    assert before <= first.created_at < second.created_at <= after


def test_every_utc_column_default_is_a_callable() -> None:
    """Catches ``default=utcnow()`` (evaluated once, at import) in any model, present or future."""
    frozen = [
        f"{table.name}.{column.name}"
        for table in Base.metadata.sorted_tables
        for column in table.columns
        if isinstance(column.type, UTCDateTime) and column.default is not None and not column.default.is_callable
    ]
    assert frozen == []
    assert Base.metadata.tables["user_account"].c.created_at.default.is_callable  # the check sees defaults


# --- 4. optimistic locking ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "key"), [(Meeting, "meeting"), (ActionItem, "action")], ids=["Meeting", "ActionItem"]
)
def test_stale_write_raises_instead_of_overwriting(seed: dict, ctx: None, model: type, key: str) -> None:
    """Two editors open the same row; the second save must fail, not silently undo the first."""
    other = Session(db.engine, expire_on_commit=False)
    try:
        stale = other.get(model, seed[key])
        opened_at = stale.version
        other.commit()  # end the read (on SQLite a transaction holds the write lock) but keep the object

        fresh = db.session.get(model, seed[key])
        fresh.title = "Saved first"
        db.session.commit()

        stale.title = "Saved second, from an old copy"
        with pytest.raises(StaleDataError):
            other.flush()
        other.rollback()
    finally:
        other.close()
    db.session.expire_all()
    row = db.session.get(model, seed[key])
    assert (row.title, row.version) == ("Saved first", opened_at + 1)


# --- 5. migrations --------------------------------------------------------------------------------


def test_migrations_match_the_models(app: Flask, ctx: None) -> None:
    """What ``flask db check`` checks: the upgraded database has exactly the models' schema, at the head."""
    config = app.extensions["migrate"].migrate.get_config()
    heads = set(ScriptDirectory.from_config(config).get_heads())
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True, "include_name": in_migrations})
        assert set(context.get_current_heads()) == heads
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def test_flask_db_check_passes(app: Flask) -> None:
    """The command operators and CI run; it exits non-zero when a model change lacks a migration."""
    runner = app.test_cli_runner()
    result = runner.invoke(args=["db", "check"])
    assert result.exit_code == 0, result.output

    # And it does notice a model without a migration (so the pass above means something).
    unmigrated = Table("unmigrated_probe", Base.metadata, Column("id", Integer, primary_key=True))
    try:
        assert runner.invoke(args=["db", "check"]).exit_code != 0
    finally:
        Base.metadata.remove(unmigrated)
