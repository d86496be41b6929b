"""A durable webhook inbox: each accepted update's body (encrypted) and the instance processing it.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("processed_updates") as table:
        table.add_column(sa.Column("holder", sa.String(64), nullable=True))
        table.add_column(sa.Column("body", sa.LargeBinary, nullable=True))
    op.create_index(
        "ix_processed_updates_open",
        "processed_updates",
        ["update_id"],
        postgresql_where=sa.text("NOT done"),
        sqlite_where=sa.text("NOT done"),
    )


def downgrade() -> None:
    op.drop_index("ix_processed_updates_open", "processed_updates")
    with op.batch_alter_table("processed_updates") as table:
        table.drop_column("body")
        table.drop_column("holder")
