"""kept_figures: a forum's counted report figures, shared by every app process.

Each process keeps the figures it counts under (forum, figures_stamp, time zone, period, hour);
this table holds them under the same key so another worker or node reads them instead of
counting the programme again (~0.4 s at 120 forums). A row whose stamp has moved is never
asked for; rows of past hours are deleted as new ones are written.

Revision ID: 0016_kept_figures
Revises: 0015_figures_stamp
"""

from alembic import op
import sqlalchemy as sa

revision = "0016_kept_figures"
down_revision = "0015_figures_stamp"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "kept_figures",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("hour", sa.DateTime(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_kept_figures")),
    )
    with op.batch_alter_table("kept_figures", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_kept_figures_hour"), ["hour"], unique=False)


def downgrade():
    with op.batch_alter_table("kept_figures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_kept_figures_hour"))
    op.drop_table("kept_figures")
