"""The ``flask forum …`` command group."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import func, select

from .core import audit
from .core.commit import attempt
from .database import refresh_statistics
from .extensions import db
from .models import OutboxMessage, User

forum_cli = AppGroup("forum", help="Forum Desk administration.")


@forum_cli.command("create-admin")
@click.option("--email", prompt=True)
@click.option("--name", prompt=True, default="Administrator")
@click.option(
    "--password",
    prompt=True,
    hide_input=True,
    confirmation_prompt=True,
    envvar="FORUM_ADMIN_PASSWORD",
    help="Or set FORUM_ADMIN_PASSWORD.",
)
def create_admin(email: str, name: str, password: str) -> None:
    """Create an administrator (or make an existing account one and set its password)."""
    from .auth.services import create_admin as make_admin

    outcome = attempt(lambda: make_admin(email, name, password))
    if not outcome:
        raise click.ClickException(outcome.message)
    click.echo(f"Administrator {outcome.value.email} is ready.")


@forum_cli.command("seed-demo")
@click.option("--if-empty", is_flag=True, help="Only when the database has no accounts yet.")
def seed_demo(if_empty: bool) -> None:
    """Build the demo: the 2021 forums in Sarajevo, Skopje and Bijelo Polje. Safe to run twice."""
    from .demo import seed_demo as build

    if current_app.config["FORUM_ENV"] == "production":
        raise click.ClickException("Refusing to load demo accounts with a known password in production.")
    if if_empty and db.session.execute(select(func.count()).select_from(User)).scalar_one():
        from .demo import DEMO_LOGINS

        click.echo("The database already has accounts; demo not loaded again.")
        print_logins(DEMO_LOGINS)
        return
    outcome = attempt(build)
    if not outcome:
        raise click.ClickException(outcome.message)
    print_logins(outcome.value)


def print_logins(logins: list[tuple[str, str, str]]) -> None:
    base_url = current_app.config["BASE_URL"]
    click.echo(f"\nDemo logins for {base_url} (demo data only):")
    width = max(len(role) for role, _e, _p in logins)
    for role, email, password in logins:
        click.echo(f"  {role:<{width}}  {email:<40} {password}")


@forum_cli.command("demo-logins")
def demo_logins() -> None:
    """Print the demo logins again."""
    from .demo import DEMO_LOGINS

    print_logins(DEMO_LOGINS)


outbox_cli = AppGroup("outbox", help="Queued emails.")
forum_cli.add_command(outbox_cli)


@outbox_cli.command("list")
@click.option("--limit", default=20, show_default=True)
@click.option("--body", is_flag=True, help="Print each message's text too (links hidden).")
def outbox_list(limit: int, body: bool) -> None:
    """Show the most recent queued emails: metadata, and with --body the text without its links."""
    from .notifications.views import outbox_body

    rows = db.session.execute(select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit)).scalars()
    for msg in rows:
        click.echo(
            f"#{msg.id} [{msg.status}] {msg.created_at:%Y-%m-%d %H:%M} UTC  to {msg.to_addr}  {msg.subject}"
            + ("  (personal link: body not shown)" if msg.sensitive else "")
        )
        text = outbox_body(msg)
        if body and text is not None:
            click.echo("    " + text.replace("\n", "\n    "))


mail_cli = AppGroup("mail", help="Delivering the outbox; reading the replies that come back.")
forum_cli.add_command(mail_cli)


@mail_cli.command("deliver")
@click.option("--loop", is_flag=True, help="Keep running: deliver what is due every --interval seconds.")
@click.option("--interval", default=10, show_default=True, help="Seconds between runs with --loop.")
@click.option("--limit", default=200, show_default=True, help="Most messages sent per run.")
def mail_deliver(loop: bool, interval: int, limit: int) -> None:
    """Send the emails that are due through the configured SMTP server, with retries.

    Several workers may run at once on PostgreSQL (each message is sent once); on SQLite run one.
    """
    import time

    from .notifications.delivery import deliver_due, delivery_enabled

    if not delivery_enabled():
        click.echo("MAIL_SERVER is not set (development): emails stay in the outbox, readable at /outbox.")
    while True:
        try:
            report = deliver_due(limit=limit)
        except Exception as exc:  # a database hiccup must not end a --loop worker
            db.session.rollback()
            if not loop:
                raise
            click.echo(f"delivery run failed: {type(exc).__name__}: {exc}", err=True)
        else:
            if report.sent or report.retrying or report.failed or not loop:
                click.echo(
                    f"sent {report.sent}, waiting to retry {report.retrying}, failed {report.failed}"
                    + (f", held in the outbox {report.held}" if report.held else "")
                    + (f", not sent (meeting over) {report.withdrawn}" if report.withdrawn else "")
                    + (f", not sent (a newer email replaced it) {report.superseded}" if report.superseded else "")
                )
            for error in report.errors:
                click.echo(f"  {error}", err=True)
        # Entries written outside the commit point (none today) or left by a seal that
        # failed are chained here, within a round.
        audit.seal()
        db.session.remove()
        if not loop:
            break
        time.sleep(interval)


@mail_cli.command("fetch")
@click.option(
    "--loop", is_flag=True, help="Keep running: wait for new mail (IMAP IDLE, else every --interval seconds)."
)
@click.option("--interval", default=60, show_default=True, help="Seconds between polls (and pauses after errors).")
@click.option("--no-idle", is_flag=True, help="Poll even when the server offers IDLE.")
def mail_fetch(loop: bool, interval: int, no_idle: bool) -> None:
    """Read the reply mailbox (IMAP_URL): calendar answers, written replies and bounces.

    Each message is kept, acted on, and then deleted from the mailbox. Run one reader.
    """
    import imaplib
    import signal
    import threading

    from .inbound.fetch import ConfigurationError, _summary, fetch_once, run_loop

    try:
        if not loop:
            click.echo(_summary(fetch_once()))
            return
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_args: stop.set())
        try:
            run_loop(stop, interval=interval, use_idle=not no_idle, say=click.echo)
        except KeyboardInterrupt:
            stop.set()
    except ConfigurationError as exc:
        raise click.ClickException(str(exc)) from exc
    except (OSError, imaplib.IMAP4.error) as exc:
        raise click.ClickException(f"cannot read the mailbox: {type(exc).__name__}: {exc}") from exc


# A mail server running `flask forum mail receive` treats this exit status as "try again later" (sysexits.h).
EX_TEMPFAIL = 75


@mail_cli.command("receive")
def mail_receive() -> None:
    """Take one message on standard input (a mail server's pipe, e.g. Postfix's aliases or pipe transport)."""
    stdin = sys.stdin.buffer
    limit = current_app.config["INBOUND_MAX_BYTES"]
    raw = stdin.read(limit + 1)
    size = len(raw)
    while chunk := stdin.read(1 << 20):  # the rest of a message too large is read and dropped
        size += len(chunk)
    from .inbound.services import receive

    try:
        outcome = attempt(lambda: receive(raw, "pipe", size=size).outcome)
    except Exception as exc:  # the database is away: the mail server keeps the message and tries again
        click.echo(f"not received: {type(exc).__name__}: {exc}", err=True)
        raise SystemExit(EX_TEMPFAIL) from exc
    if not outcome:
        click.echo(f"not received: {outcome.message}", err=True)
        raise SystemExit(EX_TEMPFAIL)
    click.echo(f"received: {outcome.value}")


@mail_cli.command("purge-received")
def mail_purge_received() -> None:
    """Delete received messages older than INBOUND_RETENTION_DAYS (the fetch loop also does, hourly)."""
    from .inbound.services import purge_expired

    outcome = attempt(purge_expired)
    if not outcome:
        raise click.ClickException(outcome.message)
    click.echo(f"deleted {outcome.value} received messages")


@mail_cli.command("received")
@click.option("--limit", default=20, show_default=True)
def mail_received(limit: int) -> None:
    """The latest messages received, with their outcome (metadata only)."""
    from .models import ReceivedMail

    rows = db.session.execute(select(ReceivedMail).order_by(ReceivedMail.id.desc()).limit(limit)).scalars()
    for mail in rows:
        click.echo(
            f"#{mail.id} {mail.received_at:%Y-%m-%d %H:%M} UTC [{mail.source}] {mail.outcome}"
            + (f" ({mail.reason})" if mail.reason else "")
            + f"  from {mail.from_addr or '?'}"
            + (f"  meeting {mail.meeting_id}" if mail.meeting_id else "")
            + f"  {mail.subject}"
        )


@forum_cli.command("remind")
def remind() -> None:
    """Queue reminders: meetings in the next 2 days, actions due in 3 days or overdue. Safe to run hourly."""
    from .core.clock import utcnow
    from .notifications.reminders import send_reminders

    report = send_reminders(utcnow())
    click.echo(f"reminders queued {report.queued} in {report.emails} emails; skipped {report.skipped}")
    for problem in report.problems:
        click.echo(f"  {problem}", err=True)


@forum_cli.command("generate")
@click.option(
    "--scale",
    type=float,
    default=1.0,
    show_default=True,
    help="1 ≈ 120 forums, 12,000 people, 2,400 meetings, 60,000 actions; 0.01 is one small forum.",
)
@click.option("--seed", type=int, default=1, show_default=True, help="Same seed (and --today), same data.")
@click.option(
    "--today",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Lay the data out around this date instead of today (fully reproducible output).",
)
def generate(scale: float, seed: int, today) -> None:
    """Programme-scale data for benchmarks, into a freshly migrated, empty database."""
    import time

    from .generate import NotEmpty
    from .generate import generate as build

    if current_app.config["FORUM_ENV"] == "production":
        raise click.ClickException("Refusing to generate accounts with a known password in production.")
    if not 0 < scale <= 20:
        raise click.ClickException("--scale must be above 0 and at most 20.")
    started = time.perf_counter()
    try:
        summary = build(scale, seed=seed, today=today.date() if today else None)
    except NotEmpty as exc:
        raise click.ClickException(str(exc)) from exc
    db.session.commit()
    refresh_statistics()
    click.echo(f"Generated in {time.perf_counter() - started:.1f} s:")
    for table, count in summary.rows.items():
        click.echo(f"  {table:<20} {count:>9,}")
    click.echo(f"\nLogins (password {summary.password!r}, generated data only):")
    for role, email in summary.logins.items():
        click.echo(f"  {role:<12} {email}")


audit_cli = AppGroup("audit", help="The audit log's hash chain.")
forum_cli.add_command(audit_cli)


@audit_cli.command("verify")
def audit_verify() -> None:
    """Recompute the audit log's hash chain; exit 1 naming the first entry that does not match."""
    verdict = audit.verify()
    if not verdict.ok:
        where = f"entry {verdict.broken_seq}"
        if verdict.broken is not None:
            event = verdict.broken
            where += f" (id {event.id}, {event.at:%Y-%m-%d %H:%M:%S} UTC, {event.verb})"
        click.echo(f"audit log BROKEN at {where}: {verdict.reason}", err=True)
        sys.exit(1)
    click.echo(
        f"audit log intact: {verdict.checked} entries chained"
        + (f", {verdict.unsealed} not sealed yet (run `flask forum audit seal`)" if verdict.unsealed else "")
    )


