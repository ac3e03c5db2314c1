"""Programme-scale data for benchmarks: ``flask forum generate --scale N [--seed S]``.

At ``--scale 1`` this builds what a whole programme looks like after a year or two:
about 120 forums in seven countries, 12,000 people in the local agencies, 2,400
meetings (past ones held with attendance and minutes, future ones scheduled), 96,000
invitations and 60,000 agreed actions with their histories. Densities per forum do not
change with the scale (20 meetings, ~40 invitees, ~500 actions per forum); the number of
forums, people and grants does, so ``--scale 0.01`` is one small forum for a smoke test.

Why bulk inserts and not the services: the services (``meetings.services``,
``actions.services``, …) are the path for *one change* made by a person: they check the
state rules, flush per object and write an audit event each. The demo uses them to build
a few forums. For hundreds of thousands of rows that path takes hours, and it would not
test anything the service tests do not. The generator instead writes *already
consistent history* in one pass with SQLAlchemy Core ``insert()`` and lists of dicts
(executemany / insertmanyvalues), with ids assigned here so rows can refer to each other
without a round trip. It keeps to the rules the services enforce:

- meetings follow ``permissions.MEETING_TRANSITIONS``: drafts are never in the past,
  held meetings started before now and were scheduled first (``published_at``), and a
  cancelled meeting has its reason;
- minutes are appended versions; shared versions carry ``shared_at``; adopted minutes
  were circulated first; a later version of adopted minutes is a correction with a reason;
- an action is raised (``proposed``) at a held meeting by an organiser, owned by a member,
  due no earlier than the meeting, and then moves only along
  ``permissions.ACTION_TRANSITIONS``, giving reasons where ``ACTION_STATES_NEEDING_REASON``
  asks for one; reviews are linked to later held meetings; ``version`` counts its updates
  and ``closed_at`` is set on the closing one;
- stored HTML (agenda, minutes, forum description) comes from
  ``core.markdown.render_for_storage``, once per distinct text.

It is deterministic: the same seed and the same ``today`` give the same rows. Dates are
laid out around ``today`` (by default the current date) so there is always a past and a
future. Every generated account shares one password (``GENERATED_PASSWORD``), hashed once.
The database must be migrated and empty of accounts. The function does not commit.
"""

from __future__ import annotations

import random
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import cast
from zoneinfo import ZoneInfo

from sqlalchemy import Table, func, insert, select, text

from . import permissions
from .auth.passwords import hash_password
from .core import clock
from .core.markdown import render_for_storage
from .extensions import db
from .models import (
    ActionItem,
    ActionUpdate,
    AuditEvent,
    Forum,
    ForumMember,
    Grant,
    GrantTeam,
    Invitation,
    Meeting,
    MinutesComment,
    MinutesVersion,
    Organisation,
    Programme,
    User,
    WalkInAttendee,
)
from .models.searchable import Searchable
from .vocab import ACTION_CLOSED_STATES

GENERATED_PASSWORD = "forum-desk-generated"
DOMAIN = "generated.forum-desk.example"
MEETINGS_PER_FORUM = 20
PAST_MEETINGS = 15  # of those, in the past (held, or now and then cancelled)
MEMBERS_PER_FORUM = 38
ACTIONS_PER_FORUM = 500
PEOPLE_PER_FORUM = 100
FORUMS_AT_SCALE_1 = 120
FORUMS_PER_GRANT = 6
CHUNK = 5_000
# An organiser records an outcome for an open action at the next few meetings, not forever.
MAX_REVIEWS = 3

# Fixed logins, one per role, for benchmarks and for trying the data by hand.
LOGINS = {
    "admin": f"admin@{DOMAIN}",
    "staff": f"staff@{DOMAIN}",
    "organiser": f"organiser@{DOMAIN}",
    "participant": f"participant@{DOMAIN}",
}

