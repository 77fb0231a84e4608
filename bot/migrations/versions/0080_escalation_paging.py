"""escalation paging (owned by the escalation work)

Pages go to each counselor's chosen channel as well as the console:

- ``counselors.locale``: the language of texts sent to a counselor (SMS pages);
- ``outbox`` rows may target a counselor instead of a contact: ``contact_id``
  becomes nullable, ``counselor_id`` and ``address_enc`` (the encrypted number)
  are new, and a check keeps every row addressed one way or the other;
- ``pages`` has one row per channel (the unique key gains ``channel``), a link
  to the outbox row that carries an SMS page, and an index for the sweep that
  republishes console pages a dead worker committed but never published.

Revision ID: 0080
Revises: 0070
Create Date: 2026-11-22 01:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0080"
down_revision = "0070"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("counselors", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("locale", sa.String(length=8), nullable=False, server_default="en")
        )

    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.alter_column("contact_id", existing_type=sa.Integer(), nullable=True)
        batch_op.add_column(sa.Column("counselor_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("address_enc", sa.LargeBinary(), nullable=True))
        batch_op.create_foreign_key(
            "fk_outbox_counselor", "counselors", ["counselor_id"], ["id"], ondelete="CASCADE"
        )
        batch_op.create_check_constraint(
            "ck_outbox_target",
            "contact_id IS NOT NULL OR (counselor_id IS NOT NULL AND address_enc IS NOT NULL)",
        )

    with op.batch_alter_table("pages", schema=None) as batch_op:
        batch_op.drop_constraint("uq_page_step", type_="unique")
        batch_op.create_unique_constraint(
            "uq_page_step_channel", ["escalation_id", "step", "counselor_id", "channel"]
        )
        batch_op.add_column(sa.Column("outbox_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_pages_outbox", "outbox", ["outbox_id"], ["id"], ondelete="SET NULL"
        )
        batch_op.create_index("ix_pages_delivered", ["delivered_at"], unique=False)


def downgrade() -> None:
    # The old unique key allows one page per step and person: keep the console's
    # row where a person was also paged on another channel.
    op.execute(
        "DELETE FROM pages WHERE channel <> 'console' AND EXISTS ("
        "SELECT 1 FROM pages AS twin WHERE twin.escalation_id = pages.escalation_id"
        " AND twin.step = pages.step AND twin.counselor_id = pages.counselor_id"
        " AND twin.channel = 'console')"
    )
    with op.batch_alter_table("pages", schema=None) as batch_op:
        batch_op.drop_index("ix_pages_delivered")
        batch_op.drop_constraint("fk_pages_outbox", type_="foreignkey")
        batch_op.drop_column("outbox_id")
        batch_op.drop_constraint("uq_page_step_channel", type_="unique")
        batch_op.create_unique_constraint("uq_page_step", ["escalation_id", "step", "counselor_id"])

    # Rows addressed to counselors have no place in the old table.
    op.execute("DELETE FROM outbox WHERE contact_id IS NULL")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_constraint("ck_outbox_target", type_="check")
        batch_op.drop_constraint("fk_outbox_counselor", type_="foreignkey")
        batch_op.drop_column("address_enc")
        batch_op.drop_column("counselor_id")
        batch_op.alter_column("contact_id", existing_type=sa.Integer(), nullable=False)

    with op.batch_alter_table("counselors", schema=None) as batch_op:
        batch_op.drop_column("locale")
