"""stored HTML for agendas, minutes versions and forum descriptions

Markdown is rendered once, when it is saved, within a time and size budget; pages read
the stored, sanitised HTML. Existing rows are rendered here with the same budgeted
renderer; text that cannot be rendered within the budget is stored as escaped plain text
(its Markdown is kept, so an organiser can simplify it and save again).

Revision ID: 0004_stored_html
Revises: 656240dc2c47
Create Date: 2026-12-02 10:00:00.000000

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0004_stored_html"
down_revision = "6c9fbef03112"
branch_labels = None
depends_on = None

# (table, Markdown column, HTML column)
STORED = (
    ("forum", "description", "description_html"),
    ("meeting", "agenda_md", "agenda_html"),
    ("minutes_version", "body_md", "body_html"),
)


def upgrade():
    # The app's renderer (budget, sanitiser allow-list); imported here, not at module
    # level, so reading the migration history does not need the app.
    from forum_app.core.markdown import render_or_plain

    for table, _source, target in STORED:
        with op.batch_alter_table(table, schema=None) as batch_op:
            # The server default fills the rows that exist already; the app always sets it.
            batch_op.add_column(sa.Column(target, sa.Text(), nullable=False, server_default=""))

    connection = op.get_bind()
    for table, source, target in STORED:
        rows = sa.table(table, sa.column("id", sa.Integer), sa.column(source, sa.Text), sa.column(target, sa.Text))
        ids = connection.execute(sa.select(rows.c.id).where(rows.c[source] != "").order_by(rows.c.id)).scalars().all()
        for row_id in ids:  # one row in memory at a time: minutes can be long
            text = connection.execute(sa.select(rows.c[source]).where(rows.c.id == row_id)).scalar_one()
            connection.execute(rows.update().where(rows.c.id == row_id).values({target: render_or_plain(text)}))

    for table, _source, target in STORED:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column(target, server_default=None)


def downgrade():
    for table, _source, target in reversed(STORED):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column(target)
