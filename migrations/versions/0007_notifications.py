"""Notifications: email choices and the calendar feed secret per person, reminders sent,
and the meeting each outbox message is about.

``notification_settings``: one optional row per person (no row: every email on, no feed).
``sent_reminder``: one row per reminder queued, unique per person, kind, subject and
occasion, so ``flask forum remind`` never sends the same reminder twice.
``outbox_message.meeting_id``: organisers see each invitee's delivery state.

Revision ID: 0007_notifications
Revises: 0006_actions
"""

from alembic import op
import sqlalchemy as sa

revision = "0007_notifications"
down_revision = "0006_actions"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "notification_settings",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("meeting_reminders", sa.Boolean(), nullable=False),
        sa.Column("action_reminders", sa.Boolean(), nullable=False),
        sa.Column("minutes_notices", sa.Boolean(), nullable=False),
        sa.Column("feed_nonce", sa.String(length=64), nullable=True),
        sa.Column("feed_token_hash", sa.String(length=64), nullable=True),
        sa.Column("feed_created_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_notification_settings_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_notification_settings")),
        sa.UniqueConstraint("feed_token_hash", name=op.f("uq_notification_settings_feed_token_hash")),
    )
    op.create_table(
        "sent_reminder",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("subject_type", sa.String(length=16), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("occasion", sa.String(length=40), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_sent_reminder_user_id_user_account"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sent_reminder")),
        sa.UniqueConstraint(
            "user_id",
            "kind",
            "subject_type",
            "subject_id",
            "occasion",
            name=op.f("uq_sent_reminder_user_id_kind_subject_type_subject_id_occasion"),
        ),
    )
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.add_column(sa.Column("meeting_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_outbox_message_meeting_id"), ["meeting_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_outbox_message_meeting_id_meeting"), "meeting", ["meeting_id"], ["id"], ondelete="SET NULL"
        )


def downgrade():
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_outbox_message_meeting_id_meeting"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_outbox_message_meeting_id"))
        batch_op.drop_column("meeting_id")
    op.drop_table("sent_reminder")
    op.drop_table("notification_settings")
