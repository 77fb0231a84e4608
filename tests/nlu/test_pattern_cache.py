"""The compiled-pattern cache: a screen loaded from it reads every message as one built afresh."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nlu.risk import gates
from nlu.risk.examples import load_examples
from nlu.risk.gates import PatternCache
from nlu.risk.lexicon import _load, load_lexicon
from nlu.risk.screen import DEFAULT_FILES, RiskScreen, pattern_cache


def _texts() -> list[str]:
    texts = [e.text for e in load_examples("train")]
    return texts[::15]  # about 700 lines in both languages


def _readings(screen: RiskScreen) -> list[tuple[object, ...]]:
    out = []
    for text in _texts():
        r = screen.assess(text)
        out.append((r.level, r.categories, r.cues))
    return out


@pytest.fixture(scope="module")
def fresh_readings() -> list[tuple[object, ...]]:
    return _readings(RiskScreen(load_lexicon(DEFAULT_FILES)))


def _no_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_: object, **__: object) -> None:
        raise AssertionError("a cached pattern was parsed again")

    monkeypatch.setattr(gates, "_analyse", refuse)


def test_a_warm_cache_parses_nothing_and_reads_messages_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_readings: list[tuple[object, ...]]
) -> None:
    path = tmp_path / "patterns.json"
    load_lexicon(DEFAULT_FILES, path)  # cold: parses every pattern and writes the file
    cache = PatternCache.load(path)
    _load(DEFAULT_FILES, cache)
    assert cache.parsed == 0 and not cache.changed

    _no_parsing(monkeypatch)
    warm = RiskScreen(load_lexicon(DEFAULT_FILES, path))
    assert _readings(warm) == fresh_readings


def test_the_cache_keeps_only_the_patterns_in_use(tmp_path: Path) -> None:
    path = tmp_path / "patterns.json"
    load_lexicon(DEFAULT_FILES, path)
    doc = json.loads(path.read_text())
    doc["patterns"]["(?:no longer in any list)"] = None
    path.write_text(json.dumps(doc))
    load_lexicon(DEFAULT_FILES, path)
    assert "(?:no longer in any list)" not in json.loads(path.read_text())["patterns"]


@pytest.mark.parametrize("damage", ["garbage", "other_python", "bad_program", "bad_entry"])
def test_a_damaged_or_foreign_cache_is_rebuilt_not_trusted(
    tmp_path: Path, damage: str, fresh_readings: list[tuple[object, ...]]
) -> None:
    path = tmp_path / "patterns.json"
    load_lexicon(DEFAULT_FILES, path)
    doc = json.loads(path.read_text())
    patterns = doc["patterns"]
    if damage == "garbage":
        path.write_text('{"stamp": ')
    else:
        if damage == "other_python":
            doc["stamp"]["python"] = "2.7.18"
        for key in list(patterns)[::3]:
            if patterns[key] is None:
                continue
            if damage == "bad_program":
                patterns[key][1][1] = [0, 1, 2]  # a program _sre must refuse
            else:
                patterns[key] = ["not", "an", "entry"]
        path.write_text(json.dumps(doc))

    screen = RiskScreen(load_lexicon(DEFAULT_FILES, path))

    assert _readings(screen) == fresh_readings
    cache = PatternCache.load(path)  # rewritten whole and valid
    _load(DEFAULT_FILES, cache)
    assert cache.parsed == 0 and not cache.changed


def test_an_unwritable_cache_directory_still_gives_a_screen(tmp_path: Path) -> None:
    blocked = tmp_path / "file-not-dir"
    blocked.write_text("")
    lexicon = load_lexicon(DEFAULT_FILES, blocked / "patterns.json")
    assert RiskScreen(lexicon).assess("i took all my pills").escalates


def test_the_cache_file_is_per_python_build(tmp_path: Path) -> None:
    assert pattern_cache(tmp_path).parent == tmp_path
    assert pattern_cache(tmp_path).name.startswith("risk-patterns-")
