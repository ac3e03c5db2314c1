"""Demo data: the 2021 local coordination forums in Sarajevo, Skopje and Bijelo Polje.

``seed_demo()`` builds a realistic data set for trying Forum Desk: one programme, three
grants, the local agencies of each city, one forum per city with its organiser and
members, the first meetings as they were held (Sarajevo 30 June 2021, Skopje and Bijelo
Polje 2 July 2021), follow-up meetings around today, and agreed actions with their
append-only history of updates.

Meetings and actions are built by the same services the pages call (``meetings.services``,
``meetings.minutes``, ``actions.services``), run with ``core.clock.at`` set to the moment
each step happened: a meeting is planned, published, answered, held, its attendance and
minutes recorded; an action is raised at its meeting and its updates posted one by one.
So the demo has no lifecycle of its own and cannot drift from the real one.

It is idempotent: every object is looked up by its natural key (programme name, grant
reference, organisation name + country, user email, forum title, membership pair,
meeting iCalendar UID, action title + forum) and only what is missing is created.
Existing rows are never changed, so an account that already exists (for example an
administrator made with ``flask forum create-admin``) keeps its own password. A
meeting's or an action's history is written only when the meeting or action itself is
created.

The function flushes but never commits: the caller commits. All demo accounts share
``DEMO_PASSWORD``; the CLI refuses to load them in production.

No personal data about prisoners appears anywhere: where an action concerns one
person's pre-release plan it carries a pseudonymous case code only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any, TypedDict, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import select

from .actions import services as actions
from .actions.services import ActionInput, UpdateInput
from .auth.passwords import hash_password
from .auth.services import find_user_by_email
from .core import clock
from .core.markdown import render_for_storage
from .extensions import db
from .meetings import day as meeting_day
from .meetings import delegates, minutes
from .meetings import services as meetings
from .meetings.delegates import DelegateInput
from .meetings.minutes import MinutesInput
from .meetings.services import MeetingDetails, WalkInInput
from .models import (
    ActionItem,
    Forum,
    ForumMember,
    Grant,
    GrantTeam,
    Meeting,
    NewsItem,
    Organisation,
    Programme,
    User,
)
from .models.people import normalise_email
from .notifications.delivery import withdraw_stale

DEMO_PASSWORD = "forum-desk-demo"
DEMO_DOMAIN = "forum-desk.example"

ModelT = TypeVar("ModelT")
DaySpec = date | int  # a calendar date, or a number of days from today (negative = past)


# --- the data, described declaratively -----------------------------------------------------


@dataclass(frozen=True)
class OrgSpec:
    name: str
    kind: str
    country: str
    city: str


@dataclass(frozen=True)
class PersonSpec:
    email: str
    name: str
    org: str | None  # key in ORGANISATIONS
    job_title: str
    timezone: str = "Europe/Sarajevo"


@dataclass(frozen=True)
class MeetingSpec:
    n: int  # position in the forum's series; part of the stable iCalendar UID
    title: str
    on: DaySpec
    starts: time
    ends: time
    state: str
    venue: str
    agenda: str = ""
    minutes: str = ""
    decisions: tuple[str, ...] = ()
    minutes_state: str = "adopted"  # for held meetings with minutes
    # (name, organisation, kind) of people who came without an invitation
    walk_ins: tuple[tuple[str, str, str], ...] = ()
    # (email of the invitee represented, name of who came for them): a delegate without an account (a walk-in).
    delegates: tuple[tuple[str, str], ...] = ()
    # (email, text) comments on circulated minutes
    comments: tuple[tuple[str, str], ...] = ()
    cancel_reason: str = ""
    online_url: str = ""
    # email -> (rsvp, attendance); people not listed get the default for the meeting's state.
    replies: dict[str, tuple[str, str | None]] = field(default_factory=dict)
    # What was recorded on the "During the meeting" page: (agenda item, notes, decisions) for its items.
    record: tuple[tuple[str, str, tuple[str, ...]], ...] = ()


@dataclass(frozen=True)
class UpdateSpec:
    kind: str  # "state", "progress" or "review"
    note: str
    on: DaySpec | None = None  # ignored for reviews: they happen at ``at_meeting``
    to_state: str | None = None
    by: str = "owner"  # "owner" (whoever owns it at that moment) or "organiser"
    at_meeting: int | None = None  # MeetingSpec.n of the meeting where it was reviewed
    to_owner: str | None = None  # a reassignment (kind "reassign"): the new owner's email


@dataclass(frozen=True)
class ActionSpec:
    title: str
    description: str
    owner: str  # email of a forum member
    due: DaySpec
    themes: tuple[str, ...]
    history: tuple[UpdateSpec, ...] = ()
    raised_at: int = 1  # MeetingSpec.n of the meeting that raised it
    case_code: str = ""


@dataclass(frozen=True)
class ForumSpec:
    slug: str
    title: str
    grant: str  # grant reference
    city: str
    country: str
    timezone: str
    language: str  # the forum's default language (core.language)
    focus: str
    description: str
    organiser: PersonSpec
    members: tuple[tuple[PersonSpec, str], ...]  # (person, forum role)
    meetings: tuple[MeetingSpec, ...]
    actions: tuple[ActionSpec, ...]


THEME_RADICALISATION = "Radicalisation in prisons"
THEME_PRE_RELEASE = "Pre-release planning"
THEME_POST_RELEASE = "Post-release support"
THEME_INFORMATION = "Information exchange"
THEME_TRAINING = "Staff training"
THEME_COORDINATION = "Multi-agency coordination"


class ProgrammeSpec(TypedDict):
    name: str
    description: str
    themes: list[str]
    starts_on: date
    ends_on: date


PROGRAMME: ProgrammeSpec = {
    "name": "Horizontal Facility for the Western Balkans and Turkey 2019–2022",
    "description": (
        "Joint programme of the European Union and the Council of Europe. Its regional action "
        "on radicalisation in prisons in the Western Balkans supports prison administrations "
        "and the local agencies that work with people after release: probation, social welfare "
        "centres, employment and health services, police, municipalities, NGOs and religious "
        "communities. Local coordination forums bring these agencies together to plan release "
        "and follow up on what each of them agreed to do."
    ),
    "themes": [
        THEME_RADICALISATION,
        THEME_PRE_RELEASE,
        THEME_POST_RELEASE,
        THEME_INFORMATION,
        THEME_TRAINING,
        THEME_COORDINATION,
    ],
    "starts_on": date(2019, 5, 1),
    "ends_on": date(2022, 12, 31),
}

ORGANISATIONS: dict[str, OrgSpec] = {
    "coe": OrgSpec("Council of Europe", "international", "BA", "Sarajevo"),
    # Sarajevo
    "ba.prison": OrgSpec("State Prison of Bosnia and Herzegovina", "prison", "BA", "Sarajevo"),
    "ba.social": OrgSpec("Cantonal Centre for Social Work Sarajevo", "social_welfare", "BA", "Sarajevo"),
    "ba.employment": OrgSpec("Employment Service of Canton Sarajevo", "employment", "BA", "Sarajevo"),
    "ba.health": OrgSpec("Public Health Centre of Canton Sarajevo", "health", "BA", "Sarajevo"),
    "ba.police": OrgSpec("Ministry of Interior of Canton Sarajevo – Police Administration", "police", "BA", "Sarajevo"),
    "ba.municipality": OrgSpec("Municipality of Novi Grad Sarajevo", "municipality", "BA", "Sarajevo"),
    "ba.ngo": OrgSpec("Sarajevo Reintegration Support Network", "ngo", "BA", "Sarajevo"),
    "ba.religious": OrgSpec("Islamic Community in Bosnia and Herzegovina", "religious_community", "BA", "Sarajevo"),
    # Skopje
    "mk.idrizovo": OrgSpec("Idrizovo Prison", "prison", "MK", "Skopje"),
    "mk.prison": OrgSpec("Skopje Prison", "prison", "MK", "Skopje"),
    "mk.probation": OrgSpec("Probation Office Skopje", "probation", "MK", "Skopje"),
    "mk.social": OrgSpec(
        "Inter-municipal Centre for Social Work of the City of Skopje", "social_welfare", "MK", "Skopje"
    ),
    "mk.employment": OrgSpec("Employment Service Agency – Skopje Centre", "employment", "MK", "Skopje"),
    "mk.health": OrgSpec("Public Health Centre Skopje", "health", "MK", "Skopje"),
    "mk.police": OrgSpec("Ministry of Interior – Sector for Internal Affairs Skopje", "police", "MK", "Skopje"),
    "mk.city": OrgSpec("City of Skopje", "municipality", "MK", "Skopje"),
    "mk.ngo": OrgSpec("Skopje Community Reintegration Centre", "ngo", "MK", "Skopje"),
    # Bijelo Polje (the prison is the Bijelo Polje unit of the Institute for Execution of Criminal Sanctions)
    "me.prison": OrgSpec("Bijelo Polje Prison", "prison", "ME", "Bijelo Polje"),
    "me.probation": OrgSpec("Probation Office Bijelo Polje", "probation", "ME", "Bijelo Polje"),
    "me.social": OrgSpec("Centre for Social Work Bijelo Polje", "social_welfare", "ME", "Bijelo Polje"),
    "me.employment": OrgSpec(
        "Employment Agency of Montenegro – Bijelo Polje Bureau", "employment", "ME", "Bijelo Polje"
    ),
    "me.health": OrgSpec("Health Centre Bijelo Polje", "health", "ME", "Bijelo Polje"),
    "me.police": OrgSpec("Police Directorate – Bijelo Polje Security Centre", "police", "ME", "Bijelo Polje"),
    "me.municipality": OrgSpec("Municipality of Bijelo Polje", "municipality", "ME", "Bijelo Polje"),
    "me.ngo": OrgSpec("Bijelo Polje Civic Initiative for Social Inclusion", "ngo", "ME", "Bijelo Polje"),
}

# (reference, title, holder organisation key, country)
GRANTS: tuple[tuple[str, str, str, str], ...] = (
    ("HF-RAD-BA-01", "Local coordination forum on release and reintegration, Sarajevo", "ba.ngo", "BA"),
    ("HF-RAD-MK-01", "Local coordination forum on release and reintegration, Skopje", "mk.ngo", "MK"),
    ("HF-RAD-ME-01", "Local coordination forum on release and reintegration, Bijelo Polje", "me.ngo", "ME"),
)
GRANT_PERIOD = (date(2021, 3, 1), date(2022, 12, 31))

ADMIN = PersonSpec(f"admin@{DEMO_DOMAIN}", "Forum Desk Administrator", None, "System administrator")
STAFF = PersonSpec(
    f"staff@{DEMO_DOMAIN}",
    "Claire Dubois",
    "coe",
    "Project Officer, Horizontal Facility – Council of Europe Office in Sarajevo",
)


def _person(local_part: str, name: str, org: str, job_title: str, tz: str) -> PersonSpec:
    return PersonSpec(f"{local_part}@{DEMO_DOMAIN}", name, org, job_title, tz)


# --- Sarajevo ---
_SA = "Europe/Sarajevo"
SA_ORGANISER = _person("organiser.sarajevo", "Lejla Begović", "ba.ngo", "Project Coordinator", _SA)
SA_PRISON = _person("amra.hodzic", "Amra Hodžić", "ba.prison", "Head of the Treatment Department", _SA)
SA_SOCIAL = _person("emir.mehmedovic", "Emir Mehmedović", "ba.social", "Social Worker, Adult Protection", _SA)
SA_EMPLOYMENT = _person("selma.kurtovic", "Selma Kurtović", "ba.employment", "Employment Counsellor", _SA)
SA_POLICE = _person("dzenan.alic", "Dženan Alić", "ba.police", "Community Policing Officer", _SA)
SA_RELIGIOUS = _person("haris.softic", "Haris Softić", "ba.religious", "Coordinator for Prison Chaplaincy", _SA)

SA_AGENDA_1 = """\
1. Welcome and introductions (Council of Europe, grant holder)
2. Purpose of the local coordination forum and draft terms of reference
3. The new State Prison: treatment programmes and pre-release planning
4. Post-release support: what each agency can offer
5. Information exchange between agencies: contact points and data protection
6. Agreed actions, owners and due dates
7. Date of the next meeting
"""

SA_MINUTES_1 = """\
## Participants

