"""Ranked retrieval over published articles: BM25 on words plus character
n-gram similarity to titles and example questions (robust to misspellings).

Built once from a list of articles; queries are pure CPU work on sparse
matrices, so a query over thousands of articles stays in milliseconds.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import sparse

from dialogs.normalize import fold
from nlu.textfeatures import Tfidf
from resources_kb.content import Article

__all__ = ["Hit", "SearchIndex"]

# Words that carry no meaning for matching, in both languages.
_STOP = frozenset(
    """a an the i me my you your is are am be to of in on for and or do does can
    could what how where who when with it this that there get have has need want
    el la los las un una yo me mi mis tu tus es son soy ser de del en por para y o
    que como donde quien cuando con lo esto eso hay tengo tiene necesito quiero puedo
    se le les al su sus""".split()
)


def _tokens(text: str) -> list[str]:
    # Crude stemming (first 6 letters) merges "visas"/"visa", "trabajo"/"trabajar".
    return [w[:6] for w in fold(text).split() if w not in _STOP and len(w) > 1]


@dataclass(frozen=True, slots=True)
class Hit:
    article: Article
    score: float


class SearchIndex:
    def __init__(self, articles: Sequence[Article], k1: float = 1.4, b: float = 0.6) -> None:
        self.articles = list(articles)
        docs = [_tokens(self._document(a)) for a in self.articles]
        self._vocabulary: dict[str, int] = {}
        for tokens in docs:
            for token in tokens:
                self._vocabulary.setdefault(token, len(self._vocabulary))
        tf = _term_counts(docs, self._vocabulary)
        # Column slices per query: CSC makes them cheap.
        self._bm25_columns = _bm25_weights(tf, k1, b).tocsc()
        # Paraphrases: one row per title/question, mapped back to its article.
        phrases, owners = [], []
        for i, article in enumerate(self.articles):
            for phrase in (article.title, *article.example_questions):
                phrases.append(fold(phrase))
                owners.append(i)
        self._chars = Tfidf.fit(phrases, "char_wb", (3, 5))
        self._phrase_matrix = self._chars.transform(phrases).tocsc()
        self._owners = np.array(owners, dtype=np.int64)

    @staticmethod
    def _document(article: Article) -> str:
        # Titles and example questions are the best evidence: count them twice.
        strong = " ".join((article.title, *article.example_questions))
        return " ".join((strong, strong, article.short_answer, " ".join(article.topics)))

    def search(self, query: str, limit: int = 3) -> list[Hit]:
        if not self.articles or not fold(query):
            return []
        scores = self._blend(query)
        order = np.argsort(-scores)[:limit]
        return [Hit(self.articles[i], float(scores[i])) for i in order if scores[i] > 0]

    def _blend(self, query: str) -> NDArray[np.float64]:
        terms = [self._vocabulary[t] for t in _tokens(query) if t in self._vocabulary]
        bm25 = np.zeros(len(self.articles))
        if terms:
            # Repeated query words count again, as in BM25 with query term frequency.
            bm25 = np.asarray(self._bm25_columns[:, terms].sum(axis=1)).ravel()
            # Squash to 0..1 so it blends with cosine similarity.
            bm25 = bm25 / (bm25 + 6.0)
        vector = self._chars.transform_one(fold(query))
        sims = self._phrase_matrix[:, vector.indices] @ vector.values
        best = np.zeros(len(self.articles))
        np.maximum.at(best, self._owners, np.asarray(sims).ravel())
        return np.asarray(0.5 * bm25 + 0.5 * best)


def _term_counts(docs: list[list[str]], vocabulary: dict[str, int]) -> sparse.csr_matrix:
    rows, cols, vals = [], [], []
    for row, tokens in enumerate(docs):
        for token, count in Counter(tokens).items():
            rows.append(row)
            cols.append(vocabulary[token])
            vals.append(float(count))
    shape = (len(docs), max(len(vocabulary), 1))
    return sparse.csr_matrix((vals, (rows, cols)), shape=shape)


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
