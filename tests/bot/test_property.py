"""Arbitrary text through the whole pipeline: always a reply, never a crash."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.runtime import Runtime, build_runtime
from nlu.intents import IntentClassifier
from resources_kb.service import KnowledgeBase
from tests.bot.helpers import say
from tests.conftest import make_settings


@pytest.fixture(scope="module")
def loop_and_runtime(
    tmp_path_factory: pytest.TempPathFactory,
    kb: KnowledgeBase,
    intents: IntentClassifier | None,
) -> Iterator[tuple[asyncio.Runner, Runtime]]:
    tmp: Path = tmp_path_factory.mktemp("property")
    runner = asyncio.Runner()
    cfg = make_settings(tmp, RATE_LIMIT_PER_MINUTE=100_000)
    runtime = runner.run(build_runtime(cfg, kb=kb, intents=intents))
    yield runner, runtime
    runner.run(runtime.close())
    runner.close()


text_strategy = st.one_of(
    st.text(max_size=300),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=50),
    st.sampled_from(["stop", "/forget", "yes", "no", "sí", "/", "//", "/start@x", "💊", "\n"]),
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(texts=st.lists(text_strategy, min_size=1, max_size=4), who=st.integers(0, 5))
def test_any_text_gets_a_reply(
    loop_and_runtime: tuple[asyncio.Runner, Runtime], texts: list[str], who: int
) -> None:
    runner, runtime = loop_and_runtime
    for text in texts:
        result = runner.run(say(runtime, text, address=f"fuzz-{who}"))
        assert result.status == "ok", result.status
        assert result.replies
        assert all(reply.text.strip() for reply in result.replies)
