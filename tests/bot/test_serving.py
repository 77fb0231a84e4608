"""A serving process: `harborline run` end to end, and what it keeps out of memory."""

from __future__ import annotations

import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from bot.storage.migrate import MigrationFailed, upgrade_in_child
from bot.warmup import release_free_memory

ROOT = Path(__file__).resolve().parents[2]
MODELS = Path(os.environ.get("HARBORLINE_TEST_CACHE", ROOT / ".pytest_cache")) / "models"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _tables(path: Path) -> set[str]:
    with sqlite3.connect(path) as connection:
        rows = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        return {name for (name,) in rows}


def test_run_migrates_a_fresh_database_and_serves_a_chat(tmp_path: Path) -> None:
    if MODELS.is_dir():  # The trained models of this test run: no training here.
        shutil.copytree(MODELS, tmp_path / "models")
    port = _free_port()
    env = {**os.environ, "HARBORLINE_VAR_DIR": str(tmp_path), "LOG_LEVEL": "WARNING"}
    harborline = Path(sys.executable).parent / "harborline"
    server = subprocess.Popen(
        [str(harborline), "run", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            assert server.poll() is None, server.stderr.read() if server.stderr else ""
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        else:
            pytest.fail("harborline run did not become ready")
        # Migrated (in a child process) before the first request.
        assert {"alembic_version", "contacts", "escalations"} <= _tables(tmp_path / "harborline.db")
        frame = {"session": "s" * 24, "id": "1", "text": "hola"}
        reply = httpx.post(f"{base}/api/chat", json=frame, timeout=10)
        assert reply.status_code == 200 and reply.json()["replies"]
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_the_serving_app_leaves_migration_and_sender_libraries_unloaded() -> None:
    """Alembic runs in a child; Twilio's REST client and aiogram load only when switched on."""
    heavy = ("alembic", "mako", "twilio.rest", "aiohttp", "aiogram")
    code = f"import sys, bot.web.app\nprint(','.join(m for m in {heavy!r} if m in sys.modules))"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert done.stdout.strip() == ""


async def test_a_migration_in_a_child_process_builds_the_schema(tmp_path: Path) -> None:
    path = tmp_path / "child.db"
    await upgrade_in_child(f"sqlite+aiosqlite:///{path}")
    assert {"alembic_version", "contacts", "inbox"} <= _tables(path)


async def test_a_failed_migration_in_a_child_process_is_an_error(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    with pytest.raises(MigrationFailed):
        await upgrade_in_child(f"sqlite+aiosqlite:///{blocker}/child.db")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc_trim")
def test_freed_memory_is_given_back_on_glibc() -> None:
    assert release_free_memory() is True
