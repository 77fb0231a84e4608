"""Ranked retrieval over published articles of one locale.

Four signals per article, blended into one score between 0 and 1:

- BM25F over word stems plus synonym concepts ("abogada" and "attorney" both
  add ``~lawyer``), with one weight per field: title, example questions, short
  answer, topics and body;
- the word cosine to the article's centroid (the mean of its title and example
  questions as tf-idf vectors): what the article is asked about as a whole;
- the best word cosine to one title or example question (a near paraphrase);
- the best character n-gram cosine to one title or example question, which
  tolerates misspellings ("emergancy", "traficking").

The blend is scaled by coverage: the share of the question's weight (rare
words weigh more) that the article's words cover, so a question about
something no article mentions stays below the confidence threshold.

Jurisdiction: the index holds every jurisdiction of the locale. Articles for
the place the question names (or, when it names none, the contact's place),
its country and ``any`` score in full; others are damped, so a US contact
asking about the UK still finds the UK article, but a UK article never
outranks a US one for a US contact's general question.

Built once from a list of articles into term-major postings (numpy arrays); a
query gathers the postings of its few terms and adds them up with
``np.bincount``, so thousands of articles stay within a millisecond or two.
Weights come from cross-validation on the articles' own example questions
(`resources_kb/evaluate.py`).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from numpy.typing import NDArray

from dialogs.normalize import fold
from nlu.textfeatures import Tfidf
from resources_kb.content import Article
from resources_kb.lexicon import (
    EXCLUSIVE,
    concept_spans,
    concept_weight,
    concepts,
    find_place,
    place_words,
    stem,
)

__all__ = [
    "Hit",
    "SearchIndex",
    "Signals",
    "Weights",
    "applies",
    "blend",
    "place_factor",
    "place_fits",
    "tokens",
]

# Longer questions are cut: the first words carry the question, and a pasted
# page must not cost the hot path more than a question does.
MAX_QUERY_CHARS = 600

# Words that carry no meaning for matching, in both languages.
_STOP = frozenset(
    """a an the i im ive id ill me my mine myself you your youre u ur is are am be
    being to of in on for and or do does did doing can could what whats how where
    who whom when with it its this that these those there here get got have has
    had need want will would should if so at by from about just was were been they
    them their theyre he hes she shes his her him we our us dont cant wont isnt
    arent didnt doesnt wasnt please pls thanks thank hi hello hey ok okay yes really
    very still also some any one all too much many more then than into out up down
    over again
    el la los las lo un una unos unas yo me mi mis tu tus te ti es son soy eres
    somos ser estar de del en por para y e o u que como donde quien quienes cuando
    cual cuales con sin hay tengo tiene tienen tienes necesito quiero puedo puede
    pueden se le les al su sus muy mas pero ya si no esta estoy estan estas este
    esto eso esa ese fue era hola gracias porfa favor algo alguien algun alguna
    tambien todavia aun nos nuestro nuestra ni sea soy""".split()
)


@dataclass(frozen=True, slots=True)
class Weights:
    """Field weights of BM25F, the blend of the signals, and place damping."""

    k1: float = 1.2
    b: float = 0.5
    title: float = 2.0
    questions: float = 1.0
    answer: float = 1.0
    topics: float = 0.5
    body: float = 0.2
    bm25_half: float = 4.0  # BM25F score that maps to 0.5
    bm25: float = 0.05
    centroid: float = 0.6
    words: float = 0.0
    chars: float = 0.3
    char_centroid: float = 0.0
    coverage: float = 1.0  # exponent: how much unmatched query words lower the score
    body_cover: float = 0.3  # a question word found only in an article's body covers this much
    unknown: float = 1.0  # weight of a word no article uses, times the highest idf
    phrase_idf: bool = True  # coverage weighs words by their rarity among questions
    other_place: float = 0.6  # an article for another place than the contact's
    named_other: float = 0.0  # ... than the place the question names
    named_boost: float = 2.0  # an article for exactly the place the question names
    other_kind: float = 0.3  # a T visa article for a U visa question, and the other way


@dataclass(frozen=True, slots=True)
class Signals:
    """The raw signals for every article (arrays of one length, or stacked)."""

    bm25: NDArray[np.float64]
    centroid: NDArray[np.float64]
    words: NDArray[np.float64]
    chars: NDArray[np.float64]
    char_centroid: NDArray[np.float64]
    coverage: NDArray[np.float64]
    other_kind: NDArray[np.float64]  # 1 where the title names the other of a pair the query names


def blend(signals: Signals, weights: Weights) -> NDArray[np.float64]:
    """One score per article from its signals (works on stacked arrays too)."""
    w = weights
    bm25 = signals.bm25 / (signals.bm25 + w.bm25_half)
    score = w.bm25 * bm25 + w.centroid * signals.centroid
    score = score + w.words * signals.words + w.chars * signals.chars
    score = score + w.char_centroid * signals.char_centroid
    if w.coverage:
        score = score * signals.coverage**w.coverage
    score = score * (1.0 - (1.0 - w.other_kind) * signals.other_kind)
    return np.asarray(score, dtype=np.float64)


def place_factor(
    fits: NDArray[np.bool_], specific: NDArray[np.bool_], named: bool, weights: Weights
) -> NDArray[np.float64]:
    """Multipliers for articles that fit the place asked from (`fits`), and of
    those, the ones written for that place rather than for ``any`` (`specific`).

    A place the question names ("in Toronto") is stronger evidence than the
    contact's own place, so it may damp others more and favour its own articles.
    """
    if named:
        return np.where(fits, np.where(specific, weights.named_boost, 1.0), weights.named_other)
    return np.where(fits, 1.0, weights.other_place)


def place_fits(
    jurisdictions: Sequence[str], place: str, home: str = "any"
) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
    """(fits, specific) for articles of `jurisdictions` asked about `place` by
    someone in `home`: specific ones are written for that place (not ``any``)
    and would not fit at home, such as a Canada article for a US contact."""
    fits = np.array([applies(j, place) for j in jurisdictions], dtype=bool)
    local = np.array([j != "any" and not applies(j, home) for j in jurisdictions], dtype=bool)
    return fits, fits & local


def tokens(text: str) -> list[str]:
    """Stems and synonym concepts of `text`, in order (concepts last)."""
    return list(_tokens(fold(text[:MAX_QUERY_CHARS])))


@lru_cache(maxsize=20_000)
def _tokens(folded: str) -> tuple[str, ...]:
    """The stems of the words that carry meaning, then the synonym concepts."""
    words = [stem(w) for w in folded.split() if w not in _STOP and len(w) > 1]
    # A concept counts as often as its weight says: T and U visa are apart.
    return (*words, *(c for c in concepts(folded) for _ in range(concept_weight(c))))


_WORD = re.compile(r"\S+")


@lru_cache(maxsize=20_000)
def _units(folded: str) -> tuple[tuple[str, ...], ...]:
    """Per content word of a question: its stem and the concepts of the synonym
    phrases it is part of (for coverage). Place names are no unit: an article
    need not name the place to answer."""
    spans = concept_spans(folded)
    places = place_words(folded)
    units: list[tuple[str, ...]] = []
    for match in _WORD.finditer(folded):
        word = match.group()
        if word in _STOP or len(word) < 2 or word in places:
            continue
        inside = (c for c, a, b in spans if a <= match.start() and match.end() <= b)
        units.append((stem(word), *dict.fromkeys(inside)))
    return tuple(units)


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


@dataclass(frozen=True, slots=True)
class _Entries:
    """A sparse matrix as (row, column, value) arrays; a repeated cell adds up.

    numpy alone: the index is small, and scipy.sparse would cost the server
    ~20 MB of memory for a few sums at start-up.
    """

    rows: NDArray[np.int64]
    cols: NDArray[np.int64]
    vals: NDArray[np.float64]
    shape: tuple[int, int]

    @classmethod
    def join(cls, parts: Sequence[_Entries], shape: tuple[int, int]) -> _Entries:
        if not parts:
            return cls(np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0), shape)
        return cls(
            np.concatenate([p.rows for p in parts]),
            np.concatenate([p.cols for p in parts]),
            np.concatenate([p.vals for p in parts]),
            shape,
        )

    def _keys(self) -> NDArray[np.int64]:
        return self.cols * max(self.shape[0], 1) + self.rows

    def summed(self) -> _Entries:
        """One entry a cell, ordered by column then row."""
        keys = self._keys()
        order = np.argsort(keys, kind="stable")
        keys = keys[order]
        starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]]) if len(keys) else keys
        vals = np.add.reduceat(self.vals[order], starts) if len(keys) else self.vals
        return _Entries(self.rows[order][starts], self.cols[order][starts], vals, self.shape)

    def with_values(self, vals: NDArray[np.float64]) -> _Entries:
        return _Entries(self.rows, self.cols, np.asarray(vals, dtype=np.float64), self.shape)

    def ones(self) -> _Entries:
        return self.with_values(np.ones(len(self.vals)))

    def row_sums(self) -> NDArray[np.float64]:
        sums = np.bincount(self.rows, weights=self.vals, minlength=self.shape[0])
        return np.asarray(sums, dtype=np.float64)

    def scaled_rows(self, factors: NDArray[np.float64]) -> _Entries:
        return self.with_values(self.vals * factors[self.rows])

    def l2_rows(self) -> _Entries:
        """Each row divided by its length (an empty row stays empty)."""
        cells = self.summed()
        norms = np.sqrt(np.bincount(cells.rows, weights=cells.vals**2, minlength=self.shape[0]))
        norms[norms == 0] = 1.0
        return cells.scaled_rows(1.0 / norms)

    def grouped(self, owners: NDArray[np.int64], groups: int) -> _Entries:
        """Rows added up by owner: row i joins row owners[i] of `groups` rows."""
        return _Entries(owners[self.rows], self.cols, self.vals, (groups, self.shape[1]))

    def without(self, other: _Entries) -> _Entries:
        """The cells of this matrix that `other` does not have."""
        keep = ~np.isin(self._keys(), other._keys())
        return _Entries(self.rows[keep], self.cols[keep], self.vals[keep], self.shape)


class _Postings:
    """A term-major sparse matrix: for each column, the rows and values."""

    def __init__(self, entries: _Entries) -> None:
        cells = entries.summed()
        self.rows = entries.shape[0]
        counts = np.bincount(cells.cols, minlength=entries.shape[1])
        self.indptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        self.indices = cells.rows.astype(np.int64)
        self.data = cells.vals.astype(np.float64)

    def gather(
        self, columns: NDArray[np.int64]
    ) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.int64]]:
        """Every posting of `columns`: (row, value, position in `columns`)."""
        starts = self.indptr[columns]
        lengths = self.indptr[columns + 1] - starts
        total = int(lengths.sum())
        # Positions of every posting of the chosen columns, without a Python loop.
        offsets = np.repeat(starts - np.cumsum(lengths) + lengths, lengths)
        positions = offsets + np.arange(total)
        which = np.repeat(np.arange(len(columns)), lengths)
        return self.indices[positions], self.data[positions], which

    def dot(self, columns: NDArray[np.int64], weights: NDArray[np.float64]) -> NDArray[np.float64]:
        """matrix[:, columns] @ weights, one value per row."""
        rows, values, which = self.gather(columns)
        if not len(rows):
            return np.zeros(self.rows)
        sums = np.bincount(rows, weights=values * weights[which], minlength=self.rows)
        return np.asarray(sums, dtype=np.float64)


class _Speller:
    """Corrects one slip of the keyboard in a long word the articles never use
    ("pasport", "emergancy"), to the most frequent article word one letter
    away (dropped, added, changed or swapped), same first letter. Short words
    are left alone: too many real words are one letter apart."""

    MIN_LENGTH = 6

    def __init__(self, words: Iterable[str]) -> None:
        self.counts = Counter(w for w in words if len(w) >= self.MIN_LENGTH - 1)
        self.deletes: dict[str, str] = {}
        for word, _ in self.counts.most_common():  # the most frequent wins a key
            for key in (word, *_deletes(word)):
                self.deletes.setdefault(key, word)
        self._cache: dict[str, str] = {}

    def correct(self, folded: str) -> str:
        return " ".join(self._word(w) for w in folded.split())

    def _word(self, word: str) -> str:
        if len(word) < self.MIN_LENGTH or word in self.counts or word in _STOP:
            return word
        if word not in self._cache:
            if len(self._cache) > 10_000:
                self._cache.clear()
            found = [
                c
                for key in (word, *_deletes(word))
                if (c := self.deletes.get(key)) and c[0] == word[0] and _one_apart(word, c)
            ]
            self._cache[word] = max(found, key=self.counts.__getitem__, default=word)
        return self._cache[word]


def _deletes(word: str) -> list[str]:
    return [word[:i] + word[i + 1 :] for i in range(len(word))]


def _one_apart(a: str, b: str) -> bool:
    """One letter dropped, added, changed, or two neighbours swapped."""
    if abs(len(a) - len(b)) > 1 or a == b:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        return len(diff) == 1 or (
            len(diff) == 2
            and diff[1] == diff[0] + 1
            and a[diff[0]] == b[diff[1]]
            and a[diff[1]] == b[diff[0]]
        )
    short, long = (a, b) if len(a) < len(b) else (b, a)
    return any(long[:i] + long[i + 1 :] == short for i in range(len(long)))


class SearchIndex:
    def __init__(self, articles: Sequence[Article], weights: Weights | None = None) -> None:
        self.articles = list(articles)
        self.weights = w = weights or Weights()
        n = len(self.articles)
        fields: dict[str, list[tuple[str, ...]]] = {
            "title": [_tokens(fold(a.title)) for a in self.articles],
            "questions": [
                tuple(t for q in a.example_questions for t in _tokens(fold(q)))
                for a in self.articles
            ],
            "answer": [_tokens(fold(a.short_answer)) for a in self.articles],
            "topics": [_tokens(fold(" ".join(a.topics).replace("_", " "))) for a in self.articles],
            "body": [_tokens(fold(a.body)) if w.body else () for a in self.articles],
        }
        self._vocabulary: dict[str, int] = {}
        for docs in fields.values():
            for doc in docs:
                for token in doc:
                    self._vocabulary.setdefault(token, len(self._vocabulary))
        size = max(len(self._vocabulary), 1)

        # BM25F: per field, length-normalised counts weighted and added up,
        # then one saturation and the idf over articles.
        shape = (n, size)
        pseudo_parts: list[_Entries] = []
        present_parts: list[_Entries] = []
        strong_parts: list[_Entries] = []
        for name, docs in fields.items():
            field_weight = float(getattr(w, name))
            counts = _term_counts(docs, self._vocabulary, size)
            present_parts.append(counts)
            if name != "body":
                strong_parts.append(counts)
            if not field_weight:
                continue
            lengths = counts.row_sums()
            average = lengths.mean() if n and lengths.mean() > 0 else 1.0
            norm = 1.0 - w.b + w.b * lengths / average
            pseudo_parts.append(counts.scaled_rows(field_weight / norm))
        pseudo = _Entries.join(pseudo_parts, shape).summed()
        present = _Entries.join(present_parts, shape).summed().ones()
        df = np.bincount(present.cols, minlength=size)
        self._idf = np.log(1 + (n - df + 0.5) / (df + 0.5))
        self._unknown_idf = float(np.log(1 + (n + 0.5) / 0.5))
        saturated = pseudo.vals * (w.k1 + 1) / (pseudo.vals + w.k1) * self._idf[pseudo.cols]
        self._bm25 = _Postings(pseudo.with_values(saturated))
        # Coverage: a word the title, questions, short answer or topics use
        # counts in full; one only the body uses counts `body_cover`.
        strong = _Entries.join(strong_parts, shape).summed().ones()
        self._strong = _Postings(strong)
        self._body_only = _Postings(present.without(strong))

        # Paraphrases: one row per title/question, grouped by article in order.
        phrases: list[str] = []
        starts: list[int] = []
        for article in self.articles:
            starts.append(len(phrases))
            phrases.extend(fold(p) for p in (article.title, *article.example_questions))
        owners = np.repeat(np.arange(n), np.diff([*starts, len(phrases)]))
        self._starts = np.array(starts, dtype=np.int64)
        counts = _term_counts([_tokens(p) for p in phrases], self._vocabulary, size)
        phrase_df = np.bincount(counts.cols, minlength=size)
        self._word_idf = np.log((1 + len(phrases)) / (1 + phrase_df)) + 1.0
        phrase_words = counts.with_values(
            (1.0 + np.log(counts.vals)) * self._word_idf[counts.cols]
        ).l2_rows()
        self._phrase_words = _Postings(phrase_words)
        # The centroid of an article's phrases, normalised again.
        self._centroids = _Postings(phrase_words.grouped(owners, n).l2_rows())
        self._word_idf_max = float(np.log(1 + len(phrases))) + 1.0  # a word never seen
        self._chars = Tfidf.fit(phrases, "char_wb", (3, 5))
        self._chars_idf_max = float(np.log(1 + len(phrases))) + 1.0
        rows, cols, vals = self._chars.transform_entries(phrases)
        phrase_chars = _Entries(rows, cols, vals, (len(phrases), self._chars.size))
        self._phrase_chars = _Postings(phrase_chars)
        self._char_centroids = _Postings(phrase_chars.grouped(owners, n).l2_rows())
        self._jurisdictions = [a.jurisdiction for a in self.articles]
        titles = [set(concepts(fold(a.title))) for a in self.articles]
        self._titled = {
            c: np.array([c in t for t in titles], dtype=np.float64)
            for pair in EXCLUSIVE
            for c in pair
        }
        self._damping: dict[tuple[str, bool, str], NDArray[np.float64]] = {}
        self._speller = _Speller(
            word
            for a in self.articles
            for text in (a.title, *a.example_questions, a.short_answer, a.body)
            for word in fold(text).split()
        )

    def __len__(self) -> int:
        return len(self.articles)

    def search(self, query: str, place: str = "any", limit: int = 3) -> list[Hit]:
        """Best articles for `query` asked from `place` (a place named in the query wins)."""
        query = query[:MAX_QUERY_CHARS]
        if not self.articles or not fold(query):
            return []
        named = find_place(query)
        scores = self.scores(query) * self.damping(named or place, named is not None, place)
        count = min(limit, len(scores))
        top = np.argpartition(-scores, count - 1)[:count]
        order = top[np.argsort(-scores[top], kind="stable")]
        return [Hit(self.articles[i], float(scores[i])) for i in order if scores[i] > 0]

    def damping(self, place: str, named: bool = False, home: str = "any") -> NDArray[np.float64]:
        """Place multipliers of every article (see `place_factor`), cached per place."""
        key = (place, named, home)
        if key not in self._damping:
            fits, specific = place_fits(self._jurisdictions, place, home)
            self._damping[key] = place_factor(fits, specific, named, self.weights)
        return self._damping[key]

    def scores(self, query: str) -> NDArray[np.float64]:
        """Relevance of every article to `query`, before jurisdiction damping."""
        return blend(self.signals(query), self.weights)

    def signals(self, query: str) -> Signals:
        """The raw signals of every article for `query`."""
        folded = self._speller.correct(fold(query[:MAX_QUERY_CHARS]))
        query_tokens = _tokens(folded)
        counts = Counter(self._vocabulary[t] for t in query_tokens if t in self._vocabulary)
        terms = np.fromiter(counts, np.int64, len(counts))
        # Repeated query words count again, as in BM25 with query term frequency.
        tf = np.fromiter(counts.values(), np.float64, len(counts))
        bm25 = self._bm25.dot(terms, tf)
        # Cosines count the words the index has never seen in the question's
        # length too: "rules of chess" is not a near copy of "rules for a visa".
        unseen = Counter(t for t in query_tokens if t not in self._vocabulary)
        vector = _unit((1.0 + np.log(tf)) * self._word_idf[terms], unseen, self._word_idf_max)
        centroid = self._centroids.dot(terms, vector)
        words = self._best(self._phrase_words.dot(terms, vector))
        grams = Counter(self._chars.analyze(folded))
        gram_ids = np.fromiter(
            (self._chars.vocabulary.get(g, -1) for g in grams), np.int64, len(grams)
        )
        known = gram_ids >= 0
        gram_tf = 1.0 + np.log(np.fromiter(grams.values(), np.float64, len(grams)))
        gram_values = _unit(
            gram_tf[known] * self._chars.idf[gram_ids[known]],
            gram_tf[~known],
            self._chars_idf_max,
        )
        chars = self._best(self._phrase_chars.dot(gram_ids[known], gram_values))
        char_centroid = self._char_centroids.dot(gram_ids[known], gram_values)
        coverage = self._coverage(_units(folded))
        return Signals(
            bm25, centroid, words, chars, char_centroid, coverage, self._other_kind(query_tokens)
        )

    def _other_kind(self, query_tokens: tuple[str, ...]) -> NDArray[np.float64]:
        """1 for articles whose title names only the other of an exclusive pair
        (T visa, U visa) when the question names just one of them."""
        other = np.zeros(len(self.articles))
        named = set(query_tokens)
        for a, b in EXCLUSIVE:
            for asked, not_asked in ((a, b), (b, a)):
                if asked in named and not_asked not in named:
                    other = np.maximum(other, self._titled[not_asked] * (1 - self._titled[asked]))
        return other

    def _coverage(self, units: tuple[tuple[str, ...], ...]) -> NDArray[np.float64]:
        """Share of the question's weight (rare words weigh more) an article covers.

        One unit per content word of the question, covered by its stem or by a
        synonym concept it is part of; a word the index has never seen weighs
        the most and is covered by no article.
        """
        n = len(self.articles)
        columns: list[int] = []
        owners: list[int] = []
        unit_weights: list[float] = []
        idf = self._word_idf if self.weights.phrase_idf else self._idf
        unknown = self.weights.unknown * (
            self._word_idf_max if self.weights.phrase_idf else self._unknown_idf
        )
        for unit in units:
            ids = [self._vocabulary[t] for t in unit if t in self._vocabulary]
            unit_weights.append(float(idf[ids].max()) if ids else unknown)
            columns.extend(ids)
            owners.extend([len(unit_weights) - 1] * len(ids))
        total = sum(unit_weights)
        if not total:
            return np.ones(n)  # only place names, or nothing: nothing to cover
        unit_of = np.array(owners, dtype=np.int64)
        found = []
        for postings in (self._strong, self._body_only):
            rows, _, which = postings.gather(np.array(columns, dtype=np.int64))
            hits = np.bincount(unit_of[which] * n + rows, minlength=len(units) * n)
            found.append(hits.reshape(len(units), n) > 0)
        covered = np.where(found[0], 1.0, np.where(found[1], self.weights.body_cover, 0.0))
        return np.asarray(np.array(unit_weights) @ covered / total, dtype=np.float64)

    def _best(self, phrase_scores: NDArray[np.float64]) -> NDArray[np.float64]:
        """The best phrase's score for each article."""
        if not len(phrase_scores):
            return np.zeros(len(self.articles))
        return np.asarray(np.maximum.reduceat(phrase_scores, self._starts), dtype=np.float64)


def _unit(
    values: NDArray[np.float64], unseen: Counter[str] | NDArray[np.float64], idf: float
) -> NDArray[np.float64]:
    """`values` divided by the length of the whole vector, unseen features included."""
    if isinstance(unseen, Counter):
        unseen = np.fromiter(unseen.values(), np.float64, len(unseen))
        unseen = 1.0 + np.log(unseen) if len(unseen) else unseen
    norm = float(np.sqrt(values @ values + float(np.sum(unseen**2)) * idf**2))
    return values / norm if norm else values


def _term_counts(docs: Sequence[Sequence[str]], vocabulary: dict[str, int], size: int) -> _Entries:
    rows: list[int] = []
    cols: list[int] = []
    vals: list[float] = []
    for row, doc in enumerate(docs):
        for token, count in Counter(doc).items():
            rows.append(row)
            cols.append(vocabulary[token])
            vals.append(float(count))
    return _Entries(
        np.array(rows, dtype=np.int64),
        np.array(cols, dtype=np.int64),
        np.array(vals, dtype=np.float64),
        (len(docs), size),
    )
