"""`make bench`: measure the targets in the issues and write docs/benchmarks.md.

Every figure is written with the command that made it and the machine it ran on.
Loads are bounded in count and time and go to 127.0.0.1 only.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import httpx
import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.runtime import Runtime, build_runtime  # noqa: E402
from bot.settings import Settings  # noqa: E402
from bot.types import InboundMessage  # noqa: E402

MESSAGES = [
    "hi",
    "yes",
    "what is a t visa",
    "my boss keeps my passport",  # High danger: a new escalation in each chat.
    "I need a place to sleep tonight",
    "menu",
    "how do i find a lawyer",
    "do i get paid if i have no papers",
]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    memory = psutil.virtual_memory().total / 2**30
    return f"{os.cpu_count()} cores ({cpu}), {memory:.0f} GiB, Python {platform.python_version()}"


def host_speed() -> float:
    """Seconds for a fixed pure-Python loop: 0.11-0.28 s on a quiet host of this kind.

    The host is shared: on the same code, this loop has taken up to 1.1 s, and
    in-process turns per second fell by half when it took 0.4 s. Quiet days gave
    0.24-0.28 s in sessions 8 and 9, and 0.12 s on 2026-11-23, when the server
    spent about 4 ms of CPU a web chat message (5-7 ms at 0.24-0.37 s). Each run
    records it, so a figure can be read against the speed it was made at.
    """
    started = time.perf_counter()
    for _ in range(10_000_000):
        pass
    return time.perf_counter() - started


# Web chat loads of 30 s each, one after another on the same server.
WEB_RUNS = 3


def settings_for(tmp: str) -> Settings:
    return Settings(
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp}/bench.db",
        HARBORLINE_VAR_DIR=Path(tmp),
        RATE_LIMIT_PER_MINUTE=1_000_000,
    ).with_generated_secrets()


async def bench_turns(total: int = 3000, contacts: int = 300) -> dict[str, float]:
    """In-process turns: risk screen + language + intent + dialog + persist (SQLite)."""
    with tempfile.TemporaryDirectory() as tmp:
        from nlu.intents import IntentClassifier

        intents = IntentClassifier.load_or_train(ROOT / "var" / "models")
        runtime = await build_runtime(settings_for(tmp), intents=intents)
        # As in a server: the WAL is checkpointed in the background, not in commits.
        checkpoints = asyncio.create_task(runtime.db.checkpoint_forever())
        latencies: list[float] = []
        started = time.perf_counter()
        for i in range(total):
            message = InboundMessage(
                channel="bench",
                address=f"c{i % contacts}",
                text=MESSAGES[(i // contacts) % len(MESSAGES)],
                provider_id=f"b{i}",
                received_at=datetime.now(UTC),
            )
            t0 = time.perf_counter()
            await runtime.pipeline.handle(message)
            latencies.append((time.perf_counter() - t0) * 1000)
        elapsed = time.perf_counter() - started
        concurrent_rate = await _concurrent_turns(runtime, total, contacts, concurrency=16)
        checkpoints.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await checkpoints
        await runtime.close()
    return {
        "turns": total,
        "per_second": total / elapsed,
        "concurrent_per_second": concurrent_rate,
        "p50_ms": percentile(latencies, 50),
        "p99_ms": percentile(latencies, 99),
    }


async def _concurrent_turns(runtime: Runtime, total: int, contacts: int, concurrency: int) -> float:
    """Throughput with several conversations in flight, as a server has them."""
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(total):
        queue.put_nowait(i)

    async def worker() -> None:
        while not queue.empty():
            i = queue.get_nowait()
            await runtime.pipeline.handle(
                InboundMessage(
                    channel="bench-c",
                    address=f"c{i % contacts}",
                    text=MESSAGES[(i // contacts) % len(MESSAGES)],
                    provider_id=f"c{i}",
                    received_at=datetime.now(UTC),
                )
            )

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return total / (time.perf_counter() - started)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(tmp: str, port: int, extra_env: dict[str, str]) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "HARBORLINE_VAR_DIR": tmp,
        "RATE_LIMIT_PER_MINUTE": "1000000",
        "LOG_LEVEL": "WARNING",
        **extra_env,
    }
    harborline = Path(sys.executable).parent / "harborline"
    return subprocess.Popen(
        [str(harborline), "run", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def wait_ready(port: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError("server did not become ready")


async def bench_web(
    port: int, chats: int = 50, rate: float = 200.0, seconds: float = 30.0
) -> dict[str, float]:
    """Round trips through POST /api/chat from `chats` concurrent chats at `rate` msg/s."""
    latencies: list[float] = []
    errors = 0
    per_chat_interval = chats / rate
    # aiohttp, not httpx: the load generator shares the two cores with the server,
    # and aiohttp's client costs a fraction of the CPU per request.
    connector = aiohttp.TCPConnector(limit=chats)
    timeout = aiohttp.ClientTimeout(total=10)
    async with aiohttp.ClientSession(
        f"http://127.0.0.1:{port}", connector=connector, timeout=timeout
    ) as http:

        async def chat(index: int) -> None:
            nonlocal errors
            session = uuid.uuid4().hex
            await asyncio.sleep(index * per_chat_interval / chats)  # Spread the starts.
            next_at = time.perf_counter()
            n = 0
            end = time.perf_counter() + seconds
            # Each chat starts at its own place in the message list. In lockstep, all 50
            # chats sent the escalating line within the same quarter second every two
            # seconds: a burst no real hotline traffic has, which alone made the tail.
            offset = index % len(MESSAGES)
            while time.perf_counter() < end:
                text = MESSAGES[(offset + n) % len(MESSAGES)]
                frame = {"session": session, "id": f"m{n}", "text": text}
                t0 = time.perf_counter()
                async with http.post("/api/chat", json=frame) as response:
                    await response.read()
                    status = response.status
                latencies.append((time.perf_counter() - t0) * 1000)
                if status != 200:
                    errors += 1
                n += 1
                next_at += per_chat_interval
                await asyncio.sleep(max(0.0, next_at - time.perf_counter()))

        started = time.perf_counter()
        await asyncio.gather(*(chat(i) for i in range(chats)))
        elapsed = time.perf_counter() - started
    return {
        "messages": len(latencies),
        "achieved_rate": len(latencies) / elapsed,
        "p50_ms": percentile(latencies, 50),
        "p99_ms": percentile(latencies, 99),
        "errors": errors,
    }


def web_run(port: int, pid: int) -> dict[str, float]:
    """One web chat load, with the server's CPU time per message over it.

    The tail is a queue for the server's one busy core: read against the CPU each
    message cost, a figure says whether the code or the shared host moved.
    """
    server = psutil.Process(pid)
    before = server.cpu_times()
    result = asyncio.run(bench_web(port))
    after = server.cpu_times()
    cpu = (after.user + after.system) - (before.user + before.system)
    return {**result, "cpu_ms_per_message": cpu * 1000 / max(1.0, result["messages"])}


def rss_mb(pid: int) -> float:
    process = psutil.Process(pid)
    total = process.memory_info().rss
    for child in process.children(recursive=True):
        total += child.memory_info().rss
    return total / 2**20


def row(name: str, value: str, target: str, ok: bool) -> str:
    return f"| {name} | {value} | {target} | {'met' if ok else 'NOT met'} |"


def main() -> int:
    lines: list[str] = []
    speed_before = host_speed()
    turns = asyncio.run(bench_turns())
    with tempfile.TemporaryDirectory() as tmp:
        # Trained models from the cache, as a deployment has them after `nlu train`.
        if (ROOT / "var" / "models").is_dir():
            shutil.copytree(ROOT / "var" / "models", Path(tmp) / "models")
        port = free_port()
        server = start_server(tmp, port, {})
        try:
            wait_ready(port)
            memory = rss_mb(server.pid)
            # The in-process bench above left a large heap in this process: freeze it,
            # so the load generator's own collections don't add pauses to latencies.
            gc.collect()
            gc.freeze()
            # The tail varies from run to run: report the worst of several.
            runs = [web_run(port, server.pid) for _ in range(WEB_RUNS)]
            web = max(runs, key=lambda run: run["p99_ms"])
        finally:
            server.terminate()
            server.wait(timeout=30)
    speed_after = host_speed()
    stamp = f"{datetime.now(UTC):%Y-%m-%d %H:%M}"
    each_p99 = ", ".join(f"{run['p99_ms']:.1f}" for run in runs)
    each_cpu = ", ".join(f"{run['cpu_ms_per_message']:.2f}" for run in runs)
    lines += [
        "## Foundation: turns, web chat, memory",
        "",
        f"Command: `make bench` (`python scripts/bench.py`), {stamp} UTC.",
        f"Machine: {machine()}. Host speed (`host_speed()`, a fixed pure-Python loop; "
        f"0.11-0.28 s on quiet days; lower is faster): {speed_before:.2f} s before the runs, "
        f"{speed_after:.2f} s after.",
        "",
        "| measure | result | target | |",
        "|---|---|---|---|",
        row(
            "in-process turn p99 (SQLite, risk+intent+dialog+persist)",
            f"{turns['p99_ms']:.1f} ms (p50 {turns['p50_ms']:.1f} ms)",
            "<= 20 ms",
            turns["p99_ms"] <= 20,
        ),
        row(
            "in-process turns per second, 16 conversations at once",
            f"{turns['concurrent_per_second']:.0f} (one at a time: {turns['per_second']:.0f})",
            ">= 300",
            turns["concurrent_per_second"] >= 300,
        ),
        row(
            f"web chat round trip p99, 50 chats at 200 msg/s, worst of {WEB_RUNS} runs",
            f"{web['p99_ms']:.1f} ms (p50 {web['p50_ms']:.1f} ms, "
            f"{web['achieved_rate']:.0f} msg/s, {web['messages']:.0f} messages, "
            f"{sum(run['errors'] for run in runs):.0f} errors; "
            f"each run's p99: {each_p99} ms; server CPU per message: {each_cpu} ms)",
            "<= 50 ms",
            web["p99_ms"] <= 50 and all(run["errors"] == 0 for run in runs),
        ),
        row(
            "resident memory after start (`harborline run`)",
            f"{memory:.0f} MB",
            "<= 200 MB",
            memory <= 200,
        ),
        "",
    ]
    write_section("foundation", lines)
    print("\n".join(lines))
    return 0


def write_section(name: str, lines: list[str]) -> None:
    """Replace this benchmark's section in docs/benchmarks.md, keeping the others."""
    path = ROOT / "docs" / "benchmarks.md"
    begin, end = f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"
    text = path.read_text() if path.exists() else "# Benchmarks\n\nWritten by `make bench`.\n"
    block = "\n".join([begin, *lines, end])
    if begin in text:
        head, rest = text.split(begin, 1)
        text = head + block + rest.split(end, 1)[1]
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    path.write_text(text)


if __name__ == "__main__":
    raise SystemExit(main())
