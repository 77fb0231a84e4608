"""Short-lived shared state: per-conversation locks and per-contact rate limits.

In-process by default; Redis when REDIS_URL is set, so several worker
processes never work on the same conversation at once.

``admit`` is what a turn uses: it counts the message against the contact's
limit and tries the conversation's lock in one step (one Redis round trip, a
script), then ``hold`` waits for the lock only if that first try did not get
it. The caller stores the message in between, so a message is never left
unstored while it waits for the lock.
"""

from __future__ import annotations

import asyncio
import sys
import time
import uuid
from collections import defaultdict, deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from sqlalchemy.exc import SQLAlchemyError

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = ["Admission", "LocalState", "RedisState", "SharedState", "make_state", "storage_errors"]

LOCK_TTL_SECONDS = 30.0


@dataclass(slots=True)
class Admission:
    """A message counted against its contact's limit, inside ``SharedState.admit``.

    ``allowed``: within the limit, or exempt. ``hold()``: wait for the
    conversation's lock (at once if the first try got it); it is released when
    ``admit`` exits.
    """

    allowed: bool
    _hold: Callable[[], Awaitable[None]] = field(repr=False)

    async def hold(self) -> None:
        await self._hold()


class SharedState(Protocol):
    def lock(self, key: str) -> AbstractAsyncContextManager[None]: ...

    def admit(
        self, key: str, limit: int, *, exempt: bool
    ) -> AbstractAsyncContextManager[Admission]: ...

    async def allow(self, key: str, limit: int, window_seconds: float = 60.0) -> bool: ...

    async def ping(self) -> None: ...

    async def close(self) -> None: ...


class LocalState:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._locks: dict[str, asyncio.Lock] = {}
        self._waiters: dict[str, int] = defaultdict(int)
        self._hits: dict[str, deque[float]] = defaultdict(deque)
        self._clock = clock

    @asynccontextmanager
    async def lock(self, key: str) -> AsyncIterator[None]:
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._waiters[key] += 1
        try:
            async with lock:
                yield
        finally:
            self._waiters[key] -= 1
            if self._waiters[key] == 0:  # Nobody else wants it: forget it, no leak.
                del self._waiters[key]
                self._locks.pop(key, None)

    @asynccontextmanager
    async def admit(self, key: str, limit: int, *, exempt: bool) -> AsyncIterator[Admission]:
        allowed = await self.allow(key, limit) or exempt
        async with AsyncExitStack() as stack:
            held = False

            async def hold() -> None:
                nonlocal held
                if not held:  # Once: a second call holds it already.
                    await stack.enter_async_context(self.lock(key))
                    held = True

            yield Admission(allowed, hold)

    async def allow(self, key: str, limit: int, window_seconds: float = 60.0) -> bool:
        now = self._clock()
        hits = self._hits[key]
        while hits and hits[0] <= now - window_seconds:
            hits.popleft()
        if len(hits) >= limit:
            return False
        hits.append(now)
        return True

    async def ping(self) -> None:
        return None

    async def close(self) -> None:
        return None


REDIS_MAX_CONNECTIONS = 64
RATE_WINDOW_SECONDS = 60
LOCK_RETRY_SECONDS = 0.005
# A turn's admission in one round trip: count the message in its window (expiring
# with it), and unless it is over the limit and not exempt, try the lock.
# Returns {count, 1 if the lock was taken}.
COUNT_AND_TRY_LOCK = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
if count > tonumber(ARGV[2]) and ARGV[3] == '0' then return {count, 0} end
if redis.call('SET', KEYS[2], ARGV[4], 'NX', 'PX', ARGV[5]) then return {count, 1} end
return {count, 0}
"""
# Release only our own lock: one that expired and was taken by another is theirs.
RELEASE_IF_OURS = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
# INCR, and on the window's first hit set its expiry (EVALSHA after the first call).
COUNT_IN_WINDOW = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return count
"""


