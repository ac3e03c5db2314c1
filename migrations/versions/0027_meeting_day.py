"""The meeting day: typed agenda items, actions agreed under them, minutes adopted at the next meeting.

- ``agenda_item``: a meeting's agenda items with their notes, decisions and (for an "adoption" item)
  the meeting whose minutes it adopts; each item has its own version (optimistic locking).
- ``action_item.agenda_item_id``: the item an action was agreed under (nullable: most were not).
- ``forum.minutes_adoption``: "circulation" (as before, the default for every forum there is) or "next_meeting".
- ``meeting.minutes_adopted_at_meeting_id``: the later meeting that adopted these minutes, if one did.

Revision ID: 0027_meeting_day
Revises: 0031_audit_chain
"""

import sqlalchemy as sa
from alembic import op

revision = "0027_meeting_day"
down_revision = "0031_audit_chain"
branch_labels = None
depends_on = None

KINDS = ("topic", "review", "adoption")
WAYS = ("circulation", "next_meeting")


def _in(column: str, values) -> str:
    return f"{column} IN (" + ", ".join(f"'{v}'" for v in values) + ")"


def upgrade():
    op.create_table(
        "agenda_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("notes_md", sa.Text(), nullable=False),
        sa.Column("notes_html", sa.Text(), nullable=False),
        sa.Column("decisions", sa.JSON(), nullable=False),
        sa.Column("adopts_meeting_id", sa.Integer(), nullable=True),
        sa.Column("adopted_at", sa.DateTime(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(_in("kind", KINDS), name=op.f("ck_agenda_item_kind")),
        sa.ForeignKeyConstraint(
            ["meeting_id"], ["meeting.id"], name=op.f("fk_agenda_item_meeting_id_meeting"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["adopts_meeting_id"],
            ["meeting.id"],
            name=op.f("fk_agenda_item_adopts_meeting_id_meeting"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agenda_item")),
    )
    with op.batch_alter_table("agenda_item", schema=None) as batch_op:
        batch_op.create_index("ix_agenda_item_meeting_position", ["meeting_id", "position"], unique=False)

    with op.batch_alter_table("action_item", schema=None) as batch_op:
        batch_op.add_column(sa.Column("agenda_item_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_action_item_agenda_item_id_agenda_item"),
            "agenda_item",
            ["agenda_item_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_index(batch_op.f("ix_action_item_agenda_item_id"), ["agenda_item_id"], unique=False)

    with op.batch_alter_table("forum", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("minutes_adoption", sa.String(length=16), server_default="circulation", nullable=False)
        )
        batch_op.create_check_constraint(batch_op.f("ck_forum_minutes_adoption"), _in("minutes_adoption", WAYS))

    with op.batch_alter_table("meeting", schema=None) as batch_op:
        batch_op.add_column(sa.Column("minutes_adopted_at_meeting_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_meeting_minutes_adopted_at_meeting_id_meeting"),
            "meeting",
            ["minutes_adopted_at_meeting_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade():
    with op.batch_alter_table("meeting", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_meeting_minutes_adopted_at_meeting_id_meeting"), type_="foreignkey")
        batch_op.drop_column("minutes_adopted_at_meeting_id")
    with op.batch_alter_table("forum", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_forum_minutes_adoption"), type_="check")
        batch_op.drop_column("minutes_adoption")
    with op.batch_alter_table("action_item", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_action_item_agenda_item_id"))
        batch_op.drop_constraint(batch_op.f("fk_action_item_agenda_item_id_agenda_item"), type_="foreignkey")
        batch_op.drop_column("agenda_item_id")
    with op.batch_alter_table("agenda_item", schema=None) as batch_op:
        batch_op.drop_index("ix_agenda_item_meeting_position")
    op.drop_table("agenda_item")
