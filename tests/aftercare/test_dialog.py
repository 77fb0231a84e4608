"""Check-ins in the pure dialog: ask -> confirm -> scheduled; settings; manage; answers."""

from __future__ import annotations

from typing import Any

import pytest

from dialogs import checkins, flow
from dialogs.texts import get_texts
from tests.dialogs.test_flow import events, kinds, turn
from tests.writing_rules import problems

NOW = "2026-11-21T17:00:00+00:00"  # Saturday noon in New York


def facts(
    checkins_: list[dict[str, Any]] | None = None,
    pending: int | None = None,
    *,
    saved: bool = True,
    zone: str = "America/New_York",
    quiet: list[str] | str | None = "default",
    plain: bool = True,
    notify: int | None = None,
    discreet_mode: bool = False,
    pending_sent_at: str | None = None,
) -> dict[str, Any]:
    return {
        "aftercare": {
            "now": NOW,
            "timezone": zone,
            "quiet": ["21:00", "08:00"] if quiet == "default" else quiet,
            "plain": plain,
            "notify_after": notify,
            "saved": saved,
            "discreet_mode": discreet_mode,
            "window_hours": 12,
            "checkins": checkins_ or [],
            "pending": pending,
            "pending_sent_at": pending_sent_at,
        }
    }


WEEKLY = {
    "id": 7,
    "kind": "weekly",
    "status": "scheduled",
    "due_at": "2026-11-23T23:00:00+00:00",
    "weekday": 0,
    "local_time": "18:00",
    "timezone": "America/New_York",
}
# "Tomorrow at 6 PM" in New York.
DRAFT = {
    "kind": "once",
    "at": "2026-11-22T23:00:00+00:00",
    "weekday": None,
    "local_time": None,
    "zone": "America/New_York",
}


def of_type(decision: flow.Decision, kind: type) -> list[Any]:
    return [e for e in decision.effects if isinstance(e, kind)]


def labels(decision: flow.Decision) -> list[str]:
    return [c.label for c in decision.replies[-1].choices]


# -- asking and confirming -------------------------------------------------------------------


def test_plain_words_ask_for_confirmation_and_schedule_nothing() -> None:
    d = flow.step(turn("check in with me tomorrow", intent="schedule_checkin", data=facts()))
    assert d.state == "checkin_confirm"
    assert kinds(d) == ["SaveCheckinDraft", "CheckinAsked"]
    assert "Sunday, Nov 22, 12:00 PM" in d.replies[-1].text
    assert labels(d) == ["Yes", "Change settings", "No", "Skip"]
    assert not of_type(d, checkins.ScheduleCheckin)


def test_the_first_time_the_settings_come_with_the_question() -> None:
    first = flow.step(turn("check in with me tomorrow", intent="schedule_checkin",
                           data=facts(saved=False)))  # fmt: skip
    assert len(first.replies) == 2
    shown = first.replies[0].text
    for part in ("Eastern time", "8:00 AM to 9:00 PM", "plain", "no one is told"):
        assert part in shown, part
    later = flow.step(turn("check in with me tomorrow", intent="schedule_checkin", data=facts()))
    assert len(later.replies) == 1  # Saved: not shown again.


def test_the_default_zone_comes_from_the_country() -> None:
    data = facts(saved=False)
    del data["aftercare"]["timezone"]
    d = flow.step(turn("check in with me tomorrow", intent="schedule_checkin",
                       country="ES", locale="es", data=data))  # fmt: skip
    assert "Península (Madrid)" in d.replies[0].text


def test_yes_schedules_the_draft() -> None:
    d = flow.step(turn("yes", "checkin_confirm", data={**facts(), "checkin_draft": DRAFT}))
    assert of_type(d, checkins.ScheduleCheckin) == [checkins.ScheduleCheckin(DRAFT)]
    assert not of_type(d, checkins.SaveCheckinPreferences)
    assert d.state == "menu"
    assert "won't say who it is from" in d.replies[0].text


def test_the_first_yes_saves_the_defaults_it_showed_before_scheduling() -> None:
    data = {**facts(saved=False), "checkin_draft": DRAFT}
    d = flow.step(turn("1", "checkin_confirm", data=data))  # "1. Yes"
    saved = of_type(d, checkins.SaveCheckinPreferences)
    assert saved == [
        checkins.SaveCheckinPreferences(
            {"timezone": "America/New_York", "quiet": ["21:00", "08:00"], "plain": True,
             "notify_after": 0}
        )
    ]  # fmt: skip
    assert d.effects.index(saved[0]) < d.effects.index(checkins.ScheduleCheckin(DRAFT))


