"""Review comments: programme staff comment on a grant, forum or meeting; organisers answer.

``review_comment``: one append-only comment of the thread on (``object_type``, ``object_id``);
an answer names the comment it answers (``in_reply_to_id``).

Revision ID: 0010_review
Revises: 0009_oversight
"""

from alembic import op
import sqlalchemy as sa

revision = "0010_review"
down_revision = "0009_oversight"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "review_comment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("object_type", sa.String(length=16), nullable=False),
        sa.Column("object_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("in_reply_to_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("object_type IN ('grant', 'forum', 'meeting')", name=op.f("ck_review_comment_object_type")),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["user_account.id"],
            name=op.f("fk_review_comment_author_id_user_account"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["in_reply_to_id"],
            ["review_comment.id"],
            name=op.f("fk_review_comment_in_reply_to_id_review_comment"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_comment")),
    )
    with op.batch_alter_table("review_comment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_review_comment_author_id"), ["author_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_review_comment_in_reply_to_id"), ["in_reply_to_id"], unique=False)
        batch_op.create_index("ix_review_comment_object", ["object_type", "object_id", "created_at"], unique=False)


def downgrade():
    with op.batch_alter_table("review_comment", schema=None) as batch_op:
        batch_op.drop_index("ix_review_comment_object")
        batch_op.drop_index(batch_op.f("ix_review_comment_in_reply_to_id"))
        batch_op.drop_index(batch_op.f("ix_review_comment_author_id"))
    op.drop_table("review_comment")
