"""Measuring and tuning search quality.

Tuning uses only the articles' own example questions, by leave-one-question-out
cross-validation: an example question is taken out of its article, the index is
built without it, and the question is asked; it counts as right when its
article comes first. To keep this quick, the questions are hidden in rounds:
round j hides the j-th example question of every article at once (so each
article loses exactly one question, as in plain leave-one-out) and asks all of
them against one index. `NEGATIVES` are questions we wrote ourselves that no
article answers (everyday topics, and nearby ones the knowledge base does not
cover); they set the confidence threshold.

The held-out files in `resources_kb/eval/` are paraphrases written apart from
the articles; they are read only to report the final figure
(`heldout_accuracy`), never to choose weights or the threshold.

`python -m resources_kb.evaluate` prints the cross-validation scores of the
current weights; `--tune` searches the blend weights and threshold again.
"""

from __future__ import annotations

import argparse
import itertools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from numpy.typing import NDArray

from resources_kb.content import Article, load_articles
from resources_kb.lexicon import find_place
from resources_kb.search import SearchIndex, Signals, Weights, blend, place_factor, place_fits

__all__ = [
    "EVAL_DIR",
    "NEGATIVES",
    "CvRun",
    "Score",
    "collect",
    "cross_validate",
    "heldout_accuracy",
    "load_heldout",
    "score",
    "tune",
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
        "how do i file my taxes this year",
        "can i get a credit card with bad credit",
        "how do i renew my drivers license",
        "what is the best phone to buy",
        "how do i unlock my iphone",
        "when is the next bus downtown",
        "how long do i boil an egg",
        "what songs are popular right now",
        "how do i get rid of ants in the kitchen",
        "where can i buy cheap shoes",
        "how do i make my hair grow faster",
        "what is the speed limit on the highway",
        "how do i train my puppy",
        "what year did world war two end",
        "help me write a birthday card",
        "how do i start a youtube channel",
        "which team is best in the nba",
        "how do i fix a flat bike tire",
        "what is a good book to read",
        "how do you say hello in japanese",
        "how many ounces are in a cup",
        "what are the rules of chess",
        "where is the nearest gas station",
        "how do i clean a stain off a sofa",
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
        "como declaro mis impuestos este año",
        "me dan tarjeta de credito con mal historial",
        "como renuevo mi licencia de manejo",
        "cual es el mejor celular para comprar",
        "como desbloqueo mi iphone",
        "a que hora pasa el próximo camión al centro",
        "cuanto tiempo se hierve un huevo",
        "que canciones están de moda",
        "como saco las hormigas de la cocina",
        "donde compro zapatos baratos",
        "como hago que me crezca el pelo",
        "cual es el limite de velocidad en la autopista",
        "como entreno a mi perrito",
        "en que año terminó la segunda guerra mundial",
        "ayúdame a escribir una tarjeta de cumpleaños",
        "como abro un canal de youtube",
        "cual es el mejor equipo de la nba",
        "como parcho la llanta de la bici",
        "que libro bueno me recomiendas",
        "como se dice hola en japonés",
        "cuantas onzas tiene una taza",
        "cuales son las reglas del ajedrez",
        "donde está la gasolinera más cercana",
        "como quito una mancha del sillón",
    ],
}

# What the index is built from changes with these; the rest only re-blends.
_BUILD = (
    "k1",
    "b",
    "title",
    "questions",
    "answer",
    "topics",
    "body",
    "body_cover",
    "unknown",
    "phrase_idf",
)


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


@dataclass(frozen=True, slots=True)
class _Places:
    """Per question and article: fits the place asked from, written for it; named?"""

    fits: NDArray[np.bool_]
    specific: NDArray[np.bool_]
    named: NDArray[np.bool_]

    def factors(self, weights: Weights) -> NDArray[np.float64]:
        named = self.named[:, None]
        return np.where(
            named,
            place_factor(self.fits, self.specific, True, weights),
            place_factor(self.fits, self.specific, False, weights),
        )


def _places(questions: Sequence[str], jurisdictions: Sequence[str], place: str) -> _Places:
    rows = []
    for question in questions:
        named = find_place(question)
        rows.append((*place_fits(jurisdictions, named or place, place), named is not None))
    return _Places(
        np.array([r[0] for r in rows], dtype=bool).reshape(len(rows), len(jurisdictions)),
        np.array([r[1] for r in rows], dtype=bool).reshape(len(rows), len(jurisdictions)),
        np.array([r[2] for r in rows], dtype=bool),
    )


@dataclass(frozen=True, slots=True)
class CvRun:
    """The signals of every cross-validation question, kept so weights can be re-blended."""

    locale: str
    questions: list[str]
    expected: NDArray[np.int64]  # the position of each question's article
    signals: Signals  # arrays of shape (questions, articles)
    places: _Places
    negative_signals: Signals
    negative_places: _Places


def _stack(rows: list[Signals]) -> Signals:
    return Signals(*(np.vstack([getattr(s, f.name) for s in rows]) for f in fields(Signals)))


