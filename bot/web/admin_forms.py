"""Admin forms <-> knowledge-base content: pure functions, no I/O.

A form is a mapping of field name to string (what a browser posts). Parsing
never raises: it returns the content it could build and a list of
`FormError`s naming the field each is about, so the page shows the form again
with the admin's text kept and the messages next to the fields.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from resources_kb.content import article_from_dict
from resources_kb.validate import (
    LOCALES,
    SERVICE_KINDS,
    STALE_DAYS,
    Problem,
    check_article,
    check_service,
)

__all__ = [
    "ARTICLE_LIMITS",
    "CONTACT_FIELDS",
    "FormError",
    "Parsed",
    "article_form_values",
    "parse_article_form",
    "parse_service_form",
    "service_form_values",
]

# Longest value accepted per field (characters); lists: per item, and items.
ARTICLE_LIMITS = {
    "id": 128,
    "title": 300,
    "short_answer": 1000,
    "body": 10_000,
    "jurisdiction": 16,
    "note": 300,
}
SERVICE_LIMITS = {
    "id": 128,
    "name": 300,
    "name_es": 300,
    "jurisdiction": 16,
    "area": 100,
    "hours": 200,
    "eligibility_en": 2000,
    "eligibility_es": 2000,
    "last_verified": 10,
    "note": 300,
}
ITEM_LIMIT = 500
MAX_ITEMS = 50
# The contact ways a listing form offers, in order (as `contact.<name>`).
CONTACT_FIELDS = (
    "phone",
    "phone_display",
    "text",
    "text_keyword",
    "tty",
    "whatsapp",
    "whatsapp_display",
    "web",
    "email",
)
CONTACT_LIMIT = 300


@dataclass(frozen=True, slots=True)
class FormError:
    field: str  # the form field ("title", "contact_phone"), or "" for the whole form
    message: str


@dataclass(slots=True)
class Parsed:
    """What a form gave: the content (None when unusable) and the problems found."""

    value: Any
    errors: list[FormError] = field(default_factory=list)
    warnings: list[FormError] = field(default_factory=list)
    base_version: int | None = None
    note: str = ""

    @property
    def ok(self) -> bool:
        return not self.errors and self.value is not None


def _text(form: Mapping[str, str], name: str) -> str:
    value = form.get(name, "")
    return value.replace("\r\n", "\n").replace("\r", "\n").strip()


def _lines(value: str) -> list[str]:
    return [line.strip() for line in value.split("\n") if line.strip()]


def _limit(form: Mapping[str, str], limits: Mapping[str, int], errors: list[FormError]) -> None:
    for name, most in limits.items():
        if len(_text(form, name)) > most:
            errors.append(
                FormError(name, f"{_label(name)} is too long (at most {most} characters)")
            )


def _list(form: Mapping[str, str], name: str, errors: list[FormError]) -> list[str]:
    items = _lines(_text(form, name))
    if len(items) > MAX_ITEMS:
        errors.append(FormError(name, f"{_label(name)}: at most {MAX_ITEMS} lines"))
    if any(len(item) > ITEM_LIMIT for item in items):
        errors.append(FormError(name, f"{_label(name)}: each line at most {ITEM_LIMIT} characters"))
    return items[:MAX_ITEMS]


def _label(name: str) -> str:
    return name.replace("contact_", "contact ").replace("_", " ").capitalize()


def _jurisdiction(value: str) -> str:
    """`any` when empty; country codes in capitals ("us-tx" -> "US-TX")."""
    return "any" if value.casefold() in ("", "any") else value.upper()


def _base_version(form: Mapping[str, str], errors: list[FormError]) -> int | None:
    raw = form.get("base_version", "").strip()
    if raw.isdigit() and len(raw) <= 9:
        return int(raw)
    errors.append(FormError("", "This form is incomplete. Please open it again from the list."))
    return None


# What the forms call a field, where it differs from its name.
LABELS = {
    "id": "ID",
    "locale": "Language",
    "short_answer": "Short answer",
    "body": "Longer text",
    "jurisdiction": "Place",
    "last_verified": "Last verified",
    "contact": "A way to reach them",
}


def _from_problems(problems: list[Problem], rename: Mapping[str, str]) -> list[FormError]:
    errors = []
    for problem in problems:
        message = _sentence(problem.message)
        if problem.message == f"missing {problem.field}":
            message = f"{LABELS.get(problem.field, _label(problem.field))} is required"
        errors.append(FormError(rename.get(problem.field, problem.field), message))
    return errors


def _sentence(message: str) -> str:
    return message[:1].upper() + message[1:]


# ---- articles ----------------------------------------------------------------------


def parse_article_form(
    form: Mapping[str, str],
    *,
    slug: str | None = None,
    locale: str | None = None,
    previous: Mapping[str, Any] | None = None,
) -> Parsed:
    """An article from the form. `slug`/`locale` are fixed when editing (from the URL);
    the review date and reviewer carry over from `previous` (publishing sets them)."""
    errors: list[FormError] = []
    _limit(form, ARTICLE_LIMITS, errors)
    base = _base_version(form, errors)
    article_id = slug if slug is not None else _text(form, "id")
    article_locale = locale if locale is not None else _text(form, "locale")
    if article_locale not in LOCALES:
        errors.append(FormError("locale", f"Language must be one of: {', '.join(LOCALES)}"))
    data: dict[str, Any] = {
        "id": article_id,
        "locale": article_locale,
        "title": " ".join(_text(form, "title").split()),
        # One paragraph, as in the files: the bot sends it as one message.
        "short_answer": " ".join(_text(form, "short_answer").split()),
        "body": _text(form, "body"),
        "jurisdiction": _jurisdiction(_text(form, "jurisdiction")),
        "topics": _list(form, "topics", errors),
        "example_questions": _list(form, "example_questions", errors),
        "sources": _list(form, "sources", errors),
        "last_reviewed": (previous or {}).get("last_reviewed"),
        "reviewer": str((previous or {}).get("reviewer") or ""),
        "status": "draft",
    }
    try:
        article = article_from_dict(data)
    except (ValueError, TypeError):
        # A broken review date in an old version: the reviewer sets a new one.
        article = article_from_dict(data | {"last_reviewed": None})
    if not any(e.field == "locale" for e in errors):
        errors.extend(_from_problems(check_article(article, draft=True), {}))
    return Parsed(article, _unique(errors), base_version=base, note=_text(form, "note")[:300])


def article_form_values(snapshot: Mapping[str, Any] | None) -> dict[str, str]:
    """Form field values for a version snapshot (blank for a new article)."""
    data = snapshot or {}
    return {
        "id": str(data.get("id", "")),
        "locale": str(data.get("locale", "en")),
        "title": str(data.get("title", "")),
        "short_answer": str(data.get("short_answer", "")),
        "body": str(data.get("body", "")),
        "jurisdiction": str(data.get("jurisdiction", "any")),
        "topics": "\n".join(str(t) for t in data.get("topics") or ()),
        "example_questions": "\n".join(str(q) for q in data.get("example_questions") or ()),
        "sources": "\n".join(str(s) for s in data.get("sources") or ()),
        "note": "",
    }


# ---- service listings -------------------------------------------------------------

_SERVICE_ORDER = (
    "id",
    "name",
    "name_es",
    "kind",
    "jurisdiction",
    "area",
    "contact",
    "hours",
    "languages",
    "eligibility",
    "sources",
    "last_verified",
)


def parse_service_form(
    form: Mapping[str, str],
    today: date,
    *,
    slug: str | None = None,
    previous: Mapping[str, Any] | None = None,
    stale_days: int = STALE_DAYS,
) -> Parsed:
    """A listing from the form. Fields the form does not show are kept from `previous`,
    so nothing in a listing is lost by editing it here."""
    errors: list[FormError] = []
    _limit(form, SERVICE_LIMITS, errors)
    for name in CONTACT_FIELDS:
        if len(_text(form, f"contact_{name}")) > CONTACT_LIMIT:
            errors.append(FormError(f"contact_{name}", f"Contact {name} is too long"))
    base = _base_version(form, errors)
    before = dict(previous or {})
    listing: dict[str, Any] = dict(before)
    values = {
        "id": slug if slug is not None else _text(form, "id"),
        "name": " ".join(_text(form, "name").split()),
        "name_es": " ".join(_text(form, "name_es").split()),
        "kind": _text(form, "kind"),
        "jurisdiction": _jurisdiction(_text(form, "jurisdiction")),
        "area": _text(form, "area"),
        "hours": _text(form, "hours"),
        "last_verified": _text(form, "last_verified"),
    }
    for key, value in values.items():
        _put(listing, key, value)
    contact = dict(before.get("contact") or {}) if isinstance(before.get("contact"), dict) else {}
    for name in CONTACT_FIELDS:
        _put(contact, name, _text(form, f"contact_{name}"))
    _put(listing, "contact", contact)
    _put(listing, "languages", _list(form, "languages", errors))
    _put(listing, "sources", _list(form, "sources", errors))
    eligibility = before.get("eligibility")
    kept = dict(eligibility) if isinstance(eligibility, dict) else {}
    for lang in LOCALES:
        _put(kept, lang, " ".join(_text(form, f"eligibility_{lang}").split()))
    _put(listing, "eligibility", kept)
    ordered = {k: listing[k] for k in _SERVICE_ORDER if k in listing}
    ordered |= {k: v for k, v in listing.items() if k not in ordered}
    if values["kind"] and values["kind"] not in SERVICE_KINDS:
        errors.append(FormError("kind", f"Kind must be one of: {', '.join(sorted(SERVICE_KINDS))}"))
    rename = {f"contact.{n}": f"contact_{n}" for n in CONTACT_FIELDS}
    warnings: list[FormError] = []
    for problem in check_service(ordered, today, stale_days):
        if problem.field == "kind" and any(e.field == "kind" for e in errors):
            continue
        target = errors if problem.level == "error" else warnings
        target.extend(_from_problems([problem], rename))
    return Parsed(ordered, _unique(errors), _unique(warnings), base, note=_text(form, "note")[:300])


def _put(target: dict[str, Any], key: str, value: Any) -> None:
    """Set `key`, or drop it when the form left it empty."""
    if value in ("", [], {}, None):
        target.pop(key, None)
    else:
        target[key] = value


def service_form_values(listing: Mapping[str, Any] | None) -> dict[str, str]:
    data = listing or {}
    contact = data.get("contact") if isinstance(data.get("contact"), dict) else {}
    eligibility = data.get("eligibility")
    if not isinstance(eligibility, dict):
        eligibility = {"en": eligibility} if eligibility else {}
    values = {
        "id": str(data.get("id", "")),
        "name": str(data.get("name", "")),
        "name_es": str(data.get("name_es", "")),
        "kind": str(data.get("kind", "")),
        "jurisdiction": str(data.get("jurisdiction", "")),
        "area": str(data.get("area", "")),
        "hours": str(data.get("hours", "")),
        "languages": "\n".join(str(x) for x in data.get("languages") or ()),
        "sources": "\n".join(str(x) for x in data.get("sources") or ()),
        "last_verified": str(data.get("last_verified", "")),
        "note": "",
    }
    for lang in LOCALES:
        values[f"eligibility_{lang}"] = str((eligibility or {}).get(lang, ""))
    for name in CONTACT_FIELDS:
        values[f"contact_{name}"] = str((contact or {}).get(name, ""))
    return values


def _unique(errors: list[FormError]) -> list[FormError]:
    seen: set[FormError] = set()
    out = []
    for error in errors:
        if error not in seen:
            seen.add(error)
            out.append(error)
    return out
