"""Word and character n-gram TF-IDF without scikit-learn at run time.

scikit-learn trains the intent model (`harborline nlu train`), but importing it
costs ~70 MB and its per-call validation costs milliseconds. The running
service needs only the fitted numbers, so this module re-implements the two
analyzers we use exactly as scikit-learn defines them (a test compares them
on arbitrary text) and applies vocabulary, idf and l2 normalisation itself.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    from scipy import sparse

__all__ = [
    "Analyzer",
    "PackedVocabulary",
    "SparseVector",
    "Tfidf",
    "char_ngrams",
    "char_wb_ngrams",
    "make_analyzer",
    "word_ngrams",
]

Analyzer = Callable[[str], list[str]]
_WORD = re.compile(r"(?u)\b\w\w+\b")
_WHITE_SPACES = re.compile(r"\s\s+")


def char_wb_ngrams(text: str, low: int, high: int) -> list[str]:
    """sklearn's analyzer='char_wb' (lowercase=True)."""
    grams: list[str] = []
    for word in text.lower().split():
        padded = f" {word} "
        length = len(padded)
        for n in range(low, high + 1):
            if length <= n:  # A word no longer than n is counted once, whole.
                grams.append(padded)
                break
            grams.extend([padded[i : i + n] for i in range(length - n + 1)])
    return grams


def char_ngrams(text: str, low: int, high: int) -> list[str]:
    """sklearn's analyzer='char' (lowercase=True): n-grams across word boundaries."""
    text = _WHITE_SPACES.sub(" ", text.lower())
    length = len(text)
    grams: list[str] = []
    for n in range(low, min(high + 1, length + 1)):
        grams.extend([text[i : i + n] for i in range(length - n + 1)])
    return grams


