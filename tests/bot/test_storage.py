"""Migrations, encryption and shared state against the real backends."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from cryptography.fernet import Fernet
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bot import state as state_module
from bot.crypto import Cipher, InvalidToken, address_hash
from bot.runtime import Runtime, build_runtime
from bot.state import LocalState, RedisState, SharedState
from bot.storage.migrate import upgrade
from bot.storage.models import Base
from bot.types import InboundMessage
from tests.conftest import REDIS_TEST_URL, need_service


async def test_migrations_match_the_models(backend: tuple[str, str]) -> None:
    url, _ = backend
    await upgrade(url)
    await upgrade(url)  # Idempotent.
    engine = create_async_engine(url)
    async with engine.connect() as conn:
        diff = await conn.run_sync(
            lambda sync: compare_metadata(MigrationContext.configure(sync), Base.metadata)
        )
    await engine.dispose()
    assert diff == []


def test_cipher_round_trip_and_key_rotation() -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    token = Cipher([old]).encrypt("tengo miedo 💊")
    rotated_cipher = Cipher([new, old])
    assert rotated_cipher.decrypt(token) == "tengo miedo 💊"
    rotated = rotated_cipher.rotate(token)
    assert Cipher([new]).decrypt(rotated) == "tengo miedo 💊"
    with pytest.raises(InvalidToken):
        Cipher([new]).decrypt(token)


def test_address_hash_is_keyed_and_per_channel() -> None:
    a = address_hash("k1", "sms", "+15550000000")
    assert a == address_hash("k1", "sms", "+15550000000")
    assert a != address_hash("k2", "sms", "+15550000000")
    assert a != address_hash("k1", "telegram", "+15550000000")
    assert "5550000000" not in a


@pytest.fixture(params=["local", "redis"])
async def state(request: pytest.FixtureRequest) -> AsyncIterator[SharedState]:
    if request.param == "local":
        yield LocalState()
        return
    need_service("Redis", REDIS_TEST_URL)
    # A fresh prefix instead of FLUSHDB: parallel test runs share the server.
    redis_state = RedisState(REDIS_TEST_URL, prefix=f"test-{uuid.uuid4().hex}")
    yield redis_state
    await redis_state.close()


async def test_lock_serialises_one_conversation(state: SharedState) -> None:
    order: list[str] = []

    async def worker(name: str) -> None:
        async with state.lock("conv-1"):
            order.append(f"{name}-in")
            await asyncio.sleep(0.02)
            order.append(f"{name}-out")

    await asyncio.gather(worker("a"), worker("b"), worker("c"))
    # Never two inside at once: every "in" is followed by its own "out".
    for i in range(0, len(order), 2):
        assert order[i].split("-")[0] == order[i + 1].split("-")[0]


async def test_lock_does_not_block_other_conversations(state: SharedState) -> None:
    async with state.lock("conv-a"):
        async with asyncio.timeout(1):
            async with state.lock("conv-b"):
                pass


async def test_rate_limit_counts_per_key(state: SharedState) -> None:
    allowed = [await state.allow("k", 3) for _ in range(5)]
    assert allowed == [True, True, True, False, False]
    assert await state.allow("other", 3)


async def test_redis_rate_window_expires(tmp_path: Path) -> None:
    need_service("Redis", REDIS_TEST_URL)
    state = RedisState(REDIS_TEST_URL, prefix=f"test-{uuid.uuid4().hex}")
    try:
        assert await state.allow("k", 3, window_seconds=60)
        assert await state.allow("k", 3, window_seconds=60)
        keys = [k async for k in state.redis.scan_iter(f"{state.prefix}:rate:*")]
        assert len(keys) == 1
        assert int(await state.redis.get(keys[0]) or 0) == 2
        assert 0 < await state.redis.ttl(keys[0]) <= 61  # Set once, on the first hit.
    finally:
        await state.close()


async def test_lock_is_released_after_an_error(state: SharedState) -> None:
    with pytest.raises(RuntimeError):
        async with state.lock("conv-x"):
            raise RuntimeError("boom")
    async with asyncio.timeout(1):
        async with state.lock("conv-x"):
            pass


async def test_two_redis_clients_share_the_lock(tmp_path: Path) -> None:
    """Two workers = two connections: the lock must hold across them."""
    need_service("Redis", REDIS_TEST_URL)
    prefix = f"shared-{uuid.uuid4().hex}"
    one, two = RedisState(REDIS_TEST_URL, prefix), RedisState(REDIS_TEST_URL, prefix)
    inside = 0
    peak = 0

    async def worker(state: RedisState) -> None:
        nonlocal inside, peak
        for _ in range(5):
            async with state.lock("conv"):
                inside += 1
                peak = max(peak, inside)
                await asyncio.sleep(0.005)
                inside -= 1

    await asyncio.gather(worker(one), worker(two))
    await one.close()
    await two.close()
    assert peak == 1


async def test_admission_counts_and_exempts_distress(state: SharedState) -> None:
    allowed = []
    for exempt in (False, False, False, True, False):
        async with state.admit("k", 2, exempt=exempt) as admission:
            allowed.append(admission.allowed)
    assert allowed == [True, True, False, True, False]
    async with state.admit("other", 2, exempt=False) as admission:
        assert admission.allowed


async def test_admission_serialises_a_conversation_but_counts_at_once(
    state: SharedState,
) -> None:
    order: list[str] = []
    first_in = asyncio.Event()

    async def first() -> None:
        async with state.admit("conv", 10, exempt=False) as admission:
            await admission.hold()
            order.append("first-in")
            first_in.set()
            await asyncio.sleep(0.05)
            order.append("first-out")

    async def second() -> None:
        await first_in.wait()
        async with state.admit("conv", 10, exempt=False) as admission:
            order.append("second-counted")  # Before the lock: the caller stores now.
            await admission.hold()
            await admission.hold()  # A second call holds it already.
            order.append("second-in")

    await asyncio.gather(first(), second())
    assert order == ["first-in", "second-counted", "first-out", "second-in"]
    async with asyncio.timeout(1):  # Released on exit.
        async with state.admit("conv", 10, exempt=False) as admission:
            await admission.hold()


async def test_a_refused_admission_takes_no_lock(state: SharedState) -> None:
    async with state.admit("conv-r", 1, exempt=False) as admission:
        assert admission.allowed
        await admission.hold()
    async with state.admit("conv-r", 1, exempt=False) as refused:
        assert not refused.allowed
        async with asyncio.timeout(1), state.admit("conv-r", 1, exempt=True) as other:
            await other.hold()  # Nobody holds it: the refused one never took it.


async def test_admission_lock_is_released_after_an_error(state: SharedState) -> None:
    with pytest.raises(RuntimeError):
        async with state.admit("conv-e", 10, exempt=False) as admission:
            await admission.hold()
            raise RuntimeError("boom")
    async with asyncio.timeout(1), state.admit("conv-e", 10, exempt=False) as again:
        await again.hold()


async def test_redis_admission_never_releases_a_lock_that_is_no_longer_its_own() -> None:
    """Held past its expiry, the lock may now be another worker's: leave it to them."""
    need_service("Redis", REDIS_TEST_URL)
    state = RedisState(REDIS_TEST_URL, prefix=f"test-{uuid.uuid4().hex}")
    name = f"{state.prefix}:lock:conv"
    try:
        async with state.admit("conv", 10, exempt=False) as admission:
            await admission.hold()
            await state.redis.set(name, "another-worker")  # Ours expired; theirs now.
        assert await state.redis.get(name) == b"another-worker"
    finally:
        await state.close()


