"""Pure check-in decisions: when a rule is next due, quiet hours, parsing a request.

Times are stored in UTC; rules are in the survivor's local time of an IANA zone,
converted on the occurrence's own date with zoneinfo, so a weekly check-in at
18:00 stays at 18:00 local across daylight-saving changes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from dialogs.normalize import fold
from nlu.entities import extract_entities

__all__ = [
    "ANY_TIME",
    "DEFAULT_QUIET",
    "NEVER",
    "Rule",
    "after_quiet_hours",
    "first_due",
    "in_quiet_hours",
    "next_due",
    "parse_hhmm",
    "parse_hours",
    "parse_notify",
    "parse_request",
    "parse_zone",
    "rezone",
    "zone_choices",
    "zone_for",
    "zone_label_id",
]

# Nothing arrives at night unless the survivor changes it.
DEFAULT_QUIET: tuple[str, str] = ("21:00", "08:00")
# Equal ends: no quiet hours (check-ins may come at any time).
ANY_TIME: tuple[str, str] = ("00:00", "00:00")
NEVER = 0  # notify after this many missed: never

# The zones a survivor picks from, per country: (label id in checkins.zones, IANA key).
# The first is used until they choose: the country's most populous zone.
ZONE_CHOICES: dict[str, tuple[tuple[str, str], ...]] = {
    "US": (
        ("eastern", "America/New_York"),
        ("central", "America/Chicago"),
        ("mountain", "America/Denver"),
        ("arizona", "America/Phoenix"),
        ("pacific", "America/Los_Angeles"),
        ("alaska", "America/Anchorage"),
        ("hawaii", "Pacific/Honolulu"),
    ),
    "CA": (
        ("eastern", "America/Toronto"),
        ("central", "America/Winnipeg"),
        ("mountain", "America/Edmonton"),
        ("pacific", "America/Vancouver"),
        ("atlantic", "America/Halifax"),
        ("newfoundland", "America/St_Johns"),
    ),
    "MX": (
        ("mx_central", "America/Mexico_City"),
        ("mx_southeast", "America/Cancun"),
        ("mx_pacific", "America/Mazatlan"),
        ("mx_northwest", "America/Tijuana"),
    ),
    "ES": (("es_peninsula", "Europe/Madrid"), ("es_canary", "Atlantic/Canary")),
    "UK": (("uk", "Europe/London"),),
    "GB": (("uk", "Europe/London"),),
}
COUNTRY_ZONES = {country: zones[0][1] for country, zones in ZONE_CHOICES.items()}


def zone_for(name: str | None, country: str = "US") -> ZoneInfo:
    for candidate in (name, COUNTRY_ZONES.get(country.upper()), "UTC"):
        if candidate:
            try:
                return ZoneInfo(candidate)
            except (ZoneInfoNotFoundError, ValueError):
                continue
    return ZoneInfo("UTC")


def zone_choices(country: str) -> tuple[tuple[str, str], ...]:
    """(label id, IANA key) pairs offered to a survivor of this country."""
    return ZONE_CHOICES.get(country.upper(), ())


def zone_label_id(key: str, country: str = "US") -> str | None:
    """The label id of a zone we name in words ("eastern"), or None: use the city."""
    ordered = (country.upper(), *ZONE_CHOICES)
    for name in ordered:
        for label, zone in ZONE_CHOICES.get(name, ()):
            if zone == key:
                return label
    return None


# Words people use for a zone, folded (no accents, lower case), in both languages.
_ZONE_WORDS: dict[str, str] = {
    "eastern": "America/New_York", "east": "America/New_York", "et": "America/New_York",
    "est": "America/New_York", "edt": "America/New_York", "este": "America/New_York",
    "nueva york": "America/New_York", "florida": "America/New_York",
    "central": "America/Chicago", "ct": "America/Chicago", "cst": "America/Chicago",
    "cdt": "America/Chicago", "centro": "America/Chicago", "texas": "America/Chicago",
    "mountain": "America/Denver", "mt": "America/Denver", "mst": "America/Denver",
    "mdt": "America/Denver", "montana": "America/Denver", "colorado": "America/Denver",
    "arizona": "America/Phoenix",
    "pacific": "America/Los_Angeles", "pt": "America/Los_Angeles",
    "pst": "America/Los_Angeles", "pdt": "America/Los_Angeles",
    "pacifico": "America/Los_Angeles", "california": "America/Los_Angeles",
    "alaska": "America/Anchorage", "hawaii": "Pacific/Honolulu",
    "atlantic": "America/Halifax", "atlantico": "America/Halifax",
    "newfoundland": "America/St_Johns", "terranova": "America/St_Johns",
    "ciudad de mexico": "America/Mexico_City", "cdmx": "America/Mexico_City",
    "mexico": "America/Mexico_City", "sureste": "America/Cancun", "quintana roo": "America/Cancun",
    "baja california": "America/Tijuana", "noroeste": "America/Tijuana",
    "sinaloa": "America/Mazatlan", "sonora": "America/Hermosillo",
    "peninsula": "Europe/Madrid", "espana": "Europe/Madrid", "spain": "Europe/Madrid",
    "canarias": "Atlantic/Canary", "canary islands": "Atlantic/Canary",
    "canary": "Atlantic/Canary", "uk": "Europe/London", "reino unido": "Europe/London",
    "utc": "UTC", "gmt": "Europe/London",
}  # fmt: skip
# In a country's own zones, these words mean that country's zone, not the US one.
_COUNTRY_WORDS: dict[str, dict[str, str]] = {
    "CA": {"eastern": "America/Toronto", "central": "America/Winnipeg",
           "mountain": "America/Edmonton", "pacific": "America/Vancouver",
           "este": "America/Toronto", "centro": "America/Winnipeg",
           "montana": "America/Edmonton", "pacifico": "America/Vancouver"},
    "MX": {"central": "America/Mexico_City", "centro": "America/Mexico_City",
           "pacific": "America/Mazatlan", "pacifico": "America/Mazatlan",
           "southeast": "America/Cancun", "northwest": "America/Tijuana"},
}  # fmt: skip
_ZONE_FILLER = re.compile(
    r"\b(time ?zone|zona horaria|time|zone|hora|horario|del|de|la|el|in|en|i am|i m|im|estoy)\b"
)


@lru_cache(maxsize=1)
def _cities() -> dict[str, str]:
    """Every IANA zone by its folded city: "los angeles" -> America/Los_Angeles."""
    cities: dict[str, str] = {}
    for key in sorted(available_timezones()):
        if "/" not in key or key.startswith(("Etc/", "SystemV/", "US/")):
            continue
        city = key.rsplit("/", 1)[1].replace("_", " ").lower()
        cities.setdefault(city, key)
    return cities


def parse_zone(text: str, country: str = "US", labels: dict[str, str] | None = None) -> str | None:
    """An IANA zone from what a survivor typed or tapped, or None when it names none.

    ``labels`` maps folded label texts ("eastern time", "hora del este") to zone keys.
    """
    folded = fold(text)
    if not folded:
        return None
    if labels and folded in labels:
        return labels[folded]
    raw = text.strip()
    if "/" in raw:
        candidates = {k.lower(): k for k in available_timezones()}
        if raw.lower() in candidates:
            return candidates[raw.lower()]
    words = " ".join(_ZONE_FILLER.sub(" ", folded).split())
    for phrase in (words, folded):
        if not phrase:
            continue
        own = _COUNTRY_WORDS.get(country.upper(), {})
        found = own.get(phrase) or _ZONE_WORDS.get(phrase) or _cities().get(phrase)
        if found:
            return found
    return None


_CLOCK = (
    r"(\d{1,2})(?:h(\d{2}))?\s*"
    r"(am|pm|a m|p m|de la manana|de la tarde|de la noche|en la manana|en la tarde|"
    r"en la noche|in the morning|in the evening|at night)?"
)
_RANGE = re.compile(
    rf"^(?:from |de |desde |entre )?{_CLOCK}\s*(?:to|until|till|and|a|hasta|y)\s*{_CLOCK}$"
)
_ANY_TIME = {"any time", "anytime", "all day", "24 hours", "24h", "cualquier hora",
             "a cualquier hora", "todo el dia", "24 horas", "siempre"}  # fmt: skip
_PM_WORDS = ("pm", "p m", "de la tarde", "de la noche", "en la tarde", "en la noche",
             "in the evening", "at night")  # fmt: skip


def _hour(hour: int, minute: int, marker: str | None) -> tuple[int, int] | None:
    if minute > 59 or hour > 24:
        return None
    if marker:
        if hour == 0 or hour > 12:
            return None
        hour = hour % 12 + (12 if marker in _PM_WORDS else 0)
    return hour % 24, minute


def parse_hours(text: str) -> tuple[str, str] | None:
    """The hours a survivor allows check-ins in, ("08:00", "21:00"); ``ANY_TIME`` for
    any time; None when the text names no range. "10am to 6pm", "9-17", "de 9 a 17 h".
    """
    marked = re.sub(r"(\d)\s*[:.h]\s*(\d\d)", r"\1h\2", text)  # 10:30, 10.30, 10h30
    folded = fold(re.sub(r"\s*[-–—]\s*", " to ", marked))
    folded = " ".join(re.sub(r"\b(h|hs|hrs|horas|hours|o clock)\b", " ", folded).split())
    if folded in _ANY_TIME:
        return ANY_TIME
    match = _RANGE.match(folded)
    if match is None:
        return None
    h1, m1, mark1, h2, m2, mark2 = match.groups()
    if mark1 is None and mark2 in ("am", "a m") and int(h1) <= 12:
        mark1 = None  # "9 to 11am": both in the morning, read below.
    start = _hour(int(h1), int(m1 or 0), mark1)
    end = _hour(int(h2), int(m2 or 0), mark2)
    if start is None or end is None:
        return None
    if mark2 is None and end <= start and start[0] < 12 and end[0] < 12:
        end = (end[0] + 12, end[1])  # "9 to 5": five in the afternoon.
    if mark1 is None and mark2 in _PM_WORDS and start[0] + 12 < end[0]:
        start = (start[0] + 12, start[1])  # "5 to 9pm": both in the evening.
    if start == end:
        return None
    return f"{start[0]:02d}:{start[1]:02d}", f"{end[0]:02d}:{end[1]:02d}"


_NOTIFY_NEVER = {"never", "no never", "no", "nunca", "no nunca", "off", "none", "nobody",
                 "nadie", "dont", "don t", "do not"}  # fmt: skip
_NUMBER = re.compile(r"\b(\d{1,2})\b")
_NUMBER_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "uno": 1, "una": 1,
                 "dos": 2, "tres": 3, "cuatro": 4, "cinco": 5}  # fmt: skip
MAX_NOTIFY_AFTER = 10


def parse_notify(text: str) -> int | None:
    """After how many missed check-ins in a row a counselor is told: 1-10, ``NEVER``
    (0), or None when the text says neither."""
    folded = fold(text)
    if folded in _NOTIFY_NEVER:
        return NEVER
    found = _NUMBER.search(folded)
    number = int(found[1]) if found else None
    if number is None:
        number = next((v for w, v in _NUMBER_WORDS.items() if re.search(rf"\b{w}\b", folded)), None)
    if number is None or not 1 <= number <= MAX_NOTIFY_AFTER:
        return None
    return number


def rezone(moment: datetime, old: ZoneInfo, new: ZoneInfo) -> datetime:
    """The same wall-clock time in another zone: 6 PM New York -> 6 PM Chicago (UTC)."""
    local = moment.astimezone(old).replace(tzinfo=None)
    return _local_to_utc(local.date(), local.time(), new)


def parse_hhmm(value: str) -> time:
    hour, minute = value.split(":")
    return time(int(hour), int(minute))


@dataclass(frozen=True, slots=True)
class Rule:
    """A one-off check-in at ``at`` (UTC), or weekly on ``weekday`` at ``local_time``."""

    kind: str  # "once" | "weekly"
    at: datetime | None = None
    weekday: int | None = None  # 0 = Monday
    local_time: str | None = None  # "HH:MM"

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "at": self.at.isoformat() if self.at else None,
            "weekday": self.weekday,
            "local_time": self.local_time,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Rule:
        at = data.get("at")
        return cls(
            kind=str(data["kind"]),
            at=datetime.fromisoformat(at) if at else None,
            weekday=data.get("weekday"),
            local_time=data.get("local_time"),
        )


def _local_to_utc(day: date, clock: time, zone: ZoneInfo) -> datetime:
    # fold=0: an hour that happens twice (clocks back) means the first one; an hour
    # that does not exist (clocks forward) comes out one hour later in local time.
    return datetime.combine(day, clock, tzinfo=zone).astimezone(UTC)


def next_due(rule: Rule, zone: ZoneInfo, after: datetime) -> datetime | None:
    """The first occurrence strictly after ``after`` (UTC), or None when there is none."""
    if rule.kind == "once":
        return rule.at if rule.at is not None and rule.at > after else None
    if rule.weekday is None or rule.local_time is None:
        return None
    clock = parse_hhmm(rule.local_time)
    local_day = after.astimezone(zone).date()
    for offset in range(0, 15):
        day = local_day + timedelta(days=offset)
        if day.weekday() != rule.weekday:
            continue
        moment = _local_to_utc(day, clock, zone)
        if moment > after:
            return moment
    return None  # pragma: no cover - a weekday always comes within 14 days


def _within(clock: time, start: time, end: time) -> bool:
    if start == end:
        return False
    if start < end:
        return start <= clock < end
    return clock >= start or clock < end  # Past midnight: 21:00-08:00.


def in_quiet_hours(moment: datetime, zone: ZoneInfo, quiet: tuple[str, str] | None) -> bool:
    if quiet is None:
        return False
    local = moment.astimezone(zone)
    return _within(local.time(), parse_hhmm(quiet[0]), parse_hhmm(quiet[1]))


def after_quiet_hours(moment: datetime, zone: ZoneInfo, quiet: tuple[str, str] | None) -> datetime:
    """``moment`` itself, or when quiet hours end if it falls inside them."""
    if quiet is None or not in_quiet_hours(moment, zone, quiet):
        return moment
    end = parse_hhmm(quiet[1])
    local = moment.astimezone(zone)
    day = local.date() if local.time() < end else local.date() + timedelta(days=1)
    return _local_to_utc(day, end, zone)


def first_due(
    rule: Rule, zone: ZoneInfo, now: datetime, quiet: tuple[str, str] | None
) -> datetime | None:
    due = next_due(rule, zone, now)
    return None if due is None else after_quiet_hours(due, zone, quiet)


_EVERY = re.compile(r"\b(every|each|cada|todos los|todas las)\b")
_WEEKDAY_NAMES = {
    "monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4, "saturday": 5,
    "sunday": 6, "lunes": 0, "martes": 1, "miercoles": 2, "jueves": 3, "viernes": 4,
    "sabado": 5, "domingo": 6,
}  # fmt: skip
_WEEKDAY = re.compile(r"\b(" + "|".join(_WEEKDAY_NAMES) + r")s?\b")
_WEEK = re.compile(r"\b(every week|each week|weekly|cada semana|todas las semanas)\b")


def parse_request(text: str, now: datetime, zone: ZoneInfo) -> Rule | None:
    """A check-in rule from plain words, on top of nlu.entities' relative times.

    "every Monday at 6pm" / "cada lunes a las 6" -> weekly; "tomorrow", "in 3 days",
    "mañana por la tarde" -> once. None when the text names no time.
    """
    folded = fold(text)
    local_now = now.astimezone(zone)
    times = [e for e in extract_entities(text, local_now) if e.entity == "time"]
    moment = datetime.fromisoformat(times[0].value) if times else None
    if _EVERY.search(folded) or _WEEK.search(folded):
        weekday_match = _WEEKDAY.search(folded)
        weekday = (
            _WEEKDAY_NAMES[weekday_match.group(1)]
            if weekday_match
            else (moment.weekday() if moment else local_now.weekday())
        )
        clock = (moment or local_now).astimezone(zone)
        return Rule("weekly", weekday=weekday, local_time=f"{clock.hour:02d}:{clock.minute:02d}")
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    # Wall-clock arithmetic in the local zone, then one conversion to UTC.
    local = moment.replace(tzinfo=None)
    at = datetime.combine(local.date(), local.time(), tzinfo=zone).astimezone(UTC)
    return Rule("once", at=at)