def word_ngrams(text: str, low: int, high: int) -> list[str]:
    """sklearn's analyzer='word' with the default token pattern (lowercase=True)."""
    tokens = _WORD.findall(text.lower())
    if high == 1:
        return tokens
    grams = list(tokens) if low == 1 else []
    start = max(low, 2)
    for n in range(start, min(high + 1, len(tokens) + 1)):
        grams.extend(" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1))
    return grams


def make_analyzer(kind: str, low: int, high: int) -> Analyzer:
    if kind == "char_wb":
        return lambda text: char_wb_ngrams(text, low, high)
    if kind == "char":
        return lambda text: char_ngrams(text, low, high)
    if kind == "word":
        return lambda text: word_ngrams(text, low, high)
    raise ValueError(f"unknown analyzer {kind!r}")


@dataclass(frozen=True, slots=True)
class SparseVector:
    indices: NDArray[np.int64]
    values: NDArray[np.float64]


class PackedVocabulary(Mapping[str, int]):
    """A vocabulary as one sorted numpy array of n-grams and their columns.

    About 30 bytes an n-gram against about 100 in a dict: 130,000 character
    n-grams take 3 MB, not 14. Looking up a message's n-grams is one vectorised
    sort and search, somewhat slower than dict lookups (~0.2 ms more for 300
    characters); worth it for large vocabularies of short n-grams.
    """

    def __init__(self, grams: NDArray[np.str_], columns: NDArray[np.int64]) -> None:
        order = np.argsort(grams, kind="stable")
        self.grams = np.ascontiguousarray(grams[order])
        self.columns = np.ascontiguousarray(columns[order], dtype=np.int64)

    @classmethod
    def from_dict(cls, vocabulary: Mapping[str, int]) -> PackedVocabulary:
        grams = np.array(list(vocabulary), dtype=str)
        return cls(grams, np.fromiter(vocabulary.values(), np.int64, len(vocabulary)))

    def lookup(self, grams: list[str]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """The columns of the known n-grams among `grams`, and how often each occurs."""
        if not grams or not len(self.grams):
            return np.empty(0, np.int64), np.empty(0, np.int64)
        # No dtype given: a longer n-gram than any known is kept whole, not cut to match.
        unique, counts = np.unique(np.array(grams), return_counts=True)
        places = np.minimum(np.searchsorted(self.grams, unique), len(self.grams) - 1)
        known = self.grams[places] == unique
        return self.columns[places[known]], counts[known]

    def __getitem__(self, gram: str) -> int:
        found, _ = self.lookup([gram])
        if not len(found):
            raise KeyError(gram)
        return int(found[0])

    def __iter__(self) -> Iterator[str]:
        return iter(self.grams[np.argsort(self.columns)].tolist())

    def __len__(self) -> int:
        return len(self.grams)


class Tfidf:
    """A fitted tf-idf transform (smooth idf, optional sublinear tf, l2 norm)."""

    def __init__(
        self,
        kind: str,
        ngram_range: tuple[int, int],
        vocabulary: dict[str, int] | PackedVocabulary,
        idf: NDArray[np.float64],
        sublinear_tf: bool = True,
    ) -> None:
        self.kind = kind
        self.ngram_range = ngram_range
        self.analyze = make_analyzer(kind, *ngram_range)
        self.vocabulary = vocabulary
        self.idf = np.asarray(idf, dtype=np.float64)
        self.sublinear_tf = sublinear_tf

    @property
    def size(self) -> int:
        return len(self.vocabulary)

    @classmethod
    def fit(
        cls,
        documents: Iterable[str],
        kind: str,
        ngram_range: tuple[int, int],
        sublinear_tf: bool = True,
        min_df: int = 1,
    ) -> Tfidf:
        """Fit on `documents`; n-grams in fewer than `min_df` of them are dropped
        (sklearn's min_df as a count)."""
        analyze = make_analyzer(kind, *ngram_range)
        vocabulary: dict[str, int] = {}
        document_frequency: Counter[int] = Counter()
        count = 0
        for document in documents:
            count += 1
            # First-seen order, not a set's: a set of strings iterates in an order
            # that changes with each process's hash seed, and so did the columns,
            # the solver's path and, for messages near a threshold, the verdict.
            for gram in dict.fromkeys(analyze(document)):
                index = vocabulary.setdefault(gram, len(vocabulary))
                document_frequency[index] += 1
        if min_df > 1:
            kept = [g for g, index in vocabulary.items() if document_frequency[index] >= min_df]
            frequency = {gram: document_frequency[vocabulary[gram]] for gram in kept}
            vocabulary = {gram: index for index, gram in enumerate(kept)}
            document_frequency = Counter({vocabulary[g]: n for g, n in frequency.items()})
        df = np.zeros(len(vocabulary))
        for index, value in document_frequency.items():
            df[index] = value
        idf = np.log((1 + count) / (1 + df)) + 1.0
        return cls(kind, ngram_range, vocabulary, idf, sublinear_tf)

    def packed(self) -> Tfidf:
        """The same transform over a ``PackedVocabulary`` (less memory)."""
        vocabulary = self.vocabulary
        if not isinstance(vocabulary, PackedVocabulary):
            vocabulary = PackedVocabulary.from_dict(vocabulary)
        return Tfidf(self.kind, self.ngram_range, vocabulary, self.idf, self.sublinear_tf)

    def transform_one(self, text: str) -> SparseVector:
        if isinstance(self.vocabulary, PackedVocabulary):
            indices, found = self.vocabulary.lookup(self.analyze(text))
            tf = found.astype(np.float64)
        else:
            indices, tf = self._lookup(self.vocabulary, text)
        if not len(indices):
            return SparseVector(np.empty(0, np.int64), np.empty(0, np.float64))
        if self.sublinear_tf:
            tf = 1.0 + np.log(tf)
        values = tf * self.idf[indices]
        norm = float(np.sqrt(values @ values))
        return SparseVector(indices, values / norm if norm else values)

    def _lookup(
        self, vocabulary: dict[str, int], text: str
    ) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
        get = vocabulary.get
        found: list[int] = []
        counts: list[int] = []
        for gram, count in Counter(self.analyze(text)).items():
            index = get(gram)
            if index is not None:
                found.append(index)
                counts.append(count)
        return np.array(found, dtype=np.int64), np.array(counts, dtype=np.float64)

    def transform_entries(
        self, texts: Sequence[str]
    ) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]:
        """The rows of `texts` as (row, column, value) arrays, without scipy."""
        vectors = [self.transform_one(text) for text in texts]
        lengths = [len(v.indices) for v in vectors]
        rows = np.repeat(np.arange(len(vectors), dtype=np.int64), lengths)
        if not vectors:
            return rows, np.empty(0, np.int64), np.empty(0, np.float64)
        cols = np.concatenate([v.indices for v in vectors]).astype(np.int64)
        vals = np.concatenate([v.values for v in vectors]).astype(np.float64)
        return rows, cols, vals

    def transform(self, texts: Sequence[str]) -> sparse.csr_matrix:
        # Imported here: scipy.sparse costs ~20 MB, and only training needs it.
        from scipy import sparse

        rows, cols, vals = self.transform_entries(texts)
        return sparse.csr_matrix((vals, (rows, cols)), shape=(len(texts), self.size))

    def state(self) -> dict[str, object]:
        """The settings and, for a dict vocabulary, the vocabulary (JSON-ready)."""
        state: dict[str, object] = {
            "kind": self.kind,
            "ngram_range": list(self.ngram_range),
            "sublinear_tf": self.sublinear_tf,
        }
        if not isinstance(self.vocabulary, PackedVocabulary):
            state["vocabulary"] = self.vocabulary
        return state
