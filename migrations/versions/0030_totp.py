"""Second factor (TOTP) and re-authentication.

``user_account``: the TOTP secret (encrypted), when it was enrolled and the last time step accepted (a code
is never taken twice). ``recovery_code``: hashed one-time codes. ``user_session.authenticated_at``:
when the person last proved who they are in that session (auth/reauth.py).

Revision ID: 0030_totp
Revises: 0029_action_fixes
"""

import sqlalchemy as sa
from alembic import op

revision = "0030_totp"
down_revision = "0029_action_fixes"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.add_column(sa.Column("totp_secret", sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column("totp_enabled_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("totp_last_step", sa.Integer(), nullable=True))
    with op.batch_alter_table("user_session", schema=None) as batch_op:
        batch_op.add_column(sa.Column("authenticated_at", sa.DateTime(), nullable=True))
    op.create_table(
        "recovery_code",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("used_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_recovery_code_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recovery_code")),
    )
    op.create_index("ix_recovery_code_user_id_code_hash", "recovery_code", ["user_id", "code_hash"], unique=True)


def downgrade():
    op.drop_index("ix_recovery_code_user_id_code_hash", table_name="recovery_code")
    op.drop_table("recovery_code")
    # Plain ALTER TABLE … DROP COLUMN (SQLite 3.35+), not batch mode: batch mode would copy and
    # drop user_account on SQLite, and with it the triggers of its people-search index (0017).
    op.drop_column("user_session", "authenticated_at")
    for column in ("totp_last_step", "totp_enabled_at", "totp_secret"):
        op.drop_column("user_account", column)
