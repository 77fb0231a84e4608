"""Check-in time rules are pure: tables of cases, including daylight-saving changes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from aftercare.rules import (
    ANY_TIME,
    NEVER,
    Rule,
    after_quiet_hours,
    first_due,
    next_due,
    parse_hours,
    parse_notify,
    parse_request,
    parse_zone,
    rezone,
    zone_choices,
    zone_for,
    zone_label_id,
)

NY = zone_for("America/New_York")
MADRID = zone_for("Europe/Madrid")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    ("zone", "after", "expected"),
    [
        # Monday 18:00 New York: EDT (UTC-4) until 2026-11-01, then EST (UTC-5).
        (NY, utc(2026, 10, 20, 0, 0), utc(2026, 10, 26, 22, 0)),
        (NY, utc(2026, 10, 27, 0, 0), utc(2026, 11, 2, 23, 0)),
        (NY, utc(2026, 11, 2, 22, 59), utc(2026, 11, 2, 23, 0)),
        (NY, utc(2026, 11, 2, 23, 0), utc(2026, 11, 9, 23, 0)),
        # Madrid: CEST (UTC+2) until 2026-10-25, then CET (UTC+1).
        (MADRID, utc(2026, 10, 13, 0, 0), utc(2026, 10, 19, 16, 0)),
        (MADRID, utc(2026, 10, 20, 0, 0), utc(2026, 10, 26, 17, 0)),
    ],
)
def test_weekly_rule_keeps_local_time_across_dst(
    zone: object, after: datetime, expected: datetime
) -> None:
    rule = Rule("weekly", weekday=0, local_time="18:00")
    assert next_due(rule, zone, after) == expected  # type: ignore[arg-type]


def test_sunday_rule_on_the_day_clocks_change() -> None:
    # 2026-11-01 01:30 happens twice in New York: the first (EDT) one is used.
    rule = Rule("weekly", weekday=6, local_time="01:30")
    assert next_due(rule, NY, utc(2026, 10, 31, 12, 0)) == utc(2026, 11, 1, 5, 30)
    # 2026-10-25 in Madrid: 02:30 happens twice as well.
    rule_es = Rule("weekly", weekday=6, local_time="02:30")
    assert next_due(rule_es, MADRID, utc(2026, 10, 24, 12, 0)) == utc(2026, 10, 25, 0, 30)


def test_one_off_rule_is_due_once() -> None:
    rule = Rule("once", at=utc(2026, 11, 22, 15, 0))
    assert next_due(rule, NY, utc(2026, 11, 21, 0, 0)) == utc(2026, 11, 22, 15, 0)
    assert next_due(rule, NY, utc(2026, 11, 22, 15, 0)) is None


@pytest.mark.parametrize(
    ("due", "expected"),
    [
        (utc(2026, 11, 22, 15, 0), utc(2026, 11, 22, 15, 0)),  # 10:00 local: fine
        (utc(2026, 11, 23, 3, 0), utc(2026, 11, 23, 13, 0)),  # 22:00 local -> 08:00 next day
        (utc(2026, 11, 23, 10, 0), utc(2026, 11, 23, 13, 0)),  # 05:00 local -> 08:00 same day
        (utc(2026, 11, 23, 13, 0), utc(2026, 11, 23, 13, 0)),  # 08:00 exactly: the window opens
        # Quiet night across the change: 2026-10-31 23:00 EDT waits for 08:00 EST.
        (utc(2026, 11, 1, 3, 0), utc(2026, 11, 1, 13, 0)),
    ],
)
def test_quiet_hours_wait_for_the_window(due: datetime, expected: datetime) -> None:
    assert after_quiet_hours(due, NY, ("21:00", "08:00")) == expected


def test_quiet_hours_same_day_window_and_none() -> None:
    assert after_quiet_hours(utc(2026, 11, 23, 18, 0), NY, ("12:00", "14:00")) == utc(
        2026, 11, 23, 19, 0
    )
    assert after_quiet_hours(utc(2026, 11, 23, 3, 0), NY, None) == utc(2026, 11, 23, 3, 0)


def test_first_due_applies_quiet_hours() -> None:
    rule = Rule("weekly", weekday=0, local_time="23:00")
    assert first_due(rule, NY, utc(2026, 11, 21), ("21:00", "08:00")) == utc(2026, 11, 24, 13, 0)


NOW = utc(2026, 11, 21, 17, 0)  # Saturday 12:00 in New York


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("check in with me tomorrow", Rule("once", at=utc(2026, 11, 22, 17, 0))),
        ("in 3 days", Rule("once", at=utc(2026, 11, 24, 17, 0))),
        ("next Monday at 6pm", Rule("once", at=utc(2026, 11, 23, 23, 0))),
        ("mañana por la tarde", Rule("once", at=utc(2026, 11, 22, 20, 0))),
        ("every Monday at 6pm", Rule("weekly", weekday=0, local_time="18:00")),
        ("cada lunes a las 6", Rule("weekly", weekday=0, local_time="06:00")),
        ("cada lunes a las 6 de la tarde", Rule("weekly", weekday=0, local_time="18:00")),
        ("check on me every friday evening", Rule("weekly", weekday=4, local_time="19:00")),
        ("hello there", None),
    ],
)
def test_parse_request(text: str, expected: Rule | None) -> None:
    assert parse_request(text, NOW, NY) == expected


def test_parse_request_across_the_change_keeps_wall_clock() -> None:
    # Saturday 2026-10-31 12:00 EDT; "tomorrow" is Sunday 12:00 EST = 17:00 UTC.
    assert parse_request("tomorrow", utc(2026, 10, 31, 16, 0), NY) == Rule(
        "once", at=utc(2026, 11, 1, 17, 0)
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("8 AM to 9 PM", ("08:00", "21:00")),
        ("10am to 6pm", ("10:00", "18:00")),
        ("9-17", ("09:00", "17:00")),
        ("9 to 5", ("09:00", "17:00")),  # Five in the afternoon.
        ("9 to 5pm", ("09:00", "17:00")),
        ("5 to 9pm", ("17:00", "21:00")),  # Both in the evening.
        ("9 to 11am", ("09:00", "11:00")),
        ("10:30 - 19:00", ("10:30", "19:00")),
        ("8 a.m. to 9 p.m.", ("08:00", "21:00")),
        ("10pm to 6am", ("22:00", "06:00")),  # Night work: past midnight.
        ("22 to 6", ("22:00", "06:00")),
        ("de 9 a 5 de la tarde", ("09:00", "17:00")),
        ("de 08:00 a 21:00", ("08:00", "21:00")),
        ("de 8 a 21 h", ("08:00", "21:00")),
        ("any time", ANY_TIME),
        ("a cualquier hora", ANY_TIME),
        ("9 to 9", ("09:00", "21:00")),  # Nine to nine: a day.
        ("9am to 9am", None),  # No window at all.
        ("13pm to 2pm", None),
        ("25 to 26", None),
        ("hello", None),
        ("", None),
    ],
)
def test_parse_hours(text: str, expected: tuple[str, str] | None) -> None:
    assert parse_hours(text) == expected


@pytest.mark.parametrize(
    ("text", "country", "expected"),
    [
        ("Chicago", "US", "America/Chicago"),
        ("central", "US", "America/Chicago"),
        ("central", "CA", "America/Winnipeg"),  # The country's own central zone.
        ("Central time", "MX", "America/Mexico_City"),
        ("hora del este", "US", "America/New_York"),
        ("America/Denver", "US", "America/Denver"),
        ("america/denver", "US", "America/Denver"),
        ("los angeles", "US", "America/Los_Angeles"),
        ("I am in Texas", "US", "America/Chicago"),
        ("Ciudad de México", "MX", "America/Mexico_City"),
        ("Madrid", "ES", "Europe/Madrid"),
        ("Canarias", "ES", "Atlantic/Canary"),
        ("London", "UK", "Europe/London"),
        ("UTC", "US", "UTC"),
        ("Ohio", "US", None),
        ("Not/AZone", "US", None),
        ("", "US", None),
    ],
)
def test_parse_zone(text: str, country: str, expected: str | None) -> None:
    assert parse_zone(text, country) == expected


def test_parse_zone_reads_the_labels_it_was_given() -> None:
    assert parse_zone("Hora del Pacífico", "US", {"hora del pacifico": "America/Los_Angeles"}) == (
        "America/Los_Angeles"
    )


def test_every_offered_zone_exists_and_is_named() -> None:
    for country in ("US", "CA", "MX", "ES", "UK"):
        for label, key in zone_choices(country):
            assert zone_for(key).key == key
            assert zone_label_id(key, country) == label
    assert zone_label_id("Europe/Berlin") is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("After 2 missed", 2),
        ("after 5", 5),
        ("3", 3),
        ("tres", 3),
        ("no, never", NEVER),
        ("nunca", NEVER),
        ("after 20", None),
        ("0", None),
        ("hello", None),
    ],
)
def test_parse_notify(text: str, expected: int | None) -> None:
    assert parse_notify(text) == expected


def test_rezone_keeps_the_wall_clock_time() -> None:
    la = zone_for("America/Los_Angeles")
    # 6 PM New York -> 6 PM Los Angeles.
    assert rezone(utc(2026, 11, 22, 23, 0), NY, la) == utc(2026, 11, 23, 2, 0)
    # Across a change in one zone only: 2026-10-30 18:00 Madrid (CET after 25 Oct)
    # is 18:00 in New York (still EDT) = 22:00 UTC.
    assert rezone(utc(2026, 10, 30, 17, 0), MADRID, NY) == utc(2026, 10, 30, 22, 0)
