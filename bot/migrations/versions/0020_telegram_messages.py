"""telegram message ids for quick exit

Revision ID: 0020
Revises: 0010
Create Date: 2026-11-22 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "telegram_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("address_hash", sa.String(length=64), nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["contact_id"], ["contacts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_telegram_messages_address", "telegram_messages", ["address_hash"])
    op.create_index("ix_telegram_messages_sent", "telegram_messages", ["sent_at"])


def downgrade() -> None:
    op.drop_index("ix_telegram_messages_sent", table_name="telegram_messages")
    op.drop_index("ix_telegram_messages_address", table_name="telegram_messages")
    op.drop_table("telegram_messages")
