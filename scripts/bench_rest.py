"""`make bench`: the REST channel under load, written to docs/benchmarks.md.

Requests per second and p50/p99 latency through POST /webhooks/rest/webhook,
with 1 client and with 20 concurrent clients (closed loop: each client sends its
next message when the previous answer arrives; each client is one sender, one
conversation). Against a real `harborline run` server in a subprocess:

- embedded: SQLite, one process;
- PostgreSQL + Redis, `--workers 2`, in a fresh database created on
  127.0.0.1:5432 and dropped afterwards, Redis database 14.

Loads are bounded in count and time and go to 127.0.0.1 only. The load generator
runs on the same machine and takes CPU from the server; that is part of what is
measured.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
from bench import MESSAGES, ROOT, free_port, machine, percentile, wait_ready, write_section
from cryptography.fernet import Fernet

PATH = "/webhooks/rest/webhook"
TOKEN = secrets.token_urlsafe(24)
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
REDIS_URL = "redis://127.0.0.1:6379/14"
P99_TARGET_MS = 20.0
RATE_TARGET = 300.0


async def load(
    port: int, clients: int, requests: int, seconds: float, warmup: int = 20
) -> dict[str, float]:
    """`clients` senders in a closed loop until `requests` answers or `seconds` pass."""
    latencies: list[float] = []
    errors = 0
    headers = {"Authorization": f"Bearer {TOKEN}"}
    # aiohttp, not httpx: the load generator shares the two cores with the server,
    # and aiohttp's client costs a fraction of the CPU per request.
    async with aiohttp.ClientSession(
        f"http://127.0.0.1:{port}",
        connector=aiohttp.TCPConnector(limit=clients),
        timeout=aiohttp.ClientTimeout(total=30),
        headers=headers,
    ) as http:

        async def client(measured: bool, count: int, deadline: float) -> None:
            nonlocal errors
            sender = f"bench-{uuid.uuid4().hex}"
            n = 0
            while n < count and time.perf_counter() < deadline:
                body = {"sender": sender, "message": MESSAGES[n % len(MESSAGES)]}
                t0 = time.perf_counter()
                async with http.post(PATH, json=body) as response:
                    await response.read()
                    status = response.status
                elapsed_ms = (time.perf_counter() - t0) * 1000
                n += 1
                if not measured:
                    continue
                latencies.append(elapsed_ms)
                if status != 200:
                    errors += 1

        # Warm-up: connections, caches, the first-contact path of each worker.
        await asyncio.gather(
            *(client(False, warmup, time.perf_counter() + 30) for _ in range(clients))
        )
        per_client = -(-requests // clients)
        deadline = time.perf_counter() + seconds
        started = time.perf_counter()
        await asyncio.gather(*(client(True, per_client, deadline) for _ in range(clients)))
        elapsed = time.perf_counter() - started
    return {
        "clients": clients,
        "requests": len(latencies),
        "per_second": len(latencies) / elapsed,
        "p50_ms": percentile(latencies, 50),
        "p99_ms": percentile(latencies, 99),
        "errors": errors,
    }


@contextmanager
def server(extra_env: dict[str, str], workers: int = 1) -> Iterator[int]:
    """`harborline run` on a free port in a throwaway var dir; stopped on exit."""
    with tempfile.TemporaryDirectory(prefix="harborline-bench-") as tmp:
        models = ROOT / "var" / "models"
        if models.is_dir():  # Trained models from the cache: no training at start-up.
            shutil.copytree(models, Path(tmp) / "models")
        port = free_port()
        env = {
            **os.environ,
            "HARBORLINE_VAR_DIR": tmp,
            "RATE_LIMIT_PER_MINUTE": "1000000",
            "REST_CHANNEL_ENABLED": "true",
            "REST_CHANNEL_TOKEN": TOKEN,
            "LOG_LEVEL": "WARNING",
            **extra_env,
        }
        harborline = Path(sys.executable).parent / "harborline"
        log_path = Path(tmp) / "server.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [
                    str(harborline),
                    "run",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(port),
                    "--workers",
                    str(workers),
                ],
                env=env,
                stdout=log,
                stderr=log,
            )
            try:
                wait_ready(port, timeout=120)
                yield port
            except RuntimeError:
                sys.stderr.write(log_path.read_text(errors="replace")[-4000:])
                raise
            finally:
                process.terminate()
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(timeout=10)


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
    """A fresh database (dropped afterwards), Redis db 14, and shared secrets."""
    name = f"harborline_bench_{uuid.uuid4().hex[:12]}"
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


def measure(port: int) -> tuple[dict[str, float], dict[str, float]]:
    one = asyncio.run(load(port, clients=1, requests=1000, seconds=15))
    many = asyncio.run(load(port, clients=20, requests=4000, seconds=20))
    return one, many


def rows(mode: str, one: dict[str, float], many: dict[str, float]) -> list[str]:
    def cell(result: dict[str, float]) -> str:
        return (
            f"{result['per_second']:.0f} req/s, p50 {result['p50_ms']:.1f} ms, "
            f"p99 {result['p99_ms']:.1f} ms ({result['requests']:.0f} requests, "
            f"{result['errors']:.0f} errors)"
        )

    p99_ok = one["p99_ms"] <= P99_TARGET_MS and one["errors"] == 0
    rate_ok = many["per_second"] >= RATE_TARGET and many["errors"] == 0
    return [
        f"| {mode}, 1 client | {cell(one)} | p99 <= {P99_TARGET_MS:.0f} ms | "
        f"{'met' if p99_ok else 'NOT met'} |",
        f"| {mode}, 20 clients | {cell(many)} | >= {RATE_TARGET:.0f} req/s | "
        f"{'met' if rate_ok else 'NOT met'} |",
    ]


def main() -> int:
    from nlu.intents import IntentClassifier

    IntentClassifier.load_or_train(ROOT / "var" / "models")  # Train once, copied to servers.
    load_before = os.getloadavg()[0]
    table: list[str] = []
    with server({"DATABASE_URL": "", "REDIS_URL": ""}) as port:
        table += rows("embedded (SQLite), 1 process", *measure(port))
    try:
        with postgres_and_redis() as env, server(env, workers=2) as port:
            table += rows("PostgreSQL + Redis, 2 workers", *measure(port))
    except OSError as exc:  # Not running here: say so instead of inventing a figure.
        table.append(
            f"| PostgreSQL + Redis, 2 workers | not measured: {type(exc).__name__} "
            "(server not reachable on 127.0.0.1) | | |"
        )
    stamp = f"{datetime.now(UTC):%Y-%m-%d %H:%M}"
    lines = [
        "## REST channel: POST /webhooks/rest/webhook",
        "",
        f"Command: `make bench` (`python scripts/bench_rest.py`), {stamp} UTC.",
        f"Machine: {machine()}. Load average (1 min) {load_before:.1f} before the run and "
        f"{os.getloadavg()[0]:.1f} after it: other work on the machine takes CPU from the server.",
        "",
        "A real `harborline run` server; each client is one sender (one conversation)",
        "sending the next message as soon as the answer arrives, cycling through",
        f"{len(MESSAGES)} messages (welcome, consent, knowledge-base questions, menu, and",
        "one that raises an escalation); 20 warm-up requests per client are not counted.",
        "Every request is a full",
        "turn: risk screen, inbox write, lock, contact and state, intent, dialog, reply",
        "stored for retries. The load generator (aiohttp) shares the machine's cores.",
        "",
        "| mode | result | target | |",
        "|---|---|---|---|",
        *table,
        "",
    ]
    write_section("rest", lines)
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
