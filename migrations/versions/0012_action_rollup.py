"""Action roll-up: what every report needs from an action's history, kept on the action itself.

``action_item.last_update_at`` is the time of its latest history entry and ``confirmed_at`` the
first time it was accepted by its owner. The reports used to aggregate every ``action_update``
row on each view to learn them; ``actions.services`` now keeps them as it appends an entry.
Existing rows are filled from their history here. Indexes serve the report's filters on the
forums of a reach: raised in a period (forum, raised) and done in a period (forum, state, closed).

Revision ID: 0012_action_rollup
Revises: 0011_indicators
"""

from alembic import op
import sqlalchemy as sa

revision = "0012_action_rollup"
down_revision = "0011_indicators"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("action_item", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_update_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("confirmed_at", sa.DateTime(), nullable=True))
    # Plain SQL both databases run; correlated through ix_action_update_action_id (action_id, id).
    op.execute(
        "UPDATE action_item SET "
        "last_update_at = COALESCE((SELECT MAX(u.created_at) FROM action_update u WHERE u.action_id = action_item.id),"
        " action_item.created_at), "
        "confirmed_at = (SELECT MIN(u.created_at) FROM action_update u"
        " WHERE u.action_id = action_item.id AND u.to_state = 'accepted')"
    )
    with op.batch_alter_table("action_item", schema=None) as batch_op:
        batch_op.create_index("ix_action_item_forum_created", ["forum_id", "created_at"], unique=False)
        batch_op.create_index("ix_action_item_forum_state_closed", ["forum_id", "state", "closed_at"], unique=False)


def downgrade():
    with op.batch_alter_table("action_item", schema=None) as batch_op:
        batch_op.drop_index("ix_action_item_forum_state_closed")
        batch_op.drop_index("ix_action_item_forum_created")
        batch_op.drop_column("confirmed_at")
        batch_op.drop_column("last_update_at")
