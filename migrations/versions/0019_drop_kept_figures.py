"""Drop kept_figures: the dashboard caches its assembled figures with Flask-Caching instead.

The table held each forum's counted figures per period and hour, written from GET requests so
other workers could read them (24,120 rows and a 145 MB SQLite WAL after an hour of report
periods). The figures are now counted with grouped SQL and cached as data with a TTL
(reports/dashboard.py: Redis when ``REDIS_URL`` is set, per process otherwise). The downgrade
brings the table back empty: what it held was only ever a cache.

Revision ID: 0019_drop_kept_figures
Revises: 0018_emails_normalised
"""

from alembic import op
import sqlalchemy as sa

revision = "0019_drop_kept_figures"
down_revision = "0018_emails_normalised"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("kept_figures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_kept_figures_hour"))
    op.drop_table("kept_figures")


def downgrade():
    op.create_table(
        "kept_figures",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("hour", sa.DateTime(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_kept_figures")),
    )
    with op.batch_alter_table("kept_figures", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_kept_figures_hour"), ["hour"], unique=False)
