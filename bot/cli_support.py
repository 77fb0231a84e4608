"""Shared plumbing for `harborline` subcommands that change the database."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

__all__ = ["Work", "fail", "with_db"]

Work = Callable[[AsyncSession, datetime], Awaitable[int]]


def with_db(work: Work, mistakes: tuple[type[Exception], ...]) -> int:
    """Migrate the configured database, run ``work`` in one transaction, return its code.

    A mistake of the caller's kinds, or a database that cannot be reached, is one
    line on stderr and exit code 1, never a traceback.
    """
    from bot.settings import get_settings
    from bot.storage.db import Database
    from bot.storage.migrate import upgrade_sync

    async def run(url: str) -> int:
        db = Database(url)
        try:
            async with db.write_sessions() as session, session.begin():
                return await work(session, datetime.now(UTC))
        finally:
            await db.close()

    try:
        url = get_settings().effective_database_url
        upgrade_sync(url)
        return asyncio.run(run(url))
    except mistakes as exc:
        return fail(str(exc))
    except (SQLAlchemyError, OSError) as exc:
        return fail(f"database not reachable or not usable ({type(exc).__name__})")


def fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 1
