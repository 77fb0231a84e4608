"""Shared fixtures. Storage-backed tests run on SQLite always, and on real
PostgreSQL and Redis when they answer. HARBORLINE_REQUIRE_SERVICES=1 (set by
.ci/run) turns a missing server from a skip into a failure."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlparse

import pytest
from cryptography.fernet import Fernet

from bot.runtime import Runtime, build_runtime
from bot.settings import Settings
from nlu.intents import IntentClassifier
from resources_kb.service import KnowledgeBase

PG_ADMIN_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)
REDIS_TEST_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
REQUIRE_SERVICES = os.environ.get("HARBORLINE_REQUIRE_SERVICES") == "1"
FIXED_KEY = Fernet.generate_key().decode()


def _reachable(url: str) -> bool:
    parsed = urlparse(url.replace("+asyncpg", ""))
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or 0), 1):
            return True
    except OSError:
        return False


def need_service(name: str, url: str) -> None:
    if _reachable(url):
        return
    message = f"{name} not reachable at {urlparse(url).hostname}:{urlparse(url).port}"
    if REQUIRE_SERVICES:
        pytest.fail(message + " (HARBORLINE_REQUIRE_SERVICES=1)")
    pytest.skip(message)


class Clock:
    """A controllable clock: tests move time instead of sleeping."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 11, 21, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(scope="session")
def intents() -> IntentClassifier | None:
    cache = Path(os.environ.get("HARBORLINE_TEST_CACHE", ".pytest_cache")) / "models"
    return IntentClassifier.load_or_train(cache)


@pytest.fixture(scope="session", autouse=True)
def risk_model() -> None:
    """The trained risk layer, installed once for every test (as the runtime would)."""
    from nlu.risk import default_screen, use_model
    from nlu.risk import model as risk_model

    cache = Path(os.environ.get("HARBORLINE_TEST_CACHE", ".pytest_cache")) / "models"
    if default_screen().model is None:
        use_model(risk_model.load_or_train(cache))


@pytest.fixture(scope="session")
def kb() -> KnowledgeBase:
    return KnowledgeBase.from_files()


def make_settings(
    tmp_path: Path, database_url: str = "", redis_url: str = "", **extra: object
) -> Settings:
    # Background loops are off: tests drive paging and maintenance by hand.
    values: dict[str, object] = {
        "MAINTENANCE_INTERVAL_SECONDS": 0,
        "PAGING_ENABLED": False,
        # Each test its own Redis keys: parallel runs never disturb each other.
        "REDIS_PREFIX": f"test-{uuid.uuid4().hex[:10]}",
    }
    values.update(extra)
    return Settings(
        DATABASE_URL=database_url or f"sqlite+aiosqlite:///{tmp_path}/test.db",
        REDIS_URL=redis_url,
        HARBORLINE_VAR_DIR=tmp_path,
        ENCRYPTION_KEYS=FIXED_KEY,
        ADDRESS_HASH_KEY="test-hash-key",
        **values,  # type: ignore[arg-type]
    )


async def _create_pg_database() -> str:
    import asyncpg

    name = f"harborline_test_{uuid.uuid4().hex[:12]}"
    dsn = PG_ADMIN_URL.replace("postgresql+asyncpg", "postgresql")
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    return f"{base}/{name}"


async def _drop_pg_database(url: str) -> None:
    import asyncpg

    name = url.rsplit("/", 1)[1]
    dsn = PG_ADMIN_URL.replace("postgresql+asyncpg", "postgresql")
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@pytest.fixture
async def pg_url() -> AsyncIterator[str]:
    need_service("PostgreSQL", PG_ADMIN_URL)
    url = await _create_pg_database()
    try:
        yield url
    finally:
        await _drop_pg_database(url)


@pytest.fixture(params=["sqlite", "postgres"])
async def backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[tuple[str, str]]:
    """(database_url, redis_url): embedded, or PostgreSQL + Redis."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path}/test.db", ""
        return
    need_service("PostgreSQL", PG_ADMIN_URL)
    need_service("Redis", REDIS_TEST_URL)
    url = await _create_pg_database()
    try:
        yield url, REDIS_TEST_URL
    finally:
        await _drop_pg_database(url)


@pytest.fixture
async def runtime(
    tmp_path: Path,
    backend: tuple[str, str],
    clock: Clock,
    kb: KnowledgeBase,
    intents: IntentClassifier | None,
) -> AsyncIterator[Runtime]:
    database_url, redis_url = backend
    settings = make_settings(tmp_path, database_url, redis_url)
    rt = await build_runtime(settings, clock=clock, kb=kb, intents=intents)
    try:
        yield rt
    finally:
        await rt.close()
