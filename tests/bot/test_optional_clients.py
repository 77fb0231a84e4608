"""Redis and the Rasa backend's HTTP client load only when configured; scipy, only to train.

A server on the defaults (SQLite, in-process state, built-in NLU) never
imports redis or httpx (about 14 MB of its resident memory) nor scipy.sparse
(about 20 MB; the knowledge base's index is built with numpy alone). Redis's
errors are still caught as storage failures once Redis is in use.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.runtime import build_runtime
from bot.state import storage_errors
from nlu.intents import IntentClassifier
from tests.bot.helpers import joined, say
from tests.conftest import FIXED_KEY, make_settings

ROOT = Path(__file__).resolve().parents[2]

# A whole conversation on the defaults, in a fresh interpreter: the test process
# itself has long imported both clients.
CHILD = """
import asyncio, json, sys
from datetime import UTC, datetime
from pathlib import Path

from bot.runtime import build_runtime
from bot.settings import Settings
from bot.types import InboundMessage
from nlu.intents import IntentClassifier
from nlu.risk import use_model
from nlu.risk.model import load_or_train

tmp, cache, key = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]


async def main() -> None:
    use_model(load_or_train(cache))
    settings = Settings(
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp}/child.db",
        HARBORLINE_VAR_DIR=tmp,
        ENCRYPTION_KEYS=key,
        ADDRESS_HASH_KEY="child-hash-key",
        MAINTENANCE_INTERVAL_SECONDS=0,
        PAGING_ENABLED=False,
    )
    runtime = await build_runtime(settings, intents=IntentClassifier.load_or_train(cache))
    statuses = []
    try:
        texts = ["hi", "yes", "where can i find a lawyer", "i took all the pills"]
        for n, text in enumerate(texts):
            message = InboundMessage("web", "child-1", text, f"m{n}", datetime.now(UTC))
            statuses.append((await runtime.pipeline.handle(message)).status)
    finally:
        await runtime.close()
    loaded = sorted(name for name in ("redis", "httpx", "scipy") if name in sys.modules)
    indexes = sorted(runtime.kb._contents.indexes)  # built by the question above
    print(json.dumps({"statuses": statuses, "loaded": loaded, "indexes": indexes}))


asyncio.run(main())
"""


def test_a_default_server_never_imports_redis_httpx_or_scipy(
    tmp_path: Path, intents: IntentClassifier | None
) -> None:
    cache = Path(os.environ.get("HARBORLINE_TEST_CACHE", ".pytest_cache")) / "models"
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(tmp_path), str(cache), FIXED_KEY],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["statuses"] == ["ok", "ok", "ok", "ok"]
    assert result["indexes"] == ["en"]
    assert result["loaded"] == []


def test_redis_errors_count_as_storage_errors_once_redis_is_loaded() -> None:
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import RedisError

    assert RedisError in storage_errors()
    assert issubclass(RedisConnectionError, storage_errors())


async def test_a_turn_with_redis_down_still_answers_a_crisis(
    tmp_path: Path, intents: IntentClassifier | None, caplog: pytest.LogCaptureFixture
) -> None:
    # Nothing listens on port 1: every Redis call fails to connect.
    settings = make_settings(tmp_path, redis_url="redis://127.0.0.1:1/0")
    runtime = await build_runtime(settings, intents=intents)
    try:
        with caplog.at_level(logging.ERROR, logger="harborline.pipeline"):
            result = await say(runtime, "i have the pills in my hand right now")
    finally:
        await runtime.close()
    assert result.status == "degraded"
    assert "988" in joined(result) and "911" in joined(result)
    # Caught as a storage failure (not as a bug), which is what the log says.
    assert any("turn failed, storage: ConnectionError" in r.getMessage() for r in caplog.records)
