"""make bench: Forum Desk's main pages under gunicorn, timed beside a bare Flask + Jinja app.

For each scale asked for (``--scale``, default 1), the harness

1. makes a database with ``flask forum generate --scale N`` (SQLite files in
   bench/.data/, kept for the next run; with ``DATABASE_URL`` set, a PostgreSQL
   database named ``<name>_s<scale>`` on that server, created when missing);
2. starts Forum Desk under gunicorn with ``FORUM_BENCH=1`` (SQL query count per response
   in a header) and, beside it, a bare Flask + Jinja app (bench/bare.py) that answers
   each page with the very bytes Forum Desk sent for it, rendered through a template;
3. signs in once per role and walks every main page, discovered from the URL map so
   pages added later join in, in interleaved rounds: Forum Desk's page then the bare
   page, one request at a time on loopback, new connection per request (gunicorn's sync
   workers close it anyway). Every scale's app runs at once and each round walks them
   all, so growth from one scale to the next is measured in the same moments;
4. times logins (the POST only), reads each worker's memory, prints a table and writes
   it as JSON to bench/results/;
5. with ``--memory N``, starts the largest scale's app afresh and sends N requests across
   every page, many people (each signed in) and many report periods, then prints each
   worker's resident memory (VmRSS in /proc/<pid>/status). Target: 120 MB a worker.

One client, one request at a time: the numbers are latencies, and 1/median is the
throughput of one worker. The machine may be shared, so rounds are interleaved (a busy
moment slows every app alike) and medians are reported.

gunicorn runs with the project's gunicorn.conf.py (preloaded app, sync workers) with three
flags of the harness's own: ``--workers``, the port, and ``--max-requests 0``, so no worker is
recycled mid-run (a recycled worker would be timed cold and its memory would start again).
Ports come from ``--port-base`` (N, N+1, …: one per scale, then the bare app, then the memory
run), or else from the system, so the bench can run beside other servers.

Through make, BENCH_ARGS is passed as written, so a pattern may end in ``$``:
``make bench BENCH_ARGS="--scale 1 --only 'meetings\\.meeting$' --port-base 9100"``.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import secrets
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.serve import database_for, gunicorn, ports, prepare, scale_tag, stop, wait_for  # noqa: E402

DATA = ROOT / "bench" / ".data"
RESULTS = ROOT / "bench" / "results"
BIN = Path(sys.executable).parent
CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')
QUERY_HEADER = "X-Forum-Queries"
WORKER_HEADER = "X-Forum-Worker"

# Endpoints that are not pages to time: assets, probes, forms that create or edit, token links.
SKIP = re.compile(
    r"^(static|core\.healthz|auth\.(logout|set_password|reset_password|request_reset|change_password))$"
    r"|_(form|new|edit)$|\.(ics|export)"
)
# Pages every role opens (timed for each role that may see them); the rest are timed as admin.
SHARED = re.compile(
    r"^(home\.index|forums\.(index|forum)|meetings\.meeting|calendar\.month|actions\.|reports\.|"
    r".*dashboard|.*\.mine$|.*my_actions)"
)
ROLES = ("admin", "staff", "organiser", "participant")
ONLY: re.Pattern | None = None  # --only: time just the endpoints it matches
EXTRA_QUERIES = {"admin.users": [{"q": "hod"}], "forums.index": [{"q": "forum"}]}


@dataclass
class Page:
    label: str
    role: str
    path: str
    app_ms: list[float] = field(default_factory=list)
    bare_ms: list[float] = field(default_factory=list)
    queries: int = 0
    bytes: int = 0
    status: int = 0
    bare_key: str = ""  # the captured page the bare app serves for it


# --- a minimal HTTP client (stdlib only) ------------------------------------------------------


class Client:
    def __init__(self, port: int):
        self.port = port
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        hdrs = {"Host": f"127.0.0.1:{self.port}", **(headers or {})}
        if self.cookies:
            hdrs["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        started = time.perf_counter()
        conn.request(method, path, body=body, headers=hdrs)
        response = conn.getresponse()
        data = response.read()
        elapsed = (time.perf_counter() - started) * 1000
        for header in response.msg.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                if morsel["max-age"] == "0" or morsel.value == "":
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        conn.close()
        return response, data, elapsed

    def get(self, path: str):
        return self.request("GET", path)

    def login(self, email: str, password: str) -> float:
        _r, page, _t = self.get("/login")
        match = CSRF_RE.search(page.decode())
        token = match.group(1) or match.group(2)
        body = urlencode({"email": email, "password": password, "csrf_token": token, "next": ""}).encode()
        response, _d, elapsed = self.request(
            "POST", "/login", body, {"Content-Type": "application/x-www-form-urlencoded"}
        )
        if response.status != 302:
            raise SystemExit(f"login of {email} failed: {response.status}")
        return elapsed


# --- processes ----------------------------------------------------------------------------------


def worker_rss_mb(master: subprocess.Popen) -> list[float]:
    children = Path(f"/proc/{master.pid}/task/{master.pid}/children").read_text().split()
    sizes = []
    for pid in children:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                sizes.append(round(int(line.split()[1]) / 1024, 1))
    return sizes


# --- the data -----------------------------------------------------------------------------------


def discover(url: str, env: dict) -> tuple[list[tuple[str, str, str]], dict]:
    """(label, role, path) for every page to time, from the app's URL map and the generated data."""
    os.environ.update({**env, "DATABASE_URL": url})
    sys.path.insert(0, str(ROOT))
    from sqlalchemy import select

    from forum_app import create_app
    from forum_app.extensions import db
    from forum_app.generate import LOGINS
    from forum_app.models import Forum, GrantTeam, Meeting, User

    app = create_app()
    with app.app_context():
        organiser = db.session.execute(select(User).where(User.email == LOGINS["organiser"])).scalar_one()
        grant_id = (
            db.session.execute(select(GrantTeam.grant_id).where(GrantTeam.user_id == organiser.id)).scalars().first()
        )
        forum = db.session.execute(select(Forum).where(Forum.grant_id == grant_id).order_by(Forum.id)).scalars().first()
        # The meeting page at its busiest: the last held meeting (attendance, minutes, actions raised).
        meeting = (
            db.session.execute(
                select(Meeting)
                .where(Meeting.forum_id == forum.id, Meeting.state == "held")
                .order_by(Meeting.starts_at.desc())
            )
            .scalars()
            .first()
        )
        values = {
            "forum_id": forum.id,
            "meeting_id": meeting.id,
            "grant_id": grant_id,
            "number": 1,
            "user_id": organiser.id,
        }
        pages: list[tuple[str, str, str]] = []
        with app.test_request_context():
            from flask import url_for

            for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.endpoint):
                if "GET" not in rule.methods or SKIP.search(rule.endpoint):
                    continue
                if not set(rule.arguments) <= set(values):
                    continue
                if ONLY and not ONLY.search(rule.endpoint):
                    continue
                path = url_for(rule.endpoint, **{a: values[a] for a in rule.arguments})
                if rule.endpoint == "auth.login":
                    pages.append(("login page", "anonymous", path))
                    continue
                roles = ROLES if SHARED.search(rule.endpoint) else ("admin",)
                for role in roles:
                    pages.append((rule.endpoint, role, path))
                for query in EXTRA_QUERIES.get(rule.endpoint, []):
                    pages.append((f"{rule.endpoint}?{urlencode(query)}", "admin", f"{path}?{urlencode(query)}"))
        counts = {
            t: db.session.execute(db.text(f'SELECT count(*) FROM "{t}"')).scalar_one()
            for t in ("forum", "user_account", "meeting", "invitation", "action_item")
        }
        db.session.remove()
        db.engine.dispose()
    return pages, counts


