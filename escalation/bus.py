"""Live events for consoles: new escalations, pages, messages, risk flags.

In-process pub/sub by default; Redis pub/sub when REDIS_URL is set, so a
console connected to one worker hears what happens in every worker. Events
carry ids and levels only, never message text: the console fetches text
through the authenticated API.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = ["Bus", "LocalBus", "RedisBus", "make_bus"]


class Bus(Protocol):
    async def publish(self, event: dict[str, Any]) -> None: ...

    def subscribe(
        self,
    ) -> contextlib.AbstractAsyncContextManager[asyncio.Queue[dict[str, Any]]]: ...

    async def close(self) -> None: ...


class LocalBus:
    def __init__(self) -> None:
        self._subscribers: set[asyncio.Queue[dict[str, Any]]] = set()

    async def publish(self, event: dict[str, Any]) -> None:
        for queue in list(self._subscribers):
            with contextlib.suppress(asyncio.QueueFull):
                queue.put_nowait(event)

    @asynccontextmanager
    async def subscribe(self) -> AsyncIterator[asyncio.Queue[dict[str, Any]]]:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=1000)
        self._subscribers.add(queue)
        try:
            yield queue
        finally:
            self._subscribers.discard(queue)

    async def close(self) -> None:
        self._subscribers.clear()


class RedisBus:
    def __init__(self, url: str, prefix: str = "harborline") -> None:
        from redis.asyncio import Redis  # Only with REDIS_URL: see bot.state.storage_errors.

        self.redis: Redis = Redis.from_url(url)
        self.channel = f"{prefix}:console"

    async def publish(self, event: dict[str, Any]) -> None:
        await self.redis.publish(self.channel, json.dumps(event))

    @asynccontextmanager
    async def subscribe(self) -> AsyncIterator[asyncio.Queue[dict[str, Any]]]:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=1000)
        pubsub = self.redis.pubsub()
        await pubsub.subscribe(self.channel)

        async def pump() -> None:
            async for message in pubsub.listen():
                if message.get("type") == "message":
                    with contextlib.suppress(asyncio.QueueFull, ValueError):
                        queue.put_nowait(json.loads(message["data"]))

        task = asyncio.create_task(pump())
        try:
            yield queue
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            await pubsub.unsubscribe(self.channel)
            await pubsub.aclose()  # type: ignore[no-untyped-call]

    async def close(self) -> None:
        await self.redis.aclose()


def make_bus(redis_url: str, prefix: str = "harborline") -> Bus:
    return RedisBus(redis_url, prefix) if redis_url else LocalBus()
