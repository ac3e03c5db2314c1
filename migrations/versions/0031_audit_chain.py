"""The audit log becomes a hash chain, and says how each event ended and in which request.

``audit_event``: ``outcome`` (ok, refused, denied, failed), ``request_id``, and the chain's
``seq`` / ``prev_hash`` / ``hash``, filled by ``core.audit.seal`` after each commit (the rows
already there are sealed, in id order, by the first seal). ``audit_chain_head``: the last
sealed entry, one row.

Revision ID: 0031_audit_chain
Revises: 0028_delegates
"""

import sqlalchemy as sa
from alembic import op

revision = "0031_audit_chain"
down_revision = "0028_delegates"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("audit_event", sa.Column("outcome", sa.String(length=16), server_default="ok", nullable=False))
    op.add_column("audit_event", sa.Column("request_id", sa.String(length=32), server_default="", nullable=False))
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.add_column(sa.Column("seq", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("prev_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("hash", sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_audit_event_seq"), ["seq"])
    op.create_table(
        "audit_chain_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_chain_head")),
    )
    op.execute("INSERT INTO audit_chain_head (id, seq, hash) VALUES (1, 0, '')")


def downgrade():
    op.drop_table("audit_chain_head")
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_audit_event_seq"), type_="unique")
        batch_op.drop_column("hash")
        batch_op.drop_column("prev_hash")
        batch_op.drop_column("seq")
        batch_op.drop_column("request_id")
        batch_op.drop_column("outcome")
