"""Email addresses stored normalised (trimmed, lower-cased), so a login looks one up by its index.

Logins compared ``lower(email)`` with the address typed, which no index answers: every login
lower-cased every stored address (23 ms at 12,000 people on SQLite, where ``lower`` is Python's).
Addresses are now normalised when set (``User``'s validator, ``models.people.normalise_email``)
and looked up as they are; this brings addresses stored before that into the same form.

Lower-cased here in Python, as the validator does: SQLite's own ``lower()`` folds only ASCII.
Two accounts differing only in case could not both log in before (the lookup found two); such a
pair stops the upgrade with their ids, for an administrator to merge, rather than guessing.

Revision ID: 0018_emails_normalised
Revises: 0017_people_search_sqlite
"""

from alembic import op
import sqlalchemy as sa

revision = "0018_emails_normalised"
down_revision = "0017_people_search_sqlite"
branch_labels = None
depends_on = None

users = sa.table("user_account", sa.column("id", sa.Integer), sa.column("email", sa.String))


def upgrade():
    bind = op.get_bind()
    rows = bind.execute(sa.select(users.c.id, users.c.email)).all()
    taken: dict[str, int] = {}
    for user_id, email in rows:
        normal = email.strip().lower()
        if normal in taken:
            raise RuntimeError(
                f"Accounts {taken[normal]} and {user_id} have the same email address ({normal}) "
                "but for case: merge them, then upgrade again."
            )
        taken[normal] = user_id
    for user_id, email in rows:
        if email != email.strip().lower():
            bind.execute(users.update().where(users.c.id == user_id).values(email=email.strip().lower()))


def downgrade():
    pass  # the addresses' original case is not kept: lower-case addresses work as they did