Representatives of the State Prison, the Cantonal Centre for Social Work, the Employment
Service of Canton Sarajevo, the Islamic Community, the grant holder and the Council of
Europe. The Cantonal Police Administration sent apologies.

## Summary

- The forum adopted its draft terms of reference; members will send comments within two weeks.
- The State Prison presented its treatment programmes and the pre-release planning it starts
  six months before release.
- Agencies agreed that the main gaps after release are accommodation, employment and
  continuity of health care.
- Information about individual cases is exchanged only through named contact points and
  recorded under pseudonymous case codes.

## Agreed actions

The agreed actions, their owners and due dates are recorded with the meeting (see
"Actions agreed at this meeting"); they are not retyped here.

## Next meeting

October 2021, hosted by the Centre for Social Work.
"""

SA_AGENDA_2 = """\
1. Welcome and adoption of the agenda
2. Follow-up review of the actions agreed on 30 June
3. Draft pre-release planning protocol: discussion
4. Awareness of signs of radicalisation among frontline staff
5. Date of the next meeting
"""

SA_MINUTES_2 = """\
## Follow-up review

The state of each action agreed on 30 June was reviewed; the outcomes are recorded with the
actions (see "Follow-up review of agreed actions"), not retyped here.

## Discussion

Members asked for a joint awareness session for frontline staff; the Police Administration
offered to prepare it.

