"""Escalation: distress message -> first page on the console; a worker killed mid-page.

Part 1, latency, in each mode asked for: embedded (SQLite, one worker) and
PostgreSQL + Redis (`harborline run --workers 2`); both by default. Starts the server, puts one
counselor on call, logs a console in and listens to its server-sent events,
then sends distress messages one after another (each from a new chat) while
ordinary messages flow at a fixed rate (open loop). Latency is from sending the
distress message to its `page` event arriving at the console; the split (the
survivor's answer, then the page) shows where the time goes.

Part 2, a worker killed mid-page (PostgreSQL + Redis, `--workers 2`). The
console listens on one worker; distress messages go to both while escalations
are paged, and the other worker is killed with SIGKILL (uvicorn starts a new
one) while that happens. Survivors' requests cut by the kill are sent again
with the same message id, as the web chat does. Then the database is checked:
every message processed once, one escalation per distress chat, each paged
exactly once per step and channel (console row published, SMS row and its
outbox row), none lost; and the console heard every escalation.

Page time-outs are an hour in both parts, so only first pages are due. Bounded
in count and time; 127.0.0.1 only (PostgreSQL and Redis there). Writes the
`escalation` section of docs/benchmarks.md.

    python scripts/bench_escalation.py [--escalations 1000] [--background-rate 100]
        [--modes embedded,postgres] [--max-seconds 600] [--kill-escalations 300]
        [--kills 2] [--no-kill]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scripts.bench import free_port, machine, percentile, row, wait_ready, write_section  # noqa: E402

PASSWORD = "bench-password-123456"
ORDINARY = ["what is a t visa", "how do i find a lawyer", "menu", "where can i learn english"]
DISTRESS = "I want to kill myself tonight"
PG_ADMIN = os.environ.get("BENCH_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
EXE = Path(sys.executable).parent / "harborline"


def harborline(env: dict[str, str], *args: str, stdin: str | None = None) -> None:
    subprocess.run([str(EXE), *args], env=env, input=stdin, text=True, check=True,
                   capture_output=True, timeout=120)  # fmt: skip


def set_up_counselor(env: dict[str, str], *paging: str) -> None:
    harborline(env, "user", "add", "maria", "--role", "counselor", *paging, stdin=PASSWORD + "\n")
    now = datetime.now(UTC)
    harborline(env, "oncall", "add", "maria", "--position", "primary",
               "--start", (now - timedelta(hours=1)).isoformat(),
               "--end", (now + timedelta(days=1)).isoformat())  # fmt: skip


def trained_models(var_dir: str) -> None:
    """The servers start from models trained once into var/models (as `make run` keeps them)."""
    from nlu.intents import IntentClassifier
    from nlu.risk import model as risk_model

    cache = ROOT / "var" / "models"
    IntentClassifier.load_or_train(cache, in_subprocess=True)
    risk_model.load_or_train(cache, in_subprocess=True)
    target = Path(var_dir) / "models"
    target.mkdir(parents=True, exist_ok=True)
    for path in cache.glob("*.npz"):
        shutil.copy2(path, target / path.name)


def serve(env: dict[str, str], port: int, workers: int = 1) -> subprocess.Popen[bytes]:
    """`harborline run`; its log (JSON lines, never message text) goes to VAR_DIR/server.log."""
    log = open(Path(env["HARBORLINE_VAR_DIR"]) / "server.log", "ab")
    return subprocess.Popen(
        [str(EXE), "run", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)],
        env=env, stdout=log, stderr=log,
    )  # fmt: skip


def server_log(env: dict[str, str], lines: int = 20) -> str:
    path = Path(env["HARBORLINE_VAR_DIR"]) / "server.log"
    return (
        "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""
    )


def stop(server: subprocess.Popen[bytes]) -> None:
    server.terminate()
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait(timeout=30)


async def log_in(base: str) -> httpx.Cookies:
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        page = await http.get("/console/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert token, "no login form"
        response = await http.post(
            "/console/login", data={"name": "maria", "password": PASSWORD, "csrf_token": token[1]}
        )
        assert response.status_code == 303, response.status_code
        return http.cookies


@dataclass
class Console:
    """What a logged-in console hears: page events, in order, with arrival times."""

    first: dict[int, float] = field(default_factory=dict)
    heard: Counter[int] = field(default_factory=Counter)
    redelivered: int = 0
    ready: asyncio.Event = field(default_factory=asyncio.Event)


async def listen(base: str, cookies: httpx.Cookies, console: Console) -> None:
    async with (
        httpx.AsyncClient(base_url=base, cookies=cookies, timeout=None) as http,
        http.stream("GET", "/console/events") as stream,
    ):
        kind = ""
        async for line in stream.aiter_lines():
            if line.startswith("event: "):
                kind = line[7:]
                if kind == "ready":
                    console.ready.set()
            elif line.startswith("data: ") and kind == "page":
                event = json.loads(line[6:])
                escalation = int(event["escalation_id"])
                console.first.setdefault(escalation, time.perf_counter())
                console.heard[escalation] += 1
                console.redelivered += bool(event.get("redelivered"))


Http = aiohttp.ClientSession


def survivors_http(base: str, limit: int = 100, fresh: bool = False) -> Http:
    """aiohttp, not httpx, for the load: it shares the two cores with the server, and
    aiohttp costs a fraction of the CPU per request. ``fresh``: a new connection per
    request, so the kernel spreads them over the workers."""
    connector = aiohttp.TCPConnector(limit=limit, force_close=fresh)
    return aiohttp.ClientSession(base, connector=connector, timeout=aiohttp.ClientTimeout(total=60))


async def post(http: Http, frame: dict[str, str]) -> bool:
    """One message; True when it was answered (200 with replies)."""
    try:
        async with http.post("/api/chat", json=frame) as response:
            body = await response.json(content_type=None)
            return response.status == 200 and bool(body.get("replies"))
    except (aiohttp.ClientError, TimeoutError, ValueError):
        return False


async def post_until_answered(
    http: Http, frame: dict[str, str], deadline: float = 90.0
) -> tuple[bool, int]:
    """Send as the web chat does: the same id again after a cut or a 5xx. (answered, retries)"""
    retries = 0
    give_up = time.perf_counter() + deadline
    while not await post(http, frame):
        if time.perf_counter() > give_up:
            return False, retries
        retries += 1
        await asyncio.sleep(0.2)
    return True, retries


async def background(
    http: Http, rate: float, stop_: asyncio.Event, retry: bool = False
) -> dict[str, int]:
    """Ordinary messages at `rate` per second from 50 chats until told to stop."""
    sessions = [uuid.uuid4().hex for _ in range(50)]
    counts = {"sent": 0, "answered": 0}
    interval = 1.0 / rate
    started = next_at = time.perf_counter()
    pending: set[asyncio.Task[None]] = set()

    async def one(frame: dict[str, str]) -> None:
        answered = (await post_until_answered(http, frame))[0] if retry else await post(http, frame)
        counts["answered"] += answered

    while not stop_.is_set():
        n = counts["sent"]
        frame = {"session": sessions[n % 50], "id": f"b{n}", "text": ORDINARY[n % 4]}
        task = asyncio.create_task(one(frame))
        pending.add(task)
        task.add_done_callback(pending.discard)
        counts["sent"] += 1
        next_at += interval
        await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
    counts["seconds"] = round(time.perf_counter() - started)
    await asyncio.gather(*pending, return_exceptions=True)
    return counts


# -- part 1: latency ---------------------------------------------------------------------------


async def latency(port: int, escalations: int, rate: float, seconds: float) -> dict[str, float]:
    base = f"http://127.0.0.1:{port}"
    console = Console()
    listener = asyncio.create_task(listen(base, await log_in(base), console))
    await asyncio.wait_for(console.ready.wait(), 10)
    async with (
        survivors_http(base, limit=200) as others,
        # Its own connection: a distress message never queues behind the others' pool.
        survivors_http(base, limit=1) as survivors,
    ):
        stop_ = asyncio.Event()
        flow = asyncio.create_task(background(others, rate, stop_))
        await asyncio.sleep(2)  # The ordinary flow is at its rate before measuring.
        sent_at: list[float] = []
        answered_at: list[float] = []
        give_up = time.perf_counter() + seconds
        for _ in range(escalations):
            if time.perf_counter() > give_up:
                break  # Bounded in time: what was sent so far is reported.
            frame = {"session": uuid.uuid4().hex, "id": "1", "text": DISTRESS}
            sent_at.append(time.perf_counter())
            await post(survivors, frame)
            answered_at.append(time.perf_counter())
        deadline = time.perf_counter() + 30
        while len(console.first) < len(sent_at) and time.perf_counter() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.1)  # Bounded wait for the last pages.
        stop_.set()
        ordinary = await flow
    listener.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await listener
    # Requests are sent one after another, each answered before the next, so their
    # escalation ids rise in sending order: the k-th id heard is the k-th message's.
    # (Not id k itself: a rolled-back transaction, such as each worker's warm-up
    # rehearsal, uses up sequence values on PostgreSQL.)
    ids = sorted(console.first)
    total, turn, paging = [], [], []
    for k, (sent, answered) in enumerate(zip(sent_at, answered_at, strict=True)):
        paged = console.first[ids[k]] if k < len(ids) else None
        if paged is not None:
            total.append((paged - sent) * 1000)
            turn.append((answered - sent) * 1000)
            paging.append(max(0.0, paged - answered) * 1000)
    nan = float("nan")
    return {
        "escalations": len(sent_at),
        "asked": escalations,
        "paged": len(total),
        "ordinary": ordinary["sent"],
        "ordinary_rate": ordinary["sent"] / max(1, ordinary["seconds"]),
        "seconds": (answered_at[-1] - sent_at[0]) if sent_at else 0.0,
        "p50_ms": percentile(total, 50) if total else nan,
        "p99_ms": percentile(total, 99) if total else nan,
        "max_ms": max(total) if total else nan,
        "turn_p99_ms": percentile(turn, 99) if turn else nan,
        "page_p50_ms": percentile(paging, 50) if paging else nan,
        "page_p99_ms": percentile(paging, 99) if paging else nan,
    }


def run_latency(mode: str, escalations: int, rate: float, seconds: float) -> dict[str, float]:
    workers = 1 if mode == "embedded" else 2
    with deployment(mode, workers) as (env, port, _server, _dsn):
        try:
            return asyncio.run(latency(port, escalations, rate, seconds))
        except BaseException:
            print(server_log(env), file=sys.stderr)
            raise


@contextlib.contextmanager
def deployment(
    mode: str, workers: int, *paging: str
) -> Iterator[tuple[dict[str, str], int, subprocess.Popen[bytes], str]]:
    """A served Harborline with one on-call counselor: embedded (SQLite) or PostgreSQL + Redis.

    Page time-outs are an hour: only the first page of each escalation is due.
    Yields (environment, port, server process, PostgreSQL DSN or "").
    """
    import asyncpg
    from cryptography.fernet import Fernet

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(PG_ADMIN)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    name = f"harborline_bench_{uuid.uuid4().hex[:10]}"
    dsn = ""
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "HARBORLINE_VAR_DIR": tmp, "RATE_LIMIT_PER_MINUTE": "1000000",
               "LOG_LEVEL": "WARNING", "MAINTENANCE_INTERVAL_SECONDS": "0",
               "PAGE_TIMEOUT_IMMINENT_SECONDS": "3600", "PAGE_TIMEOUT_HIGH_SECONDS": "3600",
               "ENCRYPTION_KEYS": Fernet.generate_key().decode(),
               "ADDRESS_HASH_KEY": uuid.uuid4().hex}  # fmt: skip
        for key in ("DATABASE_URL", "REDIS_URL"):
            env.pop(key, None)
        if mode == "postgres":
            asyncio.run(admin(f'CREATE DATABASE "{name}"'))
            dsn = PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
            env.update(
                DATABASE_URL=dsn.replace("postgresql://", "postgresql+asyncpg://"),
                REDIS_URL=REDIS_URL,
                REDIS_PREFIX=f"bench-{uuid.uuid4().hex[:8]}",
            )
        try:
            set_up_counselor(env, *paging)
            trained_models(tmp)
            port = free_port()
            server = serve(env, port, workers)
            try:
                wait_ready(port, timeout=180)
                yield env, port, server, dsn
            finally:
                stop(server)
        finally:
            if dsn:
                asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


# -- part 2: kill a worker mid-page ------------------------------------------------------------


def workers_of(server: subprocess.Popen[bytes], port: int) -> list[psutil.Process]:
    """uvicorn's worker processes: the children that listen on the port."""
    found = []
    for child in psutil.Process(server.pid).children(recursive=True):
        with contextlib.suppress(psutil.Error):
            if any(
                c.status == psutil.CONN_LISTEN and c.laddr.port == port
                for c in child.net_connections(kind="tcp")
            ):
                found.append(child)
    return found


