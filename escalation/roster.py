"""Who is on call now: primary, backup, supervisor and everyone available.

``on_call_now`` is pure (no I/O, time passed in); ``load_roster`` and the shift
functions at the end are its database edge.

Shifts come in two kinds:

- weekly: ``weekday`` (0 Monday .. 6 Sunday), ``start_local`` and ``end_local``
  ("HH:MM") in an IANA ``timezone``. An end at or before the start runs past
  midnight into the next day ("22:00"-"06:00"; equal times mean 24 hours). Wall
  times are converted to UTC on the shift's own date, so a shift keeps its local
  hours across daylight-saving changes (a night shift is 9 h long on the night
  the clocks go back). A local time that does not exist or happens twice that
  night is read with the earlier offset (``fold=0``).
- one-off cover: ``starts_at`` <= now < ``ends_at`` (UTC).

Rules, in order:

1. Only active accounts count; a shift of a deactivated account is ignored.
2. For each position (primary, backup, supervisor), a one-off cover that is
   running now replaces every weekly shift for that position: the weekly
   holder is not on call through that shift.
3. When several shifts hold a position at once, the most recently created one
   wins (then the highest id); the others are still on call.
4. The backup is never the same person as the primary (the next candidate is
   taken, or nobody).
5. ``everyone_on_call``: the primary, backup and supervisor, then everyone else
   with a running shift, then every active counselor who switched the on-call
   toggle on in the console without a running shift (available, so paged in
   the last "everyone" step, but never given a position). The toggle only adds
   people: a scheduled counselor stays on call even with the toggle off, so a
   forgotten toggle can never leave a shift unpaged. To take someone off a
   shift, add a one-off cover for the position.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Generic, Protocol, TypeVar, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import bindparam, delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from escalation.accounts import audit
from escalation.models import Counselor, Shift

__all__ = [
    "POSITIONS",
    "WEEKDAYS",
    "CounselorLike",
    "Roster",
    "ShiftError",
    "ShiftLike",
    "add_cover_shift",
    "add_weekly_shifts",
    "describe_shift",
    "list_shifts",
    "load_roster",
    "on_call_now",
    "parse_local_time",
    "parse_weekdays",
    "remove_shift",
    "shift_window",
    "validate_timezone",
]

log = logging.getLogger("harborline.roster")

POSITIONS = ("primary", "backup", "supervisor")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class CounselorLike(Protocol):
    @property
    def id(self) -> int: ...
    @property
    def name(self) -> str: ...
    @property
    def active(self) -> bool: ...
    @property
    def on_call(self) -> bool: ...


class ShiftLike(Protocol):
    @property
    def id(self) -> int: ...
    @property
    def counselor_id(self) -> int: ...
    @property
    def position(self) -> str: ...
    @property
    def weekday(self) -> int | None: ...
    @property
    def start_local(self) -> str | None: ...
    @property
    def end_local(self) -> str | None: ...
    @property
    def timezone(self) -> str: ...
    @property
    def starts_at(self) -> datetime | None: ...
    @property
    def ends_at(self) -> datetime | None: ...
    @property
    def created_at(self) -> datetime: ...


# Anything shaped like CounselorLike (mypy cannot check SQLAlchemy's Mapped
# attributes against a protocol bound, so the bound is stated here, not enforced).
C = TypeVar("C")


def _who(person: object) -> CounselorLike:
    return cast(CounselorLike, person)


@dataclass(frozen=True)
class Roster(Generic[C]):
    primary: C | None
    backup: C | None
    supervisor: C | None
    everyone_on_call: tuple[C, ...]

    def holder(self, position: str) -> C | None:
        return {"primary": self.primary, "backup": self.backup, "supervisor": self.supervisor}[
            position
        ]


class ShiftError(ValueError):
    """A shift that cannot be: bad time, weekday, time zone, position or range."""


# --- pure ---------------------------------------------------------------------------


def parse_local_time(text: str) -> time:
    """ "HH:MM" (24-hour) or ShiftError."""
    hours, sep, minutes = text.strip().partition(":")
    if not (sep and len(hours) == 2 and len(minutes) == 2 and (hours + minutes).isdigit()):
        raise ShiftError(f"time must be HH:MM (24-hour), not {text!r}")
    if int(hours) > 23 or int(minutes) > 59:
        raise ShiftError(f"time must be HH:MM (24-hour), not {text!r}")
    return time(int(hours), int(minutes))


def parse_weekdays(text: str) -> list[int]:
    """ "mon,tue" -> [0, 1] (also "mon-fri", "daily")."""
    text = text.strip().lower()
    if text == "daily":
        return list(range(7))
    days: list[int] = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        first, dash, last = part.partition("-")
        if first not in WEEKDAYS or (dash and last not in WEEKDAYS):
            raise ShiftError(f"weekdays are {','.join(WEEKDAYS)} (or mon-fri, daily), not {part!r}")
        start = WEEKDAYS.index(first)
        end = WEEKDAYS.index(last) if dash else start
        span = [(start + i) % 7 for i in range((end - start) % 7 + 1)]
        days.extend(d for d in span if d not in days)
    if not days:
        raise ShiftError("give at least one weekday")
    return days


def validate_timezone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ShiftError(
            f"unknown time zone {name!r} (use an IANA name like America/Chicago)"
        ) from None


def validate_position(position: str) -> str:
    if position not in POSITIONS:
        raise ShiftError(f"position must be one of: {', '.join(POSITIONS)}")
    return position


def shift_window(shift: ShiftLike, now: datetime) -> tuple[datetime, datetime] | None:
    """The UTC [start, end) of the occurrence of ``shift`` running at ``now``, or None."""
    if shift.starts_at is not None or shift.ends_at is not None:
        if shift.starts_at is None or shift.ends_at is None:
            return None
        return (shift.starts_at, shift.ends_at) if shift.starts_at <= now < shift.ends_at else None
    if shift.weekday is None or shift.start_local is None or shift.end_local is None:
        return None
    zone = validate_timezone(shift.timezone)
    start_t, end_t = parse_local_time(shift.start_local), parse_local_time(shift.end_local)
    today = now.astimezone(zone).date()
    # A shift that started yesterday (local) may still be running past midnight.
    for day in (today - timedelta(days=1), today):
        if day.weekday() != shift.weekday:
            continue
        start, end = _occurrence(day, start_t, end_t, zone)
        if start <= now < end:
            return start, end
    return None


def _occurrence(day: date, start_t: time, end_t: time, zone: ZoneInfo) -> tuple[datetime, datetime]:
    end_day = day if end_t > start_t else day + timedelta(days=1)
    # Compare in UTC: aware datetimes sharing a tzinfo compare by wall time in Python.
    start = datetime.combine(day, start_t, tzinfo=zone).astimezone(UTC)
    end = datetime.combine(end_day, end_t, tzinfo=zone).astimezone(UTC)
    return start, end


def is_cover(shift: ShiftLike) -> bool:
    return shift.starts_at is not None


def on_call_now(shifts: Iterable[ShiftLike], counselors: Iterable[C], now: datetime) -> Roster[C]:
    """Who holds each position at ``now`` and who is available at all (rules above)."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    people = {_who(c).id: c for c in counselors if _who(c).active}
    running: list[ShiftLike] = []
    for shift in shifts:
        if shift.counselor_id not in people:
            continue
        try:
            if shift_window(shift, now) is not None:
                running.append(shift)
        except ShiftError:
            log.warning("shift %s is invalid and ignored", shift.id)
    candidates: dict[str, list[C]] = {}
    for position in POSITIONS:
        here = [s for s in running if s.position == position]
        covers = [s for s in here if is_cover(s)]
        chosen = sorted(covers or here, key=lambda s: (s.created_at, s.id), reverse=True)
        ordered: list[C] = []
        for shift in chosen:
            person = people[shift.counselor_id]
            if person not in ordered:
                ordered.append(person)
        candidates[position] = ordered
    primary = _first(candidates["primary"])
    backup = _first(candidates["backup"], skip=primary)
    supervisor = _first(candidates["supervisor"])
    on_shift = sorted(
        {_who(p).id: p for group in candidates.values() for p in group}.values(),
        key=lambda p: _who(p).name,
    )
    toggled = sorted((p for p in people.values() if _who(p).on_call), key=lambda p: _who(p).name)
    everyone: list[C] = []
    ordered_people: list[C | None] = [primary, backup, supervisor, *on_shift, *toggled]
    for maybe in ordered_people:
        if maybe is not None and all(_who(maybe).id != _who(p).id for p in everyone):
            everyone.append(maybe)
    return Roster(primary, backup, supervisor, tuple(everyone))


