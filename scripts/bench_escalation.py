"""Distress message -> first page delivered to a logged-in console, under load.

Starts a real `harborline run` (embedded SQLite), puts one counselor on call,
logs the console in and listens to its server-sent events, then sends distress
messages one after another (each from a new chat) while ordinary messages flow
in the background. Latency is from sending the distress message to the `page`
event arriving at the console. Bounded in count and time; 127.0.0.1 only.

    python scripts/bench_escalation.py [--escalations 1000] [--background-rate 100]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scripts.bench import free_port, machine, percentile, row, wait_ready, write_section  # noqa: E402

PASSWORD = "bench-password-123456"
ORDINARY = ["what is a t visa", "how do i find a lawyer", "menu", "where can i learn english"]


def harborline(env: dict[str, str], *args: str, stdin: str | None = None) -> None:
    exe = Path(sys.executable).parent / "harborline"
    subprocess.run([str(exe), *args], env=env, input=stdin, text=True, check=True,
                   capture_output=True, timeout=120)  # fmt: skip


async def log_in(http: httpx.AsyncClient) -> None:
    page = await http.get("/console/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token, "no login form"
    response = await http.post(
        "/console/login", data={"name": "maria", "password": PASSWORD, "csrf_token": token[1]}
    )
    assert response.status_code == 303, response.status_code


async def listen(http: httpx.AsyncClient, arrivals: dict[int, float], ready: asyncio.Event) -> None:
    async with http.stream("GET", "/console/events", timeout=None) as stream:
        kind = ""
        async for line in stream.aiter_lines():
            if line.startswith("event: "):
                kind = line[7:]
                if kind == "ready":
                    ready.set()
            elif line.startswith("data: ") and kind == "page":
                event = json.loads(line[6:])
                arrivals.setdefault(int(event["escalation_id"]), time.perf_counter())


async def background(http: httpx.AsyncClient, rate: float, stop: asyncio.Event) -> int:
    sessions = [uuid.uuid4().hex for _ in range(50)]
    sent = 0
    interval = 1.0 / rate
    next_at = time.perf_counter()
    pending: set[asyncio.Task[httpx.Response]] = set()
    while not stop.is_set():
        frame = {"session": sessions[sent % 50], "id": f"b{sent}", "text": ORDINARY[sent % 4]}
        task = asyncio.create_task(http.post("/api/chat", json=frame))
        pending.add(task)
        task.add_done_callback(pending.discard)
        sent += 1
        next_at += interval
        await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
    await asyncio.gather(*pending, return_exceptions=True)
    return sent


async def run(port: int, escalations: int, rate: float) -> dict[str, float]:
    base = f"http://127.0.0.1:{port}"
    limits = httpx.Limits(max_connections=200)
    async with (
        httpx.AsyncClient(base_url=base, timeout=30) as console,
        httpx.AsyncClient(base_url=base, timeout=30, limits=limits) as survivors,
    ):
        await log_in(console)
        arrivals: dict[int, float] = {}
        ready = asyncio.Event()
        listener = asyncio.create_task(listen(console, arrivals, ready))
        await asyncio.wait_for(ready.wait(), 10)
        stop = asyncio.Event()
        flow = asyncio.create_task(background(survivors, rate, stop))
        sent_at: list[float] = []
        for _ in range(escalations):
            frame = {
                "session": uuid.uuid4().hex,
                "id": "1",
                "text": "I want to kill myself tonight",
            }
            sent_at.append(time.perf_counter())
            await survivors.post("/api/chat", json=frame)
        deadline = time.perf_counter() + 30
        while len(arrivals) < escalations and time.perf_counter() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.1)  # Bounded wait for the last pages.
        stop.set()
        ordinary = await flow
        listener.cancel()
    # Escalations are created in send order (each request is awaited), so ids sort the same.
    paged = [arrivals[k] for k in sorted(arrivals)]
    latencies = [(p - s) * 1000 for s, p in zip(sent_at, paged, strict=False)]
    return {
        "escalations": escalations,
        "paged": len(arrivals),
        "ordinary": ordinary,
        "p50_ms": percentile(latencies, 50) if latencies else float("nan"),
        "p99_ms": percentile(latencies, 99) if latencies else float("nan"),
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--escalations", type=int, default=1000)
    parser.add_argument("--background-rate", type=float, default=100.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "HARBORLINE_VAR_DIR": tmp, "RATE_LIMIT_PER_MINUTE": "1000000",
               "LOG_LEVEL": "WARNING", "MAINTENANCE_INTERVAL_SECONDS": "0"}  # fmt: skip
        harborline(env, "user", "add", "maria", "--role", "counselor", stdin=PASSWORD + "\n")
        now = datetime.now(UTC)
        harborline(env, "oncall", "add", "maria", "--position", "primary",
                   "--start", (now - timedelta(hours=1)).isoformat(),
                   "--end", (now + timedelta(days=1)).isoformat())  # fmt: skip
        port = free_port()
        exe = Path(sys.executable).parent / "harborline"
        server = subprocess.Popen(
            [str(exe), "run", "--host", "127.0.0.1", "--port", str(port)],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            wait_ready(port)
            result = asyncio.run(run(port, args.escalations, args.background_rate))
        finally:
            server.terminate()
            server.wait(timeout=30)
    command = "python scripts/bench_escalation.py"
    if args.escalations != 1000 or args.background_rate != 100:
        command += f" --escalations {args.escalations} --background-rate {args.background_rate:g}"
    lines = [
        "## Escalation: distress message to first page on the console",
        "",
        f"Command: `make bench` (`{command}`), {datetime.now(UTC):%Y-%m-%d %H:%M} UTC.",
        f"Machine: {machine()}. Embedded mode (SQLite, one worker).",
        "",
        "| measure | result | target | |",
        "|---|---|---|---|",
        row(
            f"page delivered p99, {result['escalations']:.0f} escalations with ordinary traffic",
            f"{result['p99_ms']:.0f} ms (p50 {result['p50_ms']:.0f} ms; "
            f"{result['paged']:.0f} paged, {result['ordinary']:.0f} ordinary messages)",
            "<= 500 ms",
            result["p99_ms"] <= 500 and result["paged"] == result["escalations"],
        ),
        "",
        "Not measured yet: the kill-a-worker-mid-page run in PostgreSQL + Redis mode with two "
        "workers (the exactly-once property is covered by tests: pages are written in the "
        "same transaction as the paging step, claimed with SKIP LOCKED).",
        "",
    ]
    write_section("escalation", lines)
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
