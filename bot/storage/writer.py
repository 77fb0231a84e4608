"""Turns at SQLite's single writer, in the event loop: work already under way goes first."""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque

__all__ = ["WriterTurns"]


class WriterTurns:
    """A lock with two queues: ``ahead`` waiters are served before the others.

    A survivor's message takes the writer twice: once to be stored, once for its
    turn. In one first-come queue, a message that has been stored goes to the
    back of the line again, behind every message that arrived while it waited,
    so under load it waits in line twice. Letting stored messages' turns go
    first means each message waits about once. Nothing waits forever: the
    ``ahead`` queue only holds messages already stored, at most one turn each,
    and the paging dispatcher's one round (an alarm already due).

    The lock passes straight to the next waiter on release, so nobody who comes
    later can take it in between. Within a queue, first come, first served.
    """

    def __init__(self) -> None:
        self._held = False
        self._ahead: deque[asyncio.Future[None]] = deque()
        self._normal: deque[asyncio.Future[None]] = deque()

    def locked(self) -> bool:
        return self._held

    def waiting(self) -> int:
        return sum(not f.done() for f in (*self._ahead, *self._normal))

    async def acquire(self, *, ahead: bool = False) -> None:
        # Free means nobody waits either: a release hands the lock on while anyone does.
        if not self._held:
            self._held = True
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        queue = self._ahead if ahead else self._normal
        queue.append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.release()  # Handed the lock, then cancelled: pass it on.
            else:
                with contextlib.suppress(ValueError):  # Already skipped by a release.
                    queue.remove(waiter)
            raise

    def release(self) -> None:
        if not self._held:
            raise RuntimeError("release of a writer turn nobody holds")
        for queue in (self._ahead, self._normal):
            while queue:
                waiter = queue.popleft()
                if not waiter.done():
                    waiter.set_result(None)  # Still held: it is the waiter's now.
                    return
        self._held = False
