"""Engine and session factory, chosen once from DATABASE_URL."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from sqlalchemy import event, exc, make_url, text
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.ext.asyncio import AsyncSession as AsyncSession

from bot.storage.sqlite_driver import inline_first_connector
from bot.storage.writer import WriterTurns

__all__ = ["AsyncSession", "Database"]

log = logging.getLogger("harborline.storage")

SQLITE_BUSY_TIMEOUT = 30.0
# How often the WAL is copied back into the database file (see checkpoint_forever).
CHECKPOINT_SECONDS = 1.0
# A pooled server connection idle longer than this is pinged before use (a server
# restart or an idle timeout may have closed it). One used moments ago is not: a
# ping per checkout costs three round trips on asyncpg, on every turn.
IDLE_PING_SECONDS = 5.0


class Database:
    def __init__(self, url: str, pool_size: int = 24, max_overflow: int = 16) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        kwargs: dict[str, Any] = {}
        self.sqlite_file: str | None = None
        if self.is_sqlite:
            _ensure_parent_dir(url)
            kwargs["connect_args"] = {"timeout": SQLITE_BUSY_TIMEOUT}
            kwargs["pool_reset_on_return"] = None
            path = self.sqlite_file = _plain_file(url)
            if path is not None:
                kwargs["async_creator"] = inline_first_connector(path, SQLITE_BUSY_TIMEOUT)
        else:
            # Enough for every turn a busy worker has in flight plus its background
            # loops: an overflow connection is closed when returned, and opening one
            # (a server process, TLS, authentication, statements prepared again) costs
            # more than the turn itself.
            kwargs.update(pool_size=pool_size, max_overflow=max_overflow)
        self.engine: AsyncEngine = create_async_engine(url, **kwargs)
        if self.is_sqlite:
            event.listen(self.engine.sync_engine, "connect", _sqlite_connect)
            event.listen(self.engine.sync_engine, "begin", _sqlite_begin)
        else:
            _ping_when_idle(self.engine)
        self._autocommit = self.engine.execution_options(isolation_level="AUTOCOMMIT")
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        # For transactions that read and then write: on SQLite they take the write
        # lock when they begin, so two of them never deadlock on the upgrade.
        self.write_sessions = async_sessionmaker(
            self.engine.execution_options(begin_immediate=True), expire_on_commit=False
        )
        # SQLite has one writer. Waiting for it here, in the event loop, is cheap;
        # waiting in SQLite's busy handler sleeps in steps of milliseconds.
        self._writer = WriterTurns() if self.is_sqlite else None

    @contextlib.asynccontextmanager
    async def writing(self, *, ahead: bool = False) -> AsyncIterator[None]:
        """Hold the process's turn at SQLite's single writer (a no-op elsewhere).

        ``ahead``: work already under way (the turn of a message that is stored)
        goes before new work waiting (see ``WriterTurns``).
        """
        if self._writer is None:
            yield
            return
        await self._writer.acquire(ahead=ahead)
        try:
            yield
        finally:
            self._writer.release()

    def connect(self) -> AsyncConnection:
        """A plain Core connection, for hot paths that need no ORM session."""
        return self.engine.connect()

    def connect_single(self) -> AsyncConnection:
        """A connection for single statements, each its own transaction.

        On PostgreSQL it runs in autocommit: one round trip a statement instead
        of BEGIN, the statement and COMMIT. On SQLite (statements run in-process)
        it is a plain connection; commit as usual, which is a no-op in autocommit.
        """
        if self.is_sqlite:
            return self.engine.connect()
        return self._autocommit.connect()

    async def ping(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def checkpoint_forever(self, interval: float = CHECKPOINT_SECONDS) -> None:
        """Copy the write-ahead log back into a SQLite file every ``interval``, off the loop.

        SQLite's automatic checkpoint runs inside whichever commit crosses 1,000
        pages of WAL; our statements and commits run in the event loop, so that
        commit stalled every conversation for tens or hundreds of milliseconds
        (fsync and all). Connections therefore turn it off (``wal_autocheckpoint
        = 0``) and this loop does the work on a thread of its own connection,
        in PASSIVE mode: it takes no lock that a turn waits for, and copies what
        it can. Runs in the app's lifespan; a no-op for other databases.
        """
        if self.sqlite_file is None:
            return
        path = self.sqlite_file
        connection = await asyncio.to_thread(
            sqlite3.connect, path, timeout=0, check_same_thread=False
        )
        running: asyncio.Future[tuple[int, int, int]] | None = None
        try:
            while True:
                await asyncio.sleep(interval)
                # Between this process's write transactions: with none open, the
                # checkpoint can copy every frame, so the next write starts the WAL
                # from its beginning again. Copying only up to whatever transaction
                # was open, round after round, let the WAL grow without end (about
                # 9 MB a second under load), and every read and write slowed with it.
                async with self.writing():
                    running = asyncio.ensure_future(asyncio.to_thread(_checkpoint, connection))
                    try:
                        await asyncio.shield(running)
                    except sqlite3.Error as exc:  # Locked or busy now: next round.
                        log.warning("wal checkpoint skipped: %s", type(exc).__name__)
        finally:
            if running is not None and not running.done():
                # Cancelled mid-checkpoint: the thread still uses the connection.
                with contextlib.suppress(BaseException):
                    await running
            connection.close()

    async def close(self) -> None:
        await self.engine.dispose()


def _plain_file(url: str) -> str | None:
    """The file of a ``sqlite+aiosqlite:///path`` URL with no options, else None."""
    parsed = make_url(url)
    database = parsed.database
    if parsed.query or not database or database == ":memory:" or database.startswith("file:"):
        return None
    return database


