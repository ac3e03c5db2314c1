"""People's rights (issue 22 point 5): export, erasure by pseudonym, retention, and an organiser
typing an address learns nothing about people outside their grant."""

from __future__ import annotations

import difflib
import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, text, update

from forum_app.core import audit, clock
from forum_app.extensions import db
from forum_app.models import ActionItem, AuditEvent, Invitation, MinutesVersion, User
from forum_app.people import retention

from .conftest import csrf_token, sign_in
from .test_canaries import every_row

NAME = "Zorica Planted-Name"
EMAIL = "zorica.canary@example.org"
PHONE = "+387 61 999 888"


def _person_with_history(app, make) -> dict:
    """A participant with a record of each kind, each carrying a planted value."""
    world = make.world()
    admin_id = make.user_id(world["admin"])
    with app.app_context():
        person = User(email=EMAIL, name=NAME, role="member", phone=PHONE, job_title="Planted title")
        from forum_app.auth.passwords import hash_password
        from tests.factories import PASSWORD

        person.password_hash = hash_password(PASSWORD)
        db.session.add(person)
        db.session.flush()
        # An audit entry naming them, as the admin's invitation writes one.
        audit.record(db.session.get(User, admin_id), "user.invite", person, f"Invited {NAME} <{EMAIL}>", email=EMAIL)
        db.session.commit()
        audit.seal()
    make.add_member(world["forum"], EMAIL)
    meeting = make.meeting(world["forum"], state="held", starts_in_days=-3)
    invitation = make.invite(meeting, EMAIL)
    make.mark_attendance(invitation, "present")
    with app.app_context():
        db.session.execute(update(Invitation).where(Invitation.id == invitation).values(rsvp_comment="Planted RSVP"))
        db.session.commit()
    make.minutes(meeting, author_email=EMAIL, body="Planted minutes body")
    make.minutes_comment(meeting, EMAIL, body="Planted comment")
    action = make.action(world["forum"], EMAIL, title="Planted action title")
    make.act(action, EMAIL, note="Planted update note")
    return {**world, "meeting": meeting, "action": action, "invitation": invitation, "person": EMAIL}


def _export(client, path: str, fmt: str):
    return client.post(path, data={"csrf_token": csrf_token(client, "/account"), "format": fmt})


def test_the_export_holds_a_planted_value_of_each_kind_and_nobody_elses(app, client, make):
    setup = _person_with_history(app, make)
    sign_in(client, EMAIL)
    client.get("/account")  # a session: it is in the export too
    response = _export(client, "/account/export", "json")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment;")
    data = json.loads(response.get_data(as_text=True))
    body = json.dumps(data, ensure_ascii=False)
    for planted in (
        NAME,
        EMAIL,
        PHONE,
        "Planted title",
        "Planted RSVP",
        "present",
        "Planted minutes body",
        "Planted comment",
        "Planted action title",
        "Planted update note",
        f"Invited {NAME}",
    ):
        assert planted in body, planted
    sections = data["sections"]
    for kind in ("forum_memberships", "invitations", "actions", "action_updates", "minutes_versions", "sessions"):
        assert sections[kind], kind
    # Other people, and secrets, are not in it.
    assert setup["participant"] not in body and setup["organiser"] not in body
    assert "argon2" not in body and "token_hash" not in body
    # The HTML page shows the same, and both exports are audited.
    page = _export(client, "/account/export", "html").get_data(as_text=True)
    assert "Planted update note" in page and "Planted minutes body" in page
    person_id = make.user_id(EMAIL)
    with app.app_context():
        exported = db.session.scalars(select(AuditEvent).where(AuditEvent.verb == "person.exported")).all()
        assert [e.data["format"] for e in exported] == ["json", "html"]
        assert all(e.object_id == person_id for e in exported)


def test_the_export_takes_a_fixed_number_of_queries(app, make, count_queries):
    setup = _person_with_history(app, make)
    from forum_app.people.export import person_export

    def count() -> int:
        with app.test_request_context(), count_queries() as seen:
            person = db.session.execute(select(User).where(User.email == EMAIL)).scalar_one()
            person_export(person)
        return len(seen)

    before = count()
    for _ in range(3):
        make.act(setup["action"], EMAIL, note="more")
        make.minutes_comment(setup["meeting"], EMAIL, body="more")
    assert count() == before


