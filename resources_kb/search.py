"""Ranked retrieval over published articles of one locale.

Three signals, blended into one score between 0 and 1:

- BM25 over word stems plus synonym concepts ("abogada" and "attorney" both
  add ``~lawyer``), over titles and example questions (counted twice), the
  short answer, topics and the body;
- the best character n-gram cosine to a title or example question, which
  tolerates misspellings ("emergancy", "traficking");
- the best word cosine to a title or example question (a nearest paraphrase).

Jurisdiction: the index holds every jurisdiction of the locale. Articles for
the place the question names (or, when it names none, the contact's place),
its country and ``any`` score in full; others are damped, so a US contact
asking about the UK still finds the UK article, but a UK article never
outranks a US one for a US contact's general question.

Built once from a list of articles; a query is sparse-matrix arithmetic, so
thousands of articles stay within milliseconds.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from numpy.typing import NDArray
from scipy import sparse

from dialogs.normalize import fold
from nlu.textfeatures import SparseVector, Tfidf
from resources_kb.content import Article
from resources_kb.lexicon import concepts, find_place, place_words, stem

__all__ = ["Hit", "SearchIndex", "Weights", "applies", "tokens"]

# Words that carry no meaning for matching, in both languages.
_STOP = frozenset(
    """a an the i im me my you your is are am be to of in on for and or do does can
    could what how where who when with it this that there get have has need want
    will would should if so at by from about just was were been they them their he
    she his her we our us its dont cant
    el la los las un una yo me mi mis tu tus es son soy ser de del en por para y o
    que como donde quien cuando con lo esto eso hay tengo tiene necesito quiero puedo
    se le les al su sus te ti muy mas pero ya si no esta estoy estan fue""".split()
)


@dataclass(frozen=True, slots=True)
class Weights:
    """Blend of the three signals and the damping of other places' articles."""

    bm25: float = 0.6
    chars: float = 0.2
    words: float = 0.2
    bm25_half: float = 6.0  # BM25 score that maps to 0.5
    other_place: float = 0.6
    body: bool = True
    coverage: float = 0.5  # exponent: how much unmatched query words lower the score


def tokens(text: str) -> list[str]:
    return list(_tokens(text))


@lru_cache(maxsize=20_000)
def _tokens(text: str) -> tuple[str, ...]:
    folded = fold(text)
    # Single letters matter only in "T visa" and "U visa".
    words = [stem(w) for w in folded.split() if w not in _STOP and (len(w) > 1 or w in "tu")]
    return (*words, *concepts(folded))


def applies(article_jurisdiction: str, place: str) -> bool:
    """Whether an article for `article_jurisdiction` fits someone in `place`."""
    if article_jurisdiction in ("any", place):
        return True
    country = place.split("-", 1)[0]
    return article_jurisdiction == country


@dataclass(frozen=True, slots=True)
class Hit:
    article: Article
    score: float


