"""Recognise always-available commands, in English and Spanish words or as /slash."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from dialogs.normalize import fold

__all__ = ["Command", "match_command"]

COMMANDS_FILE = Path(__file__).resolve().parent / "locales" / "commands.yml"


@dataclass(frozen=True, slots=True)
class Command:
    name: str
    # The language of the words used, or None for a slash command or shared word.
    locale: str | None


@lru_cache(maxsize=1)
def _table() -> tuple[dict[str, Command], frozenset[str]]:
    # YAML 1.1 reads the keys yes/no as booleans; map them back to names.
    raw = yaml.safe_load(COMMANDS_FILE.read_text(encoding="utf-8"))
    phrases: dict[str, Command] = {}
    slashes: set[str] = set()
    for key, spec in raw.items():
        name = {True: "yes", False: "no"}.get(key, key)
        for slash in spec.get("slash", []):
            phrases[fold(slash)] = Command(str(name), None)
            slashes.add(fold(slash))
        for locale in ("en", "es"):
            for phrase in spec.get(locale, []):
                folded = fold(str(phrase))
                existing = phrases.get(folded)
                # A word shared by both languages ("menu", "no") says nothing of language.
                shared = existing is not None and existing.locale not in (None, locale)
                phrases[folded] = Command(str(name), None if shared else locale)
    return phrases, frozenset(slashes)


def match_command(text: str) -> Command | None:
    """The command a whole message names, or None. '/foo' unknown -> 'unknown'."""
    folded = fold(text)
    if not folded:
        return None
    phrases, _ = _table()
    found = phrases.get(folded)
    if found is not None:
        return found
    stripped = text.strip()
    if stripped.startswith("/") and " " not in stripped and len(stripped) <= 32:
        # Telegram appends @botname to commands in groups.
        base = fold(stripped.split("@", 1)[0])
        return phrases.get(base, Command("unknown", None))
    return None