## Next meeting

To be scheduled once the protocol has been reviewed.
"""

FOLLOW_UP_AGENDA = """\
1. Review of agreed actions
2. Welcome and adoption of the agenda
3. Pre-release cases: update from the prison (case codes only)
4. Any other business
5. Date of the next meeting
"""

SARAJEVO = ForumSpec(
    slug="sarajevo",
    title="Sarajevo local coordination forum",
    grant="HF-RAD-BA-01",
    city="Sarajevo",
    country="BA",
    timezone=_SA,
    language="bs",
    focus="new State Prison, Sarajevo",
    description=(
        "Brings together the new State Prison and the agencies of Canton Sarajevo that support "
        "people after release, to plan release together and follow up on agreed actions."
    ),
    organiser=SA_ORGANISER,
    members=(
        (SA_PRISON, "participant"),
        (SA_SOCIAL, "participant"),
        (SA_EMPLOYMENT, "participant"),
        (SA_POLICE, "participant"),
        (SA_RELIGIOUS, "observer"),
    ),
    meetings=(
        MeetingSpec(
            1,
            "First meeting of the Sarajevo local coordination forum",
            date(2021, 6, 30),
            time(10, 0),
            time(13, 0),
            "held",
            "Conference room, Cantonal Centre for Social Work Sarajevo",
            agenda=SA_AGENDA_1,
            minutes=SA_MINUTES_1,
            decisions=(
                "The forum adopts its draft terms of reference, subject to comments within two weeks.",
                "Each agency names one contact point for pre-release planning.",
                "Information about individual cases is exchanged only through contact points, "
                "under pseudonymous case codes.",
            ),
            replies={
                SA_POLICE.email: ("declined", "excused"),
                SA_RELIGIOUS.email: ("tentative", "present"),
            },
            # The police officer could not come and sent a colleague from the same station (issue 21, part 2).
            delegates=((SA_POLICE.email, "Emir Delić"),),
        ),
        MeetingSpec(
            2,
            "Second meeting: follow-up review",
            date(2021, 10, 13),
            time(10, 0),
            time(12, 30),
            "held",
            "Conference room, Cantonal Centre for Social Work Sarajevo",
            agenda=SA_AGENDA_2,
            minutes=SA_MINUTES_2,
            minutes_state="circulated",
            walk_ins=(("Mirela Kovač", "Health Centre Novo Sarajevo", "health"),),
            comments=(
                (
                    SA_PRISON.email,
                    "Please record that the prison will share its release calendar with the "
                    "contact points every month.",
                ),
                (SA_SOCIAL.email, "Agreed. The protocol pilot should start in January, not December."),
            ),
            decisions=("The joint pre-release planning protocol is piloted for six months.",),
            replies={SA_EMPLOYMENT.email: ("accepted", "absent")},
        ),
        MeetingSpec(
            4,
            "Third meeting: follow-up review",
            -35,
            time(10, 0),
            time(12, 30),
            "held",
            "Conference room, Cantonal Centre for Social Work Sarajevo",
            agenda=FOLLOW_UP_AGENDA,
            replies={SA_POLICE.email: ("declined", "excused")},
            record=(
                (
                    "Pre-release cases: update from the prison (case codes only)",
                    "Three releases are due before the next meeting (SA-2021-07, SA-2021-09, SA-2021-11). "
                    "Housing is arranged for two of them.",
                    ("The social welfare centre finds temporary housing for SA-2021-11.",),
                ),
                ("Any other business", "The health centre asks to join the forum as a member.", ()),
            ),
        ),
        MeetingSpec(
            3,
            "Follow-up meeting",
            21,
            time(10, 0),
            time(12, 30),
            "scheduled",
            "Conference room, Cantonal Centre for Social Work Sarajevo",
            agenda=FOLLOW_UP_AGENDA,
            online_url="https://meet.forum-desk.example/sarajevo-follow-up",
            replies={
                SA_ORGANISER.email: ("accepted", None),
                SA_PRISON.email: ("accepted", None),
                SA_SOCIAL.email: ("tentative", None),
                SA_POLICE.email: ("declined", None),
            },
        ),
    ),
    actions=(
        ActionSpec(
            "Name a contact point in each agency for pre-release planning",
            "Each member agency names one person (and a deputy) who receives and answers "
            "pre-release planning requests. The prison circulates the list.",
            SA_PRISON.email,
            date(2021, 7, 30),
            (THEME_INFORMATION, THEME_PRE_RELEASE),
            history=(
                UpdateSpec("state", "Accepted.", date(2021, 7, 2), to_state="accepted"),
                UpdateSpec("state", "Collecting names from the agencies.", date(2021, 7, 12), to_state="in_progress"),
                UpdateSpec("progress", "List circulated to six agencies; two still to confirm.", date(2021, 7, 20)),
                UpdateSpec(
                    "state",
                    "All agencies confirmed; list shared with forum members.",
                    date(2021, 7, 28),
                    to_state="done",
                ),
                UpdateSpec(
                    "review",
                    "Confirmed complete; the list is updated whenever staff change.",
                    by="organiser",
                    at_meeting=2,
                ),
            ),
        ),
        ActionSpec(
            "Draft a joint pre-release planning protocol between the State Prison and the Centre for Social Work",
            "A short protocol: when the prison notifies the Centre of an upcoming release, what "
            "information is shared, and who prepares the post-release support plan.",
            SA_SOCIAL.email,
            date(2021, 9, 30),
            (THEME_PRE_RELEASE, THEME_POST_RELEASE, THEME_COORDINATION),
            history=(
                UpdateSpec(
                    "state",
                    "Accepted; will draft with the prison's treatment department.",
                    date(2021, 7, 5),
                    to_state="accepted",
                ),
                UpdateSpec("state", "Drafting started.", date(2021, 7, 26), to_state="in_progress"),
                UpdateSpec(
                    "progress",
                    "First draft shared with the prison's treatment department for comments.",
                    date(2021, 9, 15),
                ),
                UpdateSpec(
                    "review",
                    "Draft discussed; legal review by the Ministry of Justice is needed "
                    "before signature. Carried over.",
                    by="organiser",
                    at_meeting=2,
                ),
                UpdateSpec("progress", "Legal review by the Ministry of Justice completed; two clauses revised.", -60),
                UpdateSpec(
                    "state", "Protocol signed by the State Prison and the Centre for Social Work.", -40, to_state="done"
                ),
                UpdateSpec(
                    "review",
                    "Signed, half a year later than planned; the six-month pilot starts now.",
                    by="organiser",
                    at_meeting=4,
                ),
            ),
        ),
        ActionSpec(
            "Offer employment counselling to people within six months of release",
            "Employment counsellors hold group information sessions in the prison and register "
            "interested people with the Employment Service before release.",
            SA_EMPLOYMENT.email,
            30,
            (THEME_POST_RELEASE, THEME_PRE_RELEASE),
            history=(
                UpdateSpec(
                    "state",
                    "Accepted, subject to access arrangements with the prison.",
                    date(2021, 7, 8),
                    to_state="accepted",
                ),
                UpdateSpec(
                    "review",
                    "Start postponed until prison access arrangements are in place.",
                    by="organiser",
                    at_meeting=2,
                ),
                UpdateSpec("review", "Access still being arranged; carried over.", by="organiser", at_meeting=4),
                UpdateSpec("progress", "Access procedure agreed with the prison; first session being scheduled.", -20),
            ),
        ),
        ActionSpec(
            "Prepare the pre-release plan for case SA-2021-07",
            "Coordinate accommodation, family support and a first appointment with the Centre for "
            "Social Work for the person registered under case code SA-2021-07.",
            SA_PRISON.email,
            date(2021, 8, 31),
            (THEME_PRE_RELEASE,),
            case_code="SA-2021-07",
            history=(
                UpdateSpec("state", "Accepted.", date(2021, 7, 1), to_state="accepted"),
                UpdateSpec(
                    "state",
                    "Planning meeting held with the Centre for Social Work.",
                    date(2021, 7, 15),
                    to_state="in_progress",
                ),
                UpdateSpec(
                    "state",
                    "The release date depends on a pending decision on conditional release; planning paused.",
                    date(2021, 8, 20),
                    to_state="blocked",
                ),
                UpdateSpec(
                    "review",
                    "Remains blocked; the prison will inform the forum as soon as the decision is known.",
                    by="organiser",
                    at_meeting=2,
                ),
                UpdateSpec(
                    "state",
                    "Conditional release granted; planning resumed with the Centre for Social Work.",
                    -70,
                    to_state="in_progress",
                ),
                UpdateSpec(
                    "review",
                    "Back on track: accommodation found, first appointment at the Centre booked.",
                    by="organiser",
                    at_meeting=4,
                ),
            ),
        ),
        ActionSpec(
            "Organise an awareness session on signs of radicalisation for frontline staff",
            "A half-day joint session for staff of the Centre for Social Work and the Employment "
            "Service, prepared by the Police Administration with the State Prison.",
            SA_POLICE.email,
            45,
            (THEME_RADICALISATION, THEME_TRAINING),
            raised_at=2,
            history=(
                UpdateSpec(
                    "state",
                    "The Police Administration cannot lead it this year; it can send a trainer.",
                    date(2021, 10, 20),
                    to_state="declined",
                ),
                UpdateSpec(
                    "reassign",
                    "The Centre for Social Work leads the session; the police send a trainer.",
                    date(2021, 10, 25),
                    by="organiser",
                    to_owner=SA_SOCIAL.email,
                ),
                UpdateSpec(
                    "state",
                    "Accepted; we will prepare it with the police trainer.",
                    date(2021, 10, 28),
                    to_state="accepted",
                ),
                UpdateSpec("state", "Programme drafted with the police trainer.", -50, to_state="in_progress"),
                UpdateSpec("review", "Session planned for next month.", by="organiser", at_meeting=4),
            ),
        ),
    ),
)

# --- Skopje ---
_SK = "Europe/Skopje"
SK_ORGANISER = _person("organiser.skopje", "Ana Dimitrovska", "mk.ngo", "Programme Coordinator", _SK)
SK_IDRIZOVO = _person(
    "elena.stojanovska", "Elena Stojanovska", "mk.idrizovo", "Head of the Resocialisation Sector", _SK
)
SK_PRISON = _person("aleksandar.nikolovski", "Aleksandar Nikolovski", "mk.prison", "Deputy Director", _SK)
SK_PROBATION = _person("marija.trajkovska", "Marija Trajkovska", "mk.probation", "Probation Officer", _SK)
SK_SOCIAL = _person("arben.selmani", "Arben Selmani", "mk.social", "Social Worker", _SK)
SK_CITY = _person("ivana.petreska", "Ivana Petreska", "mk.city", "Adviser for Social Affairs", _SK)

SK_AGENDA_1 = """\
1. Welcome and introductions
2. Purpose of the local coordination forum
3. Idrizovo and Skopje prisons: preparing people for release
4. Probation and social work after release: roles and referral paths
5. Services available in the City of Skopje
6. Agreed actions, owners and due dates
7. Date of the next meeting
"""

SK_MINUTES_1 = """\
## Summary