@audit_cli.command("seal")
def audit_seal() -> None:
    """Chain the entries not sealed yet (the app does this after each change; for after a restore)."""
    total = 0
    while sealed := audit.seal():
        total += sealed
    click.echo(f"sealed {total} entries")


retention_cli = AppGroup("retention", help="Forgetting people and mail past their keep time.")
forum_cli.add_command(retention_cli)


@retention_cli.command("apply")
@click.option("--dry-run", is_flag=True, help="Only list who would be erased; change nothing.")
def retention_apply(dry_run: bool) -> None:
    """Pseudonymise people inactive for RETENTION_INACTIVE_DAYS and delete received mail older than
    INBOUND_RETENTION_DAYS. Safe to run daily: a second run finds nothing more to do."""
    from .people import retention

    audit.seal()  # entries still unsealed would keep a name the erasure cannot redact
    outcome = attempt(lambda: retention.apply(dry_run=dry_run))
    if not outcome:
        raise click.ClickException(outcome.message)
    result = outcome.value
    ids = ", ".join(f"#{i}" for i in result.erased) or "nobody"
    if dry_run:
        click.echo(f"would erase {len(result.erased)} inactive people: {ids}")
    else:
        click.echo(
            f"erased {len(result.erased)} inactive people: {ids}; "
            f"deleted {result.received_mail_deleted} received messages"
        )


@forum_cli.command("backup")
@click.argument("output", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--recipient",
    "recipients",
    multiple=True,
    envvar="BACKUP_RECIPIENTS",
    help="Encrypt to this age public key (age1…); may be given several times. Default: BACKUP_RECIPIENTS.",
)
def backup(output: Path, recipients: tuple[str, ...]) -> None:
    """Write a consistent backup of the running database to OUTPUT (see docs/operations.md)."""
    from .backup import BackupError, make_backup

    try:
        result = make_backup(output, [r for value in recipients for r in value.split()])
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(
        f"backup written: {result.path} ({result.kind}, {result.size:,} bytes"
        + (", encrypted" if result.encrypted else ", NOT encrypted")
        + ")"
    )


@forum_cli.command("restore")
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--identity", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="age secret key file.")
def restore(source: Path, identity: Path | None) -> None:
    """Restore a backup into this app's database, which must be empty; then verify the audit chain."""
    from .backup import BackupError, restore_backup

    try:
        kind = restore_backup(source, identity)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    verdict = audit.verify()
    click.echo(f"restored {source} ({kind}); audit log: " + ("intact" if verdict.ok else "BROKEN: " + verdict.reason))
    if not verdict.ok:
        sys.exit(1)
