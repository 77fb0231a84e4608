"""The paging loop: pages due escalations, re-pages when nobody acknowledges.

Runs in every worker. On PostgreSQL each due escalation is claimed with
FOR UPDATE SKIP LOCKED, so one worker pages it; pages are rows written in the
same transaction as the step, so a worker killed mid-page leaves either the
whole step or none of it, never a double page.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from bot.storage.db import Database
from escalation.bus import Bus
from escalation.roster import load_roster
from escalation.service import PagePolicy, page_due

__all__ = ["PagingDispatcher"]

log = logging.getLogger("harborline.paging")


class PagingDispatcher:
    def __init__(
        self,
        db: Database,
        bus: Bus,
        clock: Callable[[], datetime],
        policy: PagePolicy,
        poll_seconds: float = 1.0,
    ) -> None:
        self.db = db
        self.bus = bus
        self.clock = clock
        self.policy = policy
        self.poll_seconds = poll_seconds
        self._wake = asyncio.Event()

    def wake(self) -> None:
        self._wake.set()

    async def run_once(self) -> list[dict[str, Any]]:
        now = self.clock()
        async with self.db.sessions() as session, session.begin():
            roster = await load_roster(session, now)
            published = await page_due(
                session, roster, now, self.policy, skip_locked=not self.db.is_sqlite
            )
        for event in published.events:
            await self.bus.publish(event)
        return published.events

    async def run_forever(self) -> None:
        while True:
            try:
                await self.run_once()
            except Exception as exc:  # A bad round must not stop paging for good.
                log.error("paging round failed: %s", type(exc).__name__)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll_seconds)
            self._wake.clear()
