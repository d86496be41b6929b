"""The journal names the strategy behind a trade (``origin`` "strategy", ``run_id`` its run).

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("journal") as table:
        table.add_column(sa.Column("strategy", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("journal") as table:
        table.drop_column("strategy")