# --- the run ------------------------------------------------------------------------------------


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


@dataclass
class Run:
    """One scale's app under gunicorn, its signed-in clients and the pages it timed."""

    scale: float
    url: str
    counts: dict
    proc: subprocess.Popen
    port: int
    clients: dict
    pages: list[Page] = field(default_factory=list)
    logins_ms: list[float] = field(default_factory=list)
    rss: list[float] = field(default_factory=list)


def start_scale(scale: float, args, env: dict, captured: Path, port: int) -> Run:
    """Data, app and clients for one scale; each page warmed on every worker and its bytes kept for the bare app."""
    url = database_for(scale_tag(scale, args.seed), DATA)
    prepare(url, scale, args.seed, env)
    pages_spec, counts = discover(url, env)
    from forum_app.generate import GENERATED_PASSWORD, LOGINS

    app_env = {**env, "DATABASE_URL": url, "FORUM_BENCH": "1", "BASE_URL": f"http://127.0.0.1:{port}"}
    run = Run(scale, url, counts, gunicorn("wsgi:app", port, app_env, args.workers), port, {})
    wait_for(port, "/healthz")
    run.clients["anonymous"] = Client(port)
    for role in ROLES:
        run.clients[role] = Client(port)
        run.logins_ms.append(run.clients[role].login(LOGINS[role], GENERATED_PASSWORD))
    for label, role, path in pages_spec:
        # Every worker serves the page before timing starts (twice: what a page keeps per process is
        # then in place), so a worker's first view of a page is not timed as if it were the steady state.
        served: dict[str, int] = {}
        for _ in range(20 * args.workers):
            response, body, _t = run.clients[role].get(path)
            worker = response.getheader(WORKER_HEADER, "")
            served[worker] = served.get(worker, 0) + 1
            if response.status != 200 or (len(served) >= args.workers and min(served.values()) >= 2):
                break
        if response.status != 200:
            print(f"  skipped {label} as {role}: {response.status}", flush=True)
            continue
        kind = response.getheader("Content-Type", "")
        if not kind.startswith("text/html"):
            # A download or a feed (a PDF, a document's file, Atom): not a page the bare app can render.
            print(f"  skipped {label} as {role}: {kind}", flush=True)
            continue
        page = Page(label, role, path, status=response.status, bytes=len(body))
        run.pages.append(page)
        page.bare_key = f"{len(list(captured.glob('*.html')))}"
        (captured / f"{page.bare_key}.html").write_bytes(body)
    return run


