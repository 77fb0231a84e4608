"""Intent evaluation on the held-out split: accuracy, per-intent P/R/F1, confusion."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from typing import Any

from nlu.intents import IntentClassifier
from nlu.rasa_data import Example

__all__ = ["evaluate_intents"]


def evaluate_intents(model: IntentClassifier, examples: Sequence[Example]) -> dict[str, Any]:
    by_language: dict[str, list[Example]] = defaultdict(list)
    for example in examples:
        by_language[example.language].append(example)
    return {language: _scores(model, items) for language, items in sorted(by_language.items())}


def _scores(model: IntentClassifier, examples: Sequence[Example]) -> dict[str, Any]:
    pairs = [(e.intent, model.classify(e.text).name) for e in examples]
    confusion: dict[str, Counter[str]] = defaultdict(Counter)
    for truth, guess in pairs:
        confusion[truth][guess] += 1
    labels = sorted({t for t, _ in pairs} | {g for _, g in pairs})
    per_intent = {}
    for label in labels:
        tp = confusion[label][label]
        predicted = sum(confusion[t][label] for t in labels)
        actual = sum(confusion[label].values())
        precision = tp / predicted if predicted else 0.0
        recall = tp / actual if actual else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_intent[label] = {
            "precision": round(precision, 3),
            "recall": round(recall, 3),
            "f1": round(f1, 3),
            "support": actual,
        }
    correct = sum(t == g for t, g in pairs)
    return {
        "accuracy": round(correct / len(pairs), 4) if pairs else 0.0,
        "examples": len(pairs),
        "per_intent": per_intent,
        "confusion": {t: dict(c) for t, c in sorted(confusion.items())},
    }
