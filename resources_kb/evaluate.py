"""Measuring search quality.

Tuning uses only the articles' own example questions, by leave-one-question-out
cross-validation: each example question is taken out of its article, the index
is rebuilt without it, and the question is asked. `NEGATIVES` are questions we
wrote ourselves that no article answers, to set the confidence threshold.

The held-out files in `resources_kb/eval/` are new paraphrases written apart
from the articles; they are read only to report the final figure
(`heldout_accuracy`), never to choose weights or the threshold.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml

from resources_kb.content import Article
from resources_kb.search import SearchIndex, Weights

__all__ = [
    "EVAL_DIR",
    "NEGATIVES",
    "Score",
    "cross_validate",
    "heldout_accuracy",
    "load_heldout",
]

EVAL_DIR = Path(__file__).resolve().parent / "eval"

# Written for tuning the threshold; not drawn from the held-out files.
NEGATIVES = {
    "en": [
        "what's the weather going to be tomorrow",
        "how do i bake banana bread",
        "who won the football game last night",
        "recommend a good movie to watch",
        "how many calories are in an apple",
        "what time does the mall close",
        "can you help me fix my car engine",
        "tell me a joke",
        "what is the capital of australia",
        "how do i change my wifi password",
        "best pizza place near me",
        "how to plant tomatoes in pots",
        "can you translate this poem into french",
        "what's a good name for a cat",
        "how do i lose weight fast",
        "is bitcoin a good investment",
    ],
    "es": [
        "como va a estar el clima mañana",
        "como hago pan de plátano",
        "quien ganó el partido de futbol anoche",
        "recomiéndame una buena película",
        "cuantas calorias tiene una manzana",
        "a que hora cierra el centro comercial",
        "me ayudas a arreglar el motor del carro",
        "cuéntame un chiste",
        "cual es la capital de australia",
        "como cambio la contraseña del wifi",
        "la mejor pizzeria cerca de aqui",
        "como siembro tomates en macetas",
        "traduce este poema al frances",
        "que nombre le pongo a mi gato",
        "como bajo de peso rapido",
        "el bitcoin es buena inversion",
    ],
}


@dataclass(frozen=True, slots=True)
class Score:
    locale: str
    questions: int
    top1: float  # share answered with the right article (confident or not)
    answered_right: float  # share answered confidently and right
    negatives: int
    confident_on_negatives: float

    def line(self) -> str:
        return (
            f"{self.locale}: top-1 {self.top1:.3f}, confident and right "
            f"{self.answered_right:.3f} on {self.questions} questions; confident on "
            f"{self.confident_on_negatives:.3f} of {self.negatives} with no answer"
        )


def cross_validate(
    articles: Sequence[Article],
    locale: str,
    threshold: float,
    weights: Weights | None = None,
    place: str = "US",
) -> Score:
    """Leave-one-question-out over the example questions of one locale."""
    pool = [a for a in articles if a.locale == locale and a.status == "published"]
    right = confident_right = total = 0
    for i, article in enumerate(pool):
        for j, question in enumerate(article.example_questions):
            held = replace(
                article,
                example_questions=article.example_questions[:j]
                + article.example_questions[j + 1 :],
            )
            index = SearchIndex([*pool[:i], held, *pool[i + 1 :]], weights=weights)
            hits = index.search(question, place)
            total += 1
            if hits and hits[0].article.id == article.id:
                right += 1
                confident_right += hits[0].score >= threshold
    full = SearchIndex(pool, weights=weights)
    negatives = NEGATIVES[locale]
    confident_wrong = sum(
        1 for q in negatives if (h := full.search(q, place)) and h[0].score >= threshold
    )
    return Score(
        locale,
        total,
        right / max(total, 1),
        confident_right / max(total, 1),
        len(negatives),
        confident_wrong / max(len(negatives), 1),
    )


def load_heldout(locale: str, root: Path = EVAL_DIR) -> list[tuple[str, str | None]]:
    rows: list[dict[str, Any]] = yaml.safe_load(
        (root / f"heldout_{locale}.yml").read_text(encoding="utf-8")
    )
    return [(str(r["question"]), r.get("expected")) for r in rows]


def heldout_accuracy(
    ask: Any, locale: str, questions: Iterable[tuple[str, str | None]] | None = None
) -> tuple[float, float]:
    """(top-1 correct on answerable questions, confident share on `expected: null`).

    `ask(question, locale)` returns a `KbAnswer`. A question counts as correct
    when the bot would answer it confidently with the expected article.
    """
    rows = list(questions if questions is not None else load_heldout(locale))
    answerable = [(q, e) for q, e in rows if e]
    unanswerable = [q for q, e in rows if not e]
    right = 0
    for question, expected in answerable:
        best = ask(question, locale).best
        right += best is not None and best.article.id == expected
    confident = sum(1 for q in unanswerable if ask(q, locale).best is not None)
    return right / max(len(answerable), 1), confident / max(len(unanswerable), 1)
