"""The trained layer of the risk screen: a linear model over word and character n-grams.

scikit-learn fits it (``RiskModel.train``, at train time only, in a child
process when a server needs it); the fitted numbers (vocabularies, idf,
coefficients) are saved to an ``.npz`` keyed by a hash of the training data,
and the running service scores a message with ``nlu.textfeatures`` and numpy.

The model predicts a level distribution (none..imminent) and, one-vs-rest,
the categories. A separate binary head, urgent (high or imminent) against the
rest, reads character n-grams across word boundaries besides the words, and
sets how the level distribution splits at ``high`` (session 11: in
leave-one-blind-set-out cross-validation it caught about two points more unseen
urgent wording than the level head at the same false alarms on ordinary and
look-alike messages; see ``UrgentHead``). It never decides alone:
``RiskScreen`` combines it with the lexicon (see ``nlu.risk.screen``).
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from bot.types import RiskLevel
from nlu.risk.examples import (
    DATA_DIR,
    LANGUAGES,
    RiskExample,
    files_hash,
    load_examples,
    split_path,
)
from nlu.risk.normalize import Normalizer
from nlu.textfeatures import PackedVocabulary, SparseVector, Tfidf

__all__ = [
    "CATEGORY_ORDER",
    "ORDINARY_INTENTS",
    "RiskModel",
    "RiskPrediction",
    "data_hash",
    "load_or_train",
    "model_path",
    "ordinary_examples",
    "training_examples",
]

log = logging.getLogger(__name__)

# 2: vocabularies in first-seen order, the same model in every process (session 9).
# 3: the urgent head (session 11).
MODEL_FORMAT = 3
# lbfgs converges on this data where saga stopped at max_iter (same cross-validated scores).
SOLVER = "lbfgs"
FEATURES = (("word", (1, 2)), ("char_wb", (2, 5)))
REGULARISATION_C = 10.0
CATEGORY_C = 10.0
CLASS_WEIGHT = "balanced"
CATEGORY_ORDER = ("suicide", "self_harm", "danger", "medical", "child")
# The urgent head: the level head's word n-grams plus character 3-6-grams across
# word boundaries ("ll m", "e pill") seen in at least two training lines. Chosen by
# leave-one-blind-set-out cross-validation over the burned blind sets
# (scripts/risk_dev/lobo*.py): char 3-6 alone added ~1-2.5 points of unseen urgent
# recall at matched false alarms in every fold; a one-line n-gram costs ~11 MB
# more memory for no recall.
URGENT_CHARS = ("char", (3, 6))
URGENT_MIN_DF = 2
URGENT_C = 10.0
LEVELS = tuple(RiskLevel)
# The classifier reads a bounded head and tail of the normalised text.
_HEAD, _TAIL = 1000, 400


def _clip(text: str) -> str:
    return text if len(text) <= _HEAD + _TAIL else f"{text[:_HEAD]} {text[-_TAIL:]}"


def _default_emoji() -> dict[str, str]:
    from nlu.risk.screen import default_screen

    return dict(default_screen().lexicon.emoji)  # the shared, already loaded lexicon


# Intent training messages (nlu/data/<lang>/nlu.yml) that are not about harm or
# distress; those the lexicon reads as calm join the training data as `none`:
# ordinary questions the classifier must learn not to alarm on.
ORDINARY_INTENTS = frozenset(
    {
        "greeting",
        "goodbye",
        "thanks",
        "affirm",
        "deny",
        "ask_services",
        "ask_legal",
        "ask_work",
        "ask_documents",
        "ask_immigration",
        "ask_privacy",
        "schedule_checkin",
        "cancel_checkin",
        "forget_me",
        "stop",
        "change_language",
        "out_of_scope",
    }
)


def _intent_files() -> list[Path]:
    from nlu.rasa_data import DATA_DIR as INTENT_DIR

    return sorted(INTENT_DIR.glob("*/nlu.yml"))


def ordinary_examples() -> list[RiskExample]:
    """Ordinary questions from the intent training split, as `none` risk examples."""
    from nlu.rasa_data import load_examples as intent_examples
    from nlu.risk.screen import DEFAULT_FILES, RiskScreen

    lexicon = RiskScreen.from_files(DEFAULT_FILES)
    return [
        RiskExample(e.text, RiskLevel.NONE, (), e.language)
        for e in intent_examples("nlu")
        if e.intent in ORDINARY_INTENTS
        and e.language in LANGUAGES
        and lexicon.assess(e.text).level == RiskLevel.NONE
    ]


def training_examples(root: Path = DATA_DIR) -> list[RiskExample]:
    """The risk training split plus ordinary questions; empty without risk data."""
    examples = load_examples("train", root=root)
    return examples + ordinary_examples() if examples else []


def data_hash(root: Path = DATA_DIR) -> str:
    """Identifies a model: the training files, features and settings (never a held-out split).

    The lexicon files count too: they pick which intent messages join as `none`.
    """
    from nlu.risk.screen import DEFAULT_FILES

    settings = repr(
        (MODEL_FORMAT, FEATURES, REGULARISATION_C, CATEGORY_C, CLASS_WEIGHT, CATEGORY_ORDER, SOLVER)
    ) + repr((URGENT_CHARS, URGENT_MIN_DF, URGENT_C))
    emoji = json.dumps(_default_emoji(), sort_keys=True)
    paths = [split_path("train", lang, root) for lang in LANGUAGES]
    paths += _intent_files() + [Path(p) for p in DEFAULT_FILES]
    return files_hash(paths, settings, emoji, repr(sorted(ORDINARY_INTENTS)))


def model_path(cache_dir: Path, root: Path = DATA_DIR) -> Path:
    return Path(cache_dir) / f"risk-{data_hash(root)}.npz"


@dataclass(frozen=True, slots=True)
class UrgentHead:
    """P(high or imminent) from a logistic model over words and character n-grams.

    ``coef`` holds the word block (the level head's word vocabulary) then the
    character block (``chars``'s vocabulary).
    """

    chars: Tfidf
    coef: NDArray[np.float32]
    intercept: float
    words: int

    def probability(self, words: SparseVector, clean: str) -> float:
        score = self.intercept
        if len(words.indices):
            score += float(words.values @ self.coef[words.indices])
        chars = self.chars.transform_one(clean)
        if len(chars.indices):
            score += float(chars.values @ self.coef[chars.indices + self.words])
        return float(1.0 / (1.0 + np.exp(-np.clip(score, -30.0, 30.0))))


def _split_at_high(levels: NDArray[np.float64], urgent: float) -> NDArray[np.float64]:
    """The level distribution with P(level >= high) set to ``urgent``.

    Each side keeps its own shape: the level head still says how likely
    imminent is against high, and moderate against none.
    """
    high = int(RiskLevel.HIGH)
    below, above = levels[:high], levels[high:]
    below = below / below.sum() if below.sum() > 0 else np.full(len(below), 1 / len(below))
    above = above / above.sum() if above.sum() > 0 else np.full(len(above), 1 / len(above))
    return np.concatenate([below * (1.0 - urgent), above * urgent])


@dataclass(frozen=True, slots=True)
class RiskPrediction:
    """Level probabilities (indexed by ``RiskLevel``) and category probabilities."""

    levels: tuple[float, ...]
    categories: Mapping[str, float]

    def at_least(self, level: RiskLevel) -> float:
        """P(level >= ``level``)."""
        return float(sum(self.levels[int(level) :]))

    @property
    def level(self) -> RiskLevel:
        """The ordinal median: the highest level L with P(>= L) >= 0.5."""
        best = RiskLevel.NONE
        for level in LEVELS:
            if self.at_least(level) >= 0.5:
                best = level
        return best


class RiskModel:
    def __init__(
        self,
        features: list[Tfidf],
        coef: NDArray[np.floating[Any]],
        intercept: NDArray[np.float64],
        categories: Sequence[str],
        emoji: Mapping[str, str],
        version: str,
        urgent: UrgentHead | None = None,
    ) -> None:
        # One matrix: the first len(LEVELS) columns are the multinomial level
        # head, the rest one binary column per category.
        self.features = features
        self.urgent = urgent
        # float32 halves the largest array in memory; scores are summed in float64.
        self.coef = np.ascontiguousarray(coef, dtype=np.float32)
        self.intercept = np.asarray(intercept, dtype=np.float64)
        self.categories = tuple(categories)
        self.emoji = dict(emoji)
        self.version = version
        self._normalize = Normalizer(self.emoji)
        self._offsets = np.cumsum([0] + [f.size for f in features])[:-1]
        if self.coef.shape[1] != len(LEVELS) + len(self.categories):
            raise ValueError("coefficient columns do not match levels and categories")
        if urgent is not None and (features[0].kind != "word" or urgent.words != features[0].size):
            raise ValueError("the urgent head's word block does not match the word features")

    # --- training (scikit-learn, train time only) -------------------------------
    @classmethod
    def train(
        cls,
        examples: Sequence[RiskExample],
        version: str = "adhoc",
        emoji: Mapping[str, str] | None = None,
    ) -> RiskModel:
        # Imported here: training is the only place that needs scikit-learn.
        from scipy import sparse

        emoji = dict(emoji if emoji is not None else _default_emoji())
        normalize = Normalizer(emoji)
        texts = [_clip(normalize(e.text)) for e in examples]
        labels = np.array([int(e.level) for e in examples])
        if len(set(labels.tolist())) < 2:
            raise ValueError("training needs examples of at least two levels")
        features = [Tfidf.fit(texts, kind, span) for kind, span in FEATURES]
        blocks = [f.transform(texts) for f in features]
        matrix = sparse.hstack(blocks).tocsr()
        size = matrix.shape[1]
        coef = np.zeros((size, len(LEVELS) + len(CATEGORY_ORDER)))
        intercept = np.full(len(LEVELS) + len(CATEGORY_ORDER), -30.0)
        head = _logistic(REGULARISATION_C)
        head.fit(matrix, labels)
        for row, cls_label in enumerate(head.classes_):
            coef[:, int(cls_label)] = head.coef_[row]
            intercept[int(cls_label)] = head.intercept_[row]
        for j, category in enumerate(CATEGORY_ORDER):
            target = np.array([category in e.categories for e in examples], dtype=int)
            column = len(LEVELS) + j
            if target.sum() == 0:
                continue  # intercept stays very negative: probability ~0
            if target.sum() == len(target):
                intercept[column] = 30.0
                continue
            binary = _logistic(CATEGORY_C)
            binary.fit(matrix, target)
            coef[:, column] = binary.coef_[0]
            intercept[column] = binary.intercept_[0]
        urgent = _train_urgent(texts, labels, blocks[0])  # the word block, shared
        return cls(features, coef, intercept, CATEGORY_ORDER, emoji, version, urgent)

    # --- persistence -------------------------------------------------------------
    def save(self, path: Path) -> None:
        if self.urgent is None:
            raise ValueError("a model without its urgent head is not saved")
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        meta = {
            "format": MODEL_FORMAT,
            "version": self.version,
            "categories": list(self.categories),
            "emoji": self.emoji,
            "features": [f.state() for f in self.features],
            "urgent": self.urgent.chars.state(),
        }
        arrays: dict[str, Any] = {f"idf{i}": f.idf for i, f in enumerate(self.features)}
        arrays.update(meta=np.array(json.dumps(meta)), coef=self.coef, intercept=self.intercept)
        packed = self.urgent.chars.vocabulary
        assert isinstance(packed, PackedVocabulary)
        arrays.update(
            urgent_grams=packed.grams,
            urgent_columns=packed.columns,
            urgent_idf=self.urgent.chars.idf,
            urgent_coef=self.urgent.coef,
            urgent_intercept=np.array([self.urgent.intercept]),
        )
        # Per process: two starting at once (workers, test runners) never share a file.
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        with tmp.open("wb") as handle:
            np.savez(handle, **arrays)
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> RiskModel:
        with np.load(Path(path), allow_pickle=False) as data:
            meta: dict[str, Any] = json.loads(str(data["meta"]))
            if meta.get("format") != MODEL_FORMAT:
                raise ValueError(f"{path}: unsupported risk model format {meta.get('format')!r}")
            features = [_tfidf(state, data[f"idf{i}"]) for i, state in enumerate(meta["features"])]
            vocabulary = PackedVocabulary(data["urgent_grams"], data["urgent_columns"])
            chars = _tfidf({**meta["urgent"], "vocabulary": vocabulary}, data["urgent_idf"])
            urgent = UrgentHead(
                chars,
                np.ascontiguousarray(data["urgent_coef"], dtype=np.float32),
                float(data["urgent_intercept"][0]),
                features[0].size,
            )
            return cls(
                features,
                data["coef"],
                data["intercept"],
                meta["categories"],
                meta["emoji"],
                meta["version"],
                urgent,
            )

    # --- scoring (numpy only) -----------------------------------------------------
    def predict_normalized(self, clean: str) -> RiskPrediction:
        """Score text already folded by the risk ``Normalizer``."""
        scores = self.intercept.copy()
        clean = _clip(clean)
        vectors = [features.transform_one(clean) for features in self.features]
        for offset, vector in zip(self._offsets, vectors, strict=True):
            if len(vector.indices):
                scores += vector.values @ self.coef[vector.indices + offset]
        head = scores[: len(LEVELS)]
        exp = np.exp(head - head.max())
        levels = exp / exp.sum()
        if self.urgent is not None:
            levels = _split_at_high(levels, self.urgent.probability(vectors[0], clean))
        cats = 1.0 / (1.0 + np.exp(-np.clip(scores[len(LEVELS) :], -30.0, 30.0)))
        return RiskPrediction(
            tuple(float(p) for p in levels),
            {c: float(p) for c, p in zip(self.categories, cats, strict=True)},
        )

    def predict(self, text: str) -> RiskPrediction:
        return self.predict_normalized(self._normalize(text))


def _logistic(c: float) -> Any:
    """A logistic regression as every head here is fitted (scikit-learn, train time only)."""
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(
        C=c, class_weight=CLASS_WEIGHT, solver=SOLVER, tol=1e-4, max_iter=20000, random_state=0
    )


def _tfidf(state: dict[str, Any], idf: NDArray[np.float64]) -> Tfidf:
    low, high = state["ngram_range"]
    return Tfidf(state["kind"], (low, high), state["vocabulary"], idf, state["sublinear_tf"])


def _train_urgent(texts: Sequence[str], labels: NDArray[np.int64], words: Any) -> UrgentHead:
    """Fit the urgent head on texts already normalised and clipped (scikit-learn)."""
    from scipy import sparse

    kind, span = URGENT_CHARS
    chars = Tfidf.fit(texts, kind, span, min_df=URGENT_MIN_DF)
    matrix = sparse.hstack([words, chars.transform(texts)]).tocsr()
    target = (labels >= int(RiskLevel.HIGH)).astype(int)
    head = _logistic(URGENT_C)
    head.fit(matrix, target)
    coef = np.ascontiguousarray(head.coef_[0], dtype=np.float32)
    return UrgentHead(chars.packed(), coef, float(head.intercept_[0]), words.shape[1])


def load_or_train(
    cache_dir: Path, root: Path = DATA_DIR, *, in_subprocess: bool = False
) -> RiskModel | None:
    """The cached model for the current training data, training it when missing.

    ``in_subprocess`` trains in a child process so a server never carries
    scikit-learn; a failure there (or an unreadable cache file) is logged and
    gives None, and the screen keeps working on the lexicon alone. In-process
    training errors propagate (``harborline nlu train`` should see them).
    None also when there is no training data.
    """
    path = model_path(cache_dir, root)
    if not path.exists():
        if in_subprocess:
            command = [sys.executable, "-m", "nlu.risk.model", str(cache_dir), str(root)]
            try:
                subprocess.run(command, check=True)  # noqa: S603 - our own module
            except (OSError, subprocess.CalledProcessError) as exc:
                log.warning("risk model training failed (%s); lexicon only", type(exc).__name__)
                return None
        else:
            examples = training_examples(root)
            if not examples:
                return None
            RiskModel.train(examples, version=data_hash(root)).save(path)
    if not path.exists():
        return None
    try:
        return RiskModel.load(path)
    except (OSError, ValueError, KeyError) as exc:
        log.warning("risk model %s unreadable (%s); lexicon only", path.name, type(exc).__name__)
        return None


if __name__ == "__main__":
    # python -m nlu.risk.model CACHE_DIR [DATA_DIR]: train and save (used by load_or_train).
    load_or_train(Path(sys.argv[1]), Path(sys.argv[2]) if len(sys.argv) > 2 else DATA_DIR)
