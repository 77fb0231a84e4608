"""Telegram durability and counselor links (owned by the Telegram work)

Sent markers for reply pieces (a redelivered update sends only what did not go
out), escalation cards with their message ids (group and direct messages, one per
key), and counselor accounts linked to Telegram with one-time codes.

Revision ID: 0050
Revises: 0040
Create Date: 2026-11-22 01:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0050"
down_revision = "0040"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "telegram_sends",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=True),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("update_id", sa.BigInteger(), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name="fk_telegram_sends_contact",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key"),
    )
    op.create_index("ix_telegram_sends_sent", "telegram_sends", ["sent_at"])
    op.create_index("ix_telegram_sends_contact", "telegram_sends", ["contact_id"])

    op.create_table(
        "telegram_cards",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("escalation_id", sa.Integer(), nullable=False),
        sa.Column("counselor_id", sa.Integer(), nullable=True),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("claimed_by", sa.Integer(), nullable=True),
        sa.Column("forwarded_up_to", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["escalation_id"],
            ["escalations.id"],
            name="fk_telegram_cards_escalation",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["counselor_id"],
            ["counselors.id"],
            name="fk_telegram_cards_counselor",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["claimed_by"],
            ["counselors.id"],
            name="fk_telegram_cards_claimed_by",
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key"),
    )
    op.create_index("ix_telegram_cards_escalation", "telegram_cards", ["escalation_id"])
    op.create_index("ix_telegram_cards_message", "telegram_cards", ["chat_id", "message_id"])
    op.create_index("ix_telegram_cards_status", "telegram_cards", ["status", "updated_at"])

    op.create_table(
        "telegram_counselors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("counselor_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("linked_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["counselor_id"],
            ["counselors.id"],
            name="fk_telegram_counselors_counselor",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("counselor_id"),
        sa.UniqueConstraint("user_id"),
    )

    op.create_table(
        "telegram_link_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("counselor_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["counselor_id"],
            ["counselors.id"],
            name="fk_telegram_link_codes_counselor",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code_hash"),
    )


def downgrade() -> None:
    op.drop_table("telegram_link_codes")
    op.drop_table("telegram_counselors")
    op.drop_index("ix_telegram_cards_status", table_name="telegram_cards")
    op.drop_index("ix_telegram_cards_message", table_name="telegram_cards")
    op.drop_index("ix_telegram_cards_escalation", table_name="telegram_cards")
    op.drop_table("telegram_cards")
    op.drop_index("ix_telegram_sends_contact", table_name="telegram_sends")
    op.drop_index("ix_telegram_sends_sent", table_name="telegram_sends")
    op.drop_table("telegram_sends")
