"""check-in preferences set in chat (owned by the check-in work)

The preferences live in ``checkin_preferences`` (0040) and need no new column.
This revision marks, in ``conversations.data``, every conversation whose contact
already has check-ins or check-in settings (``"checkins_on": true``): a turn
reads check-in rows only for those (aftercare.service.facts). New ones are
marked when a check-in or a setting is first stored.

Revision ID: 0060
Revises: 0055
Create Date: 2026-11-22 01:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0060"
down_revision = "0055"
branch_labels = None
depends_on = None

MARK = "checkins_on"

_conversations = sa.table(
    "conversations",
    sa.column("id", sa.Integer()),
    sa.column("contact_id", sa.Integer()),
    sa.column("data", sa.JSON()),
)
_checkins = sa.table("checkins", sa.column("contact_id", sa.Integer()))
_preferences = sa.table("checkin_preferences", sa.column("contact_id", sa.Integer()))


def _rewrite(marked: bool) -> None:
    bind = op.get_bind()
    # Check-in rows and settings are only ever removed with the contact, so the
    # same contacts carry the mark on the way up and on the way down.
    users = sa.union(sa.select(_checkins.c.contact_id), sa.select(_preferences.c.contact_id))
    query = sa.select(_conversations.c.id, _conversations.c.data).where(
        _conversations.c.contact_id.in_(sa.select(users.subquery().c.contact_id))
    )
    for conversation_id, data in bind.execute(query).all():
        data = dict(data or {})
        if marked == bool(data.get(MARK)):
            continue
        if marked:
            data[MARK] = True
        else:
            data.pop(MARK, None)
        bind.execute(
            _conversations.update().where(_conversations.c.id == conversation_id).values(data=data)
        )


def upgrade() -> None:
    _rewrite(marked=True)


def downgrade() -> None:
    _rewrite(marked=False)