def holder_of_console(workers: list[psutil.Process], port: int) -> psutil.Process | None:
    """The worker serving the console's event stream (the only open connection then)."""
    for worker in workers:
        with contextlib.suppress(psutil.Error):
            if any(
                c.status == psutil.CONN_ESTABLISHED and c.laddr.port == port
                for c in worker.net_connections(kind="tcp")
            ):
                return worker
    return None


async def busy(worker: psutil.Process, port: int, seconds: float = 2.0) -> None:
    """Until the worker holds a survivor's request (an open connection), briefly."""
    give_up = time.perf_counter() + seconds
    while time.perf_counter() < give_up:
        with contextlib.suppress(psutil.Error):
            if any(
                c.status == psutil.CONN_ESTABLISHED and c.laddr.port == port
                for c in worker.net_connections(kind="tcp")
            ):
                return
        await asyncio.sleep(0.002)


async def wait_for_workers(server: subprocess.Popen[bytes], port: int, count: int) -> None:
    deadline = time.perf_counter() + 60
    while len(workers_of(server, port)) < count:
        if time.perf_counter() > deadline:
            raise RuntimeError("uvicorn did not bring the worker back")
        await asyncio.sleep(0.5)


async def kill_run(
    server: subprocess.Popen[bytes], port: int, escalations: int, kills: int, dsn: str
) -> dict[str, Any]:
    base = f"http://127.0.0.1:{port}"
    await wait_for_workers(server, port, 2)
    console = Console()
    listener = asyncio.create_task(listen(base, await log_in(base), console))
    await asyncio.wait_for(console.ready.wait(), 10)
    await asyncio.sleep(0.5)
    keeper = holder_of_console(workers_of(server, port), port)
    assert keeper is not None, "cannot tell which worker serves the console"
    killed: list[int] = []
    answers: list[tuple[bool, int]] = []
    async with survivors_http(base, fresh=True) as survivors:
        stop_ = asyncio.Event()
        flow = asyncio.create_task(background(survivors, 20.0, stop_, retry=True))
        kill_at = {escalations * (k + 1) // (kills + 1) for k in range(kills)}
        queue: asyncio.Queue[int] = asyncio.Queue()
        for n in range(escalations):
            queue.put_nowait(n)

        async def survivor() -> None:
            while not queue.empty():
                n = queue.get_nowait()
                if n in kill_at:
                    await asyncio.sleep(0.05)  # Mid-flow: other chats are being paged.
                    await wait_for_workers(server, port, 2)
                    victim = next(w for w in workers_of(server, port) if w.pid != keeper.pid)
                    await busy(victim, port)
                    os.kill(victim.pid, signal.SIGKILL)
                    killed.append(victim.pid)
                frame = {"session": uuid.uuid4().hex, "id": "1", "text": DISTRESS}
                answers.append(await post_until_answered(survivors, frame))

        await asyncio.gather(*(survivor() for _ in range(12)))
        stop_.set()
        ordinary = await flow
    # Pages a dead worker committed but never published come back after 10 s.
    checks = await settle(dsn, escalations, console)
    listener.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await listener
    checks.update(
        killed=len(killed),
        answered=sum(ok for ok, _ in answers),
        retried=sum(1 for _, r in answers if r),
        ordinary_sent=ordinary["sent"],
        ordinary_answered=ordinary["answered"],
        heard=len(console.heard),
        heard_twice=sum(1 for n in console.heard.values() if n > 1),
        redelivered=console.redelivered,
    )
    return checks


async def settle(dsn: str, escalations: int, console: Console) -> dict[str, Any]:
    import asyncpg

    deadline = time.perf_counter() + 60
    conn = await asyncpg.connect(dsn)
    try:
        while True:
            unpublished = await conn.fetchval(
                "SELECT count(*) FROM escalations e WHERE NOT EXISTS (SELECT 1 FROM pages p"
                " WHERE p.escalation_id = e.id AND p.channel = 'console'"
                " AND p.delivered_at IS NOT NULL)"
            )
            done = unpublished == 0 and len(console.heard) >= escalations
            if done or time.perf_counter() > deadline:
                break
            await asyncio.sleep(0.5)
        pages = await conn.fetch(
            "SELECT escalation_id, step, counselor_id, channel, count(*) AS n FROM pages"
            " GROUP BY escalation_id, step, counselor_id, channel"
        )
        per_escalation: dict[int, list[tuple[int, str]]] = {}
        for page in pages:
            per_escalation.setdefault(page["escalation_id"], []).append(
                (page["step"], page["channel"])
            )
        ids = [r["id"] for r in await conn.fetch("SELECT id FROM escalations")]
        expected = [(0, "console"), (0, "sms")]
        return {
            "escalations": len(ids),
            "conversations": await conn.fetchval(
                "SELECT count(DISTINCT conversation_id) FROM escalations"
            ),
            "inbox_pending": await conn.fetchval(
                "SELECT count(*) FROM inbox WHERE status <> 'done'"
            ),
            "doubled": sum(1 for p in pages if p["n"] > 1),
            "unpaged": sum(1 for i in ids if i not in per_escalation),
            "wrong_pages": sum(1 for i in ids if sorted(per_escalation.get(i, [])) != expected),
            "unpublished": unpublished,
            "outbox_pages": await conn.fetchval(
                "SELECT count(*) FROM outbox WHERE idempotency_key LIKE 'page:%'"
            ),
            "outbox_keys": await conn.fetchval(
                "SELECT count(DISTINCT idempotency_key) FROM outbox"
                " WHERE idempotency_key LIKE 'page:%'"
            ),
        }
    finally:
        await conn.close()


def run_kill(escalations: int, kills: int) -> dict[str, Any]:
    # Paged on the console and by SMS: the SMS page rides the outbox.
    sms = ("--page-via", "sms", "--page-to", "+12025550143")
    with deployment("postgres", 2, *sms) as (env, port, server, dsn):
        try:
            return asyncio.run(kill_run(server, port, escalations, kills, dsn))
        except BaseException:
            print(server_log(env), file=sys.stderr)
            raise


# -- report ------------------------------------------------------------------------------------


MODES = {
    "embedded": "embedded: SQLite, one worker",
    "postgres": "PostgreSQL + Redis, 2 workers",
}


def latency_rows(mode: str, result: dict[str, float]) -> list[str]:
    return [
        row(
            f"page on the console p99, {result['escalations']:.0f} escalations while "
            f"ordinary messages flow ({MODES[mode]})",
            f"{result['p99_ms']:.0f} ms (p50 {result['p50_ms']:.0f} ms, max "
            f"{result['max_ms']:.0f} ms; {result['paged']:.0f} paged"
            + (
                f" of {result['escalations']:.0f} sent in {result['seconds']:.0f} s"
                if result["escalations"] < result["asked"]
                else ""
            )
            + "; "
            f"{result['ordinary']:.0f} ordinary messages, {result['ordinary_rate']:.0f}/s)",
            "<= 500 ms",
            result["p99_ms"] <= 500 and result["paged"] == result["asked"],
        ),
        f"| ... where the time goes: the distress turn (until the survivor has the answer) "
        f"p99 / paging after it p99 | {result['turn_p99_ms']:.0f} ms / "
        f"{result['page_p99_ms']:.0f} ms (paging p50 {result['page_p50_ms']:.0f} ms) | - | |",
    ]


def kill_row(kill: dict[str, Any], n: int, kills: int) -> str:
    ok = (
        kill["escalations"] == kill["conversations"] == n
        and kill["inbox_pending"] == kill["doubled"] == kill["unpaged"] == 0
        and kill["wrong_pages"] == kill["unpublished"] == 0
        and kill["outbox_pages"] == kill["outbox_keys"] == n
        and kill["answered"] == n
        and kill["ordinary_answered"] == kill["ordinary_sent"]
        and kill["heard"] == n
        and kill["killed"] == kills
    )
    return row(
        f"worker killed mid-page (PostgreSQL + Redis, 2 workers, {kill['killed']} "
        f"SIGKILLs during {n} escalations): none lost, none paged twice",
        f"{kill['escalations']} escalations for {kill['conversations']} chats; "
        f"{kill['unpaged']} unpaged, {kill['doubled']} doubled, {kill['wrong_pages']} "
        f"with other pages than console+SMS at step 0, {kill['unpublished']} never "
        f"published; {kill['outbox_keys']} SMS outbox rows; console heard "
        f"{kill['heard']} ({kill['heard_twice']} twice, {kill['redelivered']} "
        f"republished by the sweep); survivors: {kill['answered']}/{n} answered "
        f"({kill['retried']} after a resend), {kill['inbox_pending']} messages "
        f"unprocessed, ordinary {kill['ordinary_answered']}/{kill['ordinary_sent']}",
        "0 lost, 0 doubled",
        ok,
    )


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--escalations", type=int, default=1000)
    parser.add_argument("--background-rate", type=float, default=100.0)
    parser.add_argument(
        "--modes", default="embedded,postgres", help="latency in: embedded, postgres (both)"
    )
    parser.add_argument("--max-seconds", type=float, default=600.0, help="per latency run")
    parser.add_argument("--kill-escalations", type=int, default=300)
    parser.add_argument("--kills", type=int, default=2)
    parser.add_argument("--no-kill", action="store_true", help="skip part 2")
    args = parser.parse_args()
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    if not set(modes) <= set(MODES):
        parser.error(f"--modes: one or more of {', '.join(MODES)}")
    results = {}
    for mode in modes:
        results[mode] = run_latency(mode, args.escalations, args.background_rate, args.max_seconds)
        print(mode, json.dumps(results[mode]), flush=True)
    kill = None if args.no_kill else run_kill(args.kill_escalations, args.kills)
    print("kill", json.dumps(kill), flush=True)

    extra = []
    if args.escalations != 1000 or args.background_rate != 100:
        extra.append(f"--escalations {args.escalations} --background-rate {args.background_rate:g}")
    if modes != list(MODES):
        extra.append(f"--modes {','.join(modes)}")
    if args.max_seconds != 600:
        extra.append(f"--max-seconds {args.max_seconds:g}")
    if args.kill_escalations != 300 or args.kills != 2:
        extra.append(f"--kill-escalations {args.kill_escalations} --kills {args.kills}")
    if args.no_kill:
        extra.append("--no-kill")
    command = " ".join(["python scripts/bench_escalation.py", *extra])
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    lines = [
        "## Escalation: distress message to first page on the console",
        "",
        f"Command: `make bench` (`{command}`), {datetime.now(UTC):%Y-%m-%d %H:%M} UTC.",
        f"Machine: {machine()}; load average at the end {load}.",
        "",
        "| measure | result | target | |",
        "|---|---|---|---|",
    ]
    for mode, result in results.items():
        lines += latency_rows(mode, result)
    if kill is not None:
        lines.append(kill_row(kill, args.kill_escalations, args.kills))
    lines += [
        "",
        "Latency: distress messages one after another, each from a new chat, while "
        f"ordinary messages are sent at {args.background_rate:g}/s from 50 chats whatever "
        "the answers take (open loop); from sending the message to its first `page` event "
        "on a logged-in console's event stream. Page time-outs are an hour, so only first "
        "pages are due.",
        "",
    ]
    if kill is None:
        lines += ["The kill-a-worker run was not made (`--no-kill`).", ""]
    else:
        lines += [
            "Worker killed: `harborline run --workers 2`; the console listens on one worker "
            "and the other is sent SIGKILL while distress messages are paged (uvicorn starts "
            "a new one); survivors whose request was cut send it again with the same id. "
            "Then the database is checked: every page row is unique per escalation, step, "
            "counselor and channel; each escalation has exactly its step-0 console and SMS "
            "pages and one SMS outbox row; every console page was published; every "
            "message was processed once. A killed worker's console pages that were "
            "committed but not yet published, or published but not yet marked, are sent "
            "again by the other worker's sweep after 10 s, flagged `redelivered`: the "
            "same page row, an alert that may reach the console twice, never a second "
            "page or SMS.",
            "",
        ]
    write_section("escalation", lines)
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
