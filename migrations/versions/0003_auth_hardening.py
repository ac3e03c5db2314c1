"""auth hardening: throttle counters with back-off, sensitive outbox messages

Failed logins move from one row per failure (``login_failure``) to one counter row per
key (``throttle_counter``) that is locked while it is read and changed, so concurrent
attempts are counted one by one. Counts in flight are not carried over: they are
short-lived by nature.

Outbox messages get a ``sensitive`` flag: their body carries a link that acts for the
recipient, so the outbox page and CLI show their metadata only. Set-password and reset
emails already queued are marked.

Revision ID: 6c9fbef03112
Revises: 656240dc2c47
Create Date: 2026-11-29 09:21:31.859089

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "6c9fbef03112"
down_revision = "656240dc2c47"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "throttle_counter",
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_at", sa.DateTime(), nullable=False),
        sa.Column("blocked_until", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_throttle_counter")),
    )
    with op.batch_alter_table("throttle_counter", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_throttle_counter_last_at"), ["last_at"], unique=False)

    with op.batch_alter_table("login_failure", schema=None) as batch_op:
        batch_op.drop_index("ix_login_failure_key_at")

    op.drop_table("login_failure")
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        # The server default fills the rows that exist already; the app always sets it.
        batch_op.add_column(sa.Column("sensitive", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.execute("UPDATE outbox_message SET sensitive = true WHERE kind IN ('set-password', 'reset-password')")
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.alter_column("sensitive", server_default=None)


def downgrade():
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.drop_column("sensitive")

    op.create_table(
        "login_failure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_failure")),
    )
    with op.batch_alter_table("login_failure", schema=None) as batch_op:
        batch_op.create_index("ix_login_failure_key_at", ["key", "at"], unique=False)

    with op.batch_alter_table("throttle_counter", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_throttle_counter_last_at"))

    op.drop_table("throttle_counter")