def _first(people: Sequence[C], skip: C | None = None) -> C | None:
    for person in people:
        if skip is None or _who(person).id != _who(skip).id:
            return person
    return None


def describe_shift(shift: ShiftLike) -> str:
    """One line for people: "weekly mon 09:00-17:00 America/Chicago" or "cover <from> - <to>"."""
    if shift.starts_at is not None and shift.ends_at is not None:
        return f"cover {_iso(shift.starts_at)} - {_iso(shift.ends_at)}"
    day = WEEKDAYS[shift.weekday] if shift.weekday is not None else "?"
    return f"weekly {day} {shift.start_local}-{shift.end_local} {shift.timezone}"


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ")


# --- database edge ------------------------------------------------------------------


_MAYBE_RUNNING = or_(
    Shift.weekday.is_not(None),
    (Shift.starts_at <= bindparam("now")) & (Shift.ends_at > bindparam("now")),
)
# Built once: the pipeline reads the roster on every turn that might escalate.
_ROSTER = (
    select(Counselor, Shift)
    .outerjoin(Shift, (Shift.counselor_id == Counselor.id) & _MAYBE_RUNNING)
    .where(Counselor.active.is_(True))
)


async def load_roster(session: AsyncSession, now: datetime) -> Roster[Counselor]:
    """The roster at ``now`` from the shifts and counselors tables (read only).

    One query (active accounts with their weekly shifts and running covers):
    it runs on the paging path, where every round trip is waited for.
    """
    rows = await session.execute(_ROSTER, {"now": now})
    counselors: dict[int, Counselor] = {}
    shifts: list[Shift] = []
    for counselor, shift in rows.all():
        counselors[counselor.id] = counselor
        if shift is not None:
            shifts.append(shift)
    return on_call_now(shifts, counselors.values(), now)


