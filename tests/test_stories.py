"""Conversation stories as data (tests/stories/*.yml), in both languages."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.runtime import Runtime
from tests.bot.helpers import event_types, joined, say

STORIES_DIR = Path(__file__).parent / "stories"


def _stories() -> list[Any]:
    cases = []
    for path in sorted(STORIES_DIR.glob("*.yml")):
        for story in yaml.safe_load(path.read_text(encoding="utf-8"))["stories"]:
            cases.append(pytest.param(story, id=f"{path.stem}: {story['story']}"))
    return cases


@pytest.mark.parametrize("story", _stories())
async def test_story(runtime: Runtime, story: dict[str, Any]) -> None:
    for number, step in enumerate(story["steps"], 1):
        result = await say(runtime, str(step["user"]), address=f"story-{story['story']}")
        where = f"step {number} ({step['user']!r})"
        text = joined(result)
        types = event_types(result)
        for expected in step.get("replies_include", []):
            assert expected in text, f"{where}: {expected!r} not in {text!r}"
        for event in step.get("events", []):
            assert event in types, f"{where}: {event} not in {types}"
        for event in step.get("no_events", []):
            assert event not in types, f"{where}: unexpected {event} in {types}"