CITIES = {
    "BA": ("Europe/Sarajevo", ["Sarajevo", "Banja Luka", "Tuzla", "Zenica", "Mostar", "Bihać"]),
    "ME": ("Europe/Podgorica", ["Podgorica", "Bijelo Polje", "Nikšić", "Bar"]),
    "MK": ("Europe/Skopje", ["Skopje", "Bitola", "Tetovo", "Kumanovo", "Ohrid", "Štip"]),
    "RS": ("Europe/Belgrade", ["Beograd", "Novi Sad", "Niš", "Kragujevac", "Novi Pazar"]),
    "AL": ("Europe/Tirane", ["Tirana", "Durrës", "Shkodër", "Elbasan", "Vlorë"]),
    "XK": ("Europe/Belgrade", ["Prishtina", "Prizren", "Peja", "Mitrovica", "Gjilan"]),
    "TR": ("Europe/Istanbul", ["Ankara", "İstanbul", "İzmir", "Bursa"]),
}
LOCAL_KINDS = {
    "probation": "Probation office",
    "social_welfare": "Centre for Social Work",
    "employment": "Employment Service",
    "health": "Community Health Centre",
    "police": "Police Directorate",
    "municipality": "Municipality",
    "ngo": "Reintegration NGO",
    "religious_community": "Religious Community",
    "education": "Adult Education Centre",
    "other": "Local Chamber of Commerce",
}
FIRST_NAMES = [
    "Amra",
    "Emir",
    "Jasmina",
    "Dragan",
    "Milica",
    "Nikola",
    "Ana",
    "Marko",
    "Selma",
    "Haris",
    "Lejla",
    "Edin",
    "Ivana",
    "Stefan",
    "Jelena",
    "Aleksandar",
    "Arben",
    "Blerta",
    "Dritan",
    "Elira",
    "Fatmir",
    "Gentiana",
    "Aylin",
    "Mehmet",
    "Zeynep",
    "Mustafa",
    "Đorđe",
    "Šejla",
    "Žana",
    "Čedomir",
    "Ćamil",
    "Ljubica",
    "Njegoš",
    "Vesna",
    "Goran",
    "Branka",
    "Mirza",
    "Alma",
    "Tamara",
    "Besnik",
    "Valbona",
    "Ömer",
    "Gülşen",
    "Bojan",
]
SURNAMES = [
    "Hodžić",
    "Kovačević",
    "Petrović",
    "Jovanović",
    "Begić",
    "Mehmedović",
    "Popović",
    "Nikolić",
    "Ilić",
    "Đurić",
    "Čolić",
    "Šehić",
    "Živković",
    "Marković",
    "Stojanovski",
    "Trajkovska",
    "Dimitrievski",
    "Krasniqi",
    "Gashi",
    "Berisha",
    "Hoxha",
    "Shehu",
    "Yılmaz",
    "Kaya",
    "Demir",
    "Çelik",
    "Šarić",
    "Vuković",
    "Bajramović",
    "Osmanović",
    "Radović",
    "Lalić",
    "Ćosić",
    "Đukanović",
    "Tanasković",
    "Mustafić",
    "Halilović",
    "Rexhepi",
]
JOB_TITLES = [
    "Social worker",
    "Probation officer",
    "Case manager",
    "Head of unit",
    "Legal adviser",
    "Psychologist",
    "Employment counsellor",
    "Community police officer",
    "Programme officer",
    "Imam",
    "Teacher",
    "Nurse",
    "Director",
    "Coordinator",
]
ACTION_TITLES = [
    "Draft the pre-release plan template for case {code}",
    "Arrange a job-readiness interview for case {code}",
    "Confirm housing options with the municipality for case {code}",
    "Share the contact list of the forum's focal points",
    "Prepare a short briefing on family support services",
    "Map vocational training places available after release",
    "Invite the health centre to the next meeting",
    "Agree a referral form between prison and probation",
    "Collect figures on releases expected next quarter",
    "Organise a visit to the prison's education unit",
    "Check identity-document renewal before release for case {code}",
    "Prepare the information leaflet for families",
]
NOTES = [
    "Discussed at the forum; owner agreed to follow up.",
    "Call held with the partners.",
    "Waiting for the ministry's answer.",
    "Draft shared with the members.",
    "Meeting with the family held.",
    "Figures collected from the prison administration.",
]
REASONS = {
    "declined": "Not within our mandate; the social welfare centre is better placed.",
    "blocked": "Waiting for the ministry's written approval.",
    "dropped": "No longer needed after the case was transferred.",
}
AGENDAS = [
    "1. Welcome and adoption of the agenda\n2. Follow-up of agreed actions\n3. {topic}\n4. Any other business",
    "## Agenda\n\n1. Opening\n2. Review of actions since the last meeting\n3. {topic}\n"
    "4. Next steps and date of the next meeting",
    "**Morning**\n\n- Review of the actions agreed last time\n- {topic}\n\n**Afternoon**\n\n"
    "- Working groups\n- Conclusions",
]
TOPICS = [
    "Pre-release planning for the next quarter",
    "Employment after release: what works",
    "Family support and housing",
    "Health care continuity",
    "Referral pathways between agencies",
    "Role of religious communities in reintegration",
    "Data protection in case coordination",
]
MINUTES = [
    "## Summary\n\nThe forum reviewed the open actions and discussed *{topic}*.\n\n"
    "- The prison presented the releases expected this quarter.\n- Probation and the social welfare "
    "centre agreed on a shared referral form.\n\nThe next meeting will review progress.",
    "Members present discussed **{topic}**. Several actions were closed; new ones were agreed "
    "with owners and due dates (see the actions below).\n\n1. Referral form adopted\n2. Housing options mapped",
]
DESCRIPTIONS = [
    "A standing local coordination forum: the prison's team and the agencies that support a person "
    "after release agree **who does what**, and check at the next meeting whether it was done.",
    "Local agencies in {city} meet every month to coordinate pre-release planning and follow up on "
    "agreed actions.\n\n- prison and probation\n- social welfare and employment\n- health, police, NGOs",
]