def test_an_administrator_exports_anyone_and_a_participant_only_themself(app, client, make):
    setup = _person_with_history(app, make)
    person_id = make.user_id(EMAIL)
    sign_in(client, setup["admin"])
    response = _export(client, f"/admin/users/{person_id}/export", "json")
    assert response.status_code == 200 and EMAIL in response.get_data(as_text=True)
    other = sign_in(app.test_client(), setup["participant"])
    assert _export(other, f"/admin/users/{person_id}/export", "json").status_code == 403


def _erase(app, client, admin_email: str, person_id: int):
    sign_in(client, admin_email)
    token = csrf_token(client, f"/admin/users/{person_id}/edit")
    return client.post(f"/admin/users/{person_id}/erase", data={"csrf_token": token, "confirmed": "yes"})


def test_erasure_leaves_no_trace_keeps_the_records_and_the_chain_verifies(app, client, make):
    setup = _person_with_history(app, make)
    person_id = make.user_id(EMAIL)
    person_client = sign_in(app.test_client(), EMAIL)
    assert EMAIL in every_row(app) and NAME in every_row(app)

    assert _erase(app, client, setup["admin"], person_id).status_code == 302
    rows = every_row(app)
    assert EMAIL not in rows and NAME not in rows and PHONE not in rows
    assert EMAIL.split("@")[0] not in rows.lower()
    with app.app_context():
        person = db.session.get(User, person_id)
        assert person.erased_at is not None and not person.active and person.password_hash is None
        assert person.name == f"Former participant #{person_id}"
        # Minutes, actions and attendance stay, now by the pseudonym.
        assert db.session.scalars(select(MinutesVersion).where(MinutesVersion.author_id == person_id)).all()
        assert db.session.get(ActionItem, setup["action"]).owner_id == person_id
        assert db.session.get(Invitation, setup["invitation"]).attendance == "present"
        erased = db.session.scalars(select(AuditEvent).where(AuditEvent.verb == "person.erased")).one()
        assert erased.data["redacted"] >= 1
    result = app.test_cli_runner().invoke(args=["forum", "audit", "verify"])
    assert result.exit_code == 0, result.output
    # Their session ended; signing in with the old address fails.
    assert person_client.get("/account").status_code == 302
    # The action page shows the pseudonym.
    page = client.get(f"/actions/{setup['action']}").get_data(as_text=True)
    assert f"Former participant #{person_id}" in page and NAME not in page
    # The account cannot be edited back or reactivated.
    from .conftest import post_form

    edit = post_form(
        client,
        f"/admin/users/{person_id}/edit",
        {"name": NAME, "email": EMAIL, "role": "member", "organisation_id": "0", "timezone": "Europe/Sarajevo"},
    )
    assert edit.status_code == 400
    post_form(client, f"/admin/users/{person_id}/edit", {"active": "1"}, action=f"/admin/users/{person_id}/active")
    with app.app_context():
        assert db.session.get(User, person_id).active is False
    assert EMAIL not in every_row(app) and NAME not in every_row(app)
    # Erasing twice is refused, and changes nothing.
    before = every_row(app)
    _erase(app, client, setup["admin"], person_id)
    assert every_row(app).count("person.erased") == before.count("person.erased")
    # Nobody signs in as them, by the old address or the placeholder (last: a failed attempt is
    # counted under the address typed, as for any address).
    from .conftest import login

    for address in (EMAIL, f"erased-{person_id}@erased.invalid"):
        attempt = login(app.test_client(), address)
        assert attempt.status_code != 302 or attempt.headers["Location"].startswith("/login"), address


def test_a_redaction_without_an_erasure_is_found_by_verify(app, make):
    _person_with_history(app, make)
    with app.app_context():
        event = db.session.scalars(select(AuditEvent).where(AuditEvent.verb == "user.invite")).one()
        seq, person_id = event.seq, event.object_id
    with app.app_context():
        # What an attacker with the database would do: rewrite the text and mark it redacted.
        db.session.execute(
            text("UPDATE audit_event SET summary = 'nothing to see', redacted_for = :p WHERE seq = :s"),
            {"p": person_id, "s": seq},
        )
        db.session.commit()
    result = app.test_cli_runner().invoke(args=["forum", "audit", "verify"])
    assert result.exit_code == 1 and f"BROKEN at entry {seq}" in result.output
    assert "no erasure of that person follows" in result.output


