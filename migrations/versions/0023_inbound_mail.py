"""Mail received at the reply address (issue 20): calendar answers, written replies, bounces.

``received_mail``: every message received (raw, up to INBOUND_MAX_BYTES; larger ones keep their
headers), its outcome, and the meeting, invitee and outbox message it concerns. Rows are deleted
after INBOUND_RETENTION_DAYS. A new table only: no existing table is rebuilt.

Revision ID: 0023_inbound_mail
Revises: 0022_search_folding
"""

import sqlalchemy as sa
from alembic import op

revision = "0023_inbound_mail"
down_revision = "0022_search_folding"
branch_labels = None
depends_on = None

# As vocab.RECEIVED_OUTCOMES was when this migration was written.
OUTCOMES = (
    "applied",
    "duplicate",
    "ignored-old-sequence",
    "ignored",
    "refused-sender",
    "delegated",
    "note",
    "auto-reply",
    "bounce",
    "unmatched",
    "too-large",
)


def upgrade():
    op.create_table(
        "received_mail",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("raw", sa.LargeBinary(), nullable=False),
        sa.Column("message_id", sa.String(length=255), nullable=False),
        sa.Column("from_addr", sa.String(length=254), nullable=False),
        sa.Column("from_name", sa.String(length=200), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("outcome", sa.String(length=24), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("outbox_message_id", sa.Integer(), nullable=True),
        sa.Column("answer", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.CheckConstraint(
            "outcome IN (" + ", ".join(f"'{o}'" for o in OUTCOMES) + ")", name=op.f("ck_received_mail_outcome")
        ),
        sa.ForeignKeyConstraint(
            ["meeting_id"], ["meeting.id"], name=op.f("fk_received_mail_meeting_id_meeting"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["outbox_message_id"],
            ["outbox_message.id"],
            name=op.f("fk_received_mail_outbox_message_id_outbox_message"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_received_mail_user_id_user_account"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_received_mail")),
    )
    op.create_index(op.f("ix_received_mail_digest"), "received_mail", ["digest"], unique=False)
    op.create_index("ix_received_mail_meeting_id_id", "received_mail", ["meeting_id", "id"], unique=False)
    op.create_index(op.f("ix_received_mail_outbox_message_id"), "received_mail", ["outbox_message_id"], unique=False)
    op.create_index("ix_received_mail_received_at", "received_mail", ["received_at"], unique=False)
    op.create_index(op.f("ix_received_mail_user_id"), "received_mail", ["user_id"], unique=False)


def downgrade():
    op.drop_table("received_mail")
