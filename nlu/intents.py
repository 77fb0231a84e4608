"""The built-in intent engine: a linear classifier over word and character n-grams.

`harborline nlu train` fits it with scikit-learn and saves only the fitted
numbers (vocabularies, idf, coefficients), keyed by a hash of the training
data. The running service loads those numbers and scores one message with
numpy (nlu.textfeatures), so scikit-learn is never imported at run time.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from bot.types import Intent
from dialogs.normalize import fold
from nlu.rasa_data import DATA_DIR, Example, load_examples
from nlu.textfeatures import Tfidf

__all__ = ["IntentClassifier", "data_hash"]

FEATURES = (("word", (1, 2)), ("char_wb", (2, 5)))
REGULARISATION_C = 20.0


def model_path(cache_dir: Path, root: Path = DATA_DIR) -> Path:
    return cache_dir / f"intents-{data_hash(root)}.npz"


def data_hash(root: Path = DATA_DIR) -> str:
    digest = hashlib.sha256()
    for path in sorted(root.glob("*/nlu.yml")):
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(path.read_bytes())
    # "vocabulary-v2": columns in first-seen order (session 9); older caches retrain.
    digest.update(repr((FEATURES, REGULARISATION_C, "vocabulary-v2")).encode())
    return digest.hexdigest()[:16]


class IntentClassifier:
    def __init__(
        self,
        features: list[Tfidf],
        coef: NDArray[np.floating[Any]],
        intercept: NDArray[np.float64],
        classes: list[str],
        version: str,
    ) -> None:
        self.features = features
        # features x classes. float32 halves the largest array in memory; the
        # scores are still summed in float64.
        self.coef = np.ascontiguousarray(coef, dtype=np.float32)
        self.intercept = intercept
        self.classes = classes
        self.version = version
        self._offsets = np.cumsum([0] + [f.size for f in features])[:-1]

    @classmethod
    def train(cls, examples: Sequence[Example], version: str = "adhoc") -> IntentClassifier:
        # Imported here: training is the only place that needs scikit-learn.
        from scipy import sparse
        from sklearn.linear_model import LogisticRegression

        texts = [fold(e.text) for e in examples]
        features = [Tfidf.fit(texts, kind, span) for kind, span in FEATURES]
        matrix = sparse.hstack([f.transform(texts) for f in features]).tocsr()
        model = LogisticRegression(C=REGULARISATION_C, max_iter=3000)
        model.fit(matrix, [e.intent for e in examples])
        classes = [str(c) for c in model.classes_]
        return cls(features, model.coef_.T, model.intercept_, classes, version)

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        meta = {
            "version": self.version,
            "classes": self.classes,
            "features": [f.state() for f in self.features],
        }
        # Per process: two starting at once (workers, test runners) never share a file.
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        with tmp.open("wb") as handle:
            arrays: dict[str, Any] = {f"idf{i}": f.idf for i, f in enumerate(self.features)}
            arrays.update(meta=np.array(json.dumps(meta)), coef=self.coef, intercept=self.intercept)
            np.savez(handle, **arrays)
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> IntentClassifier:
        with np.load(path, allow_pickle=False) as data:
            meta: dict[str, Any] = json.loads(str(data["meta"]))
            features = [
                Tfidf(
                    state["kind"],
                    (state["ngram_range"][0], state["ngram_range"][1]),
                    state["vocabulary"],
                    data[f"idf{i}"],
                    state["sublinear_tf"],
                )
                for i, state in enumerate(meta["features"])
            ]
            return cls(features, data["coef"], data["intercept"], meta["classes"], meta["version"])

    @classmethod
    def load_or_train(
        cls, cache_dir: Path, root: Path = DATA_DIR, *, in_subprocess: bool = False
    ) -> IntentClassifier | None:
        """The cached model for the current data, training it if needed.

        ``in_subprocess`` trains in a child process, so a server never carries
        scikit-learn in its memory. None when there is no training data at all.
        """
        version = data_hash(root)
        path = model_path(cache_dir, root)
        if not path.exists():
            if in_subprocess:
                command = [sys.executable, "-m", "nlu.intents", str(cache_dir), str(root)]
                subprocess.run(command, check=True)  # noqa: S603 - our own module
            else:
                examples = load_examples("nlu", root)
                if not examples:
                    return None
                cls.train(examples, version).save(path)
        return cls.load(path) if path.exists() else None

    def probabilities(self, text: str) -> NDArray[np.float64]:
        scores = self.intercept.astype(np.float64).copy()
        folded = fold(text)
        for offset, features in zip(self._offsets, self.features, strict=True):
            vector = features.transform_one(folded)
            if len(vector.indices):
                scores += vector.values @ self.coef[vector.indices + offset]
        scores -= scores.max()
        exp = np.exp(scores)
        result: NDArray[np.float64] = exp / exp.sum()
        return result

    def classify(self, text: str) -> Intent:
        if not fold(text):
            return Intent("unknown", 0.0)
        probabilities = self.probabilities(text)
        best = int(probabilities.argmax())
        return Intent(self.classes[best], float(probabilities[best]))


if __name__ == "__main__":
    # python -m nlu.intents CACHE_DIR [DATA_DIR]: train and save (used by load_or_train).
    cache = Path(sys.argv[1])
    data = Path(sys.argv[2]) if len(sys.argv) > 2 else DATA_DIR
    IntentClassifier.load_or_train(cache, data)
