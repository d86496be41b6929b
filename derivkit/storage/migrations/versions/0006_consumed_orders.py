"""What a consumed confirmation leaves: the journal entry of a buy names its order (the card's
nonce), and a claimed pending order stays as a tombstone (who claimed it, when, whether its
trade was sent, what the user was told), so a Confirm run again after its instance died tells
the true outcome.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("journal") as table:
        table.add_column(sa.Column("order_nonce", sa.String(32), nullable=True))
    op.create_index("ix_journal_order", "journal", ["order_nonce"])
    with op.batch_alter_table("pending_orders") as table:
        table.add_column(sa.Column("claimed_by", sa.String(64), nullable=True))
        table.add_column(sa.Column("claimed_at", sa.Float, nullable=True))
        table.add_column(sa.Column("sent_at", sa.Float, nullable=True))
        table.add_column(sa.Column("outcome", sa.Text, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("pending_orders") as table:
        table.drop_column("outcome")
        table.drop_column("sent_at")
        table.drop_column("claimed_at")
        table.drop_column("claimed_by")
    op.drop_index("ix_journal_order", "journal")
    with op.batch_alter_table("journal") as table:
        table.drop_column("order_nonce")