async def test_redis_admission_gives_up_waiting_after_the_lock_ttl(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    need_service("Redis", REDIS_TEST_URL)
    monkeypatch.setattr(state_module, "LOCK_TTL_SECONDS", 0.2)
    state = RedisState(REDIS_TEST_URL, prefix=f"test-{uuid.uuid4().hex}")
    try:
        await state.redis.set(f"{state.prefix}:lock:stuck", "a-stuck-worker")
        async with state.admit("stuck", 10, exempt=False) as admission:
            assert admission.allowed  # Counted, and the caller could store the message.
            with pytest.raises(TimeoutError):
                await admission.hold()
    finally:
        await state.close()


async def test_sqlite_commits_never_checkpoint_the_wal_the_background_loop_does(
    tmp_path: Path,
) -> None:
    """A checkpoint inside a commit (which runs in the event loop) stalled every chat."""
    from sqlalchemy import text

    from bot.storage.db import Database

    path = tmp_path / "wal.db"
    db = Database(f"sqlite+aiosqlite:///{path}")
    try:
        async with db.engine.begin() as conn:
            assert (await conn.execute(text("PRAGMA wal_autocheckpoint"))).scalar() == 0
            await conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)"))
        for _ in range(60):  # Well past SQLite's automatic threshold of 1,000 pages.
            async with db.engine.begin() as conn:
                await conn.execute(text("INSERT INTO t (v) VALUES (:v)"), [{"v": "x" * 4000}] * 20)
        # Rows reach the database file only through a checkpoint: none ran yet.
        written = 60 * 20 * 4000
        assert path.stat().st_size < written / 10
        assert (tmp_path / "wal.db-wal").stat().st_size > written

        loop = asyncio.create_task(db.checkpoint_forever(interval=0.01))
        for _ in range(300):
            await asyncio.sleep(0.01)
            if path.stat().st_size > written:
                break
        assert path.stat().st_size > written  # Copied back, off the event loop.
        loop.cancel()
        with pytest.raises(asyncio.CancelledError):
            await loop
    finally:
        await db.close()


