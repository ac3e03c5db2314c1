"""Agreed actions on screen: rendered descriptions, the minutes decision an action came from,
review comments by programme staff and reassignment after a decline.

Revision ID: 0006_actions
Revises: 0005_outbox_withdrawn
"""

from html import escape

import sqlalchemy as sa
from alembic import op

revision = "0006_actions"
down_revision = "0005_outbox_withdrawn"
branch_labels = None
depends_on = None

OLD_KINDS = "kind IN ('state', 'progress', 'review')"
NEW_KINDS = "kind IN ('state', 'progress', 'review', 'comment', 'reassign')"


def upgrade():
    with op.batch_alter_table("action_item", schema=None) as batch_op:
        batch_op.add_column(sa.Column("description_html", sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("decision_version", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("decision_number", sa.Integer(), nullable=True))
        batch_op.create_check_constraint(
            op.f("ck_action_item_decision_pair"), "(decision_number IS NULL) = (decision_version IS NULL)"
        )
        batch_op.create_check_constraint(
            op.f("ck_action_item_decision_meeting"), "decision_number IS NULL OR meeting_id IS NOT NULL"
        )
    with op.batch_alter_table("action_item", schema=None) as batch_op:
        batch_op.alter_column("description_html", server_default=None)
    # Descriptions written before this step were shown as plain text: keep them so, escaped,
    # until they are next saved (the application renders Markdown only when saving).
    connection = op.get_bind()
    rows = connection.execute(sa.text("SELECT id, description FROM action_item WHERE description <> ''")).all()
    for row_id, description in rows:
        paragraphs = "".join(f"<p>{escape(p)}</p>" for p in description.split("\n\n") if p.strip())
        connection.execute(
            sa.text("UPDATE action_item SET description_html = :html WHERE id = :id"),
            {"html": paragraphs, "id": row_id},
        )

    with op.batch_alter_table("action_update", schema=None) as batch_op:
        batch_op.add_column(sa.Column("owner_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            op.f("fk_action_update_owner_id_user_account"), "user_account", ["owner_id"], ["id"], ondelete="RESTRICT"
        )
        batch_op.drop_constraint(op.f("ck_action_update_kind"), type_="check")
        batch_op.create_check_constraint(op.f("ck_action_update_kind"), NEW_KINDS)


def downgrade():
    # Comments and reassignments become progress notes, the closest earlier kind.
    op.execute("UPDATE action_update SET kind = 'progress' WHERE kind IN ('comment', 'reassign')")
    with op.batch_alter_table("action_update", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_action_update_kind"), type_="check")
        batch_op.create_check_constraint(op.f("ck_action_update_kind"), OLD_KINDS)
        batch_op.drop_constraint(op.f("fk_action_update_owner_id_user_account"), type_="foreignkey")
        batch_op.drop_column("owner_id")
    with op.batch_alter_table("action_item", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_action_item_decision_meeting"), type_="check")
        batch_op.drop_constraint(op.f("ck_action_item_decision_pair"), type_="check")
        batch_op.drop_column("decision_number")
        batch_op.drop_column("decision_version")
        batch_op.drop_column("description_html")
