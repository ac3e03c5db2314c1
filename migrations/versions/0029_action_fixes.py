"""One-time form tokens: a create form sent twice creates once (core.once).

``form_submission``: the token a create form carried, its user, when, and the page of what it
created; purged after a while.

Revision ID: 0029_action_fixes
Revises: 0027_meeting_day
"""

import sqlalchemy as sa
from alembic import op

revision = "0029_action_fixes"
down_revision = "0027_meeting_day"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "form_submission",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("result_url", sa.String(length=2000), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_form_submission_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_form_submission")),
        sa.UniqueConstraint("token", name=op.f("uq_form_submission_token")),
    )
    op.create_index("ix_form_submission_created_at", "form_submission", ["created_at"], unique=False)


def downgrade():
    op.drop_index("ix_form_submission_created_at", table_name="form_submission")
    op.drop_table("form_submission")
