"""Dialog texts, kept as data per locale (dialogs/locales/*.yml)."""

from __future__ import annotations

from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import yaml

__all__ = ["LOCALES", "Texts", "flatten", "get_texts", "lines_for"]

LOCALES_DIR = Path(__file__).resolve().parent / "locales"
LOCALES = ("en", "es")
DEFAULT_LOCALE = "en"


def flatten(tree: dict[str, Any], prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in tree.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flatten(value, path + "."))
        else:
            out[path] = str(value).strip()
    return out


class Texts:
    def __init__(self, locale: str, entries: dict[str, str]) -> None:
        self.locale = locale
        self.entries = entries

    def __call__(self, key: str, **values: object) -> str:
        template = self.entries[key]
        return template.format(**values) if values else template


@cache
def get_texts(locale: str) -> Texts:
    if locale not in LOCALES:
        locale = DEFAULT_LOCALE
    tree = yaml.safe_load((LOCALES_DIR / f"{locale}.yml").read_text(encoding="utf-8"))
    return Texts(locale, flatten(tree))


@lru_cache(maxsize=1)
def _lines() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((LOCALES_DIR / "lines.yml").read_text(encoding="utf-8"))
    return loaded


def lines_for(country: str, locale: str) -> dict[str, str]:
    """Emergency number and crisis/hotline sentences for a country (US if unknown)."""
    table = _lines()
    entry = table.get(country.upper()) or table["US"]
    localized = entry.get(locale) or entry["en"]
    return {"emergency": entry["emergency"], **localized}
