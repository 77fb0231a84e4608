"""Search quality: writing rules for what is sent, services, and accuracy floors.

The held-out floors are the level last reported in docs/benchmarks.md (en
0.889, es 0.900, no confident answer on the questions without an article;
0.678 in both when the files were first scored) minus a small margin: a
regression fails. The files are never used for tuning; see
resources_kb/evaluate.py.
"""

from __future__ import annotations

import pytest

from resources_kb.evaluate import heldout_accuracy
from resources_kb.lexicon import find_place, find_service_kind
from resources_kb.service import KnowledgeBase
from tests.writing_rules import problems

HELDOUT_FLOOR = {"en": 0.90, "es": 0.90}  # The issue's target; measured 0.933 / 0.911.
HELDOUT_MAX_CONFIDENT_NULL = 0.1


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return KnowledgeBase.from_files()


def test_short_answers_follow_the_writing_rules(kb: KnowledgeBase) -> None:
    found = {
        f"{a.locale}/{a.id}": issues
        for a in kb.articles
        if (issues := problems(a.short_answer, a.locale))
    }
    assert found == {}


@pytest.mark.parametrize("locale", ["en", "es"])
def test_heldout_accuracy_does_not_regress(kb: KnowledgeBase, locale: str) -> None:
    top1, confident_null = heldout_accuracy(kb.ask, locale)
    assert top1 >= HELDOUT_FLOOR[locale]
    assert confident_null <= HELDOUT_MAX_CONFIDENT_NULL


@pytest.mark.parametrize(
    ("question", "locale", "expected"),
    [
        ("i need a lawyer", "en", "finding-legal-aid"),
        ("necesito un abogado", "es", "finding-legal-aid"),
        ("my boss has my pasport", "en", "documents-passports"),  # misspelled
        ("im in canada and need help", "en", "canada-help"),  # another country, US contact
        ("estoy en españa y necesito ayuda", "es", "spain-help"),
        ("shelter in Texas", "en", "shelter-housing"),
    ],
)
def test_answers(kb: KnowledgeBase, question: str, locale: str, expected: str) -> None:
    best = kb.ask(question, locale, "US").best
    assert best is not None and best.article.id == expected


@pytest.mark.parametrize(
    ("question", "locale"),
    [("how do i bake banana bread", "en"), ("como hago pan de plátano", "es"), ("", "en")],
)
def test_no_confident_answer_out_of_scope(kb: KnowledgeBase, question: str, locale: str) -> None:
    assert kb.ask(question, locale).best is None


@pytest.mark.parametrize(
    ("text", "place"),
    [
        ("shelter in Texas", "US-TX"),
        ("abogado en California", "US-CA"),
        ("who do i call in new mexico", "US-NM"),
        ("estoy en mexico", "MX"),
        ("clases de ingles", None),
        ("help us please", None),
    ],
)
def test_places(text: str, place: str | None) -> None:
    assert find_place(text) == place


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("shelter in Texas", "shelter"),
        ("abogado en California", "legal"),
        ("where can i see a doctor", "health"),
        ("what is a t visa", None),
        ("my lawyer lied to me", None),  # not a request for a listing
    ],
)
def test_service_kinds(text: str, kind: str | None) -> None:
    assert find_service_kind(text) == kind


def test_service_lookup_falls_back_to_national_lines(kb: KnowledgeBase) -> None:
    assert [s["id"] for s in kb.services("crisis", "UK")] == ["uk-samaritans"]
    # No shelter listing in Texas yet: the US national hotline.
    assert [s["id"] for s in kb.services("shelter", "US-TX")] == ["us-nhth"]
    assert [s["id"] for s in kb.services("legal", "MX")] == ["mx-linea-nacional-trata"]
    texts = kb.service_texts("busco refugio en madrid", "es", "US")
    assert texts and "016" in texts[1]
    for text in texts:
        assert problems(text, "es") == []
    for text in kb.service_texts("crisis line in london", "en", "US"):
        assert problems(text, "en") == []
