"""A fleet of bot instances: processed updates, pending orders, users' per-update state, leases.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "processed_updates",
        sa.Column("update_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("telegram_id", sa.BigInteger, nullable=True),
        sa.Column("received_at", sa.Float, nullable=False),
        sa.Column("done", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    op.create_index("ix_processed_updates_user", "processed_updates", ["telegram_id", "update_id"])
    op.create_table(
        "pending_orders",
        sa.Column("nonce", sa.String(32), primary_key=True),
        sa.Column("telegram_id", sa.BigInteger, nullable=False),
        sa.Column("expires_at", sa.Float, nullable=False),
        sa.Column("order", sa.JSON, nullable=False),
    )
    op.create_index("ix_pending_orders_telegram_id", "pending_orders", ["telegram_id"])
    op.create_table(
        "user_state",
        sa.Column(
            "telegram_id",
            sa.BigInteger,
            sa.ForeignKey("users.telegram_id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("cards", sa.JSON, nullable=True),
        sa.Column("token_until", sa.Float, nullable=True),
    )
    op.create_table(
        "leases",
        sa.Column("name", sa.String(120), primary_key=True),
        sa.Column("holder", sa.String(64), nullable=False),
        sa.Column("expires_at", sa.Float, nullable=False),
        sa.Column("acquired_at", sa.Float, nullable=False),
    )
    op.create_index("ix_leases_holder", "leases", ["holder"])


def downgrade() -> None:
    op.drop_table("leases")
    op.drop_table("user_state")
    op.drop_table("pending_orders")
    op.drop_table("processed_updates")