class SearchIndex:
    def __init__(
        self,
        articles: Sequence[Article],
        k1: float = 1.4,
        b: float = 0.6,
        weights: Weights | None = None,
    ) -> None:
        self.articles = list(articles)
        self.weights = weights or Weights()
        docs = [self._document(a) for a in self.articles]
        self._vocabulary: dict[str, int] = {}
        for doc in docs:
            for token in doc:
                self._vocabulary.setdefault(token, len(self._vocabulary))
        tf = _term_counts(docs, self._vocabulary)
        # Column slices per query: CSC makes them cheap.
        self._bm25_columns = _bm25_weights(tf, k1, b).tocsc()
        self._present = (tf > 0).astype(np.float64).tocsc()
        df = np.bincount(tf.indices, minlength=tf.shape[1])
        n = len(self.articles)
        self._idf = np.log(1 + (n - df + 0.5) / (df + 0.5))
        self._unknown_idf = float(np.log(1 + (n + 0.5) / 0.5))
        # Paraphrases: one row per title/question, mapped back to its article.
        phrases, owners = [], []
        for i, article in enumerate(self.articles):
            for phrase in (article.title, *article.example_questions):
                phrases.append(fold(phrase))
                owners.append(i)
        self._chars = Tfidf.fit(phrases, "char_wb", (3, 5))
        self._phrase_chars = self._chars.transform(phrases).tocsc()
        counts = _term_counts([tokens(p) for p in phrases], self._vocabulary)
        df = np.bincount(counts.indices, minlength=counts.shape[1])
        self._word_idf = np.log((1 + len(phrases)) / (1 + df)) + 1.0
        counts.data = (1.0 + np.log(counts.data)) * self._word_idf[counts.indices]
        self._phrase_words = _l2_rows(counts).tocsc()
        self._owners = np.array(owners, dtype=np.int64)
        self._jurisdictions = [a.jurisdiction for a in self.articles]
        self._damping: dict[str, NDArray[np.float64]] = {}

    def _document(self, article: Article) -> list[str]:
        # Titles and example questions are the best evidence: count them twice.
        strong = [t for text in (article.title, *article.example_questions) for t in _tokens(text)]
        doc = [*strong, *strong, *_tokens(article.short_answer), *_tokens(" ".join(article.topics))]
        if self.weights.body:
            doc.extend(_tokens(article.body))
        return doc

    def search(self, query: str, place: str = "any", limit: int = 3) -> list[Hit]:
        """Best articles for `query` asked from `place` (a place named in the query wins)."""
        if not self.articles or not fold(query):
            return []
        scores = self.scores(query) * self._damp(find_place(query) or place)
        top = np.argpartition(-scores, min(limit, len(scores) - 1))[: limit + 1]
        order = top[np.argsort(-scores[top], kind="stable")][:limit]
        return [Hit(self.articles[i], float(scores[i])) for i in order if scores[i] > 0]

    def _damp(self, place: str) -> NDArray[np.float64]:
        if place not in self._damping:
            fits = np.array([applies(j, place) for j in self._jurisdictions], dtype=bool)
            self._damping[place] = np.where(fits, 1.0, self.weights.other_place)
        return self._damping[place]

    def scores(self, query: str) -> NDArray[np.float64]:
        """Relevance of every article to `query`, before jurisdiction damping."""
        w = self.weights
        query_tokens = tokens(query)
        terms = [self._vocabulary[t] for t in query_tokens if t in self._vocabulary]
        bm25 = np.zeros(len(self.articles))
        if terms:
            # Repeated query words count again, as in BM25 with query term frequency.
            bm25 = np.asarray(self._bm25_columns[:, terms].sum(axis=1)).ravel()
            bm25 = bm25 / (bm25 + w.bm25_half)  # squash to 0..1
        chars = self._nearest(self._phrase_chars, self._chars.transform_one(fold(query)))
        words = self._nearest(self._phrase_words, self._word_vector(terms))
        blend = w.bm25 * bm25 + w.chars * chars + w.words * words
        if w.coverage and query_tokens:
            # Share of the question's weight (rare words weigh more) an article covers.
            # A place the article does not name is no evidence against it.
            places = {stem(w) for w in place_words(fold(query))}
            unknown = [t for t in query_tokens if t not in self._vocabulary and t not in places]
            total = sum(self._idf[t] for t in terms) + self._unknown_idf * len(unknown)
            covered = np.zeros(len(self.articles))
            if terms:
                covered = np.asarray(self._present[:, terms] @ self._idf[terms]).ravel()
            # A question made only of place names has nothing to cover: leave it be.
            if total > 0:
                blend = blend * (covered / total) ** w.coverage
        return np.asarray(blend)

    def _word_vector(self, terms: list[int]) -> SparseVector:
        counts = Counter(terms)
        indices = np.fromiter(counts, np.int64, len(counts))
        tf = np.fromiter(counts.values(), np.float64, len(counts))
        values = (1.0 + np.log(tf)) * self._word_idf[indices] if len(indices) else tf
        norm = float(np.sqrt(values @ values))
        return SparseVector(indices, values / norm if norm else values)

    def _nearest(self, matrix: sparse.csc_matrix, vector: SparseVector) -> NDArray[np.float64]:
        best = np.zeros(len(self.articles))
        if len(vector.indices):
            sims = matrix[:, vector.indices] @ vector.values
            np.maximum.at(best, self._owners, np.asarray(sims).ravel())
        return best


def _term_counts(docs: list[list[str]], vocabulary: dict[str, int]) -> sparse.csr_matrix:
    rows, cols, vals = [], [], []
    for row, doc in enumerate(docs):
        for token, count in Counter(doc).items():
            rows.append(row)
            cols.append(vocabulary[token])
            vals.append(float(count))
    shape = (len(docs), max(len(vocabulary), 1))
    return sparse.csr_matrix((vals, (rows, cols)), shape=shape)


def _l2_rows(matrix: sparse.csr_matrix) -> sparse.csr_matrix:
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    return sparse.csr_matrix(sparse.diags(1.0 / norms) @ matrix)


def _bm25_weights(tf: sparse.csr_matrix, k1: float, b: float) -> sparse.csr_matrix:
    n_docs = tf.shape[0]
    lengths = np.asarray(tf.sum(axis=1)).ravel()
    avg = lengths.mean() if n_docs else 1.0
    df = np.bincount(tf.indices, minlength=tf.shape[1])
    idf = np.log(1 + (n_docs - df + 0.5) / (df + 0.5))
    rows = np.repeat(np.arange(n_docs), np.diff(tf.indptr))
    norm = k1 * (1 - b + b * lengths[rows] / (avg or 1.0))
    data = tf.data * (k1 + 1) / (tf.data + norm) * idf[tf.indices]
    return sparse.csr_matrix((data, tf.indices, tf.indptr), shape=tf.shape)
