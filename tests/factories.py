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
        return self._save(Meeting(forum_id=forum_id, title=f"Meeting {n}", starts_at=start,
                                  ends_at=start + timedelta(hours=2), state=state,
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