def test_a_redacted_entry_edited_after_the_erasure_is_found_by_verify(app, client, make):
    setup = _person_with_history(app, make)
    person_id = make.user_id(EMAIL)
    _erase(app, client, setup["admin"], person_id)
    with app.app_context():
        seq = db.session.scalars(select(AuditEvent.seq).where(AuditEvent.redacted_for == person_id)).first()
        db.session.execute(text("UPDATE audit_event SET summary = 'forged' WHERE seq = :s"), {"s": seq})
        db.session.commit()
    result = app.test_cli_runner().invoke(args=["forum", "audit", "verify"])
    assert result.exit_code == 1 and "erasure redacted no longer match" in result.output


def test_retention_erases_the_inactive_once_with_a_fixed_clock(app, make):
    setup = _person_with_history(app, make)
    idle = make.user(email="idle.canary@example.org", name="Idle Canary")
    idle_id = make.user_id(idle)
    person_id = make.user_id(EMAIL)
    later = datetime.now(UTC) + timedelta(days=app.config["RETENTION_INACTIVE_DAYS"] + 30)
    runner = app.test_cli_runner()
    with clock.at(later):
        dry = runner.invoke(args=["forum", "retention", "apply", "--dry-run"])
        assert dry.exit_code == 0 and f"#{idle_id}" in dry.output and f"#{person_id}" in dry.output
        assert "Idle Canary" in every_row(app)  # a dry run changes nothing
        first = runner.invoke(args=["forum", "retention", "apply"])
        assert first.exit_code == 0, first.output
        after_first = every_row(app)
        second = runner.invoke(args=["forum", "retention", "apply"])
        assert second.exit_code == 0 and "erased 0 inactive people" in second.output
        assert every_row(app) == after_first
    assert "Idle Canary" not in after_first and NAME not in after_first
    with app.app_context():
        admin = db.session.execute(select(User).where(User.email == setup["admin"])).scalar_one()
        assert admin.erased_at is None  # administrators are never erased by the clock
    assert runner.invoke(args=["forum", "audit", "verify"]).exit_code == 0


def test_retention_keeps_people_active_within_the_period(app, make):
    make.user(email="fresh@example.org", name="Fresh Person")
    with app.app_context():
        assert retention.inactive_people() == []


# --- an organiser typing an address learns nothing about people outside their grant --------------


def _answers(client, path: str, email: str, name: str, extra: dict, action=None) -> tuple[int, str, str]:
    """The response to adding ``email`` and the page it leads to, with the address itself taken out."""
    from .conftest import post_form

    response = post_form(client, path, {"email": email, "name": name, **extra}, action=action)
    location = response.headers.get("Location", "")
    page = client.get(location).get_data(as_text=True) if location else response.get_data(as_text=True)
    # Everything but the address typed (and its row's ids) must read the same.
    import re

    page = page.replace(email, "ADDRESS")
    page = re.sub(r"/(invitees|members)/\d+/", "/ROW/", page)
    page = re.sub(r"Meeting \d+", "Meeting N", page)
    page = re.sub(r'(id|for|name|value)="[^"]*\d+[^"]*"', "", page)
    page = re.sub(r'name="csrf_token" value="[^"]+"|name="form_once"[^>]*|name="[^"]*-form_once"[^>]*', "", page)
    return response.status_code, location, page


def _outside_people(make) -> dict:
    """An unknown address, an active account outside the grant with its own stored name and one
    deactivated by an administrator."""
    elsewhere = make.user(email="known.elsewhere@example.org", name="Stored Secret Name")
    closed = make.user(email="closed.elsewhere@example.org", name="Closed Secret Name", active=False)
    return {"unknown": "nobody.yet@example.org", "elsewhere": elsewhere, "closed": closed}


