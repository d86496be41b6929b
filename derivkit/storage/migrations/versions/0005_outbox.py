"""The notice outbox: settlement and alert notices queued with the change that causes them.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("telegram_id", sa.BigInteger, nullable=False),
        sa.Column("chat_id", sa.BigInteger, nullable=False),
        sa.Column("event", sa.String(16), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("holder", sa.String(64), nullable=True),
        sa.Column("claimed_until", sa.Float, nullable=False),
        sa.Column("attempted_at", sa.Float, nullable=True),
        sa.Column("sent_at", sa.Float, nullable=True),
    )
    op.create_index(
        "ix_outbox_unsent",
        "outbox",
        ["claimed_until"],
        postgresql_where=sa.text("sent_at IS NULL"),
        sqlite_where=sa.text("sent_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_table("outbox")
