"""A check-in dispatcher in its own process that stops forever before a commit.

    python -m tests.aftercare.crash_worker URL KEY NOW MARKER BATCH CRASH_AT

It runs the real dispatcher with batches of BATCH; when the CRASH_AT-th batch has
written its outbox rows and before it commits, it writes MARKER and hangs, so the
test can kill -9 it at exactly that point.
"""

from __future__ import annotations

import asyncio
import sys
from datetime import datetime
from pathlib import Path

from aftercare.dispatcher import CheckinDispatcher
from bot.crypto import Cipher
from bot.storage.db import Database


async def main(url: str, key: str, now: str, marker: str, batch: int, crash_at: int) -> None:
    moment = datetime.fromisoformat(now)
    dispatcher = CheckinDispatcher(Database(url), Cipher([key]), lambda: moment, batch=batch)
    batches = 0

    async def hang_before_commit() -> None:
        nonlocal batches
        batches += 1
        if batches == crash_at:
            Path(marker).write_text("claimed")  # noqa: ASYNC240 - a tiny file, on purpose here
            await asyncio.sleep(3600)

    dispatcher.before_commit = hang_before_commit
    await dispatcher.run_once()


if __name__ == "__main__":
    url, key, now, marker, batch, crash_at = sys.argv[1:7]
    asyncio.run(main(url, key, now, marker, int(batch), int(crash_at)))
