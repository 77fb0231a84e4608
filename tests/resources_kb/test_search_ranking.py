"""The ranking machinery: postings, spelling, synonyms, places, T/U visa,
coverage, bad input, and the cross-validation that tunes it all.

Small hand-made article sets isolate one mechanism each; the seed content
checks that the pieces add up.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import sparse

from resources_kb.content import Article, load_articles
from resources_kb.evaluate import NEGATIVES, collect, cross_validate, score
from resources_kb.lexicon import concept_spans, concepts, stem
from resources_kb.search import SearchIndex, Weights, _Entries, _one_apart, _Postings, tokens
from resources_kb.service import CONFIDENCE_THRESHOLD, KnowledgeBase


def article(
    id: str, title: str, questions: tuple[str, ...] = (), jurisdiction: str = "any", body: str = ""
) -> Article:
    return Article(
        id=id,
        locale="en",
        title=title,
        short_answer=title,
        body=body,
        jurisdiction=jurisdiction,
        example_questions=questions,
        status="published",
    )


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return KnowledgeBase.from_files()


# ---- postings: the hot path's arithmetic -------------------------------------


def _entries(matrix: sparse.spmatrix, split: bool = False) -> _Entries:
    """`matrix` as entries; `split` writes each cell as two halves that add up."""
    coo = sparse.coo_matrix(matrix)
    rows, cols, vals = coo.row.astype(np.int64), coo.col.astype(np.int64), coo.data
    if split:
        rows, cols, vals = np.r_[rows, rows], np.r_[cols, cols], np.r_[vals / 2, vals / 2]
    return _Entries(rows, cols, vals, (matrix.shape[0], matrix.shape[1]))


def _dense(entries: _Entries) -> np.ndarray:
    out = np.zeros(entries.shape)
    np.add.at(out, (entries.rows, entries.cols), entries.vals)
    return out


@settings(max_examples=50, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 30), st.integers(1, 40))
def test_postings_dot_equals_the_sparse_product(seed: int, rows: int, cols: int) -> None:
    rng = np.random.default_rng(seed)
    dense = rng.random((rows, cols)) * (rng.random((rows, cols)) < 0.3)
    matrix = sparse.csr_matrix(dense)
    columns = rng.choice(cols, size=min(cols, 5), replace=False).astype(np.int64)
    weights = rng.random(len(columns))
    got = _Postings(_entries(matrix, split=True)).dot(columns, weights)
    assert np.allclose(got, dense[:, columns] @ weights)
    empty = _Postings(_entries(matrix)).dot(np.array([], np.int64), np.array([]))
    assert np.array_equal(empty, [0] * rows)


@settings(max_examples=50, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 20), st.integers(1, 30))
def test_entries_do_what_scipy_sparse_does(seed: int, rows: int, cols: int) -> None:
    # The index is built with numpy alone; scipy.sparse is the oracle here.
    rng = np.random.default_rng(seed)
    a = sparse.csr_matrix(rng.random((rows, cols)) * (rng.random((rows, cols)) < 0.3))
    b = sparse.csr_matrix(rng.random((rows, cols)) * (rng.random((rows, cols)) < 0.3))
    ea, eb = _entries(a, split=True), _entries(b)
    summed = ea.summed()
    assert np.allclose(_dense(summed), a.toarray())
    assert len(summed.vals) == a.nnz  # one entry a cell
    norms = np.sqrt(np.asarray(a.multiply(a).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    assert np.allclose(_dense(ea.l2_rows()), a.toarray() / norms[:, None])
    owners = rng.integers(0, 3, rows)
    grouped = sparse.csr_matrix((np.ones(rows), (owners, np.arange(rows))), shape=(3, rows)) @ a
    assert np.allclose(_dense(ea.grouped(owners, 3)), grouped.toarray())
    both = a.multiply(b) != 0
    left = np.where(both.toarray(), 0, a.toarray())
    assert np.allclose(_dense(summed.without(eb.summed())), left)
    assert np.allclose(ea.row_sums(), np.asarray(a.sum(axis=1)).ravel())


# ---- words: stems, synonyms, spelling ----------------------------------------


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("deportation", "deportar"),
        ("threatening", "threatened"),
        ("ayudarme", "ayudar"),
        ("documentos", "documento"),
        ("abogada", "abogado"),
    ],
)
def test_stems_meet(a: str, b: str) -> None:
    assert stem(a) == stem(b)


def test_accents_and_case_do_not_matter() -> None:
    assert tokens("¿Dónde está el ABOGADO?") == tokens("donde esta el abogado")


def test_synonyms_in_both_languages_share_a_concept() -> None:
    assert "~lawyer" in concepts("necesito una abogada")
    assert "~lawyer" in concepts("i need an attorney")
    # The longest phrase wins and is one match: "legal aid", not "legal" + "aid".
    assert [c for c, _, _ in concept_spans("free legal aid")].count("~lawyer") == 1
    assert "~t_visa" in concepts("visa t") and "~u_visa" in concepts("the u visa")
    assert "~u_visa" not in concepts("can u help me")


@pytest.mark.parametrize(
    ("a", "b", "apart"),
    [
        ("pasport", "passport", True),  # dropped
        ("emergancy", "emergency", True),  # changed
        ("trafifcking", "trafficking", True),  # swapped
        ("passport", "passports", True),  # added
        ("passport", "passport", False),
        ("shelter", "shatter", False),
    ],
)
def test_one_letter_apart(a: str, b: str, apart: bool) -> None:
    assert _one_apart(a, b) is apart


def test_a_misspelt_long_word_is_read_as_the_article_word() -> None:
    index = SearchIndex(
        [
            article("passport", "Someone has your passport", ("my boss keeps my passport",)),
            article("shelter", "A safe place to stay", ("i need a shelter",)),
        ]
    )
    hits = index.search("my boss keeps my pasport")
    assert hits[0].article.id == "passport"
    assert hits[0].score == pytest.approx(index.search("my boss keeps my passport")[0].score)


# ---- what decides the order ----------------------------------------------------


def test_a_question_about_a_u_visa_is_not_answered_by_the_t_visa_article() -> None:
    index = SearchIndex(
        [
            article("t", "What is a T visa?", ("t visa requirements", "who can apply", "fees")),
            article("u", "What is a U visa?", ("what is the u visa",)),
        ]
    )
    assert index.search("u visa requirements who can apply")[0].article.id == "u"
    assert index.search("t visa requirements who can apply")[0].article.id == "t"


def test_a_named_place_beats_the_contacts_place() -> None:
    index = SearchIndex(
        [
            article("us", "Trafficking hotline", ("trafficking hotline number",), "US"),
            article("ca", "Trafficking hotline", ("trafficking hotline number",), "CA"),
        ]
    )
    assert index.search("trafficking hotline number", "US")[0].article.id == "us"
    assert index.search("trafficking hotline number in toronto", "US")[0].article.id == "ca"
    # An article for another place than the one named is left out altogether.
    assert [h.article.id for h in index.search("hotline number in toronto", "US")] == ["ca"]


def test_words_no_article_uses_lower_the_score() -> None:
    index = SearchIndex([article("lawyer", "Finding a lawyer", ("i need a lawyer",))])
    plain = index.search("i need a lawyer")[0].score
    assert index.search("i need a lawyer for my pet iguana")[0].score < plain / 2
    assert index.search("zebra xylophone quartz") == []


def test_a_word_only_in_the_body_covers_less_than_one_in_a_question() -> None:
    weights = Weights()
    index = SearchIndex(
        [
            article("a", "Help with rent", ("can you help with rent",)),
            article("b", "Other help", ("other help",), body="rent deposit"),
        ],
        weights,
    )
    signals = index.signals("rent")
    assert signals.coverage[0] == 1.0
    assert signals.coverage[1] == pytest.approx(weights.body_cover)


# ---- bad input never crashes ---------------------------------------------------


@pytest.mark.parametrize(
    "question",
    ["", "   ", "???", "🙂🙂🙂", "\x00\u202e", "a" * 100_000, "the a of", "1 2 3", "visa " * 5000],
)
def test_bad_input_returns_a_list(kb: KnowledgeBase, question: str) -> None:
    for locale in ("en", "es", "fr"):
        answer = kb.ask(question, locale, "US")
        assert isinstance(answer.hits, list)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_any_text_is_searched_without_error(question: str) -> None:
    index = _small_index()
    for hit in index.search(question, "US"):
        assert 0 < hit.score <= 2.0


@lru_cache(maxsize=1)
def _small_index() -> SearchIndex:
    return SearchIndex([a for a in load_articles() if a.locale == "es"])


def test_an_empty_index_answers_nothing() -> None:
    assert SearchIndex([]).search("i need a lawyer") == []


# ---- the seed content ----------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "locale", "expected"),
    [
        ("emergancy nunber", "en", "emergency-numbers"),
        ("imigration lawyer for survivors", "en", "finding-legal-aid"),
        ("necesito un abogdo", "es", "finding-legal-aid"),
        ("refujio para mujeres", "es", "shelter-housing"),
        ("what is the u visa waiting list", "en", "u-visa-basics"),
        ("requisitos de la visa u", "es", "u-visa-basics"),
        ("who can i call in london", "en", "uk-help"),
        ("a quien llamo en tijuana", "es", "mexico-help"),
    ],
)
def test_seed_answers(kb: KnowledgeBase, question: str, locale: str, expected: str) -> None:
    best = kb.ask(question, locale, "US").best
    assert best is not None and best.article.id == expected


@pytest.mark.parametrize("locale", ["en", "es"])
def test_our_out_of_scope_questions_stay_unanswered(kb: KnowledgeBase, locale: str) -> None:
    confident = [q for q in NEGATIVES[locale] if kb.ask(q, locale, "US").best is not None]
    assert confident == []


# ---- cross-validation ------------------------------------------------------------


def test_cross_validation_hides_the_question_it_asks() -> None:
    # "b" is known only through its one example question: hidden, it cannot win.
    pool = [
        article("a", "Getting a lawyer", ("i need a lawyer", "free legal help")),
        article("b", "Something else", ("zebra xylophone",)),
    ]
    run = collect(pool, "en")
    asked = dict(zip(run.questions, run.expected, strict=True))
    assert asked == {"i need a lawyer": 0, "free legal help": 0, "zebra xylophone": 1}
    result = score(run, Weights(), 0.0)
    assert result.questions == 3 and result.top1 == pytest.approx(2 / 3)


@pytest.mark.parametrize(("locale", "floor"), [("en", 0.81), ("es", 0.785)])
def test_cross_validation_floor(locale: str, floor: float) -> None:
    """The figure the weights were tuned to (en 0.843, es 0.817), less a margin."""
    articles = load_articles()
    result = cross_validate(articles, locale, CONFIDENCE_THRESHOLD)
    assert result.answered_right >= floor
    assert result.confident_on_negatives == 0