async def test_the_wal_starts_over_under_a_steady_write_load(tmp_path: Path) -> None:
    """Writers one after another, as a busy server has them: there is always a write
    transaction open or waiting. The checkpoint must still copy every frame between
    two of them, so the WAL is written from its start again instead of growing."""
    from bot.storage.db import Database

    path = tmp_path / "busy.db"
    db = Database(f"sqlite+aiosqlite:///{path}")
    rounds, row_bytes = 400, 8000
    try:
        async with db.engine.begin() as conn:
            await conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)"))
        loop = asyncio.create_task(db.checkpoint_forever(interval=0.01))

        async def writer(name: str) -> None:
            for i in range(rounds):
                async with db.writing(), db.write_sessions() as session, session.begin():
                    await session.execute(
                        text("INSERT OR REPLACE INTO t (id, v) VALUES (:id, :v)"),
                        {"id": i % 20, "v": name * row_bytes},
                    )
                    await asyncio.sleep(0.001)  # A turn awaits inside its transaction.

        await asyncio.gather(writer("a"), writer("b"), writer("c"))
        loop.cancel()
        with pytest.raises(asyncio.CancelledError):
            await loop
        written = 3 * rounds * row_bytes
        # Without a complete checkpoint the WAL keeps every round (about 20 MB here).
        assert (tmp_path / "busy.db-wal").stat().st_size < written / 5
    finally:
        await db.close()


async def test_checkpoint_loop_is_a_no_op_for_a_database_server() -> None:
    from bot.storage.db import Database

    db = Database("postgresql+asyncpg://nobody@127.0.0.1:1/none")
    try:
        async with asyncio.timeout(1):
            await db.checkpoint_forever(interval=0.01)  # Returns at once.
    finally:
        await db.close()


async def test_sqlite_statements_run_at_once_when_the_lock_is_free(tmp_path: Path) -> None:
    import aiosqlite
    from sqlalchemy import text

    from bot.storage.db import Database

    db = Database(f"sqlite+aiosqlite:///{tmp_path}/hops.db")
    hops = 0
    original = aiosqlite.Connection._execute

    async def counting(self: aiosqlite.Connection, fn: object, *args: object) -> object:
        nonlocal hops
        hops += 1
        return await original(self, fn, *args)  # type: ignore[arg-type]

    try:
        async with db.engine.begin() as conn:
            await conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)"))
        aiosqlite.Connection._execute = counting  # type: ignore[method-assign]
        async with db.engine.connect() as conn:
            hops = 0
            inserted = await conn.execute(text("INSERT INTO t (v) VALUES ('a'), ('b'), ('c')"))
            assert inserted.rowcount == 3
            rows = (await conn.execute(text("SELECT v FROM t ORDER BY id"))).all()
            assert [r.v for r in rows] == ["a", "b", "c"]
            partial = await conn.execute(text("SELECT v FROM t ORDER BY id"))
            assert partial.fetchone() == ("a",) and partial.fetchmany(5) == [("b",), ("c",)]
            await conn.commit()
            assert hops == 0  # No thread hop at all while nobody else holds the lock.
    finally:
        aiosqlite.Connection._execute = original  # type: ignore[method-assign]
        await db.close()


