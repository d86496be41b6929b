"""The first schema: users, notification settings, alerts, the trade journal.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("telegram_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("role", sa.String(16), nullable=False, server_default="user"),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("token_ciphertext", sa.LargeBinary, nullable=True),
        sa.Column("loginid", sa.String(32), nullable=True),
        sa.Column("is_virtual", sa.Boolean, nullable=True),
        sa.Column("currency", sa.String(16), nullable=True),
        sa.Column("scopes", sa.String(200), nullable=True),
        sa.Column("connected_at", sa.Float, nullable=True),
        sa.Column("paused", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("max_stake", sa.Float, nullable=True),
        sa.Column("max_open", sa.Integer, nullable=True),
        sa.Column("daily_loss", sa.Float, nullable=True),
        sa.Column("settings", sa.JSON, nullable=True),
    )
    op.create_table(
        "notification_settings",
        sa.Column(
            "telegram_id",
            sa.BigInteger,
            sa.ForeignKey("users.telegram_id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("event", sa.String(32), primary_key=True),
        sa.Column("level", sa.String(8), nullable=False),
    )
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("telegram_id", sa.BigInteger, nullable=False),
        sa.Column("chat_id", sa.BigInteger, nullable=False),
        sa.Column("symbol", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("level", sa.Float, nullable=False),
        sa.Column("reference", sa.Float, nullable=True),
        sa.Column("pip_size", sa.Integer, nullable=True),
        sa.Column("repeat", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("cooldown", sa.Float, nullable=False, server_default="0"),
        sa.Column("last_fired_at", sa.Float, nullable=True),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    )
    op.create_index("ix_alerts_telegram_id", "alerts", ["telegram_id"])
    op.create_table(
        "journal",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("telegram_id", sa.BigInteger, nullable=True),
        sa.Column("chat_id", sa.BigInteger, nullable=True),
        sa.Column("loginid", sa.String(32), nullable=False),
        sa.Column("is_virtual", sa.Boolean, nullable=False),
        sa.Column("currency", sa.String(16), nullable=False),
        sa.Column("origin", sa.String(16), nullable=False, server_default="bot"),
        sa.Column("run_id", sa.String(64), nullable=True),
        sa.Column("symbol", sa.String(32), nullable=False),
        sa.Column("contract_type", sa.String(32), nullable=False),
        sa.Column("stake", sa.Float, nullable=False),
        sa.Column("max_price", sa.Float, nullable=False),
        sa.Column("request", sa.JSON, nullable=False),
        sa.Column("quote", sa.JSON, nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("requested_at", sa.Float, nullable=False),
        sa.Column("contract_id", sa.BigInteger, nullable=True),
        sa.Column("transaction_id", sa.BigInteger, nullable=True),
        sa.Column("buy_price", sa.Float, nullable=True),
        sa.Column("payout", sa.Float, nullable=True),
        sa.Column("reply", sa.JSON, nullable=True),
        sa.Column("bought_at", sa.Float, nullable=True),
        sa.Column("sell_price", sa.Float, nullable=True),
        sa.Column("profit", sa.Float, nullable=True),
        sa.Column("settled_at", sa.Float, nullable=True),
        sa.Column("notified", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("error", sa.Text, nullable=True),
    )
    op.create_index("ix_journal_user_time", "journal", ["telegram_id", "requested_at"])
    op.create_index("ix_journal_contract", "journal", ["contract_id"])
    op.create_index("ix_journal_status", "journal", ["status"])


def downgrade() -> None:
    op.drop_table("journal")
    op.drop_table("alerts")
    op.drop_table("notification_settings")
    op.drop_table("users")
