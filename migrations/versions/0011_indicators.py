"""Indicators: what a programme measures (unit, baseline, an optional metric computed from Forum
Desk's data), and a target per reporting period and country, with the actual value entered by staff
and its source note where no metric computes it.

Revision ID: 0011_indicators
Revises: 0010_review
"""

from alembic import op
import sqlalchemy as sa

revision = "0011_indicators"
down_revision = "0010_review"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "indicator",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("programme_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("unit", sa.String(length=50), nullable=False),
        sa.Column("baseline", sa.Float(), nullable=True),
        sa.Column("metric", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "metric IN ('', 'forums_active', 'meetings_held', 'kinds_per_forum', 'attendance_rate', 'actions_done', 'actions_on_time')",
            name=op.f("ck_indicator_metric"),
        ),
        sa.ForeignKeyConstraint(
            ["programme_id"], ["programme.id"], name=op.f("fk_indicator_programme_id_programme"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_indicator")),
        sa.UniqueConstraint("programme_id", "name", name=op.f("uq_indicator_programme_id_name")),
    )
    with op.batch_alter_table("indicator", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_indicator_programme_id"), ["programme_id"], unique=False)

    op.create_table(
        "indicator_target",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("indicator_id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=50), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("country", sa.String(length=8), nullable=False),
        sa.Column("target", sa.Float(), nullable=True),
        sa.Column("actual", sa.Float(), nullable=True),
        sa.Column("source_note", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("ends_on >= starts_on", name=op.f("ck_indicator_target_period")),
        sa.ForeignKeyConstraint(
            ["indicator_id"],
            ["indicator.id"],
            name=op.f("fk_indicator_target_indicator_id_indicator"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_indicator_target")),
        sa.UniqueConstraint(
            "indicator_id", "period", "country", name=op.f("uq_indicator_target_indicator_id_period_country")
        ),
    )
    with op.batch_alter_table("indicator_target", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_indicator_target_indicator_id"), ["indicator_id"], unique=False)


def downgrade():
    with op.batch_alter_table("indicator_target", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_indicator_target_indicator_id"))
    op.drop_table("indicator_target")
    with op.batch_alter_table("indicator", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_indicator_programme_id"))
    op.drop_table("indicator")