@dataclass
class Ids:
    """Next id per table: ids are assigned here so rows can refer to each other before insertion."""

    counters: dict[str, int] = field(default_factory=dict)

    def next(self, table: str) -> int:
        self.counters[table] = self.counters.get(table, 0) + 1
        return self.counters[table]


@dataclass
class Summary:
    rows: dict[str, int] = field(default_factory=dict)
    logins: dict[str, str] = field(default_factory=dict)
    password: str = GENERATED_PASSWORD


class NotEmpty(RuntimeError):
    pass


def fold(value: str) -> str:
    """Lower-case ASCII-ish form of a name: for e-mail addresses."""
    decomposed = unicodedata.normalize("NFKD", value.replace("đ", "dj").replace("Đ", "Dj").replace("ı", "i"))
    return "".join(c for c in decomposed if c.isascii() and (c.isalnum() or c in ".-")).lower()


class _Html:
    """render_for_storage once per distinct Markdown text (it runs in a subprocess)."""

    def __init__(self) -> None:
        self._cache: dict[str, str] = {}

    def __call__(self, source: str) -> str:
        if source not in self._cache:
            self._cache[source] = render_for_storage(source)
        return self._cache[source]


def generate(scale: float, seed: int = 1, today: date | None = None) -> Summary:
    """Write a programme of the given scale into the (empty) database; flush, do not commit."""
    if db.session.execute(select(func.count()).select_from(User)).scalar_one():
        raise NotEmpty("The database already has accounts: generate into a freshly migrated database.")
    rng = random.Random(seed)
    # "now" is noon UTC of ``today`` when one is given (then the output is fully reproducible).
    now = datetime.combine(today, time(12), UTC) if today else clock.utcnow().replace(microsecond=0)
    today = now.date()
    html = _Html()
    ids = Ids()
    rows: dict[str, list[dict]] = {}
    summary = Summary(logins=dict(LOGINS))

    def add(model, **values) -> dict:
        if issubclass(model, Searchable):  # what the ORM event would have set
            values["search_text"] = model.search_text_of(values)
        rows.setdefault(model.__tablename__, []).append(values)
        return values

    n_forums = max(1, round(FORUMS_AT_SCALE_1 * scale))
    n_grants = max(1, -(-n_forums // FORUMS_PER_GRANT))
    password_hash = hash_password(GENERATED_PASSWORD)  # argon2 is slow by design: one hash for all
    start = now - timedelta(days=7 * 4 * PAST_MEETINGS + 30)

    programme_id = ids.next("programme")
    add(
        Programme,
        id=programme_id,
        name=f"Regional programme on prison reintegration (generated, seed {seed})",
        description="Generated data for benchmarks.",
        themes=["Radicalisation in prisons", "Reintegration", "Probation"],
        starts_on=start.date() - timedelta(days=60),
        ends_on=today + timedelta(days=730),
        created_at=start,
    )

    # International organisations: grant holders and the programme's staff.
    holders = []
    for name in ("Council of Europe Office", "EU Delegation", "Regional Reintegration Network"):
        org_id = ids.next("organisation")
        add(Organisation, id=org_id, name=name, kind="international", country="BA", city="Sarajevo", created_at=start)
        holders.append(org_id)

    def person(
        org_id: int | None,
        role: str = "member",
        email: str | None = None,
        tz: str = "Europe/Sarajevo",
        name: str | None = None,
    ) -> int:
        user_id = ids.next("user_account")
        name = name or f"{rng.choice(FIRST_NAMES)} {rng.choice(SURNAMES)}"
        email = email or ".".join(fold(part) for part in name.split()) + f".{user_id}@{DOMAIN}"
        add(
            User,
            id=user_id,
            email=email,
            name=name,
            password_hash=password_hash,
            role=role,
            organisation_id=org_id,
            job_title=rng.choice(JOB_TITLES),
            phone="",
            timezone=tz,
            locale="en",
            active=True,
            created_at=start,
            password_changed_at=start,
            last_login_at=None,
        )
        return user_id

    person(None, "admin", LOGINS["admin"], name="Generated Administrator")
    person(holders[0], "staff", LOGINS["staff"], name="Generated Programme Staff")
    for _ in range(max(1, round(10 * scale)) - 1):
        person(rng.choice(holders), "staff")

    # Grants: one per six forums, in turn across the countries.
    countries = list(CITIES)
    grants: list[tuple[int, str, list[int]]] = []  # (id, country, organiser ids)
    for g in range(n_grants):
        country = countries[g % len(countries)]
        grant_id = ids.next("grant_agreement")
        holder = holders[g % len(holders)]
        add(
            Grant,
            id=grant_id,
            programme_id=programme_id,
            reference=f"GEN-{seed}-{g + 1:04d}",
            title=f"Local coordination forums in {country} ({g + 1})",
            holder_id=holder,
            country=country,
            starts_on=start.date() - timedelta(days=30),
            ends_on=today + timedelta(days=365),
            created_at=start,
        )
        organisers = []
        for k in range(rng.randint(2, 3)):
            email = LOGINS["organiser"] if g == 0 and k == 0 else None
            organisers.append(
                person(holder, email=email, tz=CITIES[country][0], name="Generated Organiser" if email else None)
            )
        for user_id in organisers:
            add(GrantTeam, grant_id=grant_id, user_id=user_id, added_at=start)
        grants.append((grant_id, country, organisers))

    # Forums, each in a city of its grant's country with its own prison and local agencies.
    city_orgs: dict[str, dict[str, int]] = {}
    agenda_texts = [a.format(topic=t) for a in AGENDAS for t in TOPICS]
    minutes_texts = [m.format(topic=t) for m in MINUTES for t in TOPICS]
    participant_login_used = False
    forum_n = 0
    for grant_id, country, organisers in grants:
        tz_name, cities = CITIES[country]
        zone = ZoneInfo(tz_name)
        for _ in range(FORUMS_PER_GRANT):
            if forum_n >= n_forums:
                break
            forum_n += 1
            city = cities[(forum_n // len(countries)) % len(cities)]
            orgs = city_orgs.get(city)
            if orgs is None:
                orgs = city_orgs[city] = {}
                for kind, label in LOCAL_KINDS.items():
                    org_id = ids.next("organisation")
                    add(
                        Organisation,
                        id=org_id,
                        name=f"{label} {city}",
                        kind=kind,
                        country=country,
                        city=city,
                        created_at=start,
                    )
                    orgs[kind] = org_id
            prison_id = ids.next("organisation")
            add(
                Organisation,
                id=prison_id,
                name=f"{city} Prison {forum_n}",
                kind="prison",
                country=country,
                city=city,
                created_at=start,
            )
            forum_orgs = {**orgs, "prison": prison_id}
            forum_id = ids.next("forum")
            description = rng.choice(DESCRIPTIONS).format(city=city)
            add(
                Forum,
                id=forum_id,
                grant_id=grant_id,
                title=f"{city} local coordination forum {forum_n}",
                city=city,
                country=country,
                timezone=tz_name,
                focus=f"{city} Prison {forum_n} and release planning",
                description=description,
                description_html=html(description),
                active=True,
                created_at=start,
            )

            # People of this forum's agencies; members drawn from them, every core kind present.
            kinds = list(forum_orgs)
            people = []
            for p in range(PEOPLE_PER_FORUM):
                email = None
                if not participant_login_used and p == 0:
                    email, participant_login_used = LOGINS["participant"], True
                people.append(
                    (
                        person(
                            forum_orgs[kinds[p % len(kinds)]],
                            email=email,
                            tz=tz_name,
                            name="Generated Participant" if email else None,
                        ),
                        kinds[p % len(kinds)],
                    )
                )
            members = people[:MEMBERS_PER_FORUM]
            for user_id, _kind in members:
                add(
                    ForumMember,
                    forum_id=forum_id,
                    user_id=user_id,
                    role="observer" if rng.random() < 0.1 else "participant",
                    joined_at=start,
                )
            invitees = [u for u, _k in members] + organisers
            _meetings_and_actions(
                add,
                ids,
                rng,
                html,
                forum_id,
                zone,
                invitees,
                [u for u, _k in members],
                organisers,
                forum_orgs,
                dict(members),
                start,
                now,
                agenda_texts,
                minutes_texts,
                seed,
            )
    _insert(rows)
    _reset_sequences(rows)
    summary.rows = {table: len(values) for table, values in rows.items()}
    return summary


def _meetings_and_actions(
    add,
    ids,
    rng,
    html,
    forum_id,
    zone,
    invitees,
    members,
    organisers,
    forum_orgs,
    member_kind,
    start,
    now,
    agenda_texts,
    minutes_texts,
    seed,
) -> None:
    held: list[tuple[int, datetime]] = []  # (meeting id, ends_at) of held meetings, in order
    first_day = start.astimezone(zone).date() + timedelta(days=rng.randint(0, 14))
    past_left = PAST_MEETINGS
    for n in range(MEETINGS_PER_FORUM):
        day = first_day + timedelta(days=28 * n + rng.randint(-3, 3))
        starts = datetime.combine(day, time(10, 0), zone).astimezone(UTC)
        ends = starts + timedelta(hours=3)
        meeting_id = ids.next("meeting")
        organiser = rng.choice(organisers)
        created = max(start, min(starts - timedelta(days=21), now - timedelta(hours=rng.randint(2, 72))))
        agenda = rng.choice(agenda_texts)
        past = starts < now
        if past:
            past_left -= 1
            state = "cancelled" if rng.random() < 0.05 else ("scheduled" if ends > now - timedelta(days=2) else "held")
        else:
            state = "draft" if starts > now + timedelta(days=60) else "scheduled"
        published = None if state == "draft" else created + timedelta(days=1)
        values = dict(
            id=meeting_id,
            forum_id=forum_id,
            title=f"Forum meeting {n + 1}",
            starts_at=starts,
            ends_at=ends,
            venue=f"Meeting room {rng.randint(1, 5)}",
            online_url="",
            agenda_md=agenda,
            agenda_html=html(agenda),
            state=state,
            cancel_reason="Postponed: too few members available." if state == "cancelled" else "",
            published_at=published,
            minutes_state="draft",
            minutes_revision=0,
            minutes_shared_revision=0,
            minutes_circulated_at=None,
            minutes_adopted_at=None,
            ical_uid=f"gen-{seed}-{forum_id}-{n + 1}@{DOMAIN}",
            ical_sequence=0 if published is None else (2 if state == "cancelled" else 1),
            version=1,
            created_by_id=organiser,
            created_at=created,
            updated_at=created,
        )
        add(
            AuditEvent,
            id=ids.next("audit_event"),
            at=created,
            actor_id=organiser,
            verb="meeting.create",
            object_type="Meeting",
            object_id=meeting_id,
            summary=f"Planned Forum meeting {n + 1}",
            data={"forum_id": forum_id},
            ip="",
        )
        for user_id in invitees:
            rsvp, rsvp_at, attendance, attendance_at = "needs-action", None, None, None
            if published is not None and (past or rng.random() < 0.6):
                rsvp = rng.choices(["accepted", "tentative", "declined", "needs-action"], [70, 8, 12, 10])[0]
                rsvp_at = None if rsvp == "needs-action" else min(published + timedelta(days=rng.randint(1, 14)), now)
            if state == "held":
                attendance = rng.choices(
                    ["present", "absent", "excused"], [85, 5, 10] if rsvp != "declined" else [10, 20, 70]
                )[0]
                attendance_at = ends + timedelta(hours=1)
            add(
                Invitation,
                id=ids.next("invitation"),
                meeting_id=meeting_id,
                user_id=user_id,
                invited_at=created,
                rsvp=rsvp,
                rsvp_comment="",
                rsvp_at=rsvp_at,
                attendance=attendance,
                attendance_at=attendance_at,
            )
        if state == "held":
            _minutes(add, ids, rng, html, values, organiser, members, minutes_texts, ends, now, is_last=past_left <= 1)
            if rng.random() < 0.3:
                add(
                    WalkInAttendee,
                    id=ids.next("walk_in_attendee"),
                    meeting_id=meeting_id,
                    name=f"{rng.choice(FIRST_NAMES)} {rng.choice(SURNAMES)}",
                    organisation_name="Guest agency",
                    organisation_kind="other",
                    added_by_id=organiser,
                    created_at=ends,
                )
            held.append((meeting_id, ends))
        add(Meeting, **values)

    # Actions: raised at held meetings, spread evenly, each with its history.
    if not held:
        return
    per_meeting = -(-ACTIONS_PER_FORUM // len(held))
    for index, (meeting_id, ends) in enumerate(held):
        later = held[index + 1 :]
        for _ in range(per_meeting):
            _action(
                add,
                ids,
                rng,
                forum_id,
                meeting_id,
                ends,
                zone,
                later,
                members,
                organisers,
                forum_orgs,
                member_kind,
                now,
            )


def _minutes(add, ids, rng, html, meeting, organiser, members, minutes_texts, ends, now, is_last) -> None:
    """Versions of a held meeting's minutes: older meetings adopted, the latest still draft or circulated."""
    body = rng.choice(minutes_texts)
    n_versions = rng.randint(1, 3)
    final = rng.choice(["draft", "circulated"]) if is_last else "adopted"
    at = ends + timedelta(days=1)
    for number in range(1, n_versions + 1):
        text_ = body if number == 1 else body + f"\n\nRevised: point {number} clarified."
        add(
            MinutesVersion,
            id=ids.next("minutes_version"),
            meeting_id=meeting["id"],
            number=number,
            body_md=text_,
            body_html=html(text_),
            decisions=["Referral form adopted", "Next meeting confirmed"],
            kind="edit",
            reason="",
            shared_at=(at + timedelta(days=3)) if final != "draft" and number == n_versions else None,
            author_id=organiser,
            created_at=at + timedelta(hours=number),
        )
    meeting.update(minutes_revision=n_versions, minutes_state=final)
    if final != "draft":
        meeting.update(minutes_shared_revision=n_versions, minutes_circulated_at=at + timedelta(days=3))
        add(
            MinutesComment,
            id=ids.next("minutes_comment"),
            meeting_id=meeting["id"],
            version_number=n_versions,
            author_id=rng.choice(members),
            body="Please add that the employment service joins next time.",
            created_at=at + timedelta(days=4),
        )
    if final == "adopted":
        meeting.update(minutes_adopted_at=at + timedelta(days=25))
        if rng.random() < 0.05:  # a correction after adoption: a new shared version with its reason
            number = n_versions + 1
            text_ = body + "\n\nCorrection: the date of the next meeting."
            add(
                MinutesVersion,
                id=ids.next("minutes_version"),
                meeting_id=meeting["id"],
                number=number,
                body_md=text_,
                body_html=html(text_),
                decisions=["Referral form adopted"],
                kind="correction",
                reason="The date of the next meeting was wrong.",
                shared_at=at + timedelta(days=30),
                author_id=organiser,
                created_at=at + timedelta(days=30),
            )
            meeting.update(minutes_revision=number, minutes_shared_revision=number)
    meeting["version"] = 2 + (n_versions > 1) + (final != "draft") + (final == "adopted")
    meeting["updated_at"] = max(at, min(now, at + timedelta(days=25)))


ACTION_DESCRIPTION = "Agreed at the forum; see the minutes for the discussion."


@lru_cache(maxsize=1)
def _action_description_html() -> str:
    """Rendered once, like every stored text here (pages show stored HTML, never Markdown)."""
    return render_for_storage(ACTION_DESCRIPTION, field="description")


def _action(
    add,
    ids,
    rng,
    forum_id,
    meeting_id,
    raised_at,
    zone,
    later_meetings,
    members,
    organisers,
    forum_orgs,
    member_kind,
    now,
) -> None:
    """One action and its history, moving only along permissions.ACTION_TRANSITIONS."""
    action_id = ids.next("action_item")
    owner = rng.choice(members)
    organiser = rng.choice(organisers)
    code = f"C-{rng.randint(1000, 9999)}"
    title = rng.choice(ACTION_TITLES).format(code=code)
    due = raised_at.astimezone(zone).date() + timedelta(days=rng.randint(14, 90))
    updates: list[dict] = []
    state, at = "proposed", raised_at

    def append(kind, from_state, to_state, note, author, when, meeting=None):
        updates.append(
            dict(
                id=ids.next("action_update"),
                action_id=action_id,
                author_id=author,
                kind=kind,
                from_state=from_state,
                to_state=to_state,
                note=note,
                meeting_id=meeting,
                created_at=when,
            )
        )

    append("state", None, "proposed", "Agreed at the meeting.", organiser, at)
    closed_at = None
    # Planned course: where this action is heading, walked step by step until "now".
    fate = rng.choices(
        ["done", "in_progress", "blocked", "declined", "dropped", "proposed", "accepted"], [55, 15, 6, 6, 4, 7, 7]
    )[0]
    course = {
        "done": ["accepted", "in_progress", "done"],
        "in_progress": ["accepted", "in_progress"],
        "blocked": ["accepted", "in_progress", "blocked"],
        "declined": ["declined"],
        "dropped": ["accepted", "dropped"],
        "proposed": [],
        "accepted": ["accepted"],
    }[fate]
    reviews = iter(later_meetings)
    next_review = next(reviews, None)
    for to_state in course:
        step = at + timedelta(days=rng.randint(2, 30), hours=rng.randint(1, 8))
        # Reviews at the meetings held before this step: the state as it stood then.
        while next_review is not None and next_review[1] < step:
            if sum(u["kind"] == "review" for u in updates) < MAX_REVIEWS:
                append("review", state, state, "Reviewed at the meeting.", organiser, next_review[1], next_review[0])
            next_review = next(reviews, None)
        if step >= now:
            break
        assert to_state in permissions.ACTION_TRANSITIONS[state], (state, to_state)
        note = REASONS.get(to_state, "") or (rng.choice(NOTES) if rng.random() < 0.5 else "")
        author = organiser if to_state == "dropped" else owner
        append("state", state, to_state, note, author, step)
        if to_state == "in_progress" and rng.random() < 0.5:
            progress_at = step + timedelta(days=rng.randint(1, 10))
            if progress_at < now:
                append("progress", None, None, rng.choice(NOTES), owner, progress_at)
                step = progress_at
        state, at = to_state, step
        if state in ACTION_CLOSED_STATES:
            closed_at = step
    # Later held meetings review it while it is open, and once more when it closed since the last one.
    while next_review is not None and next_review[1] > at and sum(u["kind"] == "review" for u in updates) < MAX_REVIEWS:
        append("review", state, state, "Reviewed at the meeting.", organiser, next_review[1], next_review[0])
        if state in ACTION_CLOSED_STATES:
            break
        next_review = next(reviews, None)
    # History in time order, ids rising with it (pages order an action's updates by id).
    given = sorted(u["id"] for u in updates)
    updates.sort(key=lambda u: u["created_at"])
    for update, update_id in zip(updates, given, strict=True):
        update["id"] = update_id
    add(
        ActionItem,
        id=action_id,
        forum_id=forum_id,
        meeting_id=meeting_id,
        title=title,
        description=ACTION_DESCRIPTION,
        description_html=_action_description_html(),
        owner_id=owner,
        owner_organisation_id=forum_orgs[member_kind[owner]],
        due_on=due,
        themes=["Reintegration"],
        case_code=code if code in title else "",
        state=state,
        version=len(updates),
        created_by_id=organiser,
        created_at=raised_at,
        updated_at=updates[-1]["created_at"],
        closed_at=closed_at,
        # The roll-up actions.services keeps as it appends (bulk rows bypass it).
        last_update_at=updates[-1]["created_at"],
        confirmed_at=min((u["created_at"] for u in updates if u["to_state"] == "accepted"), default=None),
    )
    for update in updates:
        add(ActionUpdate, **update)
    add(
        AuditEvent,
        id=ids.next("audit_event"),
        at=raised_at,
        actor_id=organiser,
        verb="action.raise",
        object_type="ActionItem",
        object_id=action_id,
        summary=f"Raised {title}"[:500],
        data={"forum_id": forum_id, "meeting_id": meeting_id},
        ip="",
    )


# Parents before children, so foreign keys hold at every insert.
_ORDER = [
    Programme,
    Organisation,
    User,
    Grant,
    GrantTeam,
    Forum,
    ForumMember,
    Meeting,
    Invitation,
    WalkInAttendee,
    MinutesVersion,
    MinutesComment,
    ActionItem,
    ActionUpdate,
    AuditEvent,
]


def _insert(rows: dict[str, list[dict]]) -> None:
    conn = db.session.connection()
    for model in _ORDER:
        values = rows.get(model.__tablename__, [])
        table = cast(Table, model.__table__)  # typed as any FromClause; a declarative model's is its Table
        for chunk in _chunks(values, CHUNK):
            conn.execute(insert(table), chunk)


def _chunks(values: list[dict], size: int) -> Iterable[list[dict]]:
    for i in range(0, len(values), size):
        yield values[i : i + size]


def _reset_sequences(rows: dict[str, list[dict]]) -> None:
    """Ids were given explicitly: move PostgreSQL's sequences past them (SQLite needs nothing)."""
    if db.session.get_bind().dialect.name != "postgresql":
        return
    conn = db.session.connection()
    for model in _ORDER:
        table = model.__tablename__
        if rows.get(table) and "id" in model.__table__.c:
            conn.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
                    f'(SELECT COALESCE(MAX(id), 1) FROM "{table}"))'
                )
            )
