"""meeting.rescheduled_at: when a scheduled meeting's date or time last changed (its answers were reset then).

Nullable, no index: it is read with the meeting it belongs to. Added without rebuilding the
table (a plain ADD COLUMN on both databases).

Revision ID: 0025_reschedule
Revises: 0023_inbound_mail
"""

import sqlalchemy as sa
from alembic import op

revision = "0025_reschedule"
down_revision = "0023_inbound_mail"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("meeting", sa.Column("rescheduled_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("meeting") as batch_op:
        batch_op.drop_column("rescheduled_at")
