"""Sessions a person can see: when each was last used (``user_session.last_seen_at``).

Written at most once per SESSION_LAST_SEEN_MINUTES per session (auth.sessions.note_use).

Revision ID: 0032_sessions
Revises: 0033_rights
"""

import sqlalchemy as sa
from alembic import op

revision = "0032_sessions"
down_revision = "0033_rights"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("user_session", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_seen_at", sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table("user_session", schema=None) as batch_op:
        batch_op.drop_column("last_seen_at")