class RedisState:
    def __init__(self, url: str, prefix: str = "harborline") -> None:
        from redis.asyncio import BlockingConnectionPool, Redis

        # A busy worker waits for a free connection instead of failing the turn
        # (the default pool raises "Too many connections" past its limit).
        pool = BlockingConnectionPool.from_url(
            url, max_connections=REDIS_MAX_CONNECTIONS, timeout=LOCK_TTL_SECONDS
        )
        self.redis: Redis = Redis.from_pool(pool)  # Owns the pool: closed with it.
        self.prefix = prefix
        self._count_in_window = self.redis.register_script(COUNT_IN_WINDOW)
        self._count_and_try_lock = self.redis.register_script(COUNT_AND_TRY_LOCK)
        self._release_if_ours = self.redis.register_script(RELEASE_IF_OURS)

    @asynccontextmanager
    async def lock(self, key: str) -> AsyncIterator[None]:
        lock = self.redis.lock(
            f"{self.prefix}:lock:{key}",
            timeout=LOCK_TTL_SECONDS,
            blocking_timeout=LOCK_TTL_SECONDS,
            sleep=0.005,
        )
        acquired = await lock.acquire(token=uuid.uuid4().hex.encode())
        if not acquired:
            raise TimeoutError("conversation lock not acquired")
        try:
            yield
        finally:
            await lock.release()

    @asynccontextmanager
    async def admit(self, key: str, limit: int, *, exempt: bool) -> AsyncIterator[Admission]:
        window = int(time.time() // RATE_WINDOW_SECONDS)
        lock_name = f"{self.prefix}:lock:{key}"
        token = uuid.uuid4().hex
        count, locked = await self._count_and_try_lock(
            keys=[f"{self.prefix}:rate:{key}:{window}", lock_name],
            args=[RATE_WINDOW_SECONDS + 1, limit, int(exempt), token, int(LOCK_TTL_SECONDS * 1000)],
        )
        held = bool(int(locked))

        async def hold() -> None:
            nonlocal held
            if not held:
                await self._wait_for_lock(lock_name, token)
                held = True

        try:
            yield Admission(int(count) <= limit or exempt, hold)
        finally:
            if held:
                await self._release_if_ours(keys=[lock_name], args=[token])

    async def _wait_for_lock(self, name: str, token: str) -> None:
        deadline = time.monotonic() + LOCK_TTL_SECONDS
        ttl_ms = int(LOCK_TTL_SECONDS * 1000)
        while not await self.redis.set(name, token, nx=True, px=ttl_ms):
            if time.monotonic() >= deadline:
                raise TimeoutError("conversation lock not acquired")
            await asyncio.sleep(LOCK_RETRY_SECONDS)

    async def allow(self, key: str, limit: int, window_seconds: float = 60.0) -> bool:
        # Fixed window counter: one INCR per message, expiring with the window. One
        # script call, not MULTI/INCR/EXPIRE/EXEC: the same round trip, a quarter of
        # the commands to write and parse on every message.
        window = int(time.time() // window_seconds)
        name = f"{self.prefix}:rate:{key}:{window}"
        count = await self._count_in_window(keys=[name], args=[int(window_seconds) + 1])
        return int(count) <= limit

    async def ping(self) -> None:
        await self.redis.ping()

    async def close(self) -> None:
        await self.redis.aclose()


def make_state(redis_url: str, prefix: str = "harborline") -> SharedState:
    return RedisState(redis_url, prefix) if redis_url else LocalState()


_STORAGE_ERRORS: tuple[type[BaseException], ...] = (SQLAlchemyError, OSError, TimeoutError)


def storage_errors() -> tuple[type[BaseException], ...]:
    """What a failing database or shared state raises: caught to degrade, not crash.

    Redis's errors only once redis is imported (by RedisState or RedisBus): a
    process without REDIS_URL never imports it (about 7 MB resident) and so can
    never raise one. ``except storage_errors():`` is evaluated only when an
    exception is on its way, so the check costs nothing on the common path.
    """
    redis = sys.modules.get("redis.exceptions")
    if redis is None:
        return _STORAGE_ERRORS
    return (*_STORAGE_ERRORS, redis.RedisError)