@pytest.mark.parametrize(
    ("plain", "discreet_mode", "says_plain"),
    [(True, False, True), (False, False, False), (False, True, True)],
)
def test_the_scheduled_text_tells_the_wording_that_will_be_used(
    plain: bool, discreet_mode: bool, says_plain: bool
) -> None:
    data = {**facts(plain=plain, discreet_mode=discreet_mode), "checkin_draft": DRAFT}
    d = flow.step(turn("yes", "checkin_confirm", data=data))
    assert ("won't say who it is from" in d.replies[0].text) is says_plain


def test_anything_but_yes_schedules_nothing() -> None:
    for text in ("no", "skip", "3", "4", "what is a T visa"):
        d = flow.step(turn(text, "checkin_confirm", data={**facts(), "checkin_draft": DRAFT}))
        assert not of_type(d, checkins.ScheduleCheckin), text
        assert checkins.SaveCheckinDraft(None) in d.effects


def test_checkin_command_without_checkins_asks_when_then_confirms() -> None:
    d = flow.step(turn("/checkin", data=facts()))
    assert d.state == "checkin_when"
    assert "skip" in d.replies[0].text.lower()
    assert labels(d) == ["Change settings", "Skip"]
    d2 = flow.step(turn("every Monday at 6pm", "checkin_when", data=facts()))
    assert d2.state == "checkin_confirm"
    assert "every Monday 6:00 PM" in d2.replies[-1].text
    for skip in ("skip", "2"):
        d3 = flow.step(turn(skip, "checkin_when", data=facts()))
        assert d3.state == "menu" and not d3.effects


def test_quiet_hours_show_in_the_confirmation() -> None:
    d = flow.step(turn("next Monday at 11pm", intent="schedule_checkin", data=facts()))
    # 23:00 is in quiet hours: the check-in waits for 08:00 the next morning.
    assert "Tuesday, Nov 24, 8:00 AM" in d.replies[-1].text
    anytime = flow.step(turn("next Monday at 11pm", intent="schedule_checkin",
                             data=facts(quiet=None)))  # fmt: skip
    assert "Monday, Nov 23, 11:00 PM" in anytime.replies[-1].text


def test_spanish_request() -> None:
    d = flow.step(turn("mañana por la tarde", intent="schedule_checkin", locale="es", data=facts()))
    assert d.state == "checkin_confirm"
    assert "domingo 22 de noviembre, 15:00" in d.replies[-1].text
    assert labels(d) == ["Sí", "Cambiar ajustes", "No", "Saltar"]


# -- changing settings -----------------------------------------------------------------------


def test_change_settings_from_the_question_keeps_the_draft_and_schedules_nothing() -> None:
    for text in ("Change settings", "2"):
        d = flow.step(turn(text, "checkin_confirm", data={**facts(), "checkin_draft": DRAFT}))
        assert d.state == "checkin_settings", text
        assert not of_type(d, checkins.ScheduleCheckin)
        assert checkins.SaveCheckinDraft(None) not in d.effects
        assert labels(d) == ["Time zone", "Hours", "Wording", "Missed check-ins", "Done"]


@pytest.mark.parametrize(
    ("choice", "state"),
    [("Time zone", "checkin_zone"), ("2", "checkin_hours"), ("wording", "checkin_wording"),
     ("4", "checkin_notify")],
)  # fmt: skip
def test_the_settings_menu_opens_one_question(choice: str, state: str) -> None:
    d = flow.step(turn(choice, "checkin_settings", data=facts()))
    assert d.state == state
    assert "skip" in d.replies[-1].text.lower()
    assert labels(d)[-1] == "Skip"


def test_a_new_zone_keeps_the_local_time_of_the_draft_and_asks_again() -> None:
    data = {**facts(), "checkin_draft": DRAFT}
    d = flow.step(turn("Pacific", "checkin_zone", data=data))
    assert checkins.SaveCheckinPreferences({"timezone": "America/Los_Angeles"}) in d.effects
    drafts = [e.rule for e in of_type(d, checkins.SaveCheckinDraft) if e.rule]
    # 6 PM in Los Angeles, not 3 PM: the same wall-clock time where they are.
    assert drafts[-1]["at"] == "2026-11-23T02:00:00+00:00"
    assert drafts[-1]["zone"] == "America/Los_Angeles"
    assert d.state == "checkin_confirm"
    assert not of_type(d, checkins.ScheduleCheckin)
    text = "\n".join(r.text for r in d.replies)
    assert "Pacific time" in text and "Sunday, Nov 22, 6:00 PM" in text


ZONES = [
    ("US", "Central time", "America/Chicago"),
    ("US", "2", "America/Chicago"),
    ("US", "chicago", "America/Chicago"),
    ("US", "I'm in Texas", "America/Chicago"),
    ("US", "pacific time zone", "America/Los_Angeles"),
    ("US", "America/Denver", "America/Denver"),
    ("US", "Berlin", "Europe/Berlin"),
    ("CA", "central", "America/Winnipeg"),
    ("MX", "cdmx", "America/Mexico_City"),
    ("ES", "canarias", "Atlantic/Canary"),
]


