"""Checks for content before it reaches anyone: pure functions, tested by tables.

Errors (exit code 1 in `kb validate`; shown next to the field in the admin
form): missing required fields, an id or jurisdiction in the wrong shape, a
phone number that is neither E.164 nor a known short code, a malformed URL or
e-mail address, an article without its pair in the other locale, a short
answer that breaks the writing guide (`resources_kb.writing`: reading grade,
banned phrases, a question without a way to skip). Warnings:
stale articles (last reviewed longer ago than `stale_days`) and stale service
listings (last verified longer ago).

Each `Problem` names the `field` it is about ("title", "contact.phone", ...;
empty for the whole item), so a form can show it where it belongs.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import urlsplit

from resources_kb.content import Article
from resources_kb.workflow import STATUSES
from resources_kb.writing import MAX_GRADE, MIN_WORDS_FOR_GRADE, asks_without_way_out, banned_in
from resources_kb.writing import grade as reading_grade

__all__ = [
    "LOCALES",
    "SHORT_CODES",
    "STALE_DAYS",
    "Problem",
    "check_article",
    "check_articles",
    "check_pair",
    "check_service",
    "check_services",
    "check_writing",
    "is_email",
    "is_jurisdiction",
    "is_phone",
    "is_slug",
    "is_url",
    "stale_articles",
    "stale_services",
]

LOCALES = ("en", "es")
STALE_DAYS = 180
# E.164: "+", a country code that does not start with 0, 8 to 15 digits in all.
_E164 = re.compile(r"^\+[1-9]\d{7,14}$")
# Short numbers we know by name (from ../shared/facts.md), per country.
SHORT_CODES: dict[str, frozenset[str]] = {
    "US": frozenset({"911", "988", "711", "233733", "741741", "88788"}),
    "CA": frozenset({"911"}),
    "UK": frozenset({"999", "112", "116123", "111"}),
    "ES": frozenset({"112", "016", "091", "062"}),
    "MX": frozenset({"911", "089"}),
}
_ALL_SHORT = frozenset().union(*SHORT_CODES.values())
_ARTICLE_REQUIRED = ("id", "locale", "title", "short_answer", "body", "last_reviewed", "reviewer")
_SERVICE_REQUIRED = ("id", "name", "kind", "jurisdiction", "contact", "hours", "last_verified")
SERVICE_KINDS = frozenset(
    {
        "hotline",
        "crisis",
        "emergency",
        "shelter",
        "legal",
        "health",
        "counseling",
        "work",
        "documents",
    }
)
_CONTACT_NUMBERS = ("phone", "text", "tty", "whatsapp")
# Filled in by the reviewer who publishes: not required of a draft.
_REVIEW_FIELDS = ("last_reviewed", "reviewer")
_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_JURISDICTION = re.compile(r"^[A-Z]{2}(?:-[A-Z0-9]{1,3})?$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")


@dataclass(frozen=True, slots=True)
class Problem:
    level: str  # "error" | "warning"
    where: str
    message: str
    field: str = ""

    def __str__(self) -> str:
        return f"{self.level}: {self.where}: {self.message}"


def is_phone(value: str, jurisdiction: str = "any") -> bool:
    """E.164 ("+18883737888") or a short code known for the jurisdiction."""
    value = value.strip()
    if _E164.match(value):
        return True
    country = jurisdiction.split("-", 1)[0]
    known = SHORT_CODES.get(country, _ALL_SHORT) if country != "any" else _ALL_SHORT
    return value in known


def is_url(value: str) -> bool:
    """An absolute http(s) URL with a dotted host and no spaces."""
    if any(c.isspace() for c in value):
        return False
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    host = parts.hostname or ""
    labels = host.split(".")
    return (
        parts.scheme in ("http", "https")
        and len(labels) >= 2
        and all(re.fullmatch(r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?", label) for label in labels)
        and labels[-1].isalpha()
    )


def is_slug(value: str) -> bool:
    """An id: lower-case letters and digits in groups joined by single dashes."""
    return len(value) <= 128 and bool(_SLUG.match(value))


def is_jurisdiction(value: str) -> bool:
    """`any`, a country code ("US") or a country and region ("US-TX")."""
    return value == "any" or bool(_JURISDICTION.match(value))


def is_email(value: str) -> bool:
    return len(value) <= 254 and bool(_EMAIL.match(value))


def _looks_like_url(value: str) -> bool:
    return value.startswith(("http:", "https:", "www."))


def check_article(article: Article, *, draft: bool = False) -> list[Problem]:
    """Problems with one article; `draft` leaves out what publishing fills in."""
    where = f"{article.locale}/{article.id}"
    required = [n for n in _ARTICLE_REQUIRED if not (draft and n in _REVIEW_FIELDS)]
    problems = [
        Problem("error", where, f"missing {name}", name)
        for name in required
        if not getattr(article, name)
    ]
    if article.id and not is_slug(article.id):
        problems.append(
            Problem("error", where, "id must be lower-case letters, digits and dashes", "id")
        )
    if article.locale not in LOCALES:
        problems.append(Problem("error", where, f"unknown locale {article.locale!r}", "locale"))
    if not is_jurisdiction(article.jurisdiction):
        problems.append(
            Problem(
                "error",
                where,
                f"jurisdiction {article.jurisdiction!r} is not any, US or US-TX style",
                "jurisdiction",
            )
        )
    if article.status not in STATUSES:
        problems.append(Problem("error", where, f"unknown status {article.status!r}", "status"))
    if not article.sources:
        problems.append(Problem("error", where, "no sources", "sources"))
    for source in article.sources:
        if _looks_like_url(source) and not is_url(source):
            problems.append(Problem("error", where, f"malformed URL {source!r}", "sources"))
    if article.locale in LOCALES:
        problems.extend(
            Problem("error", where, message, "short_answer")
            for message in check_writing(article.short_answer, article.locale)
        )
    return problems


def check_writing(text: str, locale: str) -> list[str]:
    """Why a short answer breaks the writing guide, in words a reviewer can act on."""
    messages = [
        f"short answer uses {phrase!r}, which the writing guide does not allow"
        for phrase in banned_in(text, locale)
    ]
    if locale == "en" and len(text.split()) >= MIN_WORDS_FOR_GRADE:
        level = reading_grade(text)
        if level > MAX_GRADE:
            messages.append(
                f"short answer reads at grade {level:.1f}; the writing guide asks for grade "
                f"{MAX_GRADE:g} or lower (shorter sentences, simpler words)"
            )
    if asks_without_way_out(text, locale):
        example = "puedes saltar esta pregunta" if locale == "es" else "you can skip this"
        messages.append(
            f"short answer asks a question without a way to skip or stop (for example “{example}”)"
        )
    return messages


def check_pair(article_id: str, locale: str, locales: Iterable[str]) -> list[Problem]:
    """Errors for the locales `article_id` lacks, given the ones it has (`locales`)."""
    have = set(locales) | {locale}
    return [
        Problem("error", f"{missing}/{article_id}", "missing translation", "locale")
        for missing in sorted(set(LOCALES) - have)
    ]


def check_articles(
    articles: Sequence[Article], today: date, stale_days: int = STALE_DAYS
) -> list[Problem]:
    problems = [p for a in articles for p in check_article(a)]
    seen: dict[str, set[str]] = {}
    for article in articles:
        key = f"{article.locale}/{article.id}"
        if article.id in seen and article.locale in seen[article.id]:
            problems.append(Problem("error", key, "duplicate id"))
        seen.setdefault(article.id, set()).add(article.locale)
    for article_id, locales in sorted(seen.items()):
        for missing in sorted(set(LOCALES) - locales):
            problems.append(Problem("error", f"{missing}/{article_id}", "missing translation"))
    problems.extend(
        Problem("warning", f"{a.locale}/{a.id}", f"stale: last reviewed {a.last_reviewed}")
        for a in stale_articles(articles, today, stale_days)
    )
    return problems


def stale_articles(
    articles: Iterable[Article], today: date, stale_days: int = STALE_DAYS
) -> list[Article]:
    """Articles in use whose review is older than `stale_days` (or never done)."""
    return [
        a
        for a in articles
        if a.status != "retired"
        and (a.last_reviewed is None or (today - a.last_reviewed).days > stale_days)
    ]


def check_service(
    listing: dict[str, Any], today: date, stale_days: int = STALE_DAYS
) -> list[Problem]:
    where = f"service/{listing.get('id', '?')}"
    problems = [
        Problem("error", where, f"missing {name}", name)
        for name in _SERVICE_REQUIRED
        if not listing.get(name)
    ]
    slug = listing.get("id")
    if slug and not is_slug(str(slug)):
        problems.append(
            Problem("error", where, "id must be lower-case letters, digits and dashes", "id")
        )
    kind = listing.get("kind")
    if kind and kind not in SERVICE_KINDS:
        problems.append(Problem("error", where, f"unknown kind {kind!r}", "kind"))
    jurisdiction = str(listing.get("jurisdiction", "any"))
    if listing.get("jurisdiction") and not is_jurisdiction(jurisdiction):
        problems.append(
            Problem(
                "error",
                where,
                f"jurisdiction {jurisdiction!r} is not any, US or US-TX style",
                "jurisdiction",
            )
        )
    contact = listing.get("contact") or {}
    if not isinstance(contact, dict):
        return [*problems, Problem("error", where, "contact must be a mapping", "contact")]
    if contact and not any(contact.get(way) for way in (*_CONTACT_NUMBERS, "web", "email")):
        problems.append(
            Problem(
                "error", where, "contact has no phone, text, WhatsApp, web or e-mail", "contact"
            )
        )
    for field in _CONTACT_NUMBERS:
        if field in contact and not is_phone(str(contact[field]), jurisdiction):
            problems.append(
                Problem(
                    "error",
                    where,
                    f"{field} {contact[field]!r} is not E.164 or a known short code",
                    f"contact.{field}",
                )
            )
    if "web" in contact and not is_url(str(contact["web"])):
        problems.append(Problem("error", where, f"malformed URL {contact['web']!r}", "contact.web"))
    if "email" in contact and not is_email(str(contact["email"])):
        problems.append(
            Problem("error", where, f"malformed e-mail {contact['email']!r}", "contact.email")
        )
    for source in listing.get("sources") or ():
        if _looks_like_url(str(source)) and not is_url(str(source)):
            problems.append(Problem("error", where, f"malformed URL {source!r}", "sources"))
    verified = listing.get("last_verified")
    if verified:
        checked = _date(verified)
        if checked is None:
            problems.append(Problem("error", where, f"bad date {verified!r}", "last_verified"))
        elif (today - checked).days > stale_days:
            problems.append(
                Problem("warning", where, f"stale: last verified {checked}", "last_verified")
            )
    return problems


def _date(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        return None


def stale_services(
    listings: Iterable[dict[str, Any]], today: date, stale_days: int = STALE_DAYS
) -> list[tuple[dict[str, Any], date | None]]:
    """Listings whose last verification is older than `stale_days` (or unknown), with it."""
    stale = []
    for listing in listings:
        checked = _date(listing.get("last_verified") or "")
        if checked is None or (today - checked).days > stale_days:
            stale.append((listing, checked))
    return stale


def check_services(
    listings: Sequence[dict[str, Any]], today: date, stale_days: int = STALE_DAYS
) -> list[Problem]:
    problems = [p for s in listings for p in check_service(s, today, stale_days)]
    ids = [s.get("id") for s in listings]
    problems.extend(
        Problem("error", f"service/{i}", "duplicate id")
        for i in sorted({i for i in ids if ids.count(i) > 1}, key=str)
    )
    return problems
