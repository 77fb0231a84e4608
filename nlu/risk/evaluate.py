"""Measure the risk screen on labelled examples (``harborline nlu eval``).

``evaluate(load_examples("test"), screen)`` reports, per language and
overall: recall/precision per level, urgent (high + imminent) recall, the
false-alarm rate on ordinary (``none``) messages (share predicted high or
imminent), category recall on urgent messages, a confusion matrix, and the
misses. ``cross_validate`` does the same on the training split with k folds:
that is the number to tune on; the test split is only reported.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol

from bot.types import RiskAssessment, RiskLevel
from nlu.risk.examples import RiskExample

__all__ = ["TARGETS", "cross_validate", "evaluate", "format_report", "report"]

URGENT = RiskLevel.HIGH
# Targets from the issue; `nlu eval` and the tests compare against them.
TARGETS = {"urgent_recall": 0.97, "false_alarm_rate": 0.05}
_MAX_ERRORS = 50


class Screen(Protocol):
    def assess(self, text: str, *, previous: RiskAssessment | None = None) -> RiskAssessment: ...


def _ratio(numerator: int, denominator: int) -> float | None:
    return round(numerator / denominator, 4) if denominator else None


def _section(pairs: Sequence[tuple[RiskExample, RiskAssessment]]) -> dict[str, Any]:
    gold = [e.level for e, _ in pairs]
    pred = [a.level for _, a in pairs]
    levels: dict[str, Any] = {}
    for level in RiskLevel:
        tp = sum(1 for g, p in zip(gold, pred, strict=True) if g == level and p == level)
        support = gold.count(level)
        predicted = pred.count(level)
        levels[level.label] = {
            "support": support,
            "predicted": predicted,
            "recall": _ratio(tp, support),
            "precision": _ratio(tp, predicted),
        }
    urgent = [(e, a) for e, a in pairs if e.level >= URGENT]
    caught = [(e, a) for e, a in urgent if a.level >= URGENT]
    none = [(e, a) for e, a in pairs if e.level == RiskLevel.NONE]
    alarms = [(e, a) for e, a in none if a.level >= URGENT]
    flagged = [(e, a) for e, a in pairs if a.level >= URGENT]
    with_cats = [(e, a) for e, a in caught if e.categories]
    cat_hits = sum(1 for e, a in with_cats if set(e.categories) <= set(a.categories))
    confusion = Counter((g.label, p.label) for g, p in zip(gold, pred, strict=True))
    errors = [
        {
            "text": e.text,
            "lang": e.lang,
            "expected": e.level.label,
            "predicted": a.level.label,
            "cues": list(a.cues[:4]),
            "kind": "urgent_miss" if e.level >= URGENT else "false_alarm",
        }
        for e, a in pairs
        if (e.level >= URGENT) != (a.level >= URGENT)
    ]
    return {
        "examples": len(pairs),
        "accuracy": _ratio(sum(1 for g, p in zip(gold, pred, strict=True) if g == p), len(pairs)),
        "levels": levels,
        "urgent_support": len(urgent),
        "urgent_recall": _ratio(len(caught), len(urgent)),
        "urgent_precision": _ratio(sum(1 for e, _ in flagged if e.level >= URGENT), len(flagged)),
        "none_support": len(none),
        "false_alarm_rate": _ratio(len(alarms), len(none)) if none else 0.0,
        "category_recall_urgent": _ratio(cat_hits, len(with_cats)),
        "within_one_level": _ratio(
            sum(1 for g, p in zip(gold, pred, strict=True) if abs(g - p) <= 1), len(pairs)
        ),
        "confusion": {f"{g}->{p}": n for (g, p), n in sorted(confusion.items())},
        "errors": errors[:_MAX_ERRORS],
    }


def _meets(section: dict[str, Any]) -> bool:
    recall = section["urgent_recall"]
    alarms = section["false_alarm_rate"]
    return (recall is None or recall >= TARGETS["urgent_recall"]) and (
        alarms is None or alarms <= TARGETS["false_alarm_rate"]
    )


def report(pairs: Sequence[tuple[RiskExample, RiskAssessment]]) -> dict[str, Any]:
    """Metrics for already-assessed examples."""
    by_lang: dict[str, list[tuple[RiskExample, RiskAssessment]]] = defaultdict(list)
    for example, result in pairs:
        by_lang[example.lang].append((example, result))
    languages = {lang: _section(items) for lang, items in sorted(by_lang.items())}
    return {
        "languages": languages,
        "overall": _section(list(pairs)),
        "targets": dict(TARGETS),
        "meets_targets": all(_meets(s) for s in languages.values()),
    }


def evaluate(examples: Iterable[RiskExample], screen: Screen) -> dict[str, Any]:
    """Assess every example (each on its own, no context) and report the metrics."""
    return report([(e, screen.assess(e.text)) for e in examples])


def _folds(examples: Sequence[RiskExample], k: int, seed: int) -> list[list[int]]:
    """Stratified by language and level."""
    groups: dict[tuple[str, RiskLevel], list[int]] = defaultdict(list)
    for i, e in enumerate(examples):
        groups[(e.lang, e.level)].append(i)
    rng = random.Random(seed)
    folds: list[list[int]] = [[] for _ in range(k)]
    start = 0
    for key in sorted(groups):
        indices = groups[key]
        rng.shuffle(indices)
        for j, index in enumerate(indices):
            folds[(start + j) % k].append(index)
        start += len(indices)
    return folds


def cross_validate(
    examples: Sequence[RiskExample],
    make_screen: Callable[[Sequence[RiskExample]], Screen],
    *,
    folds: int = 5,
    seed: int = 0,
) -> dict[str, Any]:
    """k-fold estimate on the training split: ``make_screen(train_part)`` builds a screen.

    Typically ``lambda part: RiskScreen.default().with_model(RiskModel.train(part))``
    (needs scikit-learn).
    """
    pairs: list[tuple[RiskExample, RiskAssessment]] = []
    for held in _folds(examples, folds, seed):
        held_set = set(held)
        screen = make_screen([e for i, e in enumerate(examples) if i not in held_set])
        pairs.extend((examples[i], screen.assess(examples[i].text)) for i in held)
    return report(pairs)


def format_report(result: dict[str, Any], *, errors: bool = False) -> str:
    """A short plain-text table for the CLI."""
    lines = []
    sections = [*result["languages"].items(), ("all", result["overall"])]
    for name, section in sections:
        lines.append(
            f"risk[{name}] n={section['examples']} accuracy={section['accuracy']} "
            f"urgent_recall={section['urgent_recall']} (n={section['urgent_support']}) "
            f"false_alarms={section['false_alarm_rate']} (n={section['none_support']}) "
            f"urgent_precision={section['urgent_precision']}"
        )
        for label, row in section["levels"].items():
            lines.append(
                f"  {label:<9} recall={row['recall']} precision={row['precision']} "
                f"support={row['support']}"
            )
        if errors:
            lines.extend(
                f"  ! {e['kind']}: {e['expected']}->{e['predicted']} {e['text']!r}"
                for e in section["errors"]
            )
    verdict = "meets" if result["meets_targets"] else "MISSES"
    lines.append(
        f"risk targets (urgent recall >= {TARGETS['urgent_recall']}, false alarms <= "
        f"{TARGETS['false_alarm_rate']} per language): {verdict}"
    )
    return "\n".join(lines)
