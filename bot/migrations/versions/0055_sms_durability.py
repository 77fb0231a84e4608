"""SMS durability (owned by the SMS work)

Opt-outs of their own (``sms_opt_outs``), durable sends with retry counters and
back-off (``sms_sends``), and parts written as an intent before Twilio's create
call (``sms_parts``, replacing ``sms_deliveries``; its rows are carried over).

Revision ID: 0055
Revises: 0050
Create Date: 2026-11-22 01:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0055"
down_revision = "0050"
branch_labels = None
depends_on = None

_contacts = sa.table(
    "contacts",
    sa.column("address_hash", sa.String),
    sa.column("channel", sa.String),
    sa.column("stopped", sa.Boolean),
    sa.column("last_seen_at", sa.DateTime(timezone=True)),
)
_outbox = sa.table("outbox", sa.column("id", sa.Integer), sa.column("status", sa.String))
_deliveries = sa.table(
    "sms_deliveries",
    sa.column("outbox_id", sa.Integer),
    sa.column("part", sa.Integer),
    sa.column("message_sid", sa.String),
    sa.column("status", sa.String),
    sa.column("error_code", sa.Integer),
    sa.column("created_at", sa.DateTime(timezone=True)),
    sa.column("updated_at", sa.DateTime(timezone=True)),
)
_opt_outs = sa.table(
    "sms_opt_outs",
    sa.column("address_hash", sa.String),
    sa.column("source", sa.String),
    sa.column("created_at", sa.DateTime(timezone=True)),
)
_sends = sa.table(
    "sms_sends",
    sa.column("id", sa.Integer),
    sa.column("send_key", sa.String),
    sa.column("outbox_id", sa.Integer),
    sa.column("status", sa.String),
    sa.column("attempts", sa.Integer),
    sa.column("created_at", sa.DateTime(timezone=True)),
    sa.column("updated_at", sa.DateTime(timezone=True)),
)
_parts = sa.table(
    "sms_parts",
    sa.column("send_id", sa.Integer),
    sa.column("part", sa.Integer),
    sa.column("digest", sa.String),
    sa.column("message_sid", sa.String),
    sa.column("status", sa.String),
    sa.column("error_code", sa.Integer),
    sa.column("intent_at", sa.DateTime(timezone=True)),
    sa.column("created_at", sa.DateTime(timezone=True)),
    sa.column("updated_at", sa.DateTime(timezone=True)),
)


def upgrade() -> None:
    op.create_table(
        "sms_opt_outs",
        sa.Column("address_hash", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("address_hash"),
    )
    op.create_table(
        "sms_sends",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("send_key", sa.String(length=128), nullable=False),
        sa.Column("outbox_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Integer(), nullable=True),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("text_enc", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["outbox_id"], ["outbox.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("send_key"),
    )
    op.create_index("ix_sms_sends_outbox_id", "sms_sends", ["outbox_id"])
    op.create_table(
        "sms_parts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("send_id", sa.Integer(), nullable=False),
        sa.Column("part", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("message_sid", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("error_code", sa.Integer(), nullable=True),
        sa.Column("intent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["send_id"], ["sms_sends.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("message_sid"),
        sa.UniqueConstraint("send_id", "part", name="uq_sms_parts_part"),
    )

    # Carry the old records over. A stopped SMS contact stays opted out until START.
    op.execute(
        _opt_outs.insert().from_select(
            ["address_hash", "source", "created_at"],
            sa.select(
                _contacts.c.address_hash, sa.literal("keyword"), _contacts.c.last_seen_at
            ).where(_contacts.c.channel == "sms", _contacts.c.stopped == sa.true()),
        )
    )
    finished = sa.exists().where(
        _outbox.c.id == _deliveries.c.outbox_id, _outbox.c.status == "sent"
    )
    op.execute(
        _sends.insert().from_select(
            ["send_key", "outbox_id", "status", "attempts", "created_at", "updated_at"],
            sa.select(
                sa.literal("outbox-") + sa.cast(_deliveries.c.outbox_id, sa.String),
                _deliveries.c.outbox_id,
                sa.case((finished, "sent"), else_="sending"),
                sa.literal(0),
                sa.func.min(_deliveries.c.created_at),
                sa.func.max(_deliveries.c.updated_at),
            ).group_by(_deliveries.c.outbox_id),
        )
    )
    op.execute(
        _parts.insert().from_select(
            [
                "send_id",
                "part",
                "digest",
                "message_sid",
                "status",
                "error_code",
                "intent_at",
                "created_at",
                "updated_at",
            ],
            sa.select(
                _sends.c.id,
                _deliveries.c.part,
                sa.literal(""),
                _deliveries.c.message_sid,
                _deliveries.c.status,
                _deliveries.c.error_code,
                _deliveries.c.created_at,
                _deliveries.c.created_at,
                _deliveries.c.updated_at,
            ).join_from(_deliveries, _sends, _sends.c.outbox_id == _deliveries.c.outbox_id),
        )
    )
    op.drop_table("sms_deliveries")


def downgrade() -> None:
    op.create_table(
        "sms_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("outbox_id", sa.Integer(), nullable=False),
        sa.Column("part", sa.Integer(), nullable=False),
        sa.Column("message_sid", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("error_code", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["outbox_id"], ["outbox.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("message_sid"),
        sa.UniqueConstraint("outbox_id", "part", name="uq_sms_deliveries_part"),
    )
    # Parts Twilio accepted, for outbox rows; intents and other keys have no place there.
    op.execute(
        _deliveries.insert().from_select(
            [
                "outbox_id",
                "part",
                "message_sid",
                "status",
                "error_code",
                "created_at",
                "updated_at",
            ],
            sa.select(
                _sends.c.outbox_id,
                _parts.c.part,
                _parts.c.message_sid,
                _parts.c.status,
                _parts.c.error_code,
                _parts.c.created_at,
                _parts.c.updated_at,
            )
            .join_from(_parts, _sends, _sends.c.id == _parts.c.send_id)
            .where(_parts.c.message_sid.is_not(None), _sends.c.outbox_id.is_not(None)),
        )
    )
    # 0030 knew only contacts.stopped: an opted-out number stays stopped there.
    op.execute(
        _contacts.update()
        .where(_contacts.c.address_hash.in_(sa.select(_opt_outs.c.address_hash)))
        .values(stopped=True)
    )
    op.drop_table("sms_parts")
    op.drop_index("ix_sms_sends_outbox_id", table_name="sms_sends")
    op.drop_table("sms_sends")
    op.drop_table("sms_opt_outs")