- Both prisons described how release is prepared today; contacts with outside agencies are
  mostly informal and depend on individual staff.
- The Probation Office and the Centre for Social Work agreed to meet the prisons regularly
  before each release.
- The City of Skopje offered to help map the services available after release.

## Agreed actions

The agreed actions, their owners and due dates are recorded with the meeting (see
"Actions agreed at this meeting"); they are not retyped here.
"""

SKOPJE = ForumSpec(
    slug="skopje",
    title="Skopje local coordination forum",
    grant="HF-RAD-MK-01",
    city="Skopje",
    country="MK",
    timezone=_SK,
    language="mk",
    focus="Idrizovo and Skopje prisons",
    description=(
        "Coordination between Idrizovo Prison, Skopje Prison, the Probation Office and the "
        "social, employment and health services of the City of Skopje."
    ),
    organiser=SK_ORGANISER,
    members=(
        (SK_IDRIZOVO, "participant"),
        (SK_PRISON, "participant"),
        (SK_PROBATION, "participant"),
        (SK_SOCIAL, "participant"),
        (SK_CITY, "observer"),
    ),
    meetings=(
        MeetingSpec(
            1,
            "First meeting of the Skopje local coordination forum",
            date(2021, 7, 2),
            time(10, 0),
            time(13, 0),
            "held",
            "Meeting room, City of Skopje",
            agenda=SK_AGENDA_1,
            minutes=SK_MINUTES_1,
            decisions=(
                "Idrizovo and Skopje prisons share release dates with the social work centre three months ahead.",
                "The forum meets every four months.",
            ),
            replies={
                SK_PRISON.email: ("tentative", "present"),
                SK_CITY.email: ("needs-action", "absent"),
            },
        ),
        MeetingSpec(
            2,
            "Follow-up meeting",
            42,
            time(10, 0),
            time(12, 0),
            "draft",
            "Meeting room, City of Skopje",
            agenda=FOLLOW_UP_AGENDA,
        ),
    ),
    actions=(
        ActionSpec(
            "Map post-release services available in the City of Skopje",
            "A directory of accommodation, employment, health and counselling services that "
            "accept people after release, with contact details of each provider.",
            SK_SOCIAL.email,
            date(2021, 10, 31),
            (THEME_POST_RELEASE, THEME_INFORMATION),
            history=(
                UpdateSpec("state", "Accepted; the City of Skopje will help.", date(2021, 7, 6), to_state="accepted"),
                UpdateSpec(
                    "state", "Questionnaire sent to service providers.", date(2021, 7, 20), to_state="in_progress"
                ),
                UpdateSpec(
                    "progress",
                    "Fourteen providers listed; employment and housing sections still open.",
                    date(2021, 9, 10),
                ),
                UpdateSpec(
                    "state", "Directory of services shared with forum members.", date(2021, 10, 25), to_state="done"
                ),
            ),
        ),
        ActionSpec(
            "Hold joint pre-release planning meetings between Idrizovo Prison and the Probation Office",
            "Monthly meetings to review upcoming releases and agree who contacts each person's "
            "local services. Cases are discussed under case codes only.",
            SK_PROBATION.email,
            date(2021, 9, 15),
            (THEME_PRE_RELEASE, THEME_COORDINATION),
            history=(
                UpdateSpec("state", "Accepted.", date(2021, 7, 7), to_state="accepted"),
                UpdateSpec("state", "First joint meeting held.", date(2021, 7, 29), to_state="in_progress"),
                UpdateSpec("progress", "Two joint meetings held; a monthly schedule is agreed.", date(2021, 9, 2)),
                UpdateSpec(
                    "progress",
                    "Schedule paused during staff changes at the Probation Office; resuming next month.",
                    -25,
                ),
            ),
        ),
        ActionSpec(
            "Exchange contact points between Skopje Prison and the Centre for Social Work",
            "Each side names a contact point for release notifications and agrees how they reach each other.",
            SK_PRISON.email,
            date(2021, 9, 30),
            (THEME_INFORMATION,),
            history=(  # stalled: accepted, then nothing for months
                UpdateSpec("state", "Accepted.", date(2021, 7, 12), to_state="accepted"),
            ),
        ),
        ActionSpec(
            "Assess training needs on radicalisation for prison and probation staff",
            "A short survey of prison and probation staff to decide the content of a joint training.",
            SK_IDRIZOVO.email,
            60,
            (THEME_RADICALISATION, THEME_TRAINING),
        ),
    ),
)

# --- Bijelo Polje ---
_BP = "Europe/Podgorica"
BP_ORGANISER = _person("organiser.bijelopolje", "Dragana Vuković", "me.ngo", "Project Manager", _BP)
BP_PRISON = _person("marko.petrovic", "Marko Petrović", "me.prison", "Head of the Resocialisation Service", _BP)
BP_PROBATION = _person("milica.bulatovic", "Milica Bulatović", "me.probation", "Probation Officer", _BP)
BP_SOCIAL = _person("admir.kajevic", "Admir Kajević", "me.social", "Social Worker", _BP)
BP_EMPLOYMENT = _person("jovana.scekic", "Jovana Šćekić", "me.employment", "Employment Adviser", _BP)
BP_MUNICIPALITY = _person("senad.mujevic", "Senad Mujević", "me.municipality", "Secretary for Social Affairs", _BP)

BP_AGENDA_1 = """\
1. Welcome and introductions
2. Purpose of the local coordination forum
3. Bijelo Polje Prison: release preparation and current capacity
4. Referral from the prison to the Centre for Social Work and the Probation Office
5. Employment after release: what the Employment Bureau can offer
6. Agreed actions, owners and due dates
"""

BP_MINUTES_1 = """\
## Summary

