"""Every dialog text follows the writing guide, in every locale."""

from __future__ import annotations

import string

import pytest

from dialogs.texts import LOCALES, get_texts, lines_for
from tests.writing_rules import asks_without_way_out, banned_in, problems

COUNTRIES = ("US", "UK", "CA", "ES", "MX")


def _placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def _rendered(locale: str) -> list[tuple[str, str]]:
    """Each text with its placeholders filled for every country we name lines for."""
    texts = get_texts(locale)
    out = []
    for key, template in texts.entries.items():
        names = _placeholders(template)
        if not names:
            out.append((key, template))
            continue
        for country in COUNTRIES:
            values = {"days": 30, "date": "2026-11-21", **lines_for(country, locale)}
            out.append((f"{key}[{country}]", template.format(**values)))
    return out


def test_every_key_exists_in_every_locale() -> None:
    keys = {locale: set(get_texts(locale).entries) for locale in LOCALES}
    for locale in LOCALES:
        assert keys[locale] == keys["en"], f"{locale}: {keys[locale] ^ keys['en']}"


def test_placeholders_match_across_locales() -> None:
    english = get_texts("en").entries
    for locale in LOCALES:
        for key, template in get_texts(locale).entries.items():
            assert _placeholders(template) == _placeholders(english[key]), (locale, key)


@pytest.mark.parametrize("locale", LOCALES)
def test_texts_follow_the_writing_guide(locale: str) -> None:
    failures = {key: problems(text, locale) for key, text in _rendered(locale)}
    assert {k: v for k, v in failures.items() if v} == {}


def test_lines_exist_for_every_country_and_locale() -> None:
    for country in COUNTRIES:
        for locale in LOCALES:
            lines = lines_for(country, locale)
            assert lines["emergency"].isdigit()
            assert lines["crisis_line"] and lines["hotline"]


def test_us_lines_name_911_and_988() -> None:
    lines = lines_for("US", "en")
    assert lines["emergency"] == "911"
    assert "988" in lines["crisis_line"]


def test_the_lint_itself_catches_bad_text() -> None:
    # The rules must be able to fail, or the test above proves nothing.
    assert banned_in("You should have called us.", "en") == ["you should have"]
    assert banned_in("No fue tu culpa.", "es") == ["tu culpa"]
    assert asks_without_way_out("Where are you now?", "en")
    assert not asks_without_way_out("Where are you now? You can skip this.", "en")
    long_words = (
        "Notwithstanding the aforementioned considerations, comprehensive documentation "
        "regarding immigration eligibility determinations necessitates substantial deliberation."
    )
    assert problems(long_words, "en")