@pytest.mark.parametrize(("country", "text", "zone"), ZONES)
def test_zone_answers(country: str, text: str, zone: str) -> None:
    d = flow.step(turn(text, "checkin_zone", country=country, data=facts()))
    assert of_type(d, checkins.SaveCheckinPreferences) == [
        checkins.SaveCheckinPreferences({"timezone": zone})
    ]
    assert d.state == "checkin_settings"  # No draft: back to the settings.


HOURS = [
    ("9 AM to 5 PM", ["17:00", "09:00"]),
    ("2", ["17:00", "09:00"]),
    ("10am to 6pm", ["18:00", "10:00"]),
    ("10:30 - 19:00", ["19:00", "10:30"]),
    ("5 to 9pm", ["21:00", "17:00"]),
    ("10pm to 6am", ["06:00", "22:00"]),
    ("Any time", ["00:00", "00:00"]),
]


@pytest.mark.parametrize(("text", "quiet"), HOURS)
def test_hours_answers_set_the_quiet_hours_around_them(text: str, quiet: list[str]) -> None:
    d = flow.step(turn(text, "checkin_hours", data=facts()))
    assert of_type(d, checkins.SaveCheckinPreferences) == [
        checkins.SaveCheckinPreferences({"quiet": quiet})
    ]


def test_spanish_hours() -> None:
    d = flow.step(turn("de 9 a 17", "checkin_hours", locale="es", data=facts()))
    assert checkins.SaveCheckinPreferences({"quiet": ["17:00", "09:00"]}) in d.effects
    shown = "\n".join(r.text for r in d.replies)
    assert "Horario: de 09:00 a 17:00" in shown


@pytest.mark.parametrize(
    ("state", "text", "values"),
    [
        ("checkin_wording", "Plain", {"plain": True}),
        ("checkin_wording", "2", {"plain": False}),
        ("checkin_wording", "Say it is Harborline", {"plain": False}),
        ("checkin_notify", "After 2 missed", {"notify_after": 2}),
        ("checkin_notify", "3", {"notify_after": 3}),
        ("checkin_notify", "after 5", {"notify_after": 5}),
        ("checkin_notify", "no", {"notify_after": 0}),
        ("checkin_notify", "1", {"notify_after": 0}),
    ],
)
def test_wording_and_missed_answers(state: str, text: str, values: dict[str, Any]) -> None:
    d = flow.step(turn(text, state, data=facts()))
    assert of_type(d, checkins.SaveCheckinPreferences) == [checkins.SaveCheckinPreferences(values)]


@pytest.mark.parametrize("state", ["checkin_zone", "checkin_hours", "checkin_wording",
                                   "checkin_notify"])  # fmt: skip
def test_skip_or_nonsense_changes_nothing(state: str) -> None:
    skipped = flow.step(turn("skip", state, data=facts()))
    assert not of_type(skipped, checkins.SaveCheckinPreferences)
    assert skipped.state == "checkin_settings"
    unclear = flow.step(turn("purple", state, data=facts()))
    assert not of_type(unclear, checkins.SaveCheckinPreferences)
    assert "kept it as it was" in unclear.replies[0].text


def test_a_question_instead_of_a_setting_is_read_as_usual() -> None:
    data = {**facts(), "checkin_draft": DRAFT}
    question = "what is a t visa and can I get one"
    d = flow.step(turn(question, "checkin_zone", intent="ask_immigration", data=data))
    assert not of_type(d, checkins.SaveCheckinPreferences)
    assert flow.Answer("what is a t visa and can I get one") in d.effects
    assert checkins.SaveCheckinDraft(None) in d.effects
    assert d.state == "menu"


def test_done_goes_back_to_the_question_or_ends() -> None:
    with_draft = flow.step(turn("Done", "checkin_settings",
                                data={**facts(), "checkin_draft": DRAFT}))  # fmt: skip
    assert with_draft.state == "checkin_confirm"
    assert not of_type(with_draft, checkins.ScheduleCheckin)
    alone = flow.step(turn("5", "checkin_settings", data=facts()))
    assert alone.state == "menu"
    assert "check ins" in alone.replies[0].text


def test_the_settings_shown_are_the_survivors() -> None:
    d = flow.step(turn("/checkins", data=facts([WEEKLY], zone="America/Chicago",
                                               quiet=["00:00", "00:00"], plain=False,
                                               notify=2)))  # fmt: skip
    shown = d.replies[1].text
    for part in ("Central time", "any time", "from Harborline", "in a row: 2"):
        assert part in shown, part
    forced = flow.step(turn("/checkins", data=facts([WEEKLY], plain=False, discreet_mode=True)))
    assert "discreet mode is on" in forced.replies[1].text


