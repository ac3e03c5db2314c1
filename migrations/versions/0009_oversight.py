"""Oversight: personal API tokens, and the person's optional gender (participation figures).

``api_token``: named, hashed, revocable personal tokens for the JSON API (read-only or read-write).
``user_account.gender``: "not_recorded" unless the person's record says otherwise; figures show it
only in aggregate.

Revision ID: 0009_oversight
Revises: 0008_search
"""

from alembic import op
import sqlalchemy as sa

revision = "0009_oversight"
down_revision = "0008_search"
branch_labels = None
depends_on = None

GENDERS = ("not_recorded", "female", "male", "other")


def upgrade():
    op.create_table(
        "api_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("prefix", sa.String(length=12), nullable=False),
        sa.Column("can_write", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_used_at", sa.DateTime(), nullable=True),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_api_token_user_id_user_account"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_token")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_token_token_hash")),
    )
    with op.batch_alter_table("api_token", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_token_user_id"), ["user_id"], unique=False)

    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.add_column(sa.Column("gender", sa.String(length=16), nullable=False, server_default="not_recorded"))
        batch_op.create_check_constraint(
            op.f("ck_user_account_gender"), "gender IN (" + ", ".join(f"'{g}'" for g in GENDERS) + ")"
        )


def downgrade():
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_user_account_gender"), type_="check")
        batch_op.drop_column("gender")
    with op.batch_alter_table("api_token", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_token_user_id"))
    op.drop_table("api_token")
