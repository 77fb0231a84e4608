"""Short-lived shared state: per-conversation locks and per-contact rate limits.

In-process by default; Redis when REDIS_URL is set, so several worker
processes never work on the same conversation at once.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import defaultdict, deque
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Protocol

from redis.asyncio import BlockingConnectionPool, Redis

__all__ = ["LocalState", "RedisState", "SharedState", "make_state"]

LOCK_TTL_SECONDS = 30.0


class SharedState(Protocol):
    def lock(self, key: str) -> AbstractAsyncContextManager[None]: ...

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
# INCR, and on the window's first hit set its expiry (EVALSHA after the first call).
COUNT_IN_WINDOW = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return count
"""


class RedisState:
    def __init__(self, url: str, prefix: str = "harborline") -> None:
        # A busy worker waits for a free connection instead of failing the turn
        # (the default pool raises "Too many connections" past its limit).
        pool = BlockingConnectionPool.from_url(
            url, max_connections=REDIS_MAX_CONNECTIONS, timeout=LOCK_TTL_SECONDS
        )
        self.redis: Redis = Redis.from_pool(pool)  # Owns the pool: closed with it.
        self.prefix = prefix
        self._count_in_window = self.redis.register_script(COUNT_IN_WINDOW)

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