async def list_shifts(session: AsyncSession) -> list[tuple[Shift, Counselor]]:
    result = await session.execute(
        select(Shift, Counselor)
        .join(Counselor, Counselor.id == Shift.counselor_id)
        .order_by(Shift.position, Shift.weekday, Shift.start_local, Shift.starts_at, Shift.id)
    )
    return [(shift, counselor) for shift, counselor in result.all()]


async def add_weekly_shifts(
    session: AsyncSession,
    counselor: Counselor,
    position: str,
    weekdays: Sequence[int],
    start_local: str,
    end_local: str,
    timezone: str,
    now: datetime,
    *,
    actor: str,
) -> list[Shift]:
    """One weekly shift per weekday. ShiftError for bad input."""
    validate_position(position)
    validate_timezone(timezone)
    start, end = parse_local_time(start_local), parse_local_time(end_local)
    if not weekdays or any(d not in range(7) for d in weekdays):
        raise ShiftError("weekdays are 0 (Monday) to 6 (Sunday)")
    _require_active(counselor)
    shifts = [
        Shift(
            counselor_id=counselor.id,
            position=position,
            weekday=day,
            start_local=start.strftime("%H:%M"),
            end_local=end.strftime("%H:%M"),
            timezone=timezone,
            created_at=now,
        )
        for day in weekdays
    ]
    session.add_all(shifts)
    await session.flush()
    for shift in shifts:
        await audit(
            session,
            now,
            actor,
            "shift.added",
            shift=shift.id,
            account=counselor.name,
            position=position,
            schedule=describe_shift(shift),
        )
    return shifts


async def add_cover_shift(
    session: AsyncSession,
    counselor: Counselor,
    position: str,
    starts_at: datetime,
    ends_at: datetime,
    now: datetime,
    *,
    actor: str,
) -> Shift:
    """A one-off cover (UTC range); it replaces weekly shifts of its position while it runs."""
    validate_position(position)
    if starts_at.tzinfo is None or ends_at.tzinfo is None:
        raise ShiftError("start and end need a time zone offset (e.g. 2026-11-01T09:00-06:00)")
    if ends_at <= starts_at:
        raise ShiftError("the end must be after the start")
    if ends_at - starts_at > timedelta(days=31):
        raise ShiftError("a cover can be at most 31 days long")
    _require_active(counselor)
    shift = Shift(
        counselor_id=counselor.id,
        position=position,
        timezone="UTC",
        starts_at=starts_at.astimezone(UTC),
        ends_at=ends_at.astimezone(UTC),
        created_at=now,
    )
    session.add(shift)
    await session.flush()
    await audit(
        session,
        now,
        actor,
        "shift.added",
        shift=shift.id,
        account=counselor.name,
        position=position,
        schedule=describe_shift(shift),
    )
    return shift


async def remove_shift(session: AsyncSession, shift_id: int, now: datetime, *, actor: str) -> bool:
    """Delete a shift; False when there is none with this id."""
    shift = await session.get(Shift, shift_id)
    if shift is None:
        return False
    detail = {"shift": shift.id, "position": shift.position, "schedule": describe_shift(shift)}
    await session.execute(delete(Shift).where(Shift.id == shift_id))
    await audit(session, now, actor, "shift.removed", **detail)
    return True


def _require_active(counselor: Counselor) -> None:
    if not counselor.active:
        raise ShiftError(f"{counselor.name} is deactivated")