def _ensure_parent_dir(url: str) -> None:
    _, _, path = url.partition(":///")
    if path and path != ":memory:" and not path.startswith("file:"):
        Path(path).parent.mkdir(parents=True, exist_ok=True)


def _ping_when_idle(engine: AsyncEngine) -> None:
    """Like ``pool_pre_ping``, but only for connections idle past ``IDLE_PING_SECONDS``.

    A dead connection raises ``DisconnectionError`` here, so the pool replaces it
    before the caller sees it. One that dies while busy is reported as a
    disconnect and invalidates the pool; ``Pipeline`` stores an inbound message
    again on a fresh connection in that case.
    """
    dialect = engine.dialect

    def checked_in(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    def checked_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.pop("idle_since", None)
        if since is None or time.monotonic() - since < IDLE_PING_SECONDS:
            return
        try:
            alive = dialect.do_ping(dbapi_connection)
        except Exception as error:
            raise exc.DisconnectionError("idle connection failed its ping") from error
        if not alive:
            raise exc.DisconnectionError("idle connection failed its ping")

    event.listen(engine.sync_engine.pool, "checkin", checked_in)
    event.listen(engine.sync_engine.pool, "checkout", checked_out)


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # Checkpoints are Database.checkpoint_forever's, on its own thread: never in a
    # commit that runs in the event loop.
    cursor.execute("PRAGMA wal_autocheckpoint=0")
    cursor.close()


def _checkpoint(connection: sqlite3.Connection) -> tuple[int, int, int]:
    """PASSIVE checkpoint: (1 if it could not finish, WAL frames, frames copied)."""
    row = connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    return (int(row[0]), int(row[1]), int(row[2]))


def _sqlite_begin(connection: Any) -> None:
    # IMMEDIATE takes the write lock up front. A transaction that holds a read snapshot
    # and then writes fails at once with "database is locked" when another connection
    # wrote in between; the busy timeout does not help in that case. Other sessions
    # keep the driver's own deferred BEGIN (no extra round trip; reads never wait).
    if connection.get_execution_options().get("begin_immediate", False):
        # Straight to the driver: a statement with no parameters and no result needs
        # none of the engine's execution machinery (this runs on every turn).
        cursor = connection.connection.dbapi_connection.cursor()
        try:
            cursor.execute("BEGIN IMMEDIATE")
        finally:
            cursor.close()