def test_inviting_to_a_meeting_answers_the_same_for_any_address_outside_the_grant(app, client, make):
    world = make.world()
    people = _outside_people(make)
    sign_in(client, world["organiser"])
    answers = {}
    for kind, email in people.items():
        meeting = make.meeting(world["forum"])
        answers[kind] = _answers(
            client, f"/meetings/{meeting}", email, "Typed Name", {}, action=f"/meetings/{meeting}/invitees"
        )
        answers[kind] = (answers[kind][0], answers[kind][2].replace(f"/meetings/{meeting}", "/meetings/M"))
        assert answers[kind][0] == 302, kind
    for kind in ("elsewhere", "closed"):
        diff = [
            line
            for line in difflib.unified_diff(answers["unknown"][1].splitlines(), answers[kind][1].splitlines(), n=0)
            if line[:1] in "+-" and line[:3] not in ("+++", "---")
        ]
        assert answers[kind][0] == answers["unknown"][0] and diff == [], (kind, diff)
    joined = "".join(page for _, page in answers.values())
    assert "Stored Secret Name" not in joined and "Closed Secret Name" not in joined
    assert "Typed Name" in answers["elsewhere"][1]
    # Without a name, the same refusal for each.
    refusals = set()
    for email in people.values():
        meeting = make.meeting(world["forum"])
        status, _, page = _answers(
            client, f"/meetings/{meeting}", email, "", {}, action=f"/meetings/{meeting}/invitees"
        )
        page = page.replace(f"/meetings/{meeting}", "/meetings/M")
        refusals.add((status, "Give the person" in page or "This field is required" in page))
    assert refusals == {(400, True)}
    # The closed account stays closed.
    with app.app_context():
        assert db.session.execute(select(User.active).where(User.email == people["closed"])).scalar_one() is False


def test_adding_a_forum_member_answers_the_same_for_any_address_outside_the_grant(app, client, make):
    world = make.world()
    people = _outside_people(make)
    sign_in(client, world["organiser"])
    answers = {}
    for kind, email in people.items():
        forum = make.forum(world["grant"], title=f"Forum for {kind}")
        status, _, _page = _answers(
            client, f"/forums/{forum}/members", email, "", {"role": "participant", "organisation_id": "0"}
        )
        refused = (status, "Give the person" in _page)
        status, location, _page = _answers(
            client, f"/forums/{forum}/members", email, f"Typed {kind}", {"role": "participant", "organisation_id": "0"}
        )
        page = _page.replace(f"Typed {kind}", "TYPED").replace(f"Forum for {kind}", "FORUM")
        page = page.replace(f"/forums/{forum}/", "/forums/F/").replace(f'"/forums/{forum}"', '"/forums/F"')
        answers[kind] = (refused, status, location.replace(f"/forums/{forum}/", "/forums/F/"), page)
    assert answers["unknown"][0] == (400, True)
    for kind in ("elsewhere", "closed"):
        diff = [
            line
            for line in difflib.unified_diff(answers["unknown"][3].splitlines(), answers[kind][3].splitlines(), n=0)
            if line[:1] in "+-" and line[:3] not in ("+++", "---")
        ]
        assert answers[kind][:3] == answers["unknown"][:3] and diff == [], (kind, diff)
    # The page after adding shows each by the typed name, never the stored one.
    joined = "".join(a[3] for a in answers.values())
    assert "Stored Secret Name" not in joined and "Closed Secret Name" not in joined
    assert "TYPED was added." in answers["elsewhere"][3] and "TYPED was added." in answers["closed"][3]


def test_recording_a_delegate_answers_the_same_for_any_address_outside_the_grant(app, make):
    world = make.world()
    people = _outside_people(make)
    meeting = make.meeting(world["forum"], state="held", starts_in_days=-1)
    represented = make.invite(meeting, world["participant"])
    from forum_app.core.errors import ServiceError

    refusals = {}
    for kind, email in people.items():
        try:
            make.delegate(meeting, represented, name="", email=email)
        except ServiceError as exc:
            refusals[kind] = (exc.field, exc.message)
    assert refusals["elsewhere"] == refusals["unknown"] == refusals["closed"] == ("name", "Give the person's name.")
    # With a name, a closed account outside the grant is recorded like any address, by that name.
    make.delegate(meeting, represented, name="Typed Deputy", email=people["closed"])
    with app.app_context():
        row = db.session.execute(
            select(Invitation.name_given, User.active).join(User).where(User.email == people["closed"])
        ).one()
    assert row == ("Typed Deputy", False)


def test_erasure_replaces_whole_names_and_addresses_only():
    from forum_app.people.erasure import _replacer

    replace = _replacer(["Ana Petrović", "ana@example.org"], "P#1")
    assert replace("Invited Ana Petrović <ana@example.org>") == "Invited P#1 <P#1>"
    # Someone else whose name or address contains theirs keeps it.
    assert replace("Ana Petrovića, bana@example.org, ana@example.org.mk") == (
        "Ana Petrovića, bana@example.org, ana@example.org.mk"
    )
    assert replace({"changes": {"name": ["ANA PETROVIĆ", "x"]}}) == {"changes": {"name": ["P#1", "x"]}}