async def test_sqlite_waits_for_another_process_lock_off_the_event_loop(tmp_path: Path) -> None:
    """Another process holds the write lock: the write waits on the driver's thread."""
    import sqlite3

    from sqlalchemy import text

    from bot.storage.db import Database

    path = tmp_path / "locked.db"
    db = Database(f"sqlite+aiosqlite:///{path}")
    async with db.engine.begin() as conn:
        await conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)"))
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")  # As `harborline kb import` in another process would.
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    async def write() -> None:
        async with db.engine.begin() as conn:
            await conn.execute(text("INSERT INTO t (v) VALUES ('waited')"))

    ticking = asyncio.create_task(ticker())
    writing = asyncio.create_task(write())
    try:
        await asyncio.sleep(0.3)
        assert not writing.done()  # Still waiting for the lock...
        assert ticks >= 10  # ...while the event loop kept serving others.
        other.execute("COMMIT")
        await asyncio.wait_for(writing, 5)
        async with db.engine.connect() as conn:
            values = (await conn.execute(text("SELECT v FROM t"))).scalars().all()
        assert values == ["waited"]
        # And the next statement, with the lock free again, runs at once and works.
        async with db.engine.begin() as conn:
            await conn.execute(text("INSERT INTO t (v) VALUES ('after')"))
    finally:
        ticking.cancel()
        other.close()
        await db.close()


# --- PostgreSQL connections closed under the pool (a restart, an idle timeout) ---


async def _close_server_side(url: str) -> int:
    """Terminate every server connection to the database at ``url``; how many there were."""
    import asyncpg

    from tests.conftest import PG_ADMIN_URL

    admin = await asyncpg.connect(PG_ADMIN_URL.replace("postgresql+asyncpg", "postgresql"))
    try:
        rows = await admin.fetch(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = $1 AND pid <> pg_backend_pid()",
            url.rsplit("/", 1)[1],
        )
    finally:
        await admin.close()
    return len(rows)


async def _pg_runtime(tmp_path: Path, pg_url: str) -> Runtime:
    from tests.conftest import make_settings

    return await build_runtime(make_settings(tmp_path, pg_url))


def _message(n: int) -> InboundMessage:
    return InboundMessage(
        channel="web",
        address="closed-conn",
        text="what is a t visa",
        provider_id=f"cc{n}",
        received_at=datetime.now(UTC),
    )


async def test_a_busy_pool_stores_the_message_again_after_the_server_closed_it(
    tmp_path: Path, pg_url: str
) -> None:
    runtime = await _pg_runtime(tmp_path, pg_url)
    try:
        assert (await runtime.pipeline.handle(_message(1))).status == "ok"
        assert await _close_server_side(pg_url) >= 1
        # Used moments ago, so not pinged: the first statement finds the connection
        # dead, the pool is invalidated, and the message is stored on a new one.
        result = await runtime.pipeline.handle(_message(2))
        assert result.status == "ok" and result.replies
        async with runtime.db.connect() as conn:
            stored = (await conn.execute(text("SELECT count(*) FROM inbox"))).scalar()
        assert stored == 2
    finally:
        await runtime.close()


async def test_an_idle_connection_is_pinged_and_replaced_before_use(
    tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bot.storage.db as db_module

    runtime = await _pg_runtime(tmp_path, pg_url)
    try:
        assert (await runtime.pipeline.handle(_message(1))).status == "ok"
        assert await _close_server_side(pg_url) >= 1
        monkeypatch.setattr(db_module, "IDLE_PING_SECONDS", 0.0)
        stored_again = []
        original = runtime.pipeline._persist_inbound

        async def counting(*args: object) -> object:
            stored_again.append(1)
            return await original(*args)  # type: ignore[arg-type]

        monkeypatch.setattr(runtime.pipeline, "_persist_inbound", counting)
        assert (await runtime.pipeline.handle(_message(2))).status == "ok"
        assert stored_again == [1]  # the ping caught it: no second attempt was needed
    finally:
        await runtime.close()


async def test_pool_size_comes_from_settings(tmp_path: Path, pg_url: str) -> None:
    from tests.conftest import make_settings

    settings = make_settings(tmp_path, pg_url, DATABASE_POOL_SIZE=3, DATABASE_MAX_OVERFLOW=2)
    runtime = await build_runtime(settings)
    try:
        pool = runtime.db.engine.sync_engine.pool
        assert (pool.size(), pool._max_overflow) == (3, 2)  # type: ignore[attr-defined]
    finally:
        await runtime.close()