def collect(
    articles: Sequence[Article], locale: str, weights: Weights | None = None, place: str = "US"
) -> CvRun:
    """Ask every example question with it hidden from its article (in rounds)."""
    pool = [a for a in articles if a.locale == locale and a.status == "published"]
    rounds = max((len(a.example_questions) for a in pool), default=0)
    questions: list[str] = []
    expected: list[int] = []
    rows: list[Signals] = []
    for j in range(rounds):
        hidden = [
            replace(a, example_questions=a.example_questions[:j] + a.example_questions[j + 1 :])
            for a in pool
        ]
        index = SearchIndex(hidden, weights=weights)
        for i, article in enumerate(pool):
            if j < len(article.example_questions):
                question = article.example_questions[j]
                questions.append(question)
                expected.append(i)
                rows.append(index.signals(question))
    full = SearchIndex(pool, weights=weights)
    negatives = NEGATIVES.get(locale, [])
    jurisdictions = [a.jurisdiction for a in pool]
    return CvRun(
        locale,
        questions,
        np.array(expected, dtype=np.int64),
        _stack(rows),
        _places(questions, jurisdictions, place),
        _stack([full.signals(q) for q in negatives]),
        _places(negatives, jurisdictions, place),
    )


def _best(
    signals: Signals, places: _Places, weights: Weights
) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    scores = blend(signals, weights) * places.factors(weights)
    best = np.argmax(scores, axis=1)
    return best, scores[np.arange(len(best)), best]


def _outcomes(
    run: CvRun, weights: Weights
) -> tuple[NDArray[np.bool_], NDArray[np.float64], NDArray[np.float64]]:
    """(right article first, its score) per question, and the negatives' best scores."""
    best, top = _best(run.signals, run.places, weights)
    _, negative_top = _best(run.negative_signals, run.negative_places, weights)
    return (best == run.expected) & (top > 0), top, negative_top


def score(run: CvRun, weights: Weights, threshold: float) -> Score:
    """The cross-validation score of `run` re-blended with `weights`."""
    best, top = _best(run.signals, run.places, weights)
    right = (best == run.expected) & (top > 0)
    _, negative_top = _best(run.negative_signals, run.negative_places, weights)
    total, negatives = len(run.expected), len(negative_top)
    return Score(
        run.locale,
        total,
        float(right.sum()) / max(total, 1),
        float((right & (top >= threshold)).sum()) / max(total, 1),
        negatives,
        float((negative_top >= threshold).sum()) / max(negatives, 1),
    )


def cross_validate(
    articles: Sequence[Article],
    locale: str,
    threshold: float,
    weights: Weights | None = None,
    place: str = "US",
) -> Score:
    """Leave-one-question-out over the example questions of one locale."""
    return score(collect(articles, locale, weights, place), weights or Weights(), threshold)


def tune(
    articles: Sequence[Article],
    locales: Sequence[str] = ("en", "es"),
    base: Weights | None = None,
    grid: dict[str, Sequence[Any]] | None = None,
    thresholds: Sequence[float] = tuple(np.round(np.arange(0.10, 0.46, 0.01), 2)),
    progress: Callable[[str], None] | None = None,
) -> tuple[Weights, float, list[Score]]:
    """Search `grid` (field name -> values) for the weights and threshold that
    answer the most cross-validation questions right and confidently, in the
    worse of the locales, while answering no negative question confidently.

    Index weights (`_BUILD`) need new indexes; the blend weights re-blend the
    collected signals.
    """
    base = base or Weights()
    grid = grid or {}
    build_keys = [k for k in grid if k in _BUILD]
    blend_keys = [k for k in grid if k not in _BUILD]
    best: tuple[tuple[float, float], Weights, float, list[Score]] | None = None
    for build_values in itertools.product(*(grid[k] for k in build_keys)):
        build: dict[str, Any] = dict(zip(build_keys, build_values, strict=True))
        built = replace(base, **build)
        runs = [collect(articles, locale, built) for locale in locales]
        for blend_values in itertools.product(*(grid[k] for k in blend_keys)):
            mix: dict[str, Any] = dict(zip(blend_keys, blend_values, strict=True))
            weights = replace(built, **mix)
            outcomes = [_outcomes(run, weights) for run in runs]
            for threshold in thresholds:
                # No negative question answered confidently, in any locale.
                if any(
                    float(negative.max(initial=0.0)) >= threshold for _, _, negative in outcomes
                ):
                    continue
                shares = [float((right & (top >= threshold)).mean()) for right, top, _ in outcomes]
                key = (min(shares) + sum(shares) / len(shares), -threshold)
                if best is None or key > best[0]:
                    scores = [score(run, weights, threshold) for run in runs]
                    best = (key, weights, threshold, scores)
                    if progress:
                        progress(
                            f"{threshold:.2f} {weights} " + " | ".join(s.line() for s in scores)
                        )
    if best is None:
        raise ValueError("no weights keep every negative question unanswered")
    return best[1], best[2], best[3]


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


def main(argv: Sequence[str] | None = None) -> int:
    from resources_kb.service import CONFIDENCE_THRESHOLD

    parser = argparse.ArgumentParser(prog="python -m resources_kb.evaluate")
    parser.add_argument("--tune", action="store_true", help="search weights and threshold")
    args = parser.parse_args(argv)
    articles = load_articles()
    if args.tune:
        grid: dict[str, Sequence[Any]] = {
            "bm25": (0.05, 0.1, 0.2),
            "centroid": (0.4, 0.6, 0.8),
            "chars": (0.2, 0.3, 0.4),
            "char_centroid": (0.0, 0.1, 0.2),
            "coverage": (0.75, 1.0, 1.5),
            "named_boost": (1.5, 2.0),
            "other_kind": (0.3, 0.6),
            "body_cover": (0.2, 0.3, 0.4),
        }
        weights, threshold, scores = tune(articles, grid=grid, progress=print)
        print(f"best: threshold {threshold:.2f}, {weights}")
    else:
        weights, threshold = Weights(), CONFIDENCE_THRESHOLD
        scores = [cross_validate(articles, locale, threshold, weights) for locale in ("en", "es")]
    for s in scores:
        print(s.line())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
