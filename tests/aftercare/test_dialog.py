"""Check-ins in the pure dialog: ask -> confirm -> scheduled; manage; answers."""

from __future__ import annotations

from typing import Any

from dialogs import checkins, flow
from tests.dialogs.test_flow import events, kinds, turn

NOW = "2026-11-21T17:00:00+00:00"  # Saturday noon in New York


def facts(
    checkins_: list[dict[str, Any]] | None = None, pending: int | None = None
) -> dict[str, Any]:
    return {
        "aftercare": {
            "now": NOW,
            "timezone": "America/New_York",
            "quiet": ["21:00", "08:00"],
            "checkins": checkins_ or [],
            "pending": pending,
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


def test_plain_words_ask_for_confirmation_and_schedule_nothing() -> None:
    d = flow.step(turn("check in with me tomorrow", intent="schedule_checkin", data=facts()))
    assert d.state == "checkin_confirm"
    assert kinds(d) == ["SaveCheckinDraft"]
    assert "Sunday, Nov 22, 12:00 PM" in d.replies[0].text
    assert not any(isinstance(e, checkins.ScheduleCheckin) for e in d.effects)


def test_yes_schedules_the_draft() -> None:
    draft = {"kind": "once", "at": "2026-11-22T17:00:00+00:00", "weekday": None, "local_time": None}
    d = flow.step(turn("yes", "checkin_confirm", data={**facts(), "checkin_draft": draft}))
    assert checkins.ScheduleCheckin(draft) in d.effects
    assert d.state == "menu"


def test_anything_but_yes_schedules_nothing() -> None:
    draft = {"kind": "once", "at": "2026-11-22T17:00:00+00:00", "weekday": None, "local_time": None}
    for text in ("no", "skip", "what is a T visa"):
        d = flow.step(turn(text, "checkin_confirm", data={**facts(), "checkin_draft": draft}))
        assert not any(isinstance(e, checkins.ScheduleCheckin) for e in d.effects), text
        assert checkins.SaveCheckinDraft(None) in d.effects


def test_checkin_command_without_checkins_asks_when_then_confirms() -> None:
    d = flow.step(turn("/checkin", data=facts()))
    assert d.state == "checkin_when"
    assert "skip" in d.replies[0].text.lower()
    d2 = flow.step(turn("every Monday at 6pm", "checkin_when", data=facts()))
    assert d2.state == "checkin_confirm"
    assert "every Monday 6:00 PM" in d2.replies[0].text
    d3 = flow.step(turn("skip", "checkin_when", data=facts()))
    assert d3.state == "menu" and not d3.effects


def test_quiet_hours_show_in_the_confirmation() -> None:
    d = flow.step(turn("next Monday at 11pm", intent="schedule_checkin", data=facts()))
    # 23:00 is in quiet hours: the check-in waits for 08:00.
    assert "8:00 AM" in d.replies[0].text


def test_spanish_request() -> None:
    d = flow.step(turn("mañana por la tarde", intent="schedule_checkin", locale="es", data=facts()))
    assert d.state == "checkin_confirm"
    assert "domingo 22 de noviembre, 15:00" in d.replies[0].text


def test_checkins_list_pause_and_cancel() -> None:
    d = flow.step(turn("/checkins", data=facts([WEEKLY])))
    assert d.state == "checkin_manage"
    assert "every Monday 6:00 PM" in d.replies[0].text
    labels = [c.label for c in d.replies[1].choices]
    assert labels == ["Add a check-in", "Pause check-ins", "Cancel check-ins", "Skip"]
    paused = flow.step(turn("Pause check-ins", "checkin_manage", data=facts([WEEKLY])))
    assert checkins.ChangeCheckins("pause") in paused.effects
    by_number = flow.step(turn("3", "checkin_manage", data=facts([WEEKLY])))
    assert checkins.ChangeCheckins("cancel") in by_number.effects
    kept = flow.step(turn("skip", "checkin_manage", data=facts([WEEKLY])))
    assert not kept.effects


def test_cancel_intent_cancels_at_once() -> None:
    d = flow.step(turn("stop checking on me", intent="cancel_checkin", data=facts([WEEKLY])))
    assert checkins.ChangeCheckins("cancel") in d.effects


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


def test_stop_still_means_stop_with_a_checkin_pending() -> None:
    d = flow.step(turn("stop", data=facts(pending=7)))
    assert "contact.stopped" in events(d)
    assert not any(isinstance(e, checkins.AnswerCheckin) for e in d.effects)


def test_handoff_closing_text_offers_a_checkin() -> None:
    from dialogs.texts import get_texts

    assert "check in" in get_texts("en")("handoff.closed")
    assert "seguimiento" in get_texts("es")("handoff.closed")