def bench(scales: list[float], args, env: dict) -> list[dict]:
    """Every scale's app runs at once and the rounds interleave them: in each round every page of
    every scale is timed, each followed by the bare app serving the same bytes. A busy moment on a
    shared machine then slows all of them alike, so growth between scales is measured, not the load."""
    captured = DATA / "pages"
    captured.mkdir(parents=True, exist_ok=True)
    for old in captured.glob("*.html"):
        old.unlink()
    runs: list[Run] = []
    bare_proc = None
    port_source = ports(args.port_base)
    try:
        for scale in scales:
            runs.append(start_scale(scale, args, env, captured, next(port_source)))
        from forum_app.generate import GENERATED_PASSWORD, LOGINS  # importable once discover() set the path

        bare_port = next(port_source)
        bare_proc = gunicorn("bench.bare:app", bare_port, {**env, "BENCH_PAGES": str(captured)}, args.workers)
        wait_for(bare_port, "/0")
        bare = Client(bare_port)
        for _round in range(args.rounds):
            for run in runs:
                for page in run.pages:
                    response, _body, elapsed = run.clients[page.role].get(page.path)
                    page.app_ms.append(elapsed)
                    page.queries = int(response.getheader(QUERY_HEADER, "0"))
                    _r, _bare_body, bare_elapsed = bare.get(f"/{page.bare_key}")
                    page.bare_ms.append(bare_elapsed)
                # A login in every round, by a fresh client (a new session each time).
                run.logins_ms.append(Client(run.port).login(LOGINS["participant"], GENERATED_PASSWORD))
        for run in runs:
            run.rss = worker_rss_mb(run.proc)
    finally:
        for run in runs:
            stop(run.proc)
        if bare_proc is not None:
            stop(bare_proc)
    results = [summarise(run, args) for run in runs]
    if args.memory:
        largest = max(runs, key=lambda r: r.scale)
        results[runs.index(largest)]["memory"] = memory_step(largest, args, env, next(port_source))
    return results


# --- memory ---------------------------------------------------------------------------------------

MEMORY_TARGET_MB = 120
PEOPLE = 40  # generated people who each sign in and walk their own pages
PERIODS = 40  # report periods: quarters, halves and years around the generated data