- The prison presented its release preparation; referrals to outside agencies are made by
  letter and often arrive after release.
- Members agreed a single referral form and that the Employment Bureau would present its
  services inside the prison.
- The Probation Office will follow each pre-release plan with the Centre for Social Work.

## Agreed actions

The agreed actions, their owners and due dates are recorded with the meeting (see
"Actions agreed at this meeting"); they are not retyped here.
"""

BIJELO_POLJE = ForumSpec(
    slug="bijelo-polje",
    title="Bijelo Polje local coordination forum",
    grant="HF-RAD-ME-01",
    city="Bijelo Polje",
    country="ME",
    timezone=_BP,
    language="cnr",
    focus="Bijelo Polje prison",
    description=(
        "Coordination between the Bijelo Polje unit of the Institute for Execution of Criminal "
        "Sanctions and the local agencies of Bijelo Polje that support people after release."
    ),
    organiser=BP_ORGANISER,
    members=(
        (BP_PRISON, "participant"),
        (BP_PROBATION, "participant"),
        (BP_SOCIAL, "participant"),
        (BP_EMPLOYMENT, "participant"),
        (BP_MUNICIPALITY, "observer"),
    ),
    meetings=(
        MeetingSpec(
            1,
            "First meeting of the Bijelo Polje local coordination forum",
            date(2021, 7, 2),
            time(11, 0),
            time(14, 0),
            "held",
            "Small hall, Municipality of Bijelo Polje",
            agenda=BP_AGENDA_1,
            minutes=BP_MINUTES_1,
            decisions=("The probation office coordinates pre-release plans for the forum.",),
            replies={BP_MUNICIPALITY.email: ("declined", "excused")},
        ),
        MeetingSpec(
            2,
            "Second meeting: follow-up review",
            date(2021, 10, 6),
            time(11, 0),
            time(13, 0),
            "cancelled",
            "Small hall, Municipality of Bijelo Polje",
            agenda=FOLLOW_UP_AGENDA,
            cancel_reason="Postponed: the prison's management is unavailable because of an inspection visit. "
            "A new date will follow.",
            replies={BP_EMPLOYMENT.email: ("tentative", None), BP_MUNICIPALITY.email: ("needs-action", None)},
        ),
        MeetingSpec(
            3,
            "Follow-up meeting",
            24,
            time(11, 0),
            time(13, 0),
            "scheduled",
            "Small hall, Municipality of Bijelo Polje",
            agenda=FOLLOW_UP_AGENDA,
            replies={BP_ORGANISER.email: ("accepted", None), BP_PROBATION.email: ("accepted", None)},
        ),
    ),
    actions=(
        ActionSpec(
            "Agree a referral form from the prison to the Centre for Social Work",
            "One form, sent at least three months before release, replacing individual letters.",
            BP_SOCIAL.email,
            date(2021, 9, 30),
            (THEME_PRE_RELEASE, THEME_INFORMATION),
            history=(
                UpdateSpec("state", "Accepted.", date(2021, 7, 5), to_state="accepted"),
                UpdateSpec("state", "Draft form sent to the prison.", date(2021, 7, 21), to_state="in_progress"),
                UpdateSpec("state", "Form agreed and in use since September.", date(2021, 9, 22), to_state="done"),
            ),
        ),
        ActionSpec(
            "Hold Employment Bureau information sessions in Bijelo Polje Prison",
            "Quarterly sessions on registration, training and employment programmes for people approaching release.",
            BP_EMPLOYMENT.email,
            date(2021, 10, 31),
            (THEME_POST_RELEASE,),
            history=(
                UpdateSpec("state", "Accepted.", date(2021, 7, 9), to_state="accepted"),
                UpdateSpec(
                    "state",
                    "Sessions need approval from the Institute's headquarters; request pending.",
                    date(2021, 9, 14),
                    to_state="blocked",
                ),
                UpdateSpec("progress", "Request sent again with the prison's support.", -40),
            ),
        ),
        ActionSpec(
            "Follow the pre-release plan for case BP-2021-03 with the Centre for Social Work",
            "Probation follow-up of the agreed plan (accommodation and registration with the "
            "Employment Bureau) for the person registered under case code BP-2021-03.",
            BP_PROBATION.email,
            14,
            (THEME_PRE_RELEASE, THEME_POST_RELEASE),
            case_code="BP-2021-03",
            history=(
                UpdateSpec("state", "Accepted.", date(2021, 7, 6), to_state="accepted"),
                UpdateSpec(
                    "state",
                    "First joint meeting with the Centre for Social Work held.",
                    date(2021, 8, 3),
                    to_state="in_progress",
                ),
                UpdateSpec("progress", "Accommodation arranged; registration with the Employment Bureau pending.", -9),
            ),
        ),
    ),
)

FORUMS: tuple[ForumSpec, ...] = (SARAJEVO, SKOPJE, BIJELO_POLJE)


def _demo_logins() -> list[tuple[str, str, str]]:
    logins = [
        ("Administrator", ADMIN.email, DEMO_PASSWORD),
        ("Programme staff (Council of Europe)", STAFF.email, DEMO_PASSWORD),
    ]
    for forum in FORUMS:
        logins.append((f"Organiser, {forum.city}", forum.organiser.email, DEMO_PASSWORD))
        for person, forum_role in forum.members:
            kind = ORGANISATIONS[person.org].kind.replace("_", " ") if person.org else "member"
            logins.append((f"{forum_role.capitalize()}, {forum.city} ({kind})", person.email, DEMO_PASSWORD))
    return logins


# What the CLI prints: (role description, email, password).
DEMO_LOGINS: list[tuple[str, str, str]] = _demo_logins()


# --- building it ---------------------------------------------------------------------------


def seed_demo() -> list[tuple[str, str, str]]:
    """Create whatever part of the demo is missing; flush, do not commit. Returns the logins."""
    programme = _get_or_create(
        Programme,
        {"name": PROGRAMME["name"]},
        description=PROGRAMME["description"],
        themes=list(PROGRAMME["themes"]),
        starts_on=PROGRAMME["starts_on"],
        ends_on=PROGRAMME["ends_on"],
    )
    orgs = {key: _get_or_create_organisation(spec) for key, spec in ORGANISATIONS.items()}
    grants = {
        reference: _get_or_create(
            Grant,
            {"reference": reference},
            programme_id=programme.id,
            title=title,
            holder_id=orgs[holder].id,
            country=country,
            starts_on=GRANT_PERIOD[0],
            ends_on=GRANT_PERIOD[1],
        )
        for reference, title, holder, country in GRANTS
    }
    _get_or_create_user(ADMIN, "admin", None)
    _get_or_create_user(STAFF, "staff", orgs)
    for spec in FORUMS:
        _seed_forum(spec, grants[spec.grant], orgs)
    _seed_news(programme, _get_or_create_user(STAFF, "staff", orgs))
    # The services queued the 2021 meetings' invitations as they replayed them; those were
    # never to be sent. What is still to come stays in the outbox.
    withdraw_stale(clock.utcnow())
    return list(DEMO_LOGINS)


def _seed_forum(spec: ForumSpec, grant: Grant, orgs: dict[str, Organisation]) -> None:
    tz = ZoneInfo(spec.timezone)
    today = clock.utcnow().astimezone(tz).date()
    forum = _get_or_create(
        Forum,
        {"title": spec.title},
        grant_id=grant.id,
        city=spec.city,
        country=spec.country,
        timezone=spec.timezone,
        language=spec.language,
        focus=spec.focus,
        description=spec.description,
        description_html=render_for_storage(spec.description),
    )
    organiser = _get_or_create_user(spec.organiser, "member", orgs)
    _get_or_create(GrantTeam, {"grant_id": grant.id, "user_id": organiser.id})

    users = {spec.organiser.email: organiser}
    for person, forum_role in spec.members:
        user = _get_or_create_user(person, "member", orgs)
        _get_or_create(ForumMember, {"forum_id": forum.id, "user_id": user.id}, role=forum_role)
        users[person.email] = user

    by_n = {m.n: _get_or_create_meeting(forum, spec.slug, m, tz, today, organiser, users) for m in spec.meetings}
    for action in spec.actions:
        _get_or_create_action(forum, action, tz, today, organiser, users, by_n)


def _seed_news(programme: Programme, staff: User) -> None:
    """The news item of the week the seed text tells (30 June – 2 July 2021), in Bosnian, published by the
    programme's staff a few days later: pre-filled and published through the news services."""
    from .news import services as news

    if db.session.execute(select(NewsItem.id).where(NewsItem.programme_id == programme.id).limit(1)).first():
        return
    scope = news.ComposeInput(programme.id, None, date(2021, 6, 30), date(2021, 7, 2), "bs")
    with clock.at(datetime(2021, 7, 5, 9, 0, tzinfo=UTC)):
        item = news.start_draft(staff, scope)
        news.publish(staff, item, item.version)


