"""Our run-time tf-idf must equal scikit-learn's, feature for feature."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.feature_extraction.text import TfidfVectorizer

from nlu.textfeatures import PackedVocabulary, Tfidf, char_ngrams, char_wb_ngrams, word_ngrams

texts = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=60)


@settings(max_examples=300, deadline=None)
@given(text=texts)
def test_char_wb_matches_sklearn(text: str) -> None:
    expected = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5)).build_analyzer()(text)
    assert char_wb_ngrams(text, 2, 5) == expected


@settings(max_examples=300, deadline=None)
@given(text=texts)
def test_char_ngrams_match_sklearn(text: str) -> None:
    expected = TfidfVectorizer(analyzer="char", ngram_range=(3, 6)).build_analyzer()(text)
    assert char_ngrams(text, 3, 6) == expected


@settings(max_examples=300, deadline=None)
@given(text=texts)
def test_word_ngrams_match_sklearn(text: str) -> None:
    expected = TfidfVectorizer(ngram_range=(1, 2)).build_analyzer()(text)
    assert word_ngrams(text, 1, 2) == expected


def test_fit_and_transform_match_sklearn() -> None:
    documents = [
        "where can i sleep tonight",
        "necesito un abogado",
        "can they keep my passport",
        "quiero hablar con una persona",
        "where is a shelter in texas",
    ]
    ours = Tfidf.fit(documents, "char_wb", (2, 5))
    theirs = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True)
    expected = theirs.fit_transform(documents).toarray()
    # Same features, possibly in another column order: compare through the vocabulary.
    order = [ours.vocabulary[g] for g in theirs.get_feature_names_out()]
    for probe in [*documents, "shelter tonight", "zzz"]:
        got = ours.transform([probe]).toarray()[0][order]
        want = theirs.transform([probe]).toarray()[0]
        assert np.allclose(got, want)
    assert np.allclose(ours.transform(documents).toarray()[:, order], expected)


def test_min_df_matches_sklearn() -> None:
    documents = [
        "they took my passport",
        "they took my phone",
        "my passport is gone",
        "tomaron mi pasaporte",
        "me quitaron el pasaporte",
    ]
    ours = Tfidf.fit(documents, "char", (3, 6), min_df=2)
    theirs = TfidfVectorizer(analyzer="char", ngram_range=(3, 6), sublinear_tf=True, min_df=2)
    expected = theirs.fit_transform(documents).toarray()
    assert set(ours.vocabulary) == set(theirs.get_feature_names_out())
    assert sorted(ours.vocabulary.values()) == list(range(ours.size))  # renumbered, no gaps
    order = [ours.vocabulary[g] for g in theirs.get_feature_names_out()]
    assert np.allclose(ours.transform(documents).toarray()[:, order], expected)
    for probe in ("they took it", "pasaporte", "zzz"):
        got = ours.transform([probe]).toarray()[0][order]
        assert np.allclose(got, theirs.transform([probe]).toarray()[0])


_PACK_DOCS = [
    "they took my passport",
    "me quitaron el pasaporte 💊",
    "i cant leave the room",
    "no puedo salir del cuarto",
    "the door is locked from outside",
]
_DICT = Tfidf.fit(_PACK_DOCS, "char", (3, 6))
_PACKED = _DICT.packed()


@settings(max_examples=200, deadline=None)
@given(text=texts)
def test_a_packed_vocabulary_transforms_like_the_dict(text: str) -> None:
    want, got = _DICT.transform_one(text), _PACKED.transform_one(text)
    assert sorted(want.indices.tolist()) == sorted(got.indices.tolist())
    assert np.allclose(want.values[np.argsort(want.indices)], got.values[np.argsort(got.indices)])


def test_a_packed_vocabulary_is_a_mapping_of_the_same_columns() -> None:
    packed = _PACKED.vocabulary
    assert isinstance(packed, PackedVocabulary)
    assert len(packed) == len(_DICT.vocabulary) == _PACKED.size
    assert list(packed) == list(_DICT.vocabulary)  # in column order
    assert dict(packed.items()) == _DICT.vocabulary
    with pytest.raises(KeyError):
        packed["not a gram at all"]  # longer than any: never cut down to match
    assert packed.lookup([])[0].size == 0
    assert "vocabulary" in _DICT.state()
    assert "vocabulary" not in _PACKED.state()  # settings only; its arrays are saved apart


_FIT_IN_CHILD = """
import json, sys
from nlu.textfeatures import Tfidf
docs = ["i need a lawyer", "where is the shelter", "my boss keeps my passport", "hola, ayuda"]
fitted = Tfidf.fit(docs, sys.argv[1], (1, 2) if sys.argv[1] == "word" else (2, 5))
print(json.dumps(fitted.vocabulary))
"""


def test_fit_gives_the_same_columns_under_any_hash_seed() -> None:
    # Columns once followed a set's iteration order, which changes with the hash
    # seed of each process: every server trained a slightly different model.
    root = Path(__file__).resolve().parents[2]
    for kind in ("word", "char_wb"):
        seen = set()
        for seed in ("1", "2", "3"):
            env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(root)}
            run = [sys.executable, "-c", _FIT_IN_CHILD, kind]
            seen.add(subprocess.run(run, env=env, capture_output=True, check=True).stdout)
        assert len(seen) == 1, kind
