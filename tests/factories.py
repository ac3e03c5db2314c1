"""Building test data: one of each kind of user, grants, forums, meetings.

Each method opens its own app context and returns plain ids/emails, so tests do not
hold ORM objects across requests. Accounts, grants and forums are plain rows; meetings,
attendance, walk-ins and minutes go through the real services (``core.clock.at`` for
moments in the past), so the tests exercise one lifecycle, not a copy of it.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import TypeVar
from zoneinfo import ZoneInfo

from flask import Flask
from sqlalchemy import select

from forum_app.actions import services as actions
from forum_app.actions.services import ActionInput, UpdateInput
from forum_app.auth.passwords import hash_password
from forum_app.core import clock
from forum_app.documents import services as documents
from forum_app.documents.services import DocumentInput, Upload
from forum_app.extensions import db
from forum_app.meetings import minutes
from forum_app.meetings import services as meetings
from forum_app.meetings.minutes import MinutesInput
from forum_app.meetings.services import MeetingDetails, WalkInInput
from forum_app.models import (
    ActionItem,
    Forum,
    ForumMember,
    Grant,
    GrantTeam,
    Invitation,
    Meeting,
    Organisation,
    Programme,
    User,
)
from forum_app.news import services as news
from forum_app.news.services import ComposeInput
from forum_app.reports import indicators
from forum_app.reports.indicators import IndicatorInput

PASSWORD = "correct horse battery staple"
# When documents, news items and indicators are made (fixed: the tests never read "now" for them).
FIXED_MOMENT = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
# The smallest PDF the upload check accepts.
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
# A programme's themes, which actions choose from.
THEMES = ("Radicalisation in prisons", "Information exchange", "Pre-release planning", "Post-release support")
# The actor of meeting services in forums whose grant has no organiser (made on demand).
FACTORY_ADMIN = "factory.admin@example.org"
T = TypeVar("T")
_counter = itertools.count(1)


def local_time(forum: Forum, days: int, at: time) -> datetime:
    """``at`` o'clock in the forum's zone, ``days`` days from today there, in UTC."""
    zone = ZoneInfo(forum.timezone)
    day = datetime.now(zone).date() + timedelta(days=days)
    return datetime.combine(day, at, zone).astimezone(UTC)


@lru_cache(maxsize=1)
def _password_hash() -> str:
    # argon2 is deliberately slow: hash the shared test password once per run.
    return hash_password(PASSWORD)


class Factory:
    def __init__(self, app: Flask):
        self.app = app

    def _save(self, obj):
        with self.app.app_context():
            db.session.add(obj)
            db.session.commit()
            return obj.id

    def organisation(
        self, name: str | None = None, kind: str = "prison", country: str = "BA", city: str = "Sarajevo"
    ) -> int:
        return self._save(
            Organisation(name=name or f"Organisation {next(_counter)}", kind=kind, country=country, city=city)
        )

    def user(
        self,
        role: str = "member",
        email: str | None = None,
        name: str | None = None,
        active: bool = True,
        password: bool = True,
        organisation_id: int | None = None,
    ) -> str:
        n = next(_counter)
        email = email or f"user{n}@example.org"
        self._save(
            User(
                email=email,
                name=name or f"User {n}",
                role=role,
                active=active,
                password_hash=_password_hash() if password else None,
                organisation_id=organisation_id,
            )
        )
        return email

    def user_id(self, email: str) -> int:
        with self.app.app_context():
            return db.session.execute(db.select(User.id).where(User.email == email)).scalar_one()

    def programme(self, themes: tuple[str, ...] = ("Radicalisation in prisons",), name: str | None = None) -> int:
        return self._save(Programme(name=name or f"Programme {next(_counter)}", themes=list(themes)))

    def grant(
        self, programme_id: int | None = None, holder_id: int | None = None, country: str = "BA", title: str = ""
    ) -> int:
        n = next(_counter)
        return self._save(
            Grant(
                programme_id=programme_id or self.programme(THEMES),
                holder_id=holder_id or self.organisation(kind="ngo"),
                reference=f"REF-{n}",
                title=title or f"Grant {n}",
                country=country,
            )
        )

    def add_to_team(self, grant_id: int, email: str) -> None:
        with self.app.app_context():
            db.session.add(GrantTeam(grant_id=grant_id, user_id=self.user_id(email)))
            db.session.commit()

    def forum(
        self,
        grant_id: int | None = None,
        title: str | None = None,
        timezone_name: str = "Europe/Sarajevo",
        city: str = "Sarajevo",
        country: str = "BA",
        focus: str = "",
    ) -> int:
        return self._save(
            Forum(
                grant_id=grant_id or self.grant(),
                title=title or f"Forum {next(_counter)}",
                city=city,
                country=country,
                timezone=timezone_name,
                focus=focus,
            )
        )

    def add_member(self, forum_id: int, email: str, role: str = "participant") -> None:
        self._save(ForumMember(forum_id=forum_id, user_id=self.user_id(email), role=role))

    def meeting(self, forum_id: int, state: str = "scheduled", starts_in_days: int = 14, agenda_md: str = "") -> int:
        """A meeting from 10:00 to 12:00 in the forum's zone, ``starts_in_days`` days from today there, with no
        invitees, taken to ``state`` by the meeting services.

        Always at 10:00 local, never "now plus days": tests that move it, or judge it against the
        working day, then hold at any hour the suite runs. It was planned and published 30 days
        before it starts; a held one was marked held as it ended (for a meeting still to come, the
        clock is set to after its start).
        """
        n = next(_counter)

        def run() -> int:
            forum = db.session.get(Forum, forum_id)
            start = local_time(forum, starts_in_days, time(10))
            details = MeetingDetails(
                title=f"Meeting {n}",
                starts_at=start,
                ends_at=start + timedelta(hours=2),
                venue="Town hall",
                online_url="",
                agenda_md=agenda_md,
            )
            actor = self._organiser(forum)
            with clock.at(start - timedelta(days=30)):
                meeting = meetings.create_meeting(actor, forum, details, invitee_ids=[])
                if state != "draft":
                    meetings.change_state(actor, meeting, "scheduled", meeting.version)
                if state == "cancelled":
                    meetings.change_state(actor, meeting, "cancelled", meeting.version, reason="Cancelled.")
            if state == "held":
                with clock.at(details.ends_at):
                    meetings.change_state(actor, meeting, "held", meeting.version)
            return meeting.id

        return self._run(run)

    def invite(self, meeting_id: int, email: str) -> int:
        return self._save(Invitation(meeting_id=meeting_id, user_id=self.user_id(email)))

    def world(self) -> dict:
        """One person of each role around one grant and forum, plus another grant's forum."""
        grant = self.grant()
        forum = self.forum(grant)
        other_grant = self.grant(country="MK")
        other_forum = self.forum(other_grant, city="Skopje", country="MK", timezone_name="Europe/Skopje")
        people = {
            "admin": self.user("admin"),
            "staff": self.user("staff"),
            "organiser": self.user(),
            "participant": self.user(),
            "observer": self.user(),
            "outsider": self.user(),
        }
        self.add_to_team(grant, people["organiser"])
        self.add_member(forum, people["participant"])
        self.add_member(forum, people["observer"], role="observer")
        return {"grant": grant, "forum": forum, "other_grant": other_grant, "other_forum": other_forum, **people}

    # --- minutes, attendance and walk-ins (forum permission and query-count tests) -----------------

    def minutes(
        self,
        meeting_id: int,
        versions: int = 1,
        state: str = "draft",
        author_email: str | None = None,
        body: str = "Minutes",
    ) -> None:
        """Give a meeting ``versions`` saved minutes versions (the last is current) in ``state``.

        Circulated and adopted minutes circulate every version as it is saved, so all are shared.
        """
        author_id = self.user_id(author_email) if author_email else None

        def run() -> None:
            meeting = db.session.get(Meeting, meeting_id)
            actor = db.session.get(User, author_id) if author_id else self._organiser(meeting.forum)
            for _ in range(versions):
                number = meeting.minutes_revision + 1
                minutes.save_minutes(
                    actor,
                    meeting,
                    MinutesInput(f"{body} (version {number})", [f"Decision {number}"]),
                    base_revision=meeting.minutes_revision,
                )
                if state in ("circulated", "adopted"):
                    minutes.circulate(actor, meeting, meeting.minutes_revision)
            if state == "adopted":
                minutes.adopt(actor, meeting, meeting.minutes_revision)

        self._run(run)

    def mark_attendance(self, invitation_id: int, attendance: str | None) -> None:
        def run() -> None:
            invitation = db.session.get(Invitation, invitation_id)
            meeting = invitation.meeting
            meetings.record_attendance(
                self._organiser(meeting.forum), meeting, {invitation.id: (invitation.attendance, attendance)}
            )

        self._run(run)

    def walk_in(self, meeting_id: int, name: str | None = None, kind: str = "other") -> int:
        data = WalkInInput(name=name or f"Walk-in {next(_counter)}", organisation_name="Local NGO", kind=kind)

        def run() -> int:
            meeting = db.session.get(Meeting, meeting_id)
            return meetings.add_walk_in(self._organiser(meeting.forum), meeting, data).id

        return self._run(run)

    def delegate(self, meeting_id: int, for_invitation_id: int, name: str = "Deputy", email: str = "") -> int:
        """Someone attended on behalf of an invitee (meetings.delegates): a walk-in without ``email``. Returns
        the id of the delegate's walk-in or invitation."""
        from forum_app.meetings.delegates import DelegateInput, record_delegate

        def run() -> int:
            meeting = db.session.get(Meeting, meeting_id)
            data = DelegateInput(for_invitation_id, name, email)
            return record_delegate(self._organiser(meeting.forum), meeting, data).id

        return self._run(run)

    def minutes_comment(self, meeting_id: int, email: str, body: str = "A comment") -> int:
        author_id = self.user_id(email)
        return self._run(
            lambda: minutes.add_comment(db.session.get(User, author_id), db.session.get(Meeting, meeting_id), body).id
        )

    # --- agreed actions (through the action services) ----------------------------------------------

    def action(
        self,
        forum_id: int,
        owner_email: str,
        meeting_id: int | None = None,
        title: str | None = None,
        due_in_days: int | None = 30,
        themes: tuple[str, ...] = (),
        notify: bool = True,
    ) -> int:
        """A proposed action raised by the forum's organiser, at ``meeting_id`` (as it ends) or now."""
        owner_id = self.user_id(owner_email)

        def run() -> int:
            forum = db.session.get(Forum, forum_id)
            meeting = db.session.get(Meeting, meeting_id) if meeting_id else None
            moment = meeting.ends_at if meeting is not None else datetime.now(UTC)
            # A due day counted in the forum's calendar (as the app judges "overdue"), not UTC's.
            day = moment.astimezone(ZoneInfo(forum.timezone)).date()
            due = day + timedelta(days=due_in_days) if due_in_days is not None else None
            data = ActionInput(title=title or f"Action {next(_counter)}", owner_id=owner_id, due_on=due, themes=themes)
            at = min(moment, datetime.now(UTC))
            if meeting is not None and at < meeting.starts_at:
                at = meeting.starts_at  # a meeting still to come: as it starts (recording waits until then)
            with clock.at(at):
                return actions.raise_action(self._organiser(forum), forum, data, meeting=meeting, notify=notify).id

        return self._run(run)

    def act(
        self,
        action_id: int,
        email: str | None = None,
        to_state: str | None = None,
        note: str = "",
        meeting_id: int | None = None,
        at: datetime | None = None,
    ) -> None:
        """Post one update as ``email`` (default: the forum's organiser), at ``at`` (default: now)."""
        actor_id = self.user_id(email) if email else None

        def run() -> None:
            action = db.session.get(ActionItem, action_id)
            actor = db.session.get(User, actor_id) if actor_id else self._organiser(action.forum)
            with clock.at(at or datetime.now(UTC)):
                actions.post_update(
                    actor, action, UpdateInput(note=note, to_state=to_state, meeting_id=meeting_id), action.version
                )

        self._run(run)

    # --- documents, news and indicators (route tables) ------------------------------------------------

    def document(self, forum_id: int, meeting_id: int | None = None, confidential: bool = False) -> int:
        """A one-page PDF uploaded by the forum's organiser, at a fixed moment."""

        def run() -> int:
            forum = db.session.get(Forum, forum_id)
            meeting = db.session.get(Meeting, meeting_id) if meeting_id else None
            data = DocumentInput(
                kind="protocol", title=f"Document {next(_counter)}", description="", confidential=confidential
            )
            with clock.at(FIXED_MOMENT):
                return documents.upload_document(
                    self._organiser(forum), forum, meeting, data, Upload("protocol.pdf", PDF)
                ).id

        return self._run(run)

    def news_item(self, grant_id: int, author_email: str, published: bool = True) -> int:
        """A news item about ``grant_id``'s forums in a fixed period, written (and published) by ``author_email``."""
        author_id = self.user_id(author_email)

        def run() -> int:
            grant = db.session.get(Grant, grant_id)
            author = db.session.get(User, author_id)
            scope = ComposeInput(grant.programme_id, grant.id, date(2026, 10, 1), date(2026, 10, 31), "en")
            with clock.at(FIXED_MOMENT):
                item = news.start_draft(author, scope)
                if published:
                    news.publish(author, item, item.version)
                return item.id

        return self._run(run)

    def indicator(self, programme_id: int, name: str | None = None) -> int:
        """An indicator of ``programme_id`` defined by an administrator, at a fixed moment."""

        def run() -> int:
            programme = db.session.get(Programme, programme_id)
            data = IndicatorInput(name=name or f"Indicator {next(_counter)}", unit="people")
            with clock.at(FIXED_MOMENT):
                return indicators.define_indicator(self._factory_admin(), programme, data).id

        return self._run(run)

    # --- running the services -----------------------------------------------------------------------

    def _run(self, service: Callable[[], T]) -> T:
        """Run a service in its own app context and commit, as the one commit point would (errors raise)."""
        with self.app.app_context():
            result = service()
            db.session.commit()
            return result

    def _organiser(self, forum: Forum) -> User:
        """Who runs the forum's meetings: an organiser of its grant, else an administrator made for the purpose."""
        organiser = db.session.execute(
            select(User)
            .join(GrantTeam, GrantTeam.user_id == User.id)
            .where(GrantTeam.grant_id == forum.grant_id)
            .order_by(GrantTeam.user_id)
            .limit(1)
        ).scalar_one_or_none()
        if organiser is not None:
            return organiser
        return self._factory_admin()

    def _factory_admin(self) -> User:
        """An administrator made for the purpose (actor of services no particular person runs)."""
        admin = db.session.execute(select(User).where(User.email == FACTORY_ADMIN)).scalar_one_or_none()
        if admin is None:
            admin = User(email=FACTORY_ADMIN, name="Factory Administrator", role="admin")
            db.session.add(admin)
            db.session.flush()
        return admin
