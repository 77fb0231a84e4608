"""The built-in intent engine: a linear classifier over word and character n-grams.

Trained from the Rasa-format data by `harborline nlu train`, cached on disk by
a hash of that data, so start-up loads a ready model in a fraction of a second.
"""

from __future__ import annotations

import hashlib
import pickle
from collections.abc import Sequence
from pathlib import Path

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline

from bot.types import Intent
from dialogs.normalize import fold
from nlu.rasa_data import DATA_DIR, Example, load_examples

__all__ = ["IntentClassifier", "data_hash"]


def data_hash(root: Path = DATA_DIR) -> str:
    digest = hashlib.sha256()
    for path in sorted(root.glob("*/nlu.yml")):
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _build() -> Pipeline:
    features = FeatureUnion(
        [
            ("words", TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=1)),
            (
                "chars",
                TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True),
            ),
        ]
    )
    classifier = LogisticRegression(C=20.0, max_iter=2000)
    return Pipeline([("features", features), ("clf", classifier)])


class IntentClassifier:
    def __init__(self, model: Pipeline, version: str) -> None:
        self.model = model
        self.version = version

    @classmethod
    def train(cls, examples: Sequence[Example], version: str = "adhoc") -> IntentClassifier:
        model = _build()
        model.fit([fold(e.text) for e in examples], [e.intent for e in examples])
        return cls(model, version)

    @classmethod
    def load_or_train(cls, cache_dir: Path, root: Path = DATA_DIR) -> IntentClassifier | None:
        """The cached model for the current data, training it if needed.

        None when there is no training data at all.
        """
        version = data_hash(root)
        path = cache_dir / f"intents-{version}.pkl"
        if path.exists():
            with path.open("rb") as handle:
                # Our own file, written below from our own data.
                model = pickle.load(handle)  # noqa: S301
            return cls(model, version)
        examples = load_examples("nlu", root)
        if not examples:
            return None
        trained = cls.train(examples, version)
        cache_dir.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        with tmp.open("wb") as handle:
            pickle.dump(trained.model, handle)
        tmp.replace(path)
        return trained

    def classify(self, text: str) -> Intent:
        folded = fold(text)
        if not folded:
            return Intent("unknown", 0.0)
        probabilities = self.model.predict_proba([folded])[0]
        best = int(probabilities.argmax())
        return Intent(str(self.model.classes_[best]), float(probabilities[best]))
