"""Entities: places (country / US state), languages, and relative times.

Places and languages come from a gazetteer (nlu/gazetteer/locations.yml);
times from a small rule set in English and Spanish ("tomorrow", "in 3 days",
"next Monday", "mañana por la tarde"), resolved against a given moment.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from dialogs.normalize import fold

__all__ = ["Entity", "extract_entities"]

GAZETTEER = Path(__file__).resolve().parent / "gazetteer" / "locations.yml"


@dataclass(frozen=True, slots=True)
class Entity:
    entity: str
    value: Any
    text: str

    def as_dict(self) -> dict[str, Any]:
        return {"entity": self.entity, "value": self.value, "text": self.text}


@lru_cache(maxsize=1)
def _names() -> tuple[re.Pattern[str], dict[str, tuple[str, str]]]:
    data = yaml.safe_load(GAZETTEER.read_text(encoding="utf-8"))
    table: dict[str, tuple[str, str]] = {}
    for code, names in data["countries"].items():
        for name in names:
            table[fold(str(name))] = ("location", str(code))
    for code, names in data["states"].items():
        for name in names:
            table[fold(str(name))] = ("location", f"US-{code}")
    for code, names in data["languages"].items():
        for name in names:
            table[fold(str(name))] = ("language", str(code))
    # Longest names first so "new mexico" beats "mexico".
    alternatives = sorted(table, key=len, reverse=True)
    pattern = re.compile(r"\b(" + "|".join(re.escape(a) for a in alternatives) + r")\b")
    return pattern, table


# "us" and "in" are also ordinary words; only trust them in capitals or after a preposition.
_AMBIGUOUS = {"us", "in", "ny", "tx"}


def _places_and_languages(text: str) -> list[Entity]:
    pattern, table = _names()
    folded = fold(text)
    found: list[Entity] = []
    for match in pattern.finditer(folded):
        name = match.group(1)
        if name in _AMBIGUOUS and not _ambiguous_ok(text, folded, match):
            continue
        kind, code = table[name]
        found.append(Entity(kind, code, name))
    return found


def _ambiguous_ok(text: str, folded: str, match: re.Match[str]) -> bool:
    upper = match.group(1).upper()
    if re.search(rf"\b{re.escape(upper)}\b", text):
        return True
    before = folded[: match.start()].split()[-1:] or [""]
    return before[0] in {"in", "the", "en", "los", "to", "a"}


_NUMBERS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "a": 1, "an": 1,
    "un": 1, "uno": 1, "una": 1, "dos": 2, "tres": 3, "cuatro": 4, "cinco": 5, "seis": 6,
    "siete": 7, "ocho": 8, "nueve": 9, "diez": 10,
}  # fmt: skip
_UNITS = {
    "minute": "minutes", "minutes": "minutes", "min": "minutes", "mins": "minutes",
    "minuto": "minutes", "minutos": "minutes",
    "hour": "hours", "hours": "hours", "hr": "hours", "hrs": "hours", "hora": "hours",
    "horas": "hours",
    "day": "days", "days": "days", "dia": "days", "dias": "days",
    "week": "weeks", "weeks": "weeks", "semana": "weeks", "semanas": "weeks",
}  # fmt: skip
_WEEKDAYS = {
    "monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4, "saturday": 5,
    "sunday": 6, "lunes": 0, "martes": 1, "miercoles": 2, "jueves": 3, "viernes": 4,
    "sabado": 5, "domingo": 6,
}  # fmt: skip
_PARTS = {
    "morning": 9, "manana": 9, "afternoon": 15, "tarde": 15, "evening": 19,
    "night": 21, "noche": 21,
}  # fmt: skip

_IN_N = re.compile(
    r"\b(?:in|en|dentro de)\s+(\d{1,3}|" + "|".join(_NUMBERS) + r")\s+(" + "|".join(_UNITS) + r")\b"
)
_WEEKDAY = re.compile(
    r"\b(?:(next|this|on|el|este|el proximo|proximo|el otro)\s+)?(" + "|".join(_WEEKDAYS) + r")\b"
)
_CLOCK = re.compile(
    r"\b(?:at|a las|a la)\s+(\d{1,2})(?::(\d{2}))?(?:\s*(am|pm|a m|p m))?"
    r"(?:\s+de la\s+(manana|tarde|noche))?\b"
)
_PART = re.compile(
    r"\b(?:in the|this|por la|en la|esta|at)\s+"
    r"(morning|afternoon|evening|night|manana|tarde|noche)\b"
)


# "tomorrow morning", "lunes tarde": a part of day without a preposition.
_BARE_PART = re.compile(r"\b(morning|afternoon|evening|night|tarde|noche)\b")


def _relative_day(folded: str) -> tuple[int, str] | None:
    if re.search(r"\b(tomorrow|tmrw|tmr|pasado manana)\b", folded):
        return (2, "pasado manana") if "pasado manana" in folded else (1, "tomorrow")
    # "manana" alone or "manana por la ..." means tomorrow; "por la manana" is a part of day.
    for match in re.finditer(r"\bmanana\b", folded):
        before = folded[: match.start()].rstrip()
        if not before.endswith(("la", "por la", "en la", "esta")):
            return 1, "manana"
    if re.search(r"\b(today|tonight|hoy|esta noche)\b", folded):
        return 0, "today"
    return None


def _time_of_day(folded: str) -> tuple[int, int] | None:
    clock = _CLOCK.search(folded)
    if clock:
        hour = int(clock.group(1)) % 24
        minute = int(clock.group(2) or 0)
        suffix = (clock.group(3) or "").replace(" ", "")
        part = clock.group(4)
        if (suffix == "pm" or part in ("tarde", "noche")) and hour < 12:
            hour += 12
        if suffix == "am" and hour == 12:
            hour = 0
        return hour, minute
    part_match = _PART.search(folded)
    if part_match:
        return _PARTS[part_match.group(1)], 0
    if "tonight" in folded or "esta noche" in folded:
        return 21, 0
    bare = _BARE_PART.search(folded)
    if bare:
        return _PARTS[bare.group(1)], 0
    return None


def _time(text: str, now: datetime) -> Entity | None:
    folded = fold(text)
    in_n = _IN_N.search(folded)
    if in_n:
        amount_text, unit = in_n.group(1), _UNITS[in_n.group(2)]
        amount = int(amount_text) if amount_text.isdigit() else _NUMBERS[amount_text]
        moment = now + timedelta(**{unit: amount})
        return Entity("time", moment.isoformat(), in_n.group(0))
    day = _relative_day(folded)
    weekday = _WEEKDAY.search(folded)
    clock = _time_of_day(folded)
    if day is None and weekday is None and clock is None:
        return None
    base = now
    span = ""
    if day is not None:
        base = now + timedelta(days=day[0])
        span = day[1]
    elif weekday is not None:
        ahead = (_WEEKDAYS[weekday.group(2)] - now.weekday()) % 7 or 7
        base = now + timedelta(days=ahead)
        span = weekday.group(0)
    hour, minute = clock if clock is not None else (base.hour, base.minute)
    if day is None and weekday is None:
        span = "time of day"
    moment = base.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if moment <= now:
        moment += timedelta(days=1)
    return Entity("time", moment.isoformat(), span)


def extract_entities(text: str, now: datetime) -> list[Entity]:
    """Every entity in the text; times resolved relative to ``now``."""
    sample = text[:2000]
    found = _places_and_languages(sample)
    moment = _time(sample, now)
    if moment is not None:
        found.append(moment)
    return found
