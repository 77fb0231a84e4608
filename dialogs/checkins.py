"""Check-ins in the conversation, pure like the rest of the flow.

The pipeline puts what this needs into ``turn.data["aftercare"]`` (the time,
the contact's zone and quiet hours, their active check-ins, a sent one waiting
for an answer) and carries out the effects below. Nothing is scheduled without
a clear yes to one confirmation question.

States: ``checkin_when`` (asked for a time), ``checkin_confirm`` (asked to
confirm the draft kept in ``turn.data["checkin_draft"]``), ``checkin_manage``
(showed the list with pause / resume / cancel / add).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from aftercare.rules import Rule, first_due, parse_request, zone_for
from bot.types import Choice
from dialogs.normalize import fold
from dialogs.texts import Texts

if TYPE_CHECKING:
    from dialogs.flow import Decision, Turn

__all__ = [
    "AnswerCheckin",
    "ChangeCheckins",
    "CheckinEffect",
    "SaveCheckinDraft",
    "ScheduleCheckin",
    "answer_pending",
    "answer_question",
    "cancel_by_intent",
    "command",
    "request",
]


class CheckinEffect:
    """Base of the check-in effects; the pipeline hands them to aftercare.service."""

    __slots__ = ()


@dataclass(frozen=True, slots=True)
class ScheduleCheckin(CheckinEffect):
    rule: dict[str, Any]


@dataclass(frozen=True, slots=True)
class SaveCheckinDraft(CheckinEffect):
    rule: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class ChangeCheckins(CheckinEffect):
    action: str  # pause | resume | cancel
    checkin_id: int | None = None  # None: all of them


@dataclass(frozen=True, slots=True)
class AnswerCheckin(CheckinEffect):
    checkin_id: int
    answer: str  # ok | talk | stop | other


RequestPerson = Callable[["Turn", "Decision", Texts], None]

_OK = {"1", "im ok", "i m ok", "i am ok", "ok", "okay", "estoy bien", "bien", "yes", "si"}
_TALK = {"2", "talk", "hablar", "talk to someone", "hablar con alguien"}
_STOP_THESE = {"3", "stop these", "not now", "ahora no", "para estos", "no mas"}


def _facts(turn: Turn) -> dict[str, Any]:
    found = turn.data.get("aftercare")
    return found if isinstance(found, dict) else {}


def _now(turn: Turn) -> datetime:
    raw = _facts(turn).get("now")
    return datetime.fromisoformat(raw) if isinstance(raw, str) else datetime.now(UTC)


def _word(texts: Texts, name: str) -> str:
    return texts(f"checkins.words.{name}")


def _yes_no_skip(texts: Texts) -> tuple[Choice, ...]:
    return (
        Choice(_word(texts, "yes"), "/yes"),
        Choice(_word(texts, "no"), "/no"),
        Choice(_word(texts, "skip"), "/skip"),
    )


def _answer_kind(turn: Turn) -> str | None:
    name = turn.command.name if turn.command else None
    if name in ("yes", "no", "skip"):
        return name
    if turn.command is None and turn.intent.confidence >= 0.6:
        return {"affirm": "yes", "deny": "no"}.get(turn.intent.name)
    return None


_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")


def describe(summary: dict[str, Any], texts: Texts) -> str:
    """A check-in's time in the survivor's words and zone: "Monday, Nov 23 at 6:00 PM"."""
    zone = zone_for(summary.get("timezone"))
    days = [texts(f"checkins.days.{d}") for d in _DAYS]
    if summary.get("kind") == "weekly":
        hour, minute = (int(x) for x in str(summary.get("local_time") or "00:00").split(":"))
        day = days[int(summary.get("weekday") or 0)]
        return texts("checkins.every", date=f"{day} {_clock(hour, minute, texts)}")
    local = datetime.fromisoformat(str(summary["due_at"])).astimezone(zone)
    months = [texts(f"checkins.months.{m}") for m in _MONTHS]
    day = days[local.weekday()]
    month = months[local.month - 1]
    clock = _clock(local.hour, local.minute, texts)
    if texts.locale == "es":
        return f"{day} {local.day} de {month}, {clock}"
    return f"{day}, {month} {local.day}, {clock}"


def _clock(hour: int, minute: int, texts: Texts) -> str:
    if texts.locale == "es":
        return f"{hour:02d}:{minute:02d}"
    suffix = "AM" if hour < 12 else "PM"
    return f"{(hour % 12) or 12}:{minute:02d} {suffix}"


def _confirm(turn: Turn, decision: Decision, texts: Texts, rule: Rule) -> bool:
    facts = _facts(turn)
    zone = zone_for(facts.get("timezone"), turn.contact.country)
    quiet_raw = facts.get("quiet")
    quiet = (str(quiet_raw[0]), str(quiet_raw[1])) if quiet_raw else None
    due = first_due(rule, zone, _now(turn), quiet)
    if due is None:
        return False
    summary = {**rule.as_dict(), "due_at": due.isoformat(), "timezone": zone.key}
    decision.state = "checkin_confirm"
    decision.effects.append(SaveCheckinDraft(rule.as_dict()))
    decision.say(texts("checkins.confirm", date=describe(summary, texts)), *_yes_no_skip(texts))
    return True


def _ask_when(decision: Decision, texts: Texts) -> None:
    decision.state = "checkin_when"
    decision.say(texts("checkins.ask_when"), Choice(_word(texts, "skip"), "/skip"))


def request(turn: Turn, decision: Decision, texts: Texts) -> None:
    """Asked for a check-in in plain words: confirm the time named, or ask for one."""
    rule = parse_request(turn.text, _now(turn), zone_for(_facts(turn).get("timezone")))
    if rule is None or not _confirm(turn, decision, texts, rule):
        _ask_when(decision, texts)


def command(turn: Turn, decision: Decision, texts: Texts) -> None:
    """/checkin, /checkins: the list with what can be changed, or the first question."""
    active = [c for c in _facts(turn).get("checkins") or [] if isinstance(c, dict)]
    if not active:
        _ask_when(decision, texts)
        return
    lines = [f"- {describe(c, texts)}{_status(c, texts)}" for c in active]
    decision.say(texts("checkins.list", date="\n".join(lines)))
    decision.state = "checkin_manage"
    decision.say(texts("checkins.manage"), *_manage_choices(active, texts))


def _manage_choices(active: list[dict[str, Any]], texts: Texts) -> list[Choice]:
    actions = ["add"]
    if any(c.get("status") == "paused" for c in active):
        actions.append("resume")
    if any(c.get("status") == "scheduled" for c in active):
        actions.append("pause")
    actions.append("cancel")
    choices = [Choice(_word(texts, a), _word(texts, a)) for a in actions]
    return [*choices, Choice(_word(texts, "skip"), "/skip")]


def _status(summary: dict[str, Any], texts: Texts) -> str:
    return f" ({_word(texts, 'paused')})" if summary.get("status") == "paused" else ""


def cancel_by_intent(turn: Turn, decision: Decision, texts: Texts) -> None:
    decision.state = "menu"
    if not _facts(turn).get("checkins"):
        decision.say(texts("checkins.none"))
        return
    decision.effects.append(ChangeCheckins("cancel"))
    decision.say(texts("checkins.cancelled"))


def _manage_action(turn: Turn, texts: Texts) -> str | None:
    folded = fold(turn.text)
    for action in ("add", "pause", "resume", "cancel"):
        if folded == fold(_word(texts, action)):
            return action
    # A number from the list, where choices are numbered lines (SMS, the terminal).
    active = [c for c in _facts(turn).get("checkins") or [] if isinstance(c, dict)]
    choices = _manage_choices(active, texts)[:-1]
    if folded.isdigit() and 1 <= int(folded) <= len(choices):
        return _manage_action_of(choices[int(folded) - 1].value, texts)
    return None


def _manage_action_of(value: str, texts: Texts) -> str | None:
    return next((a for a in ("add", "pause", "resume", "cancel") if _word(texts, a) == value), None)


def answer_question(turn: Turn, decision: Decision, texts: Texts) -> bool:
    """Answers to the check-in question asked last turn. False: not an answer."""
    answer = _answer_kind(turn)
    if turn.state == "checkin_when":
        decision.state = "menu"
        if answer in ("no", "skip"):
            decision.say(texts("checkins.not_scheduled"))
            return True
        rule = parse_request(turn.text, _now(turn), zone_for(_facts(turn).get("timezone")))
        if rule is not None and _confirm(turn, decision, texts, rule):
            return True
        decision.say(texts("checkins.not_understood"))
        return True
    if turn.state == "checkin_confirm":
        decision.state = "menu"
        draft = turn.data.get("checkin_draft")
        decision.effects.append(SaveCheckinDraft(None))
        if answer == "yes" and isinstance(draft, dict):
            decision.effects.append(ScheduleCheckin(draft))
            decision.say(texts("checkins.scheduled"))
            return True
        if answer is not None:
            decision.say(texts("checkins.not_scheduled"))
            return True
        return False  # Anything else: nothing is scheduled; the message is read as usual.
    if turn.state == "checkin_manage":
        decision.state = "menu"
        action = _manage_action(turn, texts)
        if action == "add":
            _ask_when(decision, texts)
        elif action in ("pause", "resume", "cancel"):
            decision.effects.append(ChangeCheckins(action))
            decision.say(
                texts(f"checkins.{action}d" if action != "cancel" else "checkins.cancelled")
            )
        elif answer in ("no", "skip"):
            decision.say(texts("checkins.kept"))
        else:
            return False
        return True
    return False


def answer_pending(
    turn: Turn, decision: Decision, texts: Texts, request_person: RequestPerson
) -> bool:
    """A sent check-in waits for an answer: 1 OK, 2 talk to someone, 3 stop these.

    Anything else still counts as an answer ("other") and is read as usual, so
    writing back is never recorded as a miss. The ways out (stop, forget me,
    exit) are never taken here.
    """
    pending = _facts(turn).get("pending")
    if not isinstance(pending, int):
        return False
    folded = fold(turn.text)
    if turn.state != "menu" and folded not in ("1", "2", "3"):
        return False  # Another question is open: its yes or no is not for the check-in.
    name = turn.command.name if turn.command else None
    if name in ("stop", "forget", "exit", "language", "set_en", "set_es", "checkins"):
        return False
    if folded in _OK or name == "safe":
        decision.effects.append(AnswerCheckin(pending, "ok"))
        decision.state = "menu"
        decision.say(texts("checkins.answer_ok"))
        return True
    if folded in _TALK or name == "person":
        decision.effects.append(AnswerCheckin(pending, "talk"))
        decision.state = "menu"
        request_person(turn, decision, texts)
        return True
    if folded in _STOP_THESE:
        decision.effects.append(AnswerCheckin(pending, "stop"))
        decision.state = "menu"
        decision.say(texts("checkins.answer_stop"))
        return True
    decision.effects.append(AnswerCheckin(pending, "other"))
    return False
