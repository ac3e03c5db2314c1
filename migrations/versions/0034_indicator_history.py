"""Indicators are edited and retired with their history kept (issue 23).

``indicator_revision``: every definition of an indicator, appended (defined, edited, retired,
reinstated), with its author and time. ``indicator`` gains ``version`` (concurrent edits become a
conflict), ``updated_at`` and ``retired_at``. Each existing indicator gets its first revision,
"defined", from its current values at its creation time.

Revision ID: 0034_indicator_history
Revises: 0030_totp
"""

import sqlalchemy as sa
from alembic import op

revision = "0034_indicator_history"
down_revision = "0030_totp"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "indicator_revision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("indicator_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("change", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("unit", sa.String(length=50), nullable=False),
        sa.Column("baseline", sa.Float(), nullable=True),
        sa.Column("metric", sa.String(length=32), nullable=False),
        sa.Column("retired", sa.Boolean(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "change IN ('defined', 'edited', 'retired', 'reinstated')", name=op.f("ck_indicator_revision_change")
        ),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["user_account.id"],
            name=op.f("fk_indicator_revision_author_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["indicator_id"],
            ["indicator.id"],
            name=op.f("fk_indicator_revision_indicator_id_indicator"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_indicator_revision")),
        sa.UniqueConstraint("indicator_id", "number", name=op.f("uq_indicator_revision_indicator_id_number")),
    )
    with op.batch_alter_table("indicator_revision", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_indicator_revision_indicator_id"), ["indicator_id"], unique=False)

    with op.batch_alter_table("indicator", schema=None) as batch_op:
        batch_op.add_column(sa.Column("updated_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("retired_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))

    # The history starts with what each existing indicator says now (its author is not known).
    op.execute(
        "INSERT INTO indicator_revision "
        "(indicator_id, number, change, name, unit, baseline, metric, retired, author_id, created_at) "
        "SELECT id, 1, 'defined', name, unit, baseline, metric, false, NULL, created_at FROM indicator"
    )


def downgrade():
    with op.batch_alter_table("indicator", schema=None) as batch_op:
        batch_op.drop_column("version")
        batch_op.drop_column("retired_at")
        batch_op.drop_column("updated_at")

    with op.batch_alter_table("indicator_revision", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_indicator_revision_indicator_id"))

    op.drop_table("indicator_revision")
