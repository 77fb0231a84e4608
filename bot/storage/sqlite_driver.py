"""aiosqlite with one thread hop per statement instead of four.

aiosqlite runs every call on its connection's thread and SQLAlchemy's adapter
makes four of them per statement: make a cursor, execute, fetch, close. Each hop
is a queue put, a thread wake-up and a trip through the event loop, and on this
hot path they cost more than SQLite itself. Here a statement runs and fetches in
one hop; making and closing a cursor need no hop (the cursor is a plain object,
used by one task at a time: SQLAlchemy holds a per-connection mutex around it).

Still aiosqlite's own thread and queue underneath, so a statement waiting for
SQLite's lock never blocks the event loop. Given to SQLAlchemy through
``create_async_engine(async_creator=...)``, its documented hook for a custom
driver connection; the URL stays ``sqlite+aiosqlite:///path``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable, Iterable
from functools import partial
from typing import Any

import aiosqlite
from aiosqlite.context import contextmanager

__all__ = ["one_hop_connector"]


class _Cursor(aiosqlite.Cursor):
    _rows: list[Any]

    async def execute(self, sql: str, parameters: Iterable[Any] | None = None) -> _Cursor:
        self._rows = await self._execute(_run, self._cursor, sql, parameters)  # type: ignore[no-untyped-call]
        return self

    async def executemany(self, sql: str, parameters: Iterable[Iterable[Any]]) -> _Cursor:
        await self._execute(self._cursor.executemany, sql, parameters)  # type: ignore[no-untyped-call]
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
    @contextmanager  # aiosqlite's: the result may be awaited or used with `async with`.
    async def cursor(self) -> _Cursor:  # type: ignore[override]
        cursor = _Cursor(self, self._conn.cursor())
        cursor._rows = []
        return cursor


def one_hop_connector(path: str, timeout: float) -> Callable[[], Awaitable[Any]]:
    """An ``async_creator`` for SQLAlchemy: a file database at ``path``."""

    async def connect() -> aiosqlite.Connection:
        connector = partial(sqlite3.connect, path, timeout=timeout, check_same_thread=False)
        connection = _Connection(connector, iter_chunk_size=64)
        connection._thread.daemon = True  # As SQLAlchemy does: never hold up exit.
        return await connection

    return connect