def report_periods(today: date, count: int) -> list[dict[str, str]]:
    """``count`` different report filters (from/to), as staff pick them: quarters, halves and years back."""

    def month_after(day: date, months: int) -> date:
        index = day.year * 12 + day.month - 1 + months
        return date(index // 12, index % 12 + 1, 1)

    periods: list[dict[str, str]] = []
    start = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    while len(periods) < count:
        for months in (3, 6, 12):
            end = date.fromordinal(month_after(start, months).toordinal() - 1)
            periods.append({"from": start.isoformat(), "to": end.isoformat()})
        start = month_after(start, -3)
    return periods[:count]


def memory_step(run: Run, args, env: dict, port: int) -> dict:
    """Each worker's memory after ``args.memory`` requests to a freshly started app of ``run``'s scale.

    The requests go round three streams until the count is reached: every timed page as its role; the
    pages of their own as one of PEOPLE generated people (each signed in once, so sessions and
    per-person data vary); the reports' dashboard and lists over PERIODS different periods (what a
    cache of figures keyed by period would keep).
    """
    from sqlalchemy import create_engine, text

    from forum_app.generate import GENERATED_PASSWORD, LOGINS

    engine = create_engine(run.url)
    with engine.connect() as conn:
        everyone = conn.execute(text("SELECT email FROM user_account WHERE active ORDER BY id")).scalars().all()
    engine.dispose()
    people = everyone[:: max(1, len(everyone) // PEOPLE)][:PEOPLE]
    # A person's own pages (home, forums, calendar, their actions): the timed forum's and meeting's pages
    # would be someone else's, a 404, for most of them.
    own = list(dict.fromkeys(p.path for p in run.pages if p.role == "participant" and not re.search(r"/\d", p.path)))
    reports = [
        p.path
        for p in run.pages
        if p.role == "staff"
        and p.label.startswith("reports.")
        and p.label.split(".")[-1] in ("dashboard", "meetings", "actions", "progress")
    ]
    periods = report_periods(date.today(), PERIODS)

    app_env = {**env, "DATABASE_URL": run.url, "BASE_URL": f"http://127.0.0.1:{port}"}
    proc = gunicorn("wsgi:app", port, app_env, args.workers)
    try:
        wait_for(port, "/healthz")
        clients = {role: Client(port) for role in ROLES}
        for role, client in clients.items():
            client.login(LOGINS[role], GENERATED_PASSWORD)
        clients["anonymous"] = Client(port)
        started_mb = worker_rss_mb(proc)

        def every_page() -> Iterator[tuple[Client, str]]:
            while True:
                for page in run.pages:
                    yield clients[page.role], page.path

        def as_people() -> Iterator[tuple[Client, str]]:
            while True:
                for email in people:
                    person = Client(port)
                    person.login(email, GENERATED_PASSWORD)
                    for path in own:
                        yield person, path

        def over_periods() -> Iterator[tuple[Client, str]]:
            while True:
                for period in periods:
                    for path in reports:
                        yield clients["staff"], f"{path}?{urlencode(period)}"

        streams = [every_page(), as_people(), over_periods()]
        statuses: dict[int, int] = {}
        for n in range(args.memory):
            client, path = next(streams[n % len(streams)])
            response, _body, _t = client.get(path)
            statuses[response.status] = statuses.get(response.status, 0) + 1
        ended_mb = worker_rss_mb(proc)
    finally:
        stop(proc)
    return {
        "requests": args.memory,
        "people": len(people),
        "periods": len(periods),
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "worker_rss_mb_after_start": started_mb,
        "worker_rss_mb": ended_mb,
    }


def summarise(run: Run, args) -> dict:
    rows = []
    for page in run.pages:
        app_median, bare_median = statistics.median(page.app_ms), statistics.median(page.bare_ms)
        rows.append(
            {
                "page": page.label,
                "role": page.role,
                "path": page.path,
                "median_ms": round(app_median, 2),
                "p95_ms": round(percentile(page.app_ms, 95), 2),
                "queries": page.queries,
                "bytes": page.bytes,
                "bare_median_ms": round(bare_median, 2),
                "vs_bare_pct": round(100 * bare_median / app_median, 1),
            }
        )
    login_median = statistics.median(run.logins_ms)
    return {
        "scale": run.scale,
        "seed": args.seed,
        "database": run.url.split("://")[0],
        "rows_in_db": run.counts,
        "pages": rows,
        "login_median_ms": round(login_median, 1),
        "logins_per_second_per_worker": round(1000 / login_median, 1),
        "worker_rss_mb": run.rss,
        "rounds": args.rounds,
        "workers": args.workers,
        "port": run.port,
    }


def print_table(result: dict, baseline: dict | None, previous: dict | None = None) -> None:
    db = result["rows_in_db"]
    print(
        f"\nScale {result['scale']} on {result['database']}: {db['forum']:,} forums, {db['user_account']:,} people, "
        f"{db['meeting']:,} meetings, {db['invitation']:,} invitations, {db['action_item']:,} actions; "
        f"{result['rounds']} rounds, {result['workers']} workers"
    )
    base = {(r["page"], r["role"]): r for r in (baseline or {}).get("pages", [])}
    # With three scales or more, growth from the previous one too: a list grows until its page is
    # full (one forum at 0.01, 25 of them a page later), then stays flat.
    prev = {(r["page"], r["role"]): r for r in (previous or {}).get("pages", [])} if previous is not baseline else {}
    header = f"{'page':<34} {'role':<11} {'median':>8} {'p95':>8} {'SQL':>4} {'KB':>6} {'bare':>7} {'vs bare':>8}"
    if baseline:
        header += f" {'growth':>7} {'SQL@' + str(baseline['scale']):>8}"
    if prev:
        header += f" {'vs ' + str(previous['scale']):>8}"
    print(header)
    print("-" * len(header))
    for r in result["pages"]:
        line = (
            f"{r['page'][:34]:<34} {r['role']:<11} {r['median_ms']:>6.1f}ms {r['p95_ms']:>6.1f}ms "
            f"{r['queries']:>4} {r['bytes'] / 1024:>6.1f} {r['bare_median_ms']:>5.1f}ms {r['vs_bare_pct']:>7.1f}%"
        )
        b = base.get((r["page"], r["role"]))
        if b:
            line += f" {r['median_ms'] / b['median_ms']:>6.2f}× {b['queries']:>8}"
        p = prev.get((r["page"], r["role"]))
        if p:
            line += f" {r['median_ms'] / p['median_ms']:>7.2f}×"
        print(line)
    print(
        f"login: median {result['login_median_ms']} ms → {result['logins_per_second_per_worker']} logins/s per "
        f"worker; worker RSS after the run: {result['worker_rss_mb']} MB"
    )
    memory = result.get("memory")
    if memory:
        print(
            f"memory: {memory['requests']:,} requests across every page, {memory['people']} people and "
            f"{memory['periods']} report periods (statuses {memory['statuses']}); worker RSS "
            f"{memory['worker_rss_mb_after_start']} MB after start → {memory['worker_rss_mb']} MB "
            f"(target {MEMORY_TARGET_MB} MB a worker)"
        )


def main() -> None:
    global DATA, ONLY
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog="Through make: make bench BENCH_ARGS=\"--scale 1 --only 'meetings\\.meeting$'\" "
        "(make passes BENCH_ARGS as written, $ included).",
    )
    parser.add_argument(
        "--scale",
        type=float,
        action="append",
        help="data scale (repeat to compare; growth is shown against the first, and the previous)",
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--data", type=Path, default=ROOT / "bench" / ".data", help="where SQLite databases and captured pages go"
    )
    parser.add_argument(
        "--only",
        type=re.compile,
        default=None,
        help="time only the endpoints this regular expression finds (e.g. 'reports\\.|meetings\\.meeting$')",
    )
    parser.add_argument(
        "--port-base",
        type=int,
        default=0,
        help="serve on this port and the next ones (one per scale, the bare app, the memory run); "
        "default: free ports the system picks",
    )
    parser.add_argument(
        "--memory",
        type=int,
        default=0,
        metavar="N",
        help="then send N requests (e.g. 2000) across every page, many people and report periods to "
        "a fresh app of the largest scale and print each worker's RSS (target 120 MB)",
    )
    parser.add_argument("--out", type=Path, default=None, help="JSON file (default bench/results/<time>.json)")
    args = parser.parse_args()
    DATA = args.data.resolve()
    ONLY = args.only
    scales = args.scale or [1.0]
    env = {
        **os.environ,
        "FORUM_ENV": "production",
        # The simulated people sign in with their password only: production asks administrators,
        # staff and organisers for a code as well, one step at sign-in that the pages never see.
        "SECOND_FACTOR_REQUIRED_ROLES": "",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "FORUM_INSTANCE_DIR": str(DATA / "instance"),
        "PYTHONPATH": str(ROOT),
    }
    env.pop("DATABASE_URL", None)
    results = bench(scales, args, env)
    for result in results:
        i = results.index(result)
        print_table(result, results[0] if i else None, results[i - 1] if i else None)
    out = args.out or RESULTS / f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{results[0]['database']}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"runs": results}, indent=2))
    print(f"\nWritten to {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}")


if __name__ == "__main__":
    main()
