"""Risk screen: case tables per language, context, robustness and data checks."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.types import RiskAssessment, RiskLevel
from nlu.risk import RiskScreen, assess
from nlu.risk.gates import Scanner, token_starts
from nlu.risk.lexicon import CATEGORIES, LazyPattern, LexiconError, Regex, load_lexicon
from nlu.risk.screen import DEFAULT_FILES

CASES_DIR = Path(__file__).parent / "risk_cases"
LANGS = ("en", "es")


@dataclass(frozen=True)
class Case:
    lang: str
    text: str
    lo: RiskLevel
    hi: RiskLevel
    categories: tuple[str, ...]
    previous: str | None = None

    @property
    def id(self) -> str:
        prefix = f"{self.previous[:25]} >> " if self.previous else ""
        return f"{self.lang}:{prefix}{self.text[:50]}"


def _case(lang: str, raw: dict[str, Any]) -> Case:
    if "level" in raw:
        lo = hi = RiskLevel.parse(raw["level"])
    else:
        lo = RiskLevel.parse(raw.get("min", "none"))
        hi = RiskLevel.parse(raw.get("max", "imminent"))
    return Case(
        lang=lang,
        text=raw["text"],
        lo=lo,
        hi=hi,
        categories=tuple(raw.get("categories", ())),
        previous=raw.get("previous"),
    )


def _load(lang: str) -> dict[str, Any]:
    data = yaml.safe_load((CASES_DIR / f"{lang}.yml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def _cases(section: str) -> Iterator[Case]:
    for lang in LANGS:
        for raw in _load(lang).get(section) or []:
            yield _case(lang, raw)


SINGLE = list(_cases("cases"))
CONTEXT = list(_cases("context"))


@pytest.fixture(scope="module")
def screen() -> RiskScreen:
    return RiskScreen.default()


def _check(case: Case, result: RiskAssessment) -> None:
    detail = f"{case.text!r} -> {result.level.label} {result.cues}"
    assert case.lo <= result.level <= case.hi, detail
    assert set(case.categories) <= set(result.categories), detail


@pytest.mark.parametrize("case", SINGLE, ids=[c.id for c in SINGLE])
def test_case_table(screen: RiskScreen, case: Case) -> None:
    _check(case, screen.assess(case.text))


@pytest.mark.parametrize("case", CONTEXT, ids=[c.id for c in CONTEXT])
def test_context_table(screen: RiskScreen, case: Case) -> None:
    assert case.previous is not None
    previous = screen.assess(case.previous)
    result = screen.assess(case.text, previous=previous)
    _check(case, result)
    if result.level > screen.assess(case.text).level:
        assert any(c.startswith("context:previous_") for c in result.cues)


@pytest.mark.parametrize("lang", LANGS)
def test_enough_cases_per_language(lang: str) -> None:
    data = _load(lang)
    assert len(data["cases"]) + len(data.get("context") or []) >= 120


def test_module_level_assess_uses_cached_default() -> None:
    first = assess("I want to die")
    assert first.level == RiskLevel.HIGH
    assert first.escalates
    assert assess("hello").level == RiskLevel.NONE


def _family_of(cue: str) -> str:
    for prefix in ("negated:", "past:"):
        cue = cue.removeprefix(prefix)
    return cue.split(":", 1)[0]


def test_every_family_and_means_group_has_a_case(screen: RiskScreen) -> None:
    fired: set[str] = set()
    for case in SINGLE + CONTEXT:
        fired.update(_family_of(c) for c in screen.assess(case.text).cues)
    declared = set(screen.family_ids) | {m.id for m in screen.lexicon.means}
    assert declared - fired == set()


def test_data_files_parse_and_are_consistent() -> None:
    for path in DEFAULT_FILES:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        for fam in doc.get("families", []):
            assert fam["id"] and fam["patterns"], fam
            RiskLevel.parse(fam["level"])
    lexicon = RiskScreen.from_files(DEFAULT_FILES).lexicon
    for fam in lexicon.families:
        assert set(fam.categories) <= CATEGORIES


@given(st.text(max_size=400))
@settings(max_examples=300, deadline=None)
def test_never_crashes_and_invariants_hold(text: str) -> None:
    result = assess(text)
    assert isinstance(result.level, RiskLevel)
    assert list(result.categories) == sorted(set(result.categories))
    if result.level > RiskLevel.NONE:
        assert result.cues
    context = assess(text, previous=RiskAssessment(RiskLevel.HIGH, ("suicide",), ("x",)))
    assert context.level >= RiskLevel.NONE


@pytest.mark.parametrize(
    "text",
    ["", " ", "\x00\x01\x02", "\ud800 lone surrogate \udfff", "🏳️‍🌈" * 50, "..." * 100, "\n" * 500],
)
def test_odd_inputs(text: str) -> None:
    result = assess(text)
    assert result.level <= RiskLevel.LOW


def test_invariants_over_case_tables(screen: RiskScreen) -> None:
    for case in SINGLE:
        result = screen.assess(case.text)
        assert list(result.categories) == sorted(set(result.categories))
        # Cues exist exactly when something was flagged.
        assert bool(result.cues) == (result.level > RiskLevel.NONE), case.text
        assert all(len(c) < 80 for c in result.cues)


def test_long_input_sees_head_and_tail(screen: RiskScreen) -> None:
    # Speed is measured in `make bench` (scripts/bench_nlu.py), not asserted here.
    filler = "I need help with my visa application form. " * 2500  # ~110k chars
    result = screen.assess(filler)
    assert result.level == RiskLevel.MODERATE or result.level <= RiskLevel.LOW
    assert screen.assess(filler + " I want to die tonight").level == RiskLevel.IMMINENT
    assert screen.assess("I want to die. " + filler).level >= RiskLevel.HIGH


def test_cues_show_readable_text(screen: RiskScreen) -> None:
    result = screen.assess("I have the pills in my hand")
    assert any('"pills in my hand"' in c for c in result.cues)


def test_context_cue_is_recorded(screen: RiskScreen) -> None:
    previous = screen.assess("I want to die")
    result = screen.assess("I have the pills right here", previous=previous)
    assert result.level == RiskLevel.IMMINENT
    assert "context:previous_high" in result.cues


def test_previous_below_moderate_is_ignored(screen: RiskScreen) -> None:
    previous = RiskAssessment(RiskLevel.LOW, (), ('distress.low:"sad"',))
    assert screen.assess("tonight", previous=previous).level == RiskLevel.NONE


# --- word gates (nlu.risk.gates): a skipped scan is one that finds nothing ------


def _ungated(screen: RiskScreen) -> RiskScreen:
    lex = screen.lexicon
    return RiskScreen(
        replace(
            lex,
            families=tuple(replace(f, gate=None, scanner=None) for f in lex.families),
            means=tuple(replace(m, gate=None, scanner=None) for m in lex.means),
            gates={},
            scanners={},
        )
    )


def _labelled_texts() -> list[str]:
    from nlu.rasa_data import load_examples as intent_examples
    from nlu.risk.examples import SPLITS, load_examples

    texts = [e.text for split in SPLITS for e in load_examples(split)]
    texts += [e.text for split in ("nlu", "test") for e in intent_examples(split)]
    return texts + [c.text for c in SINGLE + CONTEXT]


def test_every_pattern_list_has_a_gate(screen: RiskScreen) -> None:
    # A list without a gate is scanned on every message: keep them all gated.
    lex = screen.lexicon
    assert [f.id for f in lex.families if f.gate is None] == []
    assert [m.id for m in lex.means if m.gate is None] == []
    assert [name for name, g in lex.gates.items() if g is None] == []


def test_gates_change_no_result_on_labelled_messages(screen: RiskScreen) -> None:
    ungated = _ungated(screen)
    texts = _labelled_texts()
    assert len(texts) > 4000
    for text in texts:
        assert screen.assess(text) == ungated.assess(text), text
    previous = screen.assess("I want to die")
    for case in CONTEXT:
        assert screen.assess(case.text, previous=previous) == ungated.assess(
            case.text, previous=previous
        )


_WORDS = st.sampled_from(
    "i want to die kill myself me quiero morir pills pastillas tonight esta noche he she "
    "they locked me in no not never bridge puente rope soga help ayuda 💊 🔪 ⚰️ 😔 years "
    "ago now safe cut my wrist took 30 the a la el de que , . ? kms suicidal suisida".split()
)


@functools.cache
def _gated_and_ungated() -> tuple[RiskScreen, RiskScreen]:
    screen = RiskScreen.default()
    return screen, _ungated(screen)


@given(st.lists(_WORDS, max_size=14))
@settings(max_examples=300, deadline=None)
def test_gates_change_no_result_on_random_word_salad(words: list[str]) -> None:
    text = " ".join(words)
    gated, ungated = _gated_and_ungated()
    assert gated.assess(text) == ungated.assess(text)


def test_gate_words_and_prefixes() -> None:
    from nlu.risk.gates import gate

    g = gate(["(want|wanna) to die", "(me )?quiero morir", "kil+ing", "[0-9]+ ?mg"])
    assert g is not None
    assert {"want", "wanna", "me", "quiero"} <= g.words
    assert "ki" in "".join(g.prefixes) and any(p.isdigit() for p in g.prefixes)
    assert g.admits(frozenset({"i", "wanna"})) and g.admits(frozenset({"800mg"}))
    assert not g.admits(frozenset({"hello", "there"}))
    assert gate(["([a-z]+ ){0,2}die"]) is None  # cannot be bounded: always scanned


# --- per-token scanners (nlu.risk.gates.Scanner): the same matches as one big scan --


def _lists(screen: RiskScreen) -> list[tuple[str, Regex, Scanner | None]]:
    lex = screen.lexicon
    out = [(f.id, f.regex, f.scanner) for f in lex.families]
    out += [(m.id, m.regex, m.scanner) for m in lex.means]
    return out + [(name, lex.modifier(name), lex.scanner(name)) for name in lex.scanners]


def test_every_scanned_list_has_a_scanner(screen: RiskScreen) -> None:
    assert [name for name, _, scanner in _lists(screen) if scanner is None] == []


def test_scanners_find_exactly_what_the_whole_regex_finds(screen: RiskScreen) -> None:
    lists = _lists(screen)
    for text in _labelled_texts():
        clean = screen.normalize(text)
        starts = token_starts(clean)
        for name, regex, scanner in lists:
            assert scanner is not None
            expected = [m.span() for m in regex.finditer(clean)]
            assert [m.span() for m in scanner.finditer(clean, starts)] == expected, (name, text)


def test_scanned_lists_compile_nothing_after_load(
    screen: RiskScreen, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Each pattern is compiled at load; a scanned list's whole alternation only
    # when asked. So a message of words never seen before waits for no compile.
    lex = screen.lexicon
    lazy = [f.regex for f in lex.families] + [m.regex for m in lex.means]
    lazy += [lex.modifier(name) for name in lex.scanners]
    assert all(isinstance(regex, LazyPattern) for regex in lazy)

    def no_compile(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"re.compile called while screening: {args[:1]}")

    monkeypatch.setattr(re, "compile", no_compile)
    for text in [
        "zorblax quenched the flimflam, i want to die tonight 💊💊",
        "ayer el jefe me quitó el pasaporte y dice que me va a matar",
        "my boss keeps my passport",
    ]:
        screen.assess(text)


@pytest.mark.parametrize(
    "pattern",
    [
        "want to (die",  # does not parse
        "(?<=a|bc)die",  # parses; re's compiler refuses a variable-width look-behind
    ],
)
def test_a_bad_pattern_is_refused_at_load(tmp_path: Path, pattern: str) -> None:
    cues = tmp_path / "cues.yml"
    family = {"id": "suicide.bad", "category": "suicide", "level": "high", "patterns": [pattern]}
    cues.write_text(yaml.safe_dump({"families": [family]}), encoding="utf-8")
    with pytest.raises(LexiconError):
        load_lexicon([cues])


def test_scanner_keeps_list_order_and_skips_inside_a_match() -> None:
    from nlu.risk.gates import WRAP, gate_and_scanner

    patterns = ["i want", "i want to die", "want to die", "kil+ me", "to"]
    _, scanner = gate_and_scanner(patterns)
    assert scanner is not None
    text = "i want to die . kill me to"
    regex = re.compile(WRAP.format("|".join(f"(?:{p})" for p in patterns)))
    found = [m.group() for m in scanner.finditer(text, token_starts(text))]
    # "i want" wins over the longer pattern listed after it; "want to die" starts
    # inside that match and is not tried; "to" right after it is.
    assert found == ["i want", "to", "kill me", "to"]
    assert found == [m.group() for m in regex.finditer(text)]