# --- get-or-create helpers -----------------------------------------------------------------


def _get_or_create(model: type[ModelT], natural_key: dict[str, Any], **values: Any) -> ModelT:
    """The row matching ``natural_key``, or a new one with ``values`` too. Existing rows are left as they are."""
    found = db.session.execute(select(model).filter_by(**natural_key)).scalar_one_or_none()
    if found is not None:
        return found
    obj = model(**natural_key, **values)
    db.session.add(obj)
    db.session.flush()  # later look-ups need its id
    return obj


def _get_or_create_organisation(spec: OrgSpec) -> Organisation:
    return _get_or_create(Organisation, {"name": spec.name, "country": spec.country}, kind=spec.kind, city=spec.city)


@lru_cache(maxsize=1)
def _demo_password_hash() -> str:
    # argon2 is deliberately slow: hash once, share the hash among all demo accounts.
    return hash_password(DEMO_PASSWORD)


def _get_or_create_user(person: PersonSpec, role: str, orgs: dict[str, Organisation] | None) -> User:
    existing = find_user_by_email(person.email)
    if existing is not None:
        return existing
    organisation_id = orgs[person.org].id if orgs is not None and person.org else None
    return _get_or_create(
        User,
        {"email": normalise_email(person.email)},
        name=person.name,
        role=role,
        organisation_id=organisation_id,
        job_title=person.job_title,
        timezone=person.timezone,
        password_hash=_demo_password_hash(),
        password_changed_at=clock.utcnow(),
    )


