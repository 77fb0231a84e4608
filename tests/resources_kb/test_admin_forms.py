"""Admin forms -> content, as tables of cases (pure: no app, no database)."""

from __future__ import annotations

from datetime import date

import pytest

from bot.web.admin_forms import (
    article_form_values,
    parse_article_form,
    parse_service_form,
    service_form_values,
)
from resources_kb.content import article_to_dict, load_articles, load_services

TODAY = date(2026, 11, 21)
ARTICLE = {
    "base_version": "0",
    "id": "bus-pass",
    "locale": "en",
    "title": "  Free   bus passes ",
    "short_answer": "Some cities give them.\r\nAsk a case worker.",
    "body": "First part.\r\n\r\nSecond part.\r\n",
    "jurisdiction": "us-tx",
    "topics": "transport\n\n",
    "example_questions": "bus pass?\r\n  free bus  \n",
    "sources": "https://example.org/a\nCity transit leaflet",
    "note": "new",
}


def test_an_article_form_is_read_and_tidied() -> None:
    parsed = parse_article_form(ARTICLE)
    assert parsed.ok and parsed.errors == [] and parsed.base_version == 0
    article = parsed.value
    assert article.title == "Free bus passes"
    assert article.short_answer == "Some cities give them. Ask a case worker."
    assert article.body == "First part.\n\nSecond part."
    assert article.jurisdiction == "US-TX"
    assert article.topics == ("transport",)
    assert article.example_questions == ("bus pass?", "free bus")
    assert article.sources == ("https://example.org/a", "City transit leaflet")
    assert (article.status, article.last_reviewed, article.reviewer) == ("draft", None, "")
    assert parsed.note == "new"


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"title": ""}, "title", "Title is required"),
        ({"short_answer": " "}, "short_answer", "Short answer is required"),
        ({"id": "Bus Pass"}, "id", "Id must be lower-case letters, digits and dashes"),
        ({"id": ""}, "id", "ID is required"),
        ({"locale": "de"}, "locale", "Language must be one of: en, es"),
        ({"jurisdiction": "Texas"}, "jurisdiction", "Jurisdiction 'TEXAS' is not any, US or US-TX"),
        ({"sources": ""}, "sources", "No sources"),
        ({"sources": "https://exa mple.org"}, "sources", "Malformed URL 'https://exa mple.org'"),
        ({"base_version": ""}, "", "This form is incomplete."),
        ({"title": "t" * 301}, "title", "Title is too long (at most 300 characters)"),
        ({"topics": "x\n" * 51}, "topics", "Topics: at most 50 lines"),
        ({"example_questions": "q" * 501}, "example_questions", "Example questions: each line"),
    ],
)
def test_article_form_errors_name_their_field(
    change: dict[str, str], field: str, message: str
) -> None:
    parsed = parse_article_form(ARTICLE | change)
    assert not parsed.ok
    assert [e.field for e in parsed.errors] == [field], parsed.errors
    assert parsed.errors[0].message.startswith(message)


# Hard words in long sentences: well above reading grade 7.
HARD = (
    "Notwithstanding considerable administrative complexity, eligibility determinations "
    "necessitate comprehensive documentation substantiating victimization circumstances."
)


@pytest.mark.parametrize(
    ("locale", "short_answer", "message"),
    [
        ("en", HARD, "Short answer reads at grade"),
        ("en", "You must call the hotline today.", "Short answer uses 'you must'"),
        ("en", "It was not your fault. A lawyer can help.", "Short answer uses 'your fault'"),
        ("en", "Do you want the number of a lawyer near you?", "Short answer asks a question"),
        ("es", "Tienes que llamar hoy a la línea de ayuda.", "Short answer uses 'tienes que'"),
        ("es", "¿Quieres el número de una abogada?", "Short answer asks a question"),
    ],
)
def test_a_short_answer_must_follow_the_writing_guide(
    locale: str, short_answer: str, message: str
) -> None:
    parsed = parse_article_form(ARTICLE | {"locale": locale, "short_answer": short_answer})
    assert not parsed.ok
    assert [e.field for e in parsed.errors] == ["short_answer"], parsed.errors
    assert parsed.errors[0].message.startswith(message)


@pytest.mark.parametrize(
    ("locale", "short_answer"),
    [
        # Grade is measured on English only, and not on a few words.
        ("es", HARD),
        ("en", "Notwithstanding considerable administrative complexity."),
        # A question with a way out is fine.
        ("en", "Do you want the number of a lawyer? You can skip this."),
        ("es", "¿Quieres el número de una abogada? Puedes saltar esta pregunta."),
    ],
)
def test_a_short_answer_within_the_writing_guide_is_saved(locale: str, short_answer: str) -> None:
    parsed = parse_article_form(ARTICLE | {"locale": locale, "short_answer": short_answer})
    assert parsed.ok, parsed.errors


