"""`make bench`: 100,000 check-ins falling due within one hour, written to docs/benchmarks.md.

Real time compressed: the dispatchers' clock runs SPEED times faster than the wall
clock (start + elapsed * SPEED), so the simulated hour passes in 3600 / SPEED real
seconds and the dispatchers face SPEED times the real rate (100,000 per hour is about
28 per second; here about 28 * SPEED per second). Lateness is measured per check-in
as (simulated time it was handed to the outbox - due time) / SPEED, i.e. in wall-clock
seconds of delay under that compressed load; the dispatchers poll every POLL seconds.
Then every outbox key is counted: none lost (100,000 distinct keys) and none doubled
(rows == distinct keys).

- SQLite: one dispatcher (SQLite has a single writer).
- PostgreSQL: two dispatcher processes (FOR UPDATE SKIP LOCKED), in a fresh database
  created on 127.0.0.1:5432 (user postgres) and dropped afterwards.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench import machine, percentile, write_section
from cryptography.fernet import Fernet
from sqlalchemy import func, insert, select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aftercare.dispatcher import CheckinDispatcher
from aftercare.models import Checkin
from bot.crypto import Cipher
from bot.storage.db import Database
from bot.storage.migrate import upgrade
from bot.storage.models import Contact
from escalation.models import OutboxItem

TOTAL = 100_000
CONTACTS = 10_000
SPEED = 90.0  # The hour passes in 40 s.
POLL = 0.05
START = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)  # Monday 09:00 New York: no quiet hours.
KEY = Fernet.generate_key().decode()
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


def compressed_clock(wall_start: float):  # type: ignore[no-untyped-def]
    def clock() -> datetime:
        return START + timedelta(seconds=(time.time() - wall_start) * SPEED)

    return clock


async def seed(url: str) -> None:
    await upgrade(url)
    db = Database(url)
    now = START - timedelta(days=1)
    async with db.sessions() as session, session.begin():
        await session.execute(
            insert(Contact),
            [
                {
                    "address_hash": f"bench-{i}", "channel": "sms", "address_enc": b"x",
                    "locale": "en", "locale_chosen": False, "country": "US",
                    "discreet": True, "stopped": False, "created_at": now, "last_seen_at": now,
                }
                for i in range(CONTACTS)
            ],
        )  # fmt: skip
        ids = list((await session.execute(select(Contact.id).order_by(Contact.id))).scalars())
        rows = [
            {
                "contact_id": ids[i % CONTACTS], "kind": "once", "weekday": None,
                "local_time": None, "timezone": "America/New_York", "quiet_start": "21:00",
                "quiet_end": "08:00", "window_minutes": 720,
                "due_at": START + timedelta(seconds=3600 * i / TOTAL), "status": "scheduled",
                "sequence": 0, "attempts": 0, "discreet": True, "created_by": "bench",
                "created_at": now, "updated_at": now,
            }
            for i in range(TOTAL)
        ]  # fmt: skip
        for chunk in range(0, TOTAL, 10_000):
            await session.execute(insert(Checkin), rows[chunk : chunk + 10_000])
    await db.close()


async def dispatch_until_done(url: str, wall_start: float) -> None:
    db = Database(url)
    dispatcher = CheckinDispatcher(db, Cipher([KEY]), compressed_clock(wall_start), batch=500)
    deadline = wall_start + 3600 / SPEED + 20
    while time.time() < deadline:
        await dispatcher.run_once()
        async with db.sessions() as session:
            left = await session.scalar(
                select(func.count(Checkin.id)).where(Checkin.status == "scheduled")
            )
        if not left:
            break
        await asyncio.sleep(POLL)
    await db.close()


def _process(url: str, wall_start: float) -> None:
    asyncio.run(dispatch_until_done(url, wall_start))


async def measure(url: str) -> dict[str, float]:
    db = Database(url)
    async with db.sessions() as session:
        rows = (await session.execute(select(Checkin.due_at, Checkin.sent_at))).all()
        keys = await session.scalar(select(func.count(func.distinct(OutboxItem.idempotency_key))))
        total = await session.scalar(select(func.count(OutboxItem.id)))
    await db.close()
    late = [(s - d).total_seconds() / SPEED for d, s in rows if s is not None]
    return {
        "sent": len(late),
        "keys": float(keys or 0),
        "rows": float(total or 0),
        "p50": percentile(late, 50),
        "p99": percentile(late, 99),
        "max": max(late) if late else 0.0,
    }


def run(url: str, workers: int) -> dict[str, float]:
    asyncio.run(seed(url))
    wall_start = time.time() + 1.0
    procs = [
        multiprocessing.get_context("spawn").Process(target=_process, args=(url, wall_start))
        for _ in range(workers)
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    return asyncio.run(measure(url))


def _pg(action: str, name: str) -> None:
    import asyncpg

    async def go() -> None:
        conn = await asyncpg.connect(PG_ADMIN)
        try:
            if action == "create":
                await conn.execute(f'CREATE DATABASE "{name}"')
            else:
                await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()

    asyncio.run(go())


def line(label: str, r: dict[str, float]) -> str:
    ok = "yes" if r["keys"] == r["rows"] == TOTAL and r["sent"] == TOTAL else "NO"
    return (
        f"| {label} | {int(r['sent']):,} | {int(r['keys']):,} / {int(r['rows']):,} | {ok} "
        f"| {r['p50']:.3f} | {r['p99']:.3f} | {r['max']:.3f} |"
    )


def main() -> int:
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        results.append(("SQLite, 1 dispatcher", run(f"sqlite+aiosqlite:///{tmp}/b.db", 1)))
    name = f"harborline_bench_{uuid.uuid4().hex[:8]}"
    try:
        _pg("create", name)
    except OSError as exc:
        print(f"PostgreSQL skipped: {exc}")
    else:
        try:
            url = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
            results.append(("PostgreSQL, 2 dispatcher processes", run(url, 2)))
        finally:
            _pg("drop", name)
    lines = [
        "## Check-ins: 100,000 falling due within one hour",
        "",
        f"`.venv/bin/python scripts/bench_checkins.py` on {machine()}.",
        f"Time compressed {SPEED:.0f}x (the hour passes in {3600 / SPEED:.0f} s, so the",
        f"dispatchers see {SPEED:.0f}x the real rate); dispatchers poll every {POLL} s, batches of",
        "500. Lateness = wall-clock seconds from a check-in's due moment to its outbox row",
        "(target p99 <= 2 s). Keys = distinct `checkin:<id>:<sequence>` outbox keys / outbox rows.",
        "",
        "| setup | sent | keys / rows | exactly once | p50 s | p99 s | max s |",
        "|---|---|---|---|---|---|---|",
        *[line(label, r) for label, r in results],
    ]
    write_section("checkins", lines)
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