def test_the_ways_out_work_inside_the_settings() -> None:
    for state in ("checkin_settings", "checkin_zone", "checkin_hours", "checkin_notify"):
        stopped = flow.step(turn("stop", state, data=facts()))
        assert "contact.stopped" in events(stopped), state
        assert not of_type(stopped, checkins.SaveCheckinPreferences)
        menu = flow.step(turn("menu", state, data=facts()))
        assert menu.state == "menu"


def test_every_settings_text_follows_the_writing_guide() -> None:
    combos = [
        facts(),
        facts(quiet=None, plain=False, notify=3, zone="Europe/Berlin"),
        facts(plain=False, discreet_mode=True),
    ]
    for locale in ("en", "es"):
        texts = get_texts(locale)
        for data in combos:
            shown = checkins.settings_text(checkins._settings(turn("x", data=data)), texts, "US")
            assert problems(shown, locale) == [], shown


def test_the_missed_question_names_the_real_answer_window() -> None:
    from aftercare.service import DEFAULT_WINDOW_MINUTES

    hours = DEFAULT_WINDOW_MINUTES // 60
    assert f"{hours} hours" in get_texts("en")("checkins.notify_ask")
    assert f"{hours} horas" in get_texts("es")("checkins.notify_ask")


# -- the list --------------------------------------------------------------------------------


def test_checkins_list_pause_and_cancel() -> None:
    d = flow.step(turn("/checkins", data=facts([WEEKLY])))
    assert d.state == "checkin_manage"
    assert "every Monday 6:00 PM" in d.replies[0].text
    assert labels(d) == [
        "Add a check-in", "Pause check-ins", "Cancel check-ins", "Change settings", "Skip",
    ]  # fmt: skip
    paused = flow.step(turn("Pause check-ins", "checkin_manage", data=facts([WEEKLY])))
    assert checkins.ChangeCheckins("pause") in paused.effects
    by_number = flow.step(turn("3", "checkin_manage", data=facts([WEEKLY])))
    assert checkins.ChangeCheckins("cancel") in by_number.effects
    settings = flow.step(turn("4", "checkin_manage", data=facts([WEEKLY])))
    assert settings.state == "checkin_settings"
    for skip in ("skip", "5"):
        kept = flow.step(turn(skip, "checkin_manage", data=facts([WEEKLY])))
        assert not kept.effects
        assert "kept your check-ins" in kept.replies[0].text


def test_cancel_intent_cancels_at_once() -> None:
    d = flow.step(turn("stop checking on me", intent="cancel_checkin", data=facts([WEEKLY])))
    assert checkins.ChangeCheckins("cancel") in d.effects


# -- a sent check-in waiting for its answer --------------------------------------------------


def test_answers_to_a_sent_checkin() -> None:
    ok = flow.step(turn("1", data=facts(pending=7)))
    assert ok.effects == [checkins.AnswerCheckin(7, "ok")]
    talk = flow.step(turn("2", data=facts(pending=7)))
    assert checkins.AnswerCheckin(7, "talk") in talk.effects
    assert flow.Escalate("requested") in talk.effects
    assert "handoff.requested" in events(talk)
    stop_these = flow.step(turn("3", data=facts(pending=7)))
    assert stop_these.effects == [checkins.AnswerCheckin(7, "stop")]
    other = flow.step(turn("what is a T visa", data=facts(pending=7)))
    assert checkins.AnswerCheckin(7, "other") in other.effects


def test_a_number_answers_whichever_came_last() -> None:
    sent = "2026-11-21T16:00:00+00:00"
    newer = {**facts(pending=7, pending_sent_at=sent), "checkin_asked_at": NOW}
    d = flow.step(turn("2", "checkin_hours", data=newer))
    # The hours question came after the check-in: "2" is its second choice...
    assert checkins.SaveCheckinPreferences({"quiet": ["17:00", "09:00"]}) in d.effects
    assert flow.Escalate("requested") not in d.effects
    # ...and writing back still answers the check-in.
    assert checkins.AnswerCheckin(7, "other") in d.effects
    older = {**facts(pending=7, pending_sent_at=NOW), "checkin_asked_at": sent}
    d2 = flow.step(turn("2", "checkin_hours", data=older))
    assert checkins.AnswerCheckin(7, "talk") in d2.effects
    assert flow.Escalate("requested") in d2.effects


def test_stop_still_means_stop_with_a_checkin_pending() -> None:
    d = flow.step(turn("stop", data=facts(pending=7)))
    assert "contact.stopped" in events(d)
    assert not any(isinstance(e, checkins.AnswerCheckin) for e in d.effects)


def test_handoff_closing_text_offers_a_checkin() -> None:
    assert "check in" in get_texts("en")("handoff.closed")
    assert "seguimiento" in get_texts("es")("handoff.closed")
