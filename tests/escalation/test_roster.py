"""The on-call roster: pure tables (weekly shifts, DST, midnight, cover), then the loader."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from bot.storage.db import Database
from escalation.roster import (
    ShiftError,
    add_cover_shift,
    add_weekly_shifts,
    load_roster,
    on_call_now,
    parse_local_time,
    parse_weekdays,
    remove_shift,
    shift_window,
)
from tests.escalation.staff import add_staff

MON, TUE, FRI, SAT, SUN = 0, 1, 4, 5, 6
CHICAGO = "America/Chicago"
_ids = itertools.count(1)
T0 = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass
class Person:
    id: int
    name: str
    active: bool = True
    on_call: bool = False


@dataclass
class S:
    counselor_id: int
    position: str = "primary"
    weekday: int | None = None
    start_local: str | None = None
    end_local: str | None = None
    timezone: str = "UTC"
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    id: int = field(default_factory=lambda: next(_ids))
    created_at: datetime = T0


def weekly(who: int, day: int, start: str, end: str, tz: str = CHICAGO, **kw: object) -> S:
    return S(who, weekday=day, start_local=start, end_local=end, timezone=tz, **kw)  # type: ignore[arg-type]


def cover(who: int, start: datetime, end: datetime, **kw: object) -> S:
    return S(who, starts_at=start, ends_at=end, **kw)  # type: ignore[arg-type]


def z(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


# 2026-11-01 (a Sunday): US clocks go back at 02:00 CDT (UTC-5) to 01:00 CST (UTC-6).
# 2026-03-08 (a Sunday): US clocks go forward at 02:00 CST to 03:00 CDT.
WINDOW_CASES = [
    # A day shift on the day the clocks go back keeps its local hours (CST: +6 h).
    (weekly(1, SUN, "09:00", "17:00"), "2026-11-01T14:59Z", False),
    (weekly(1, SUN, "09:00", "17:00"), "2026-11-01T15:00Z", True),
    (weekly(1, SUN, "09:00", "17:00"), "2026-11-01T22:59Z", True),
    (weekly(1, SUN, "09:00", "17:00"), "2026-11-01T23:00Z", False),
    # The Sunday before, still daylight time (CDT: +5 h).
    (weekly(1, SUN, "09:00", "17:00"), "2026-10-25T13:59Z", False),
    (weekly(1, SUN, "09:00", "17:00"), "2026-10-25T14:00Z", True),
    (weekly(1, SUN, "09:00", "17:00"), "2026-10-25T21:59Z", True),
    (weekly(1, SUN, "09:00", "17:00"), "2026-10-25T22:00Z", False),
    # A night shift across the change: Sat 22:00 CDT (03:00Z) to Sun 06:00 CST (12:00Z), 9 h.
    (weekly(1, SAT, "22:00", "06:00"), "2026-11-01T02:59Z", False),
    (weekly(1, SAT, "22:00", "06:00"), "2026-11-01T03:00Z", True),
    (weekly(1, SAT, "22:00", "06:00"), "2026-11-01T07:30Z", True),  # 01:30 CST, the 2nd time
    (weekly(1, SAT, "22:00", "06:00"), "2026-11-01T11:59Z", True),
    (weekly(1, SAT, "22:00", "06:00"), "2026-11-01T12:00Z", False),
    # The same shift when the clocks go forward: Sat 22:00 CST (04:00Z) to 06:00 CDT (11:00Z), 7 h.
    (weekly(1, SAT, "22:00", "06:00"), "2026-03-08T03:59Z", False),
    (weekly(1, SAT, "22:00", "06:00"), "2026-03-08T04:00Z", True),
    (weekly(1, SAT, "22:00", "06:00"), "2026-03-08T10:59Z", True),
    (weekly(1, SAT, "22:00", "06:00"), "2026-03-08T11:00Z", False),
    # Wrapping midnight (UTC to keep the arithmetic plain).
    (weekly(1, FRI, "22:00", "06:00", "UTC"), "2026-11-20T21:59Z", False),  # Friday
    (weekly(1, FRI, "22:00", "06:00", "UTC"), "2026-11-20T22:00Z", True),
    (weekly(1, FRI, "22:00", "06:00", "UTC"), "2026-11-21T05:59Z", True),  # Saturday morning
    (weekly(1, FRI, "22:00", "06:00", "UTC"), "2026-11-21T06:00Z", False),
    (weekly(1, FRI, "22:00", "06:00", "UTC"), "2026-11-21T23:00Z", False),  # Saturday night
    (weekly(1, FRI, "22:00", "06:00", "UTC"), "2026-11-19T23:00Z", False),  # Thursday night
    # Sunday night into Monday: across the end of the week.
    (weekly(1, SUN, "20:00", "04:00", "UTC"), "2026-11-23T03:00Z", True),  # Monday 03:00
    (weekly(1, SUN, "20:00", "04:00", "UTC"), "2026-11-24T03:00Z", False),  # Tuesday 03:00
    # Equal start and end: 24 hours.
    (weekly(1, MON, "08:00", "08:00", "UTC"), "2026-11-24T07:59Z", True),  # Tuesday 07:59
    (weekly(1, MON, "08:00", "08:00", "UTC"), "2026-11-24T08:00Z", False),
    # Local weekday, not UTC weekday: Monday 20:00 in Chicago is Tuesday 02:00Z.
    (weekly(1, MON, "19:00", "23:00"), "2026-11-24T02:00Z", True),
    (weekly(1, TUE, "19:00", "23:00"), "2026-11-24T02:00Z", False),
    # A time zone ahead of UTC.
    (weekly(1, MON, "09:00", "17:00", "Asia/Tokyo"), "2026-11-23T00:00Z", True),
    (weekly(1, MON, "09:00", "17:00", "Asia/Tokyo"), "2026-11-23T08:00Z", False),
    # One-off cover: [start, end).
    (cover(1, z("2026-11-21T10:00Z"), z("2026-11-21T12:00Z")), "2026-11-21T09:59Z", False),
    (cover(1, z("2026-11-21T10:00Z"), z("2026-11-21T12:00Z")), "2026-11-21T10:00Z", True),
    (cover(1, z("2026-11-21T10:00Z"), z("2026-11-21T12:00Z")), "2026-11-21T12:00Z", False),
]


@pytest.mark.parametrize(("shift", "now", "running"), WINDOW_CASES)
def test_shift_windows(shift: S, now: str, running: bool) -> None:
    assert (shift_window(shift, z(now)) is not None) is running


def test_a_night_shift_is_nine_hours_when_the_clocks_go_back() -> None:
    window = shift_window(weekly(1, SAT, "22:00", "06:00"), z("2026-11-01T05:00Z"))
    assert window == (z("2026-11-01T03:00Z"), z("2026-11-01T12:00Z"))


ALICE, BOB, CAROL, DAN, ERIN = (
    Person(1, "alice"),
    Person(2, "bob"),
    Person(3, "carol"),
    Person(4, "dan"),
    Person(5, "erin"),
)
PEOPLE = [ALICE, BOB, CAROL, DAN, ERIN]
MONDAY_NOON = z("2026-11-23T12:00-06:00")  # Monday 12:00 in Chicago


def day(who: int, position: str, **kw: object) -> S:
    return weekly(who, MON, "09:00", "17:00", position=position, **kw)


def names(people: tuple[Person, ...]) -> list[str]:
    return [p.name for p in people]


def test_weekly_positions_and_everyone() -> None:
    roster = on_call_now(
        [day(1, "primary"), day(2, "backup"), day(3, "supervisor")], PEOPLE, MONDAY_NOON
    )
    assert (roster.primary, roster.backup, roster.supervisor) == (ALICE, BOB, CAROL)
    assert names(roster.everyone_on_call) == ["alice", "bob", "carol"]
    assert roster.holder("backup") == BOB


def test_nobody_on_call_after_hours() -> None:
    roster = on_call_now([day(1, "primary")], PEOPLE, z("2026-11-23T18:00-06:00"))
    assert roster.primary is roster.backup is roster.supervisor is None
    assert roster.everyone_on_call == ()


def test_a_running_cover_replaces_the_weekly_shift_of_its_position_only() -> None:
    shifts = [
        day(1, "primary"),
        day(2, "backup"),
        cover(4, MONDAY_NOON - timedelta(hours=1), MONDAY_NOON + timedelta(hours=1)),
    ]
    roster = on_call_now(shifts, PEOPLE, MONDAY_NOON)
    assert (roster.primary, roster.backup) == (DAN, BOB)
    assert ALICE not in roster.everyone_on_call  # covered: off this hour
    later = on_call_now(shifts, PEOPLE, MONDAY_NOON + timedelta(hours=2))
    assert later.primary == ALICE  # the cover ended: the weekly shift is back


def test_a_cover_by_a_deactivated_account_replaces_nothing() -> None:
    gone = Person(6, "gone", active=False)
    shifts = [
        day(1, "primary"),
        cover(6, MONDAY_NOON - timedelta(hours=1), MONDAY_NOON + timedelta(hours=1)),
    ]
    roster = on_call_now(shifts, [*PEOPLE, gone], MONDAY_NOON)
    assert roster.primary == ALICE
    assert gone not in roster.everyone_on_call


def test_the_newest_shift_wins_a_position_and_the_others_stay_on_call() -> None:
    older = day(1, "primary", created_at=T0)
    newer = day(5, "primary", created_at=T0 + timedelta(days=1))
    roster = on_call_now([newer, older], PEOPLE, MONDAY_NOON)
    assert roster.primary == ERIN
    assert names(roster.everyone_on_call) == ["erin", "alice"]


def test_the_backup_is_never_the_primary() -> None:
    only_alice = on_call_now([day(1, "primary"), day(1, "backup")], PEOPLE, MONDAY_NOON)
    assert (only_alice.primary, only_alice.backup) == (ALICE, None)
    two = on_call_now(
        [day(1, "primary"), day(1, "backup", created_at=T0 + timedelta(1)), day(2, "backup")],
        PEOPLE,
        MONDAY_NOON,
    )
    assert (two.primary, two.backup) == (ALICE, BOB)


def test_the_toggle_adds_available_people_but_removes_nobody() -> None:
    toggled = Person(4, "dan", on_call=True)
    off_but_scheduled = Person(1, "alice", on_call=False)
    inactive_toggled = Person(7, "zed", active=False, on_call=True)
    roster = on_call_now(
        [day(1, "primary")], [off_but_scheduled, BOB, toggled, inactive_toggled], MONDAY_NOON
    )
    assert roster.primary == off_but_scheduled
    assert names(roster.everyone_on_call) == ["alice", "dan"]
    after_hours = on_call_now([day(1, "primary")], [toggled], z("2026-11-23T20:00-06:00"))
    assert after_hours.primary is None
    assert after_hours.everyone_on_call == (toggled,)


def test_a_deactivated_account_is_never_on_call() -> None:
    gone = Person(1, "alice", active=False, on_call=True)
    roster = on_call_now([day(1, "primary")], [gone], MONDAY_NOON)
    assert roster.primary is None and roster.everyone_on_call == ()


def test_an_invalid_shift_is_skipped_not_fatal() -> None:
    broken = weekly(1, MON, "09:00", "17:00", "Nowhere/Else")
    garbled = weekly(2, MON, "9am", "5pm")
    roster = on_call_now([broken, garbled, day(3, "primary")], PEOPLE, MONDAY_NOON)
    assert roster.primary == CAROL


def test_now_must_be_aware() -> None:
    with pytest.raises(ValueError, match="aware"):
        on_call_now([], PEOPLE, datetime(2026, 11, 23, 12))


@pytest.mark.parametrize(
    ("text", "days"),
    [
        ("mon", [0]),
        ("mon,tue", [0, 1]),
        ("MON, Wed ,fri", [0, 2, 4]),
        ("mon-fri", [0, 1, 2, 3, 4]),
        ("sat-mon", [5, 6, 0]),
        ("daily", [0, 1, 2, 3, 4, 5, 6]),
        ("mon,mon", [0]),
    ],
)
def test_parse_weekdays(text: str, days: list[int]) -> None:
    assert parse_weekdays(text) == days


@pytest.mark.parametrize("text", ["", "monday", "mon;tue", "1", "mon-xyz", ","])
def test_parse_weekdays_refuses(text: str) -> None:
    with pytest.raises(ShiftError):
        parse_weekdays(text)


@pytest.mark.parametrize("text", ["24:00", "9:00", "09:60", "0900", "ab:cd", "09:00:00", "-1:00"])
def test_parse_local_time_refuses(text: str) -> None:
    with pytest.raises(ShiftError, match="HH:MM"):
        parse_local_time(text)


async def test_load_roster_from_the_database(db: Database) -> None:
    now = MONDAY_NOON
    alice = await add_staff(db, "alice", now=now)
    bob = await add_staff(db, "bob", now=now)
    carol = await add_staff(db, "carol", role="supervisor", now=now)
    async with db.sessions() as session, session.begin():
        await add_weekly_shifts(
            session, alice, "primary", [MON, TUE], "09:00", "17:00", CHICAGO, now, actor="t"
        )
        await add_weekly_shifts(
            session, bob, "backup", [MON], "08:00", "20:00", CHICAGO, now, actor="t"
        )
        await add_weekly_shifts(
            session, carol, "supervisor", [MON], "00:00", "00:00", "UTC", now, actor="t"
        )
        cover_shift = await add_cover_shift(
            session,
            bob,
            "primary",
            now - timedelta(minutes=5),
            now + timedelta(minutes=5),
            now,
            actor="t",
        )
        with pytest.raises(ShiftError, match="position"):
            await add_cover_shift(session, bob, "boss", now, now + timedelta(1), now, actor="t")
        with pytest.raises(ShiftError, match="after the start"):
            await add_cover_shift(session, bob, "backup", now, now, now, actor="t")
    async with db.sessions() as session:
        roster = await load_roster(session, now)
    assert roster.primary is not None and roster.primary.name == "bob"  # covering
    assert roster.backup is None  # bob is primary now; alice is covered
    assert roster.supervisor is not None and roster.supervisor.name == "carol"
    assert [c.name for c in roster.everyone_on_call] == ["bob", "carol"]

    async with db.sessions() as session, session.begin():
        assert await remove_shift(session, cover_shift.id, now, actor="t")
        assert not await remove_shift(session, cover_shift.id, now, actor="t")
    async with db.sessions() as session:
        roster = await load_roster(session, now)
    assert [c.name for c in (roster.primary, roster.backup, roster.supervisor) if c] == [
        "alice",
        "bob",
        "carol",
    ]
