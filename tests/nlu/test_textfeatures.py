"""Our run-time tf-idf must equal scikit-learn's, feature for feature."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.feature_extraction.text import TfidfVectorizer

from nlu.textfeatures import Tfidf, char_wb_ngrams, word_ngrams

texts = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=60)


@settings(max_examples=300, deadline=None)
@given(text=texts)
def test_char_wb_matches_sklearn(text: str) -> None:
    expected = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5)).build_analyzer()(text)
    assert char_wb_ngrams(text, 2, 5) == expected


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