def test_the_writing_rules_are_one_copy() -> None:
    import resources_kb.writing
    import tests.writing_rules

    assert tests.writing_rules.problems is resources_kb.writing.problems
    assert tests.writing_rules.BANNED is resources_kb.writing.BANNED


def test_editing_keeps_the_url_id_and_the_last_review() -> None:
    shipped = next(a for a in load_articles() if a.id == "shelter-housing" and a.locale == "es")
    previous = article_to_dict(shipped)
    form = article_form_values(previous) | {"base_version": "3", "id": "evil", "locale": "en"}
    parsed = parse_article_form(form, slug="shelter-housing", locale="es", previous=previous)
    assert parsed.ok and parsed.base_version == 3
    # The form as shown, saved unchanged, is the same article.
    assert article_to_dict(parsed.value) == previous | {"status": "draft"}


SERVICE = {
    "base_version": "0",
    "id": "tx-shelter",
    "name": "Example Shelter",
    "kind": "shelter",
    "jurisdiction": "us-tx",
    "contact_phone": "+18883737888",
    "contact_phone_display": "1-888-373-7888",
    "hours": "24/7",
    "languages": "en\nes",
    "eligibility_en": "Adults.",
    "last_verified": "2026-11-01",
}


def test_a_service_form_is_read_in_the_files_shape() -> None:
    parsed = parse_service_form(SERVICE, TODAY)
    assert parsed.ok and parsed.warnings == []
    assert parsed.value == {
        "id": "tx-shelter",
        "name": "Example Shelter",
        "kind": "shelter",
        "jurisdiction": "US-TX",
        "contact": {"phone": "+18883737888", "phone_display": "1-888-373-7888"},
        "hours": "24/7",
        "languages": ["en", "es"],
        "eligibility": {"en": "Adults."},
        "last_verified": "2026-11-01",
    }
    assert list(parsed.value) == list(parsed.value.keys())  # files' key order


@pytest.mark.parametrize(
    ("change", "field", "start"),
    [
        ({"contact_phone": "1-888-373-7888"}, "contact_phone", "Phone '1-888-373-7888' is not"),
        ({"contact_tty": "12"}, "contact_tty", "Tty '12' is not E.164"),
        ({"contact_web": "example.org"}, "contact_web", "Malformed URL"),
        ({"contact_email": "nobody"}, "contact_email", "Malformed e-mail"),
        ({"contact_phone": ""}, "contact", "Contact has no phone, text"),
        ({"contact_phone": "", "contact_phone_display": ""}, "contact", "A way to reach them"),
        ({"kind": "spa"}, "kind", "Kind must be one of"),
        ({"kind": ""}, "kind", "Kind is required"),
        ({"last_verified": "21/11/2026"}, "last_verified", "Bad date"),
        ({"last_verified": ""}, "last_verified", "Last verified is required"),
        ({"hours": ""}, "hours", "Hours is required"),
        ({"id": "a b"}, "id", "Id must be lower-case"),
        ({"jurisdiction": "Texas!"}, "jurisdiction", "Jurisdiction 'TEXAS!'"),
    ],
)
def test_service_form_errors_name_their_field(
    change: dict[str, str], field: str, start: str
) -> None:
    parsed = parse_service_form(SERVICE | change, TODAY)
    assert not parsed.ok
    assert [e.field for e in parsed.errors] == [field], parsed.errors
    assert parsed.errors[0].message.startswith(start)


def test_an_old_verification_is_a_warning_not_an_error() -> None:
    parsed = parse_service_form(SERVICE | {"last_verified": "2025-01-01"}, TODAY)
    assert parsed.ok
    assert [(w.field, w.message) for w in parsed.warnings] == [
        ("last_verified", "Stale: last verified 2025-01-01")
    ]


@pytest.mark.parametrize("listing", load_services(), ids=lambda s: str(s["id"]))
def test_every_shipped_listing_survives_the_form_unchanged(listing: dict[str, object]) -> None:
    form = service_form_values(listing) | {"base_version": "1"}
    parsed = parse_service_form(form, TODAY, slug=str(listing["id"]), previous=listing)
    assert parsed.ok, parsed.errors
    assert parsed.value == listing


def test_fields_the_form_does_not_show_are_kept_and_emptied_ones_dropped() -> None:
    previous = {
        "id": "x",
        "custom": {"kept": True},
        "contact": {"phone": "+18883737888", "fax": "+18883737889"},
        "eligibility": {"en": "Anyone.", "fr": "Tout le monde."},
        "area": "national",
    }
    form = service_form_values(previous) | SERVICE | {"area": "", "contact_phone_display": ""}
    parsed = parse_service_form(form, TODAY, slug="x", previous=previous)
    assert parsed.ok
    assert parsed.value["custom"] == {"kept": True}
    assert parsed.value["contact"] == {"phone": "+18883737888", "fax": "+18883737889"}
    assert parsed.value["eligibility"] == {"en": "Adults.", "fr": "Tout le monde."}
    assert "area" not in parsed.value and parsed.value["id"] == "x"
