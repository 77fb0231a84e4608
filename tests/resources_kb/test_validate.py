"""Content checks, as tables of cases."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from resources_kb.content import Article, load_articles, load_services
from resources_kb.validate import check_articles, check_services, is_phone, is_url, stale_articles

TODAY = date(2026, 11, 21)


@pytest.mark.parametrize(
    ("value", "jurisdiction", "ok"),
    [
        ("+18883737888", "US", True),
        ("+448000121700", "UK", True),
        ("988", "US", True),
        ("233733", "US", True),
        ("116123", "UK", True),
        ("016", "ES", True),
        ("911", "any", True),
        ("1-888-373-7888", "US", False),  # display form, not E.164
        ("18883737888", "US", False),  # no plus
        ("+0123456789", "US", False),  # country code cannot start with 0
        ("+1888", "US", False),  # too short
        ("+1234567890123456", "US", False),  # too long
        ("999", "US", False),  # the UK's short code, not the US's
        ("12345", "US", False),  # unknown short code
        ("", "US", False),
    ],
)
def test_phone_numbers(value: str, jurisdiction: str, ok: bool) -> None:
    assert is_phone(value, jurisdiction) is ok


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("https://humantraffickinghotline.org/chat", True),
        ("http://example.org/a?b=c", True),
        ("https://dol.gov/sol/media/briefs/josendis(A)-8-26-2010.htm", True),
        ("humantraffickinghotline.org", False),  # no scheme
        ("ftp://example.org", False),
        ("https://localhost/x", False),
        ("https://exa mple.org", False),
        ("https://-bad-.org", False),
        ("https://example.c0m", False),
    ],
)
def test_urls(value: str, ok: bool) -> None:
    assert is_url(value) is ok


def _article(**changes: object) -> Article:
    base = Article(
        id="x",
        locale="en",
        title="T",
        short_answer="S",
        body="B",
        sources=("https://a.org",),
        last_reviewed=date(2026, 11, 1),
        reviewer="r",
        status="published",
    )
    return replace(base, **changes)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("articles", "expected"),
    [
        ([_article(), _article(locale="es")], []),
        ([_article()], ["error: es/x: missing translation"]),
        ([_article(title=""), _article(locale="es")], ["error: en/x: missing title"]),
        ([_article(sources=()), _article(locale="es")], ["error: en/x: no sources"]),
        (
            [_article(sources=("https://bad host",)), _article(locale="es")],
            ["error: en/x: malformed URL 'https://bad host'"],
        ),
        ([_article(status="live"), _article(locale="es")], ["error: en/x: unknown status 'live'"]),
        (
            [_article(last_reviewed=date(2026, 1, 1)), _article(locale="es")],
            ["warning: en/x: stale: last reviewed 2026-01-01"],
        ),
        (
            [_article(last_reviewed=None), _article(locale="es")],
            ["error: en/x: missing last_reviewed", "warning: en/x: stale: last reviewed None"],
        ),
    ],
)
def test_article_checks(articles: list[Article], expected: list[str]) -> None:
    assert [str(p) for p in check_articles(articles, TODAY)] == expected


def test_stale_days_are_configurable() -> None:
    article = _article(last_reviewed=date(2026, 10, 1))
    assert stale_articles([article], TODAY, 180) == []
    assert stale_articles([article], TODAY, 30) == [article]
    assert stale_articles([replace(article, status="retired")], TODAY, 30) == []


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"contact": {"phone": "1-888-373-7888"}}, "phone '1-888-373-7888' is not E.164"),
        ({"contact": {"text": "99999"}}, "text '99999' is not E.164"),
        ({"contact": {"web": "example"}}, "malformed URL 'example'"),
        ({"kind": "spa"}, "unknown kind 'spa'"),
        ({"name": ""}, "missing name"),
        ({"last_verified": "2025-01-01"}, "stale: last verified 2025-01-01"),
    ],
)
def test_service_checks(change: dict[str, object], message: str) -> None:
    listing = {
        "id": "s",
        "name": "N",
        "kind": "hotline",
        "jurisdiction": "US",
        "hours": "24/7",
        "contact": {"phone": "+18883737888"},
        "last_verified": "2026-11-21",
    } | change
    found = [p.message for p in check_services([listing], TODAY)]
    assert any(m.startswith(message) for m in found), found


def test_the_shipped_content_is_clean() -> None:
    problems = check_articles(load_articles(), TODAY) + check_services(load_services(), TODAY)
    assert [str(p) for p in problems] == []
    published = [a for a in load_articles() if a.status == "published"]
    assert len({a.id for a in published if a.locale == "en"}) >= 30
    assert {a.id for a in published if a.locale == "en"} == {
        a.id for a in published if a.locale == "es"
    }