# --- meetings and actions: history written by the real services, with the clock set back ---------

# (rsvp, attendance) for invitees whose reply the meeting spec does not list.
_DEFAULT_REPLY: dict[str, tuple[str, str | None]] = {
    "held": ("accepted", "present"),
    "cancelled": ("accepted", None),
    "scheduled": ("needs-action", None),
    "draft": ("needs-action", None),
}


def _get_or_create_meeting(
    forum: Forum, slug: str, spec: MeetingSpec, tz: ZoneInfo, today: date, organiser: User, users: dict[str, User]
) -> Meeting:
    """The meeting with the spec's stable UID; when missing, its life so far is played through the services."""
    ical_uid = f"demo-{slug}-{spec.n}@forum-desk.local"
    existing = db.session.execute(select(Meeting).where(Meeting.ical_uid == ical_uid)).scalar_one_or_none()
    if existing is not None:
        return existing  # its history was written when it was created; history is never rewritten

    day = _working_day(_resolve_day(spec.on, today)) if isinstance(spec.on, int) else spec.on
    starts_at, ends_at = _at(tz, day, spec.starts), _at(tz, day, spec.ends)
    details = MeetingDetails(
        title=spec.title,
        starts_at=starts_at,
        ends_at=ends_at,
        venue=spec.venue,
        online_url=spec.online_url,
        agenda_md=spec.agenda,
    )
    # Planned three weeks ahead and published two weeks ahead (or just now, for meetings soon to come).
    published = _past(starts_at - timedelta(days=14), margin=timedelta(hours=12))
    with clock.at(_past(starts_at - timedelta(days=21), margin=timedelta(days=1))):
        meeting = meetings.create_meeting(
            organiser, forum, details, [user.id for user in users.values()], ical_uid=ical_uid
        )
    if spec.state == "draft":
        return meeting
    with clock.at(published):
        meetings.change_state(organiser, meeting, "scheduled", meeting.version)

    replies = {user.id: spec.replies.get(email, _DEFAULT_REPLY[spec.state]) for email, user in users.items()}
    with clock.at(_past(published + timedelta(days=2), margin=timedelta(hours=6))):
        for user in users.values():
            if replies[user.id][0] != "needs-action":
                meetings.respond(user, meeting, replies[user.id][0])

    if spec.state == "cancelled":
        with clock.at(_past(starts_at - timedelta(days=2), margin=timedelta(hours=1))):
            meetings.change_state(organiser, meeting, "cancelled", meeting.version, reason=spec.cancel_reason)
    elif spec.state == "held":
        with clock.at(ends_at):
            meetings.change_state(organiser, meeting, "held", meeting.version)
            meetings.record_attendance(
                organiser,
                meeting,
                {invitation.id: (None, replies[invitation.user_id][1]) for invitation in meeting.invitations},
            )
            for name, organisation, kind in spec.walk_ins:
                meetings.add_walk_in(organiser, meeting, WalkInInput(name, organisation, kind))
            for email, name in spec.delegates:
                represented = next(inv for inv in meeting.invitations if inv.user_id == users[email].id)
                delegates.record_delegate(organiser, meeting, DelegateInput(represented.id, name))
        if spec.record:
            _record_items(meeting, spec, organiser)
        if spec.minutes:
            _write_minutes(meeting, spec, organiser, users)
    return meeting


