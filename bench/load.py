"""make load: many people at once, as in a busy week, against Forum Desk under gunicorn (Locust, headless).

1. a database made ready as ``make bench`` makes it (bench/serve.py): the demo data
   (``--data-set demo``, the default) or ``flask forum generate --scale N`` (``--scale N``);
   SQLite files in bench/.data/, or a database of its own on the PostgreSQL server that
   ``DATABASE_URL`` names;
2. a plan, read from that database before the run: people of every role (admin, programme
   staff, organisers, participants), for each the pages they read, the meetings whose
   invitations they may answer, the meetings whose attendance they may record, the actions
   they may report on, and a personal API token (made here, with write access);
3. gunicorn on loopback (``--workers``, a port from ``--port-base`` or the system), and Locust
   headless (bench/locustfile.py) with ``--users`` people for ``--seconds``, each signing in
   once and then waiting ``--wait`` seconds (min,max) between clicks;
4. a table and JSON (bench/results/load-<time>.json or ``--out``): requests, per second,
   p50 / p95 / p99 by kind, errors; and the check that every write the simulated people were
   told was saved is in the database: the audit trail's new entries by kind (one per saved
   answer, attendance save and action update), and the action updates carrying this run's
   marker, compared with the writes Locust counted. Any error or lost write: exit status 1.

A write's time includes the page it lands on (a saved RSVP or attendance redirects to a page
that says so, as in a browser); the API's update answers with the action.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.serve import BIN, database_for, gunicorn, ports, prepare, prepare_demo, scale_tag, stop, wait_for  # noqa: E402

RESULTS = ROOT / "bench" / "results"
ROLES = ("admin", "staff", "organiser", "participant")
# The audit verbs each kind of write leaves, one entry per saved write.
AUDIT = {
    "rsvp": ("meeting.rsvp",),
    "attendance": ("meeting.attendance",),
    "action update": ("action.progress", "action.comment"),
}
PER_ROLE = {"admin": 2, "staff": 3, "organiser": 8, "participant": 40}


def make_plan(url: str, env: dict, generated: bool, marker: str) -> dict:
    """People of every role and what each may do, read from the database (tokens made and committed)."""
    os.environ.update({**env, "DATABASE_URL": url})
    from sqlalchemy import func, select

    from forum_app import create_app, permissions
    from forum_app.api import tokens
    from forum_app.core.clock import utcnow
    from forum_app.demo import DEMO_LOGINS, DEMO_PASSWORD
    from forum_app.extensions import db
    from forum_app.generate import GENERATED_PASSWORD, LOGINS
    from forum_app.models import ActionItem, ActionUpdate, AuditEvent, Forum, ForumMember, Invitation, Meeting, User

    app = create_app()
    with app.app_context(), app.test_request_context():
        from flask import url_for

        emails = list(LOGINS.values()) if generated else [email for _label, email, _pw in DEMO_LOGINS]
        if generated:  # more people than the four named logins: those with invitations still open
            open_ids = select(Meeting.id).where(Meeting.state == "scheduled", Meeting.starts_at > utcnow())
            emails += (
                db.session.execute(
                    select(User.email)
                    .join(Invitation, Invitation.user_id == User.id)
                    .where(Invitation.meeting_id.in_(open_ids), User.role == "member")
                    .distinct()
                    .order_by(User.email)
                    .limit(PER_ROLE["participant"])
                )
                .scalars()
                .all()
            )
        people: dict[str, list[dict]] = {role: [] for role in ROLES}
        for email in dict.fromkeys(emails):
            user = db.session.execute(select(User).where(User.email == email)).scalar_one_or_none()
            if user is None or not user.is_active:
                continue
            invited = set(
                db.session.execute(select(Invitation.meeting_id).where(Invitation.user_id == user.id)).scalars()
            )
            # Their forums: where they are members, else where they are invited, else (staff) the first.
            forum_ids = (
                db.session.execute(
                    select(ForumMember.forum_id).where(ForumMember.user_id == user.id).order_by(ForumMember.forum_id)
                )
                .scalars()
                .all()
                or db.session.execute(
                    select(Meeting.forum_id).where(Meeting.id.in_(invited)).distinct().order_by(Meeting.forum_id)
                )
                .scalars()
                .all()
                or db.session.execute(select(Forum.id).order_by(Forum.id).limit(1)).scalars().all()
            )
            meetings = (
                db.session.execute(select(Meeting).where(Meeting.forum_id.in_(forum_ids)).order_by(Meeting.starts_at))
                .scalars()
                .all()
            )
            organises = any(permissions.can_edit_meeting(user, m) for m in meetings)
            role = user.role if user.role in ("admin", "staff") else ("organiser" if organises else "participant")
            if len(people[role]) >= PER_ROLE[role]:
                continue
            rsvp = [m.id for m in meetings if m.id in invited and permissions.rsvp_lock(m) is None]
            attendance = [
                m.id
                for m in meetings
                if permissions.can_edit_meeting(user, m) and permissions.attendance_lock(m) is None
            ]
            actions = [
                a.id
                for a in db.session.execute(
                    permissions.visible_actions(user).where(ActionItem.forum_id.in_(forum_ids)).order_by(ActionItem.id)
                ).scalars()
                if permissions.action_progress_lock(a) is None
                and permissions.action_role_lock(user, a, None, False) is None
            ][:20]
            shown = [m for m in meetings if permissions.can_view_meeting(user, m)]
            forum = db.session.get(Forum, forum_ids[0])
            pages = {
                "home": url_for("home.index"),
                "calendar": url_for("calendar.month"),
                "my actions": url_for("actions.mine"),
            }
            if permissions.can_view_forum(user, forum):
                pages["forum"] = url_for("forums.forum", forum_id=forum.id)
                pages["board"] = url_for("actions.board", forum_id=forum.id)
            if shown:
                pages["meeting"] = url_for("meetings.meeting", meeting_id=shown[-1].id)
            if permissions.can_view_reports(user):
                pages["dashboard"] = url_for("reports.dashboard")
            _token, secret = tokens.create_token(user, tokens.TokenInput(name=f"load {marker}", can_write=True))
            db.session.commit()
            people[role].append(
                {
                    "email": email,
                    "pages": pages,
                    "rsvp": rsvp,
                    "attendance": attendance,
                    "actions": actions,
                    "token": secret,
                }
            )
        missing = [role for role, found in people.items() if not found]
        if missing:
            raise SystemExit(f"no one to sign in as: {', '.join(missing)}")
        marks = {
            "audit_after": db.session.execute(select(func.coalesce(func.max(AuditEvent.id), 0))).scalar_one(),
            "updates_after": db.session.execute(select(func.coalesce(func.max(ActionUpdate.id), 0))).scalar_one(),
        }
    password = GENERATED_PASSWORD if generated else DEMO_PASSWORD
    return {"people": people, "password": password, "marker": marker, **marks}


def stored_writes(url: str, plan: dict) -> dict[str, int]:
    """What the database holds of this run's writes, by kind (the audit's entries; the marked action updates)."""
    from sqlalchemy import create_engine, func, select

    from forum_app.models import ActionUpdate, AuditEvent

    engine = create_engine(url)
    with engine.connect() as conn:
        counts = {
            kind: conn.execute(
                select(func.count()).where(AuditEvent.id > plan["audit_after"], AuditEvent.verb.in_(verbs))
            ).scalar_one()
            for kind, verbs in AUDIT.items()
        }
        counts["action update (marked)"] = conn.execute(
            select(func.count()).where(
                ActionUpdate.id > plan["updates_after"], ActionUpdate.note.contains(plan["marker"])
            )
        ).scalar_one()
    engine.dispose()
    return counts


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    return round(ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))], 1)


def summarise(raw: dict, seconds: float) -> list[dict]:
    rows = []
    everything: list[float] = []
    for kind in sorted(raw["times"]):
        values = raw["times"][kind]
        if not kind.startswith("sign in"):  # once per person, at the start: shown, not in the mix
            everything += values
        rows.append(_row(kind, values, len(raw["failures"].get(kind, [])), seconds))
    rows.append(_row("all", everything, sum(len(f) for f in raw["failures"].values()), seconds))  # errors: all kinds
    return rows


def _row(kind: str, values: list[float], errors: int, seconds: float) -> dict:
    return {
        "kind": kind,
        "requests": len(values),
        "per_second": round(len(values) / seconds, 1),
        "p50_ms": percentile(values, 50),
        "p95_ms": percentile(values, 95),
        "p99_ms": percentile(values, 99),
        "errors": errors,
    }


def print_table(rows: list[dict], writes: list[dict]) -> None:
    print(f"\n{'kind':24} {'requests':>8} {'per s':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'errors':>6}")
    for r in rows:
        print(
            f"{r['kind']:24} {r['requests']:8} {r['per_second']:7} {r['p50_ms']:8} {r['p95_ms']:8} {r['p99_ms']:8} "
            f"{r['errors']:6}"
        )
    print(f"\n{'write':24} {'told saved':>10} {'in database':>11} {'refused':>8}")
    for w in writes:
        print(f"{w['kind']:24} {w['confirmed']:10} {w['stored']:11} {w['refused']:8}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-set", choices=("demo", "generated"), default="demo")
    parser.add_argument("--scale", type=float, default=None, help="generated data at this scale (implies generated)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--spawn-rate", type=float, default=10, help="people starting per second")
    parser.add_argument("--seconds", type=int, default=120)
    parser.add_argument("--wait", default="0.2,1.0", help="seconds between one person's clicks: min,max")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--port-base", type=int, default=0, help="serve on this port (default: a free one)")
    parser.add_argument("--data", type=Path, default=ROOT / "bench" / ".data", help="where SQLite databases go")
    parser.add_argument("--out", type=Path, default=None, help="JSON file (default bench/results/load-<time>.json)")
    args = parser.parse_args()
    generated = args.scale is not None or args.data_set == "generated"
    scale = args.scale if args.scale is not None else 1.0
    data = args.data.resolve()
    env = {
        **os.environ,
        "FORUM_ENV": "production",
        # The simulated people sign in with their password only: production asks administrators,
        # staff and organisers for a code as well, one step at sign-in that the pages never see.
        "SECOND_FACTOR_REQUIRED_ROLES": "",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "FORUM_INSTANCE_DIR": str(data / "instance"),
        "PYTHONPATH": str(ROOT),
    }
    env.pop("DATABASE_URL", None)
    url = database_for(scale_tag(scale, args.seed) if generated else "demo", data)
    if generated:
        prepare(url, scale, args.seed, env)
    else:
        prepare_demo(url, env)
    marker = f"load-{secrets.token_hex(4)}"
    plan = make_plan(url, env, generated, marker)
    work = data / marker
    work.mkdir(parents=True, exist_ok=True)
    (work / "plan.json").write_text(json.dumps(plan))
    port = next(ports(args.port_base))
    proc = gunicorn(
        "wsgi:app", port, {**env, "DATABASE_URL": url, "BASE_URL": f"http://127.0.0.1:{port}"}, args.workers
    )
    try:
        wait_for(port, "/healthz")
        started = time.monotonic()
        subprocess.run(
            [
                str(BIN / "locust"),
                "--locustfile",
                str(ROOT / "bench" / "locustfile.py"),
                "--headless",
                "--only-summary",
                "--loglevel",
                "WARNING",
                "--host",
                f"http://127.0.0.1:{port}",
                "--users",
                str(args.users),
                "--spawn-rate",
                str(args.spawn_rate),
                "--run-time",
                f"{args.seconds}s",
                "--stop-timeout",
                "10",
            ],
            cwd=ROOT,
            env={
                **env,
                "LOAD_PLAN": str(work / "plan.json"),
                "LOAD_OUT": str(work / "raw.json"),
                "LOAD_WAIT": args.wait,
            },
            check=False,
            stdout=subprocess.DEVNULL,
        )
        elapsed = time.monotonic() - started
    finally:
        stop(proc)
    raw = json.loads((work / "raw.json").read_text())
    rows = summarise(raw, min(elapsed, args.seconds))
    stored = stored_writes(url, plan)
    writes = [
        {
            "kind": kind,
            "confirmed": raw["confirmed"].get(kind, 0),
            "stored": stored[kind],
            "refused": raw["refused"].get(kind, 0),
        }
        for kind in AUDIT
    ]
    writes.append(
        {
            "kind": "action update (marked)",
            "confirmed": raw["confirmed"].get("action update", 0),
            "stored": stored["action update (marked)"],
            "refused": raw["refused"].get("action update", 0),
        }
    )
    print_table(rows, writes)
    lost = [w["kind"] for w in writes if w["stored"] != w["confirmed"]]
    errors = rows[-1]["errors"]
    result = {
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "database": url.split(":")[0].split("+")[0],
        "data_set": f"generated scale {scale}" if generated else "demo",
        "users": args.users,
        "seconds": args.seconds,
        "workers": args.workers,
        "port": port,
        "wait": args.wait,
        "requests": rows,
        "writes": writes,
        "errors": errors,
        "lost_writes": lost,
        "failures": {kind: found[:5] for kind, found in raw["failures"].items()},
    }
    out = args.out or RESULTS / f"load-{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{result['database']}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    print(f"\nWritten to {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}")
    if errors or lost:
        print(f"FAILED: {errors} errors; writes not as told: {', '.join(lost) or 'none'}")
        sys.exit(1)


if __name__ == "__main__":
    main()
