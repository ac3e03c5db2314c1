"""Building test data: one of each kind of user, grants, forums, meetings.

Each method opens its own app context and returns plain ids/emails, so tests do not
hold ORM objects across requests.
"""
from __future__ import annotations

import itertools
from datetime import datetime, timedelta, timezone
from functools import lru_cache

from flask import Flask

from forum_app.auth.passwords import hash_password
from forum_app.extensions import db
from forum_app.models import (
    Forum, ForumMember, Grant, GrantTeam, Invitation, Meeting, Organisation, Programme, User,
)

PASSWORD = "correct horse battery staple"
_counter = itertools.count(1)


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

    def organisation(self, name: str | None = None, kind: str = "prison", country: str = "BA",
                     city: str = "Sarajevo") -> int:
        return self._save(Organisation(name=name or f"Organisation {next(_counter)}", kind=kind,
                                       country=country, city=city))

    def user(self, role: str = "member", email: str | None = None, name: str | None = None,
             active: bool = True, password: bool = True, organisation_id: int | None = None) -> str:
        n = next(_counter)
        email = email or f"user{n}@example.org"
        self._save(User(email=email, name=name or f"User {n}", role=role, active=active,
                        password_hash=_password_hash() if password else None,
                        organisation_id=organisation_id))
        return email

    def user_id(self, email: str) -> int:
        with self.app.app_context():
            return db.session.execute(db.select(User.id).where(User.email == email)).scalar_one()

    def programme(self) -> int:
        return self._save(Programme(name=f"Programme {next(_counter)}", themes=["Radicalisation in prisons"]))

    def grant(self, programme_id: int | None = None, holder_id: int | None = None, country: str = "BA") -> int:
        n = next(_counter)
        return self._save(Grant(programme_id=programme_id or self.programme(),
                                holder_id=holder_id or self.organisation(kind="ngo"),
                                reference=f"REF-{n}", title=f"Grant {n}", country=country))

    def add_to_team(self, grant_id: int, email: str) -> None:
        with self.app.app_context():
            db.session.add(GrantTeam(grant_id=grant_id, user_id=self.user_id(email)))
            db.session.commit()

    def forum(self, grant_id: int | None = None, title: str | None = None, timezone_name: str = "Europe/Sarajevo",
              city: str = "Sarajevo", country: str = "BA") -> int:
        return self._save(Forum(grant_id=grant_id or self.grant(), title=title or f"Forum {next(_counter)}",
                                city=city, country=country, timezone=timezone_name))

    def add_member(self, forum_id: int, email: str, role: str = "participant") -> None:
        self._save(ForumMember(forum_id=forum_id, user_id=self.user_id(email), role=role))

    def meeting(self, forum_id: int, state: str = "scheduled", starts_in_days: int = 14) -> int:
        start = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(days=starts_in_days)
        n = next(_counter)
        return self._save(Meeting(forum_id=forum_id, title=f"Meeting {n}", starts_at=start, venue="Town hall",
                                  ends_at=start + timedelta(hours=2), state=state,
                                  published_at=None if state == "draft" else start - timedelta(days=30),
                                  ical_uid=f"test-{n}@forum.test"))

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

    def minutes(self, meeting_id: int, versions: int = 1, state: str = "draft", author_email: str | None = None,
                body: str = "Minutes") -> None:
        """Give a meeting ``versions`` saved minutes versions (the last is current) in ``state``."""
        from forum_app.core.markdown import render_for_storage
        from forum_app.models import MinutesVersion

        author_id = self.user_id(author_email) if author_email else None
        with self.app.app_context():
            meeting = db.session.get(Meeting, meeting_id)
            for number in range(meeting.minutes_revision + 1, meeting.minutes_revision + versions + 1):
                text = f"{body} (version {number})"
                db.session.add(MinutesVersion(meeting_id=meeting_id, number=number, body_md=text,
                                              body_html=render_for_storage(text),
                                              decisions=[f"Decision {number}"], author_id=author_id))
                meeting.minutes_revision = number
            meeting.minutes_state = state
            now = datetime.now(timezone.utc).replace(microsecond=0)
            if state in ("circulated", "adopted"):
                db.session.flush()
                for version in db.session.execute(
                        db.select(MinutesVersion).where(MinutesVersion.meeting_id == meeting_id)).scalars():
                    version.shared_at = version.shared_at or now
                meeting.minutes_shared_revision = meeting.minutes_revision
                meeting.minutes_circulated_at = now
            if state == "adopted":
                meeting.minutes_adopted_at = now
            db.session.commit()

    def mark_attendance(self, invitation_id: int, attendance: str | None) -> None:
        with self.app.app_context():
            db.session.get(Invitation, invitation_id).attendance = attendance
            db.session.commit()

    def walk_in(self, meeting_id: int, name: str | None = None, kind: str = "other") -> int:
        from forum_app.models import WalkInAttendee

        return self._save(WalkInAttendee(meeting_id=meeting_id, name=name or f"Walk-in {next(_counter)}",
                                          organisation_name="Local NGO", organisation_kind=kind))

    def minutes_comment(self, meeting_id: int, email: str, body: str = "A comment") -> int:
        from forum_app.models import MinutesComment

        author_id = self.user_id(email)
        with self.app.app_context():
            number = db.session.get(Meeting, meeting_id).minutes_revision
            comment = MinutesComment(meeting_id=meeting_id, version_number=number, author_id=author_id, body=body)
            db.session.add(comment)
            db.session.commit()
            return comment.id
