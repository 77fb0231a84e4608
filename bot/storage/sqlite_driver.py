"""aiosqlite that runs a statement at once when it can, and waits on its thread when it must.

aiosqlite runs every call on its connection's thread and SQLAlchemy's adapter
makes four of them per statement: make a cursor, execute, fetch, close. Each hop
is a queue put, a thread wake-up and a trip through the event loop, and on this
hot path they cost far more than SQLite itself (a turn's statements take tens of
microseconds each in SQLite; a hop costs over a hundred).

So a statement, commit or rollback first runs right away, in the caller's thread,
with SQLite's busy timeout at zero: it either finishes without waiting or fails at
once with "database is locked". Only then does it go to aiosqlite's thread, with
the real busy timeout, so waiting for another process's lock never blocks the
event loop. A failed statement changed nothing (SQLite statements are atomic), so
running it again is safe. Making and closing a cursor need no hop at all (the cursor
is a plain object, used by one task at a time: SQLAlchemy holds a per-connection
mutex around it).

Given to SQLAlchemy through ``create_async_engine(async_creator=...)``, its
documented hook for a custom driver connection; the URL stays
``sqlite+aiosqlite:///path``.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Awaitable, Callable, Iterable
from functools import partial
from typing import Any

import aiosqlite
from aiosqlite.context import contextmanager

__all__ = ["inline_first_connector"]


class _Cursor(aiosqlite.Cursor):
    _rows: list[Any]

    async def execute(self, sql: str, parameters: Iterable[Any] | None = None) -> _Cursor:
        connection: _Connection = self._conn  # type: ignore[assignment]
        self._rows = await connection.run(_run, self._cursor, sql, parameters)
        return self

    async def executemany(self, sql: str, parameters: Iterable[Iterable[Any]]) -> _Cursor:
        connection: _Connection = self._conn  # type: ignore[assignment]
        await connection.run(self._cursor.executemany, sql, list(parameters))
        self._rows = []
        return self

    async def fetchall(self) -> list[Any]:
        rows, self._rows = self._rows, []
        return rows

    async def fetchone(self) -> Any:
        return self._rows.pop(0) if self._rows else None

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        count = size or self.arraysize
        rows, self._rows = self._rows[:count], self._rows[count:]
        return rows

    async def close(self) -> None:
        # Every result was fetched to the end, so this only frees the statement: no
        # lock to give back, no hop needed (SQLAlchemy's mutex keeps it ours).
        self._rows = []
        self._cursor.close()


def _run(cursor: sqlite3.Cursor, sql: str, parameters: Any) -> list[Any]:
    cursor.execute(sql, () if parameters is None else parameters)
    return cursor.fetchall() if cursor.description is not None else []


class _Connection(aiosqlite.Connection):
    def __init__(self, connector: Callable[[], sqlite3.Connection], busy_timeout: float) -> None:
        super().__init__(connector, iter_chunk_size=64)
        self._busy_timeout_ms = int(busy_timeout * 1000)
        self._on_thread = 0  # Calls queued to or running on the thread.
        self._count_lock = threading.Lock()

    async def run(self, fn: Callable[..., Any], *args: Any) -> Any:
        """``fn(*args)`` now if SQLite's lock is free, else on the thread with the busy timeout."""
        if self._on_thread == 0:  # Never beside a call still running on the thread.
            try:
                return fn(*args)
            except sqlite3.OperationalError as exc:
                if not _is_busy(exc):
                    raise
        with self._count_lock:
            self._on_thread += 1
        return await self._execute(self._waiting, fn, *args)  # type: ignore[no-untyped-call]

    def _waiting(self, fn: Callable[..., Any], *args: Any) -> Any:
        connection = self._conn
        try:
            connection.execute(f"PRAGMA busy_timeout = {self._busy_timeout_ms}")
            try:
                return fn(*args)
            finally:
                connection.execute("PRAGMA busy_timeout = 0")
        finally:
            with self._count_lock:
                self._on_thread -= 1

    async def commit(self) -> None:
        await self.run(self._conn.commit)

    async def rollback(self) -> None:
        await self.run(self._conn.rollback)

    @contextmanager  # aiosqlite's: the result may be awaited or used with `async with`.
    async def cursor(self) -> _Cursor:  # type: ignore[override]
        cursor = _Cursor(self, self._conn.cursor())
        cursor._rows = []
        return cursor


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    return "locked" in str(exc) or "busy" in str(exc)


def inline_first_connector(path: str, timeout: float) -> Callable[[], Awaitable[Any]]:
    """An ``async_creator`` for SQLAlchemy: a file database at ``path``.

    ``timeout`` is how long a statement may wait for another connection's lock; it
    waits on the connection's thread, never in the event loop.
    """

    async def connect() -> aiosqlite.Connection:
        # Busy timeout zero: a first try in the event loop must never sleep in SQLite.
        connector = partial(sqlite3.connect, path, timeout=0, check_same_thread=False)
        connection = _Connection(connector, busy_timeout=timeout)
        connection._thread.daemon = True  # As SQLAlchemy does: never hold up exit.
        return await connection

    return connect
