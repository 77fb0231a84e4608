"""`make bench`: Telegram webhook updates under load, written to docs/benchmarks.md.

Updates processed per second and p50/p99 latency of ``POST /telegram/webhook``
with 50 concurrent senders (closed loop: each sender is one private chat and
posts its next update when the previous one is answered). The server is a real
`harborline run` subprocess whose aiogram Bot talks to the fake Bot API server
from the tests (``tests/channels/telegram_fake.py``) on 127.0.0.1, so every
update is a full turn plus its sendMessage calls over HTTP.

- embedded: SQLite, one process;
- PostgreSQL + Redis, `--workers 2`, in a fresh database created on
  127.0.0.1:5432 and dropped afterwards, Redis database 13.

Loads are bounded in count and time and go to 127.0.0.1 only.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import httpx
from bench import MESSAGES, ROOT, machine, percentile, write_section
from bench_rest import server
from cryptography.fernet import Fernet

sys.path.insert(0, str(ROOT))
from tests.channels.telegram_fake import FakeTelegram

PATH = "/telegram/webhook"
SECRET = secrets.token_urlsafe(24)
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
REDIS_URL = "redis://127.0.0.1:6379/13"
SENDERS = 50


@contextmanager
def fake_telegram() -> Iterator[FakeTelegram]:
    """The fake Bot API server on its own event loop in a thread."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    fake = FakeTelegram()
    asyncio.run_coroutine_threadsafe(fake.start(), loop).result(10)
    try:
        yield fake
    finally:
        asyncio.run_coroutine_threadsafe(fake.stop(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)


async def load(
    fake: FakeTelegram, port: int, senders: int, updates: int, seconds: float, warmup: int = 10
) -> dict[str, float]:
    latencies: list[float] = []
    errors = 0
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    limits = httpx.Limits(max_connections=senders, max_keepalive_connections=senders)
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{port}", limits=limits, timeout=30, headers=headers
    ) as http:

        async def sender(number: int, measured: bool, count: int, deadline: float) -> None:
            nonlocal errors
            chat = 10_000_000 + number * 1000 + uuid.uuid4().int % 1000
            for n in range(count):
                if time.perf_counter() > deadline:
                    return
                update = fake.message(chat, MESSAGES[n % len(MESSAGES)])
                t0 = time.perf_counter()
                response = await http.post(PATH, json=update)
                elapsed = (time.perf_counter() - t0) * 1000
                if response.status_code != 200:
                    errors += 1
                elif measured:
                    latencies.append(elapsed)

        warm_deadline = time.perf_counter() + seconds
        await asyncio.gather(*(sender(i, False, warmup, warm_deadline) for i in range(senders)))
        per_sender = max(1, updates // senders)
        started = time.perf_counter()
        deadline = started + seconds
        await asyncio.gather(
            *(sender(i + senders, True, per_sender, deadline) for i in range(senders))
        )
        elapsed = time.perf_counter() - started
    return {
        "updates": len(latencies),
        "per_second": len(latencies) / elapsed,
        "p50_ms": percentile(latencies, 50) if latencies else 0.0,
        "p99_ms": percentile(latencies, 99) if latencies else 0.0,
        "errors": errors,
    }


async def _admin(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(PG_ADMIN)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def _flush_redis() -> None:
    from redis.asyncio import Redis

    client = Redis.from_url(REDIS_URL)
    try:
        await client.flushdb()
    finally:
        await client.aclose()


@contextmanager
def postgres_and_redis() -> Iterator[dict[str, str]]:
    name = f"harborline_bench_tg_{uuid.uuid4().hex[:12]}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    asyncio.run(_flush_redis())
    try:
        yield {
            "DATABASE_URL": f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}",
            "REDIS_URL": REDIS_URL,
            "ENCRYPTION_KEYS": Fernet.generate_key().decode(),
            "ADDRESS_HASH_KEY": secrets.token_urlsafe(32),
        }
    finally:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        asyncio.run(_flush_redis())


def telegram_env(fake: FakeTelegram) -> dict[str, str]:
    return {
        "TELEGRAM_BOT_TOKEN": fake.token,
        "TELEGRAM_API_BASE": fake.url,
        "TELEGRAM_WEBHOOK_URL": "https://bench.invalid/telegram/webhook",
        "TELEGRAM_WEBHOOK_SECRET": SECRET,
    }


def row(mode: str, result: dict[str, float]) -> str:
    return (
        f"| {mode} | {result['per_second']:.0f} updates/s | {result['p50_ms']:.1f} ms | "
        f"{result['p99_ms']:.1f} ms | {result['updates']:.0f} | {result['errors']:.0f} |"
    )


def main() -> int:
    from nlu.intents import IntentClassifier

    IntentClassifier.load_or_train(ROOT / "var" / "models")
    load_before = os.getloadavg()[0]
    table: list[str] = []
    with fake_telegram() as fake:
        base = telegram_env(fake)
        with server({**base, "DATABASE_URL": "", "REDIS_URL": ""}) as port:
            result = asyncio.run(load(fake, port, SENDERS, updates=3000, seconds=20))
            table.append(row("embedded (SQLite), 1 process", result))
        try:
            with postgres_and_redis() as env, server({**base, **env}, workers=2) as port:
                result = asyncio.run(load(fake, port, SENDERS, updates=3000, seconds=20))
                table.append(row("PostgreSQL + Redis, 2 workers", result))
        except OSError as exc:
            table.append(
                f"| PostgreSQL + Redis, 2 workers | not measured: {type(exc).__name__} "
                "(server not reachable on 127.0.0.1) | | | | |"
            )
        sends = len(fake.called("sendMessage"))
    stamp = f"{datetime.now(UTC):%Y-%m-%d %H:%M}"
    lines = [
        "## Telegram channel: POST /telegram/webhook",
        "",
        f"Command: `python scripts/bench_telegram.py`, {stamp} UTC.",
        f"Machine: {machine()}. Load average (1 min) {load_before:.1f} before the run and "
        f"{os.getloadavg()[0]:.1f} after it.",
        "",
        f"A real `harborline run` server in webhook mode; {SENDERS} concurrent senders, each",
        "one private chat, posting its next update as soon as the previous one is answered,",
        f"cycling through {len(MESSAGES)} ordinary messages; 10 warm-up updates per sender",
        "are not counted. An update is answered after its turn is stored and its replies",
        "were sent with sendMessage to a fake Bot API server on 127.0.0.1 (aiohttp, in the",
        f"load generator's process; {sends} sendMessage calls in all), each reply marked",
        "sent in `telegram_sends` (so a redelivery after a crash sends only what is",
        "missing), so the latency includes those HTTP calls and writes.",
        "",
        "| mode | updates per second | p50 | p99 | updates | errors |",
        "|---|---|---|---|---|---|",
        *table,
        "",
    ]
    write_section("telegram", lines)
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
