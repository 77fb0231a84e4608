from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.storage.db import Database
from bot.storage.migrate import upgrade
from tests.escalation.staff import use_cheap_hashing


@pytest.fixture(autouse=True)
def _cheap_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    use_cheap_hashing(monkeypatch)


@pytest.fixture
async def db(backend: tuple[str, str]) -> AsyncIterator[Database]:
    """A migrated database: SQLite, and PostgreSQL when it answers."""
    url, _ = backend
    await upgrade(url)
    database = Database(url)
    try:
        yield database
    finally:
        await database.close()