def _record_items(meeting: Meeting, spec: MeetingSpec, organiser: User) -> None:
    """The agenda items recorded while the meeting happened, through the meeting-day services."""
    with clock.at(meeting.ends_at - timedelta(minutes=30)):
        items = {item.title: item for item in meeting_day.derive_items(organiser, meeting)}
        for title, notes, decisions in spec.record:
            item = items[title]
            loaded = meeting_day.ItemInput.of(item).values()
            meeting_day.save_item(organiser, item, meeting_day.ItemInput(title, notes, list(decisions)), loaded)


def _write_minutes(meeting: Meeting, spec: MeetingSpec, organiser: User, users: dict[str, User]) -> None:
    """Written two days after the meeting, circulated the next day, commented on, adopted at the next one."""
    after = meeting.ends_at
    with clock.at(_past(after + timedelta(days=2))):
        minutes.save_minutes(
            organiser, meeting, MinutesInput(spec.minutes, list(spec.decisions)), base_revision=meeting.minutes_revision
        )
    if spec.minutes_state == "draft":
        return
    with clock.at(_past(after + timedelta(days=3))):
        minutes.circulate(organiser, meeting, meeting.minutes_revision)
    with clock.at(_past(after + timedelta(days=5))):
        for email, body in spec.comments:
            minutes.add_comment(users[email], meeting, body)
    if spec.minutes_state == "adopted":
        with clock.at(_past(after + timedelta(days=90))):
            minutes.adopt(organiser, meeting, meeting.minutes_revision)


def _get_or_create_action(
    forum: Forum,
    spec: ActionSpec,
    tz: ZoneInfo,
    today: date,
    organiser: User,
    users: dict[str, User],
    meetings_by_n: dict[int, Meeting],
) -> ActionItem:
    """The forum's action with the spec's title; when missing, it is raised and its history posted."""
    existing = db.session.execute(
        select(ActionItem).where(ActionItem.forum_id == forum.id, ActionItem.title == spec.title)
    ).scalar_one_or_none()
    if existing is not None:
        return existing  # its history was written when it was created; history is never rewritten

    raised = meetings_by_n[spec.raised_at]
    with clock.at(raised.ends_at):
        action = actions.raise_action(
            organiser,
            forum,
            ActionInput(
                title=spec.title,
                owner_id=users[spec.owner].id,
                description=spec.description,
                due_on=_resolve_day(spec.due, today),
                themes=spec.themes,
                case_code=spec.case_code,
                note="Raised at the meeting.",
            ),
            meeting=raised,
            notify=False,
        )
    for step in spec.history:
        if step.kind == "review":  # recorded during the meeting that reviewed it
            if step.at_meeting is None:
                raise ValueError(f"a review of {spec.title!r} needs its meeting")
            reviewed_at = meetings_by_n[step.at_meeting]
            at, meeting_id = reviewed_at.ends_at, reviewed_at.id
        else:
            if step.on is None:
                raise ValueError(f"an update of {spec.title!r} needs a date")
            at, meeting_id = _at(tz, _resolve_day(step.on, today), time(9, 30)), None
        author = organiser if step.by == "organiser" else action.owner
        if author is None:
            raise ValueError(f"{spec.title!r} has no owner to write its history")
        with clock.at(at):
            if step.kind == "reassign":
                if step.to_owner is None:
                    raise ValueError(f"a reassignment of {spec.title!r} needs its new owner")
                actions.reassign_action(
                    author, action, users[step.to_owner].id, step.note, action.version, notify=False
                )
            else:
                actions.post_update(
                    author,
                    action,
                    UpdateInput(note=step.note, to_state=step.to_state, meeting_id=meeting_id),
                    expected_version=action.version,
                )
    return action


# --- small utilities -----------------------------------------------------------------------


def _resolve_day(spec: DaySpec, today: date) -> date:
    return today + timedelta(days=spec) if isinstance(spec, int) else spec


def _working_day(day: date) -> date:
    """Move a Saturday or Sunday to the following Monday: forums meet on working days."""
    return day + timedelta(days=(7 - day.weekday()) % 7) if day.weekday() >= 5 else day


def _at(tz: ZoneInfo, day: date, clock_time: time) -> datetime:
    """``clock_time`` on ``day`` in the forum's zone, as an aware UTC datetime."""
    return datetime.combine(day, clock_time, tzinfo=tz).astimezone(UTC)


def _past(moment: datetime, margin: timedelta = timedelta(0)) -> datetime:
    """``moment``, or ``margin`` before now if it has not come yet: history is written in the past."""
    return min(moment, clock.utcnow() - margin)
