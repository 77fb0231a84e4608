"""Fixtures shared by the Telegram tests: the fake Bot API and apps built on it.

The SMS tests define their own ``fake`` (a fake Twilio), which overrides this one there.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from nlu.intents import IntentClassifier
from resources_kb.service import KnowledgeBase
from tests.channels.telegram_fake import FakeTelegram, Worlds
from tests.conftest import Clock


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    server = FakeTelegram()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def worlds(
    tmp_path: Path,
    fake: FakeTelegram,
    kb: KnowledgeBase,
    intents: IntentClassifier | None,
    clock: Clock,
) -> AsyncIterator[Worlds]:
    built = Worlds(tmp_path, fake, kb, intents, clock)
    yield built
    await built.close()
