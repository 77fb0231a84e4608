"""knowledge-base admin (owned by the admin work)

Service listings get versions like articles: `kb_service_versions` (every
version of a listing, who wrote, submitted and published it) and two columns
on `kb_services` (`version`, the newest; `live_version`, what survivors see).
Existing listings become version 1, live when they were published.

Revision ID: 0070
Revises: 0060
Create Date: 2026-11-22 01:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0070"
down_revision = "0060"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "kb_service_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("author", sa.String(length=64), nullable=False),
        sa.Column("note", sa.String(length=300), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("submitted_by", sa.String(length=64), nullable=True),
        sa.Column("published_by", sa.String(length=64), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["service_id"], ["kb_services.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("service_id", "number", name="uq_kb_service_versions_number"),
    )
    with op.batch_alter_table("kb_services") as batch:
        batch.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("live_version", sa.Integer(), nullable=True))
    # Every existing listing becomes its own version 1 (nothing is lost).
    op.execute(
        "INSERT INTO kb_service_versions (service_id, number, data, author, note, created_at,"
        " submitted_by, published_by, published_at)"
        " SELECT id, 1, data, updated_by, 'before versions', updated_at, NULL,"
        " CASE WHEN status = 'published' THEN updated_by END,"
        " CASE WHEN status = 'published' THEN updated_at END"
        " FROM kb_services"
    )
    op.execute(
        "UPDATE kb_services SET version = 1,"
        " live_version = CASE WHEN status = 'published' THEN 1 END"
    )


def downgrade() -> None:
    # Back to one row per listing holding what survivors see: the live version's
    # data, "published"; a listing with no live version stays as "retired".
    op.execute(
        "UPDATE kb_services SET data = (SELECT v.data FROM kb_service_versions v"
        " WHERE v.service_id = kb_services.id AND v.number = kb_services.live_version)"
        " WHERE live_version IS NOT NULL"
    )
    op.execute(
        "UPDATE kb_services SET status ="
        " CASE WHEN live_version IS NOT NULL THEN 'published' ELSE 'retired' END"
    )
    services = sa.table(
        "kb_services",
        sa.column("id", sa.Integer()),
        sa.column("data", sa.JSON()),
        sa.column("kind", sa.String()),
        sa.column("jurisdiction", sa.String()),
    )
    bind = op.get_bind()
    for service_id, data in bind.execute(sa.select(services.c.id, services.c.data)).all():
        listing = data if isinstance(data, dict) else {}
        bind.execute(
            services.update()
            .where(services.c.id == service_id)
            .values(
                kind=str(listing.get("kind", ""))[:32],
                jurisdiction=str(listing.get("jurisdiction", "any"))[:16],
            )
        )
    with op.batch_alter_table("kb_services") as batch:
        batch.drop_column("live_version")
        batch.drop_column("version")
    op.drop_table("kb_service_versions")
