"""The command-line contracts that evaluations outside the suite depend on."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

from bot.cli import _play

ROOT = Path(__file__).resolve().parents[2]


async def _script(lines: list[str]) -> list[dict[str, object]]:
    out = io.StringIO()
    await _play(lines, as_json=True, out=out)
    return [json.loads(line) for line in out.getvalue().splitlines()]


async def test_scripted_chat_prints_one_object_per_user_line() -> None:
    records = await _script(["hi", "yes", "I want to kill myself", "forget me", "yes"])
    assert [r["user"] for r in records] == [
        "hi",
        "yes",
        "I want to kill myself",
        "forget me",
        "yes",
    ]
    for record in records:
        assert set(record) == {"user", "replies", "events"}
        assert all(isinstance(r, str) for r in record["replies"])  # type: ignore[union-attr]
        assert all("type" in e for e in record["events"])  # type: ignore[union-attr]
    types = [[e["type"] for e in r["events"]] for r in records]  # type: ignore[index, union-attr]
    assert "contact.created" in types[0]
    assert "consent.given" in types[1]
    assert "escalation.created" in types[2]
    assert "contact.erased" in types[4]


async def test_scripted_chat_shows_choices_as_numbered_lines() -> None:
    records = await _script(["hi"])
    last = records[0]["replies"][-1]  # type: ignore[index]
    assert "\n1. Yes\n2. No\n3. Skip" in last


def test_entry_point_reads_stdin_and_writes_json(tmp_path: Path) -> None:
    harborline = Path(sys.executable).parent / "harborline"
    env = {**os.environ, "HARBORLINE_VAR_DIR": str(tmp_path)}
    done = subprocess.run(
        [str(harborline), "chat", "--script", "-", "--json"],
        input="hola\nquiero hablar con una persona\n",
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
        check=True,
    )
    records = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(records) == 2
    assert "asistente automático" in records[0]["replies"][0]
    assert "handoff.requested" in [e["type"] for e in records[1]["events"]]
    # Logs go to stderr and never carry the message text.
    assert "persona" not in done.stderr


def test_unknown_command_prints_usage_and_fails() -> None:
    harborline = Path(sys.executable).parent / "harborline"
    done = subprocess.run([str(harborline), "frobnicate"], capture_output=True, text=True)
    assert done.returncode == 2
    assert "invalid choice" in done.stderr
