"""Apply Alembic migrations from code (used by `harborline db upgrade` and start-up).

Alembic and Mako are imported only when migrating. A serving process migrates
through ``upgrade_in_child``: the migration runs in a short-lived child process,
so the server never holds Alembic, Mako and the migration scripts (about 12 MB)
for the rest of its life.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import create_async_engine

if TYPE_CHECKING:
    from alembic.config import Config

__all__ = ["MigrationFailed", "alembic_config", "upgrade", "upgrade_in_child", "upgrade_sync"]

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


class MigrationFailed(RuntimeError):
    """The migration child exited with an error (its own output says why)."""


def alembic_config(url: str) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url)
    return config


async def upgrade(url: str, revision: str = "head") -> None:
    from bot.storage.db import _ensure_parent_dir

    _ensure_parent_dir(url)
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:

            def _upgrade(sync_conn: object) -> None:
                from alembic import command

                config = alembic_config(url)
                config.attributes["connection"] = sync_conn
                command.upgrade(config, revision)

            await conn.run_sync(_upgrade)
    finally:
        await engine.dispose()


def upgrade_sync(url: str, revision: str = "head") -> None:
    asyncio.run(upgrade(url, revision))


async def upgrade_in_child(url: str) -> None:
    """``upgrade(url)`` in a child process; raises ``MigrationFailed`` if it fails.

    The URL travels in the environment, not the command line, where any user of
    the machine could read a password in it.
    """
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.storage.migrate",
        env={**os.environ, _URL_VARIABLE: url},
    )
    if await child.wait() != 0:
        raise MigrationFailed(f"migration child exited with {child.returncode}")


_URL_VARIABLE = "HARBORLINE_MIGRATE_URL"

if __name__ == "__main__":
    upgrade_sync(os.environ[_URL_VARIABLE])
