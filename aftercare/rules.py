"""Pure check-in decisions: when a rule is next due, quiet hours, parsing a request.

Times are stored in UTC; rules are in the survivor's local time of an IANA zone,
converted on the occurrence's own date with zoneinfo, so a weekly check-in at
18:00 stays at 18:00 local across daylight-saving changes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dialogs.normalize import fold
from nlu.entities import extract_entities

__all__ = [
    "DEFAULT_QUIET",
    "Rule",
    "after_quiet_hours",
    "first_due",
    "in_quiet_hours",
    "next_due",
    "parse_hhmm",
    "parse_request",
    "zone_for",
]

# Nothing arrives at night unless the survivor changes it.
DEFAULT_QUIET: tuple[str, str] = ("21:00", "08:00")

# Used when the survivor has not chosen a zone: the country's most populous zone.
COUNTRY_ZONES = {
    "US": "America/New_York",
    "CA": "America/Toronto",
    "MX": "America/Mexico_City",
    "ES": "Europe/Madrid",
    "UK": "Europe/London",
    "GB": "Europe/London",
}


def zone_for(name: str | None, country: str = "US") -> ZoneInfo:
    for candidate in (name, COUNTRY_ZONES.get(country.upper()), "UTC"):
        if candidate:
            try:
                return ZoneInfo(candidate)
            except (ZoneInfoNotFoundError, ValueError):
                continue
    return ZoneInfo("UTC")


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
