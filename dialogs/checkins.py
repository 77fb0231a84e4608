"""Check-ins in the conversation, pure like the rest of the flow.

The pipeline puts what this needs into ``turn.data["aftercare"]`` (the time, the
contact's settings, their active check-ins, a sent one waiting for an answer)
and carries out the effects below. Nothing is scheduled without a clear yes to
one confirmation question.

The first time, that question comes with the settings it will use (time zone
from the country, hours 8 AM to 9 PM, plain wording, no counselor told about
misses): one yes takes them all, "Change settings" opens them, and a yes saves
them so they are not shown again. ``/checkins`` shows them and changes them
later.

States: ``checkin_when`` (asked for a time), ``checkin_confirm`` (asked to
confirm the draft kept in ``turn.data["checkin_draft"]``), ``checkin_manage``
(showed the list with add / pause / resume / cancel / settings),
``checkin_settings`` (which setting to change), ``checkin_zone``,
``checkin_hours``, ``checkin_wording``, ``checkin_notify`` (one setting asked).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from aftercare.rules import (
    ANY_TIME,
    DEFAULT_QUIET,
    NEVER,
    Rule,
    first_due,
    parse_hours,
    parse_notify,
    parse_request,
    parse_zone,
    rezone,
    zone_choices,
    zone_for,
    zone_label_id,
)
from bot.types import Choice
from dialogs.normalize import fold
from dialogs.texts import Texts

if TYPE_CHECKING:
    from dialogs.flow import Decision, Turn

__all__ = [
    "AnswerCheckin",
    "ChangeCheckins",
    "CheckinAsked",
    "CheckinEffect",
    "SaveCheckinDraft",
    "SaveCheckinPreferences",
    "ScheduleCheckin",
    "answer_pending",
    "answer_question",
    "cancel_by_intent",
    "command",
    "describe",
    "request",
    "settings_text",
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
class SaveCheckinPreferences(CheckinEffect):
    """Store these settings: ``timezone``, ``quiet`` ([start, end], equal ends: any
    time), ``plain`` (neutral wording), ``notify_after`` (0: never)."""

    values: dict[str, Any]


@dataclass(frozen=True, slots=True)
class CheckinAsked(CheckinEffect):
    """When a check-in question was asked: a later check-in's "1" is not its answer."""

    at: str


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
# The ways out keep their meaning while a check-in waits for an answer.
_WAYS_OUT = ("stop", "forget", "exit", "language", "set_en", "set_es", "checkins")
_SETTING_STATES = {
    "zone": "checkin_zone",
    "hours": "checkin_hours",
    "wording": "checkin_wording",
    "notify": "checkin_notify",
}
# Offered as ready-made hours (start, end); the first is the default.
_HOURS_CHOICES = (("08:00", "21:00"), ("09:00", "17:00"), ("17:00", "21:00"))


# -- what the pipeline told us --------------------------------------------------------------


def _facts(turn: Turn) -> dict[str, Any]:
    found = turn.data.get("aftercare")
    return found if isinstance(found, dict) else {}


def _now(turn: Turn) -> datetime:
    raw = _facts(turn).get("now")
    return datetime.fromisoformat(raw) if isinstance(raw, str) else datetime.now(UTC)


def _settings(turn: Turn) -> dict[str, Any]:
    """The contact's check-in settings, with the defaults for what is missing."""
    facts = _facts(turn)
    zone = zone_for(facts.get("timezone"), turn.contact.country)
    quiet = facts["quiet"] if "quiet" in facts else list(DEFAULT_QUIET)
    if quiet and quiet[0] == quiet[1]:
        quiet = None  # Equal ends: no quiet hours.
    notify = facts.get("notify_after")
    return {
        "timezone": zone.key,
        "quiet": list(quiet) if quiet else None,
        "plain": facts.get("plain", True) is not False,
        "notify_after": int(notify) if isinstance(notify, int) and notify > 0 else None,
        "saved": bool(facts.get("saved")),
        "discreet_mode": bool(facts.get("discreet_mode")),
    }


def _with(settings: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    """Settings after a change made this turn (the dialog is pure: it can't re-read them)."""
    merged = {**settings, **values, "saved": True}
    quiet = merged.get("quiet")
    merged["quiet"] = None if not quiet or quiet[0] == quiet[1] else list(quiet)
    merged["notify_after"] = merged.get("notify_after") or None
    return merged


def _draft(turn: Turn) -> dict[str, Any] | None:
    draft = turn.data.get("checkin_draft")
    return draft if isinstance(draft, dict) else None


# -- words ----------------------------------------------------------------------------------


def _word(texts: Texts, name: str) -> str:
    return texts(f"checkins.words.{name}")


def _answer_kind(turn: Turn) -> str | None:
    name = turn.command.name if turn.command else None
    if name in ("yes", "no", "skip"):
        return name
    if turn.command is None and turn.intent.confidence >= 0.6:
        return {"affirm": "yes", "deny": "no"}.get(turn.intent.name)
    return None


def _choose(turn: Turn, choices: Sequence[Choice]) -> str | None:
    """The value of the choice this message names: its label, its value, or its number."""
    folded = fold(turn.text)
    if folded.isdigit() and 1 <= int(folded) <= len(choices):
        return choices[int(folded) - 1].value
    for choice in choices:
        if folded in (fold(choice.label), fold(choice.value)):
            return choice.value
    return None


_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")


def describe(summary: dict[str, Any], texts: Texts) -> str:
    """A check-in's time in the survivor's words and zone: "Monday, Nov 23, 6:00 PM"."""
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


def _hhmm(value: str, texts: Texts) -> str:
    hour, minute = (int(x) for x in value.split(":"))
    return _clock(hour, minute, texts)


def _range(start: str, end: str, texts: Texts) -> str:
    """Hours in the survivor's words: "8:00 AM to 9:00 PM", "de 08:00 a 21:00"."""
    if texts.locale == "es":
        return f"de {_hhmm(start, texts)} a {_hhmm(end, texts)}"
    return f"{_hhmm(start, texts)} to {_hhmm(end, texts)}"


def zone_name(key: str, texts: Texts, country: str) -> str:
    label = zone_label_id(key, country)
    if label is not None:
        return texts(f"checkins.zones.{label}")
    return key.rsplit("/", 1)[-1].replace("_", " ")  # The city: "Berlin".


def settings_text(settings: dict[str, Any], texts: Texts, country: str) -> str:
    """The settings as a short list, one line each."""
    quiet = settings.get("quiet")
    if quiet:
        hours = f"{texts('checkins.setting.hours')} {_range(quiet[1], quiet[0], texts)}"
    else:
        hours = texts("checkins.setting.any_time")
    if settings.get("discreet_mode") and not settings.get("plain", True):
        wording = texts("checkins.setting.plain_discreet")
    else:
        wording = texts(
            "checkins.setting.plain" if settings.get("plain", True) else "checkins.setting.named"
        )
    notify = settings.get("notify_after")
    missed = (
        f"{texts('checkins.setting.notify_on')} {notify}."
        if notify
        else texts("checkins.setting.notify_off")
    )
    zone = f"{texts('checkins.setting.zone')} {zone_name(settings['timezone'], texts, country)}"
    lines = [zone, hours, wording, missed]
    return "\n".join([texts("checkins.settings_title"), *(f"- {line}" for line in lines)])


# -- asking for a check-in ------------------------------------------------------------------


def _asked(turn: Turn, decision: Decision, state: str) -> None:
    decision.state = state
    decision.effects.append(CheckinAsked(_now(turn).isoformat()))


def _confirm_choices(texts: Texts) -> tuple[Choice, ...]:
    return (
        Choice(_word(texts, "yes"), "/yes"),
        Choice(_word(texts, "settings"), _word(texts, "settings")),
        Choice(_word(texts, "no"), "/no"),
        Choice(_word(texts, "skip"), "/skip"),
    )


def _confirm(
    turn: Turn,
    decision: Decision,
    texts: Texts,
    rule: Rule,
    settings: dict[str, Any] | None = None,
) -> bool:
    """The one question before anything is scheduled; the settings too until saved."""
    current = _settings(turn)
    shown = settings or current
    zone = zone_for(shown["timezone"], turn.contact.country)
    quiet = (str(shown["quiet"][0]), str(shown["quiet"][1])) if shown["quiet"] else None
    due = first_due(rule, zone, _now(turn), quiet)
    if due is None:
        return False
    summary = {**rule.as_dict(), "due_at": due.isoformat(), "timezone": zone.key}
    decision.effects.append(SaveCheckinDraft({**rule.as_dict(), "zone": zone.key}))
    _asked(turn, decision, "checkin_confirm")
    if settings is not None or not current["saved"]:
        decision.say(settings_text(shown, texts, turn.contact.country))
    decision.say(texts("checkins.confirm", date=describe(summary, texts)), *_confirm_choices(texts))
    return True


def _when_choices(texts: Texts) -> tuple[Choice, ...]:
    return (
        Choice(_word(texts, "settings"), _word(texts, "settings")),
        Choice(_word(texts, "skip"), "/skip"),
    )


def _ask_when(turn: Turn, decision: Decision, texts: Texts) -> None:
    _asked(turn, decision, "checkin_when")
    decision.say(texts("checkins.ask_when"), *_when_choices(texts))


def _parse(turn: Turn) -> Rule | None:
    zone = zone_for(_settings(turn)["timezone"], turn.contact.country)
    return parse_request(turn.text, _now(turn), zone)


def request(turn: Turn, decision: Decision, texts: Texts) -> None:
    """Asked for a check-in in plain words: confirm the time named, or ask for one."""
    rule = _parse(turn)
    if rule is None or not _confirm(turn, decision, texts, rule):
        _ask_when(turn, decision, texts)


def command(turn: Turn, decision: Decision, texts: Texts) -> None:
    """/checkin, /checkins: the list, the settings and what can be changed; or the first
    question when there is none."""
    active = [c for c in _facts(turn).get("checkins") or [] if isinstance(c, dict)]
    if not active:
        _ask_when(turn, decision, texts)
        return
    lines = [f"- {describe(c, texts)}{_status(c, texts)}" for c in active]
    decision.say(texts("checkins.list", date="\n".join(lines)))
    decision.say(settings_text(_settings(turn), texts, turn.contact.country))
    _asked(turn, decision, "checkin_manage")
    decision.say(texts("checkins.manage"), *_manage_choices(active, texts))


def _manage_choices(active: list[dict[str, Any]], texts: Texts) -> list[Choice]:
    actions = ["add"]
    if any(c.get("status") == "paused" for c in active):
        actions.append("resume")
    if any(c.get("status") == "scheduled" for c in active):
        actions.append("pause")
    actions.extend(("cancel", "settings"))
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


def _action_of(value: str | None, texts: Texts) -> str | None:
    names = ("add", "pause", "resume", "cancel", "settings")
    return next((a for a in names if value is not None and _word(texts, a) == value), None)


# -- settings -------------------------------------------------------------------------------


def _settings_choices(texts: Texts) -> tuple[Choice, ...]:
    names = ("zone", "hours", "wording", "notify")
    return (
        *(Choice(_word(texts, n), _word(texts, n)) for n in names),
        Choice(_word(texts, "done"), "/skip"),
    )


def _settings_menu(turn: Turn, decision: Decision, texts: Texts, settings: dict[str, Any]) -> None:
    decision.say(settings_text(settings, texts, turn.contact.country))
    _asked(turn, decision, "checkin_settings")
    decision.say(texts("checkins.settings_ask"), *_settings_choices(texts))


def _zone_choices(turn: Turn, texts: Texts) -> list[Choice]:
    zones = zone_choices(turn.contact.country)
    labels = [texts(f"checkins.zones.{label}") for label, _ in zones]
    return [*(Choice(label, label) for label in labels), Choice(_word(texts, "skip"), "/skip")]


def _hours_choices(texts: Texts) -> list[Choice]:
    ranges = [_range(start, end, texts) for start, end in _HOURS_CHOICES]
    return [
        *(Choice(r, r) for r in ranges),
        Choice(_word(texts, "any_time"), _word(texts, "any_time")),
        Choice(_word(texts, "skip"), "/skip"),
    ]


def _wording_choices(texts: Texts) -> list[Choice]:
    return [
        Choice(_word(texts, "plain"), _word(texts, "plain")),
        Choice(_word(texts, "named"), _word(texts, "named")),
        Choice(_word(texts, "skip"), "/skip"),
    ]


def _notify_choices(texts: Texts) -> list[Choice]:
    return [
        Choice(_word(texts, "notify_never"), _word(texts, "notify_never")),
        Choice(_word(texts, "notify_2"), _word(texts, "notify_2")),
        Choice(_word(texts, "notify_3"), _word(texts, "notify_3")),
        Choice(_word(texts, "skip"), "/skip"),
    ]


def _ask_setting(turn: Turn, decision: Decision, texts: Texts, name: str) -> None:
    _asked(turn, decision, _SETTING_STATES[name])
    if name == "zone":
        decision.say(texts("checkins.zone_ask"), *_zone_choices(turn, texts))
    elif name == "hours":
        decision.say(texts("checkins.hours_ask"), *_hours_choices(texts))
    elif name == "wording":
        decision.say(texts("checkins.wording_ask"), *_wording_choices(texts))
    else:
        decision.say(texts("checkins.notify_ask"), *_notify_choices(texts))


def _read_setting(turn: Turn, texts: Texts) -> dict[str, Any] | None:
    """The change one setting question's answer asks for; None when it names none."""
    country = turn.contact.country
    if turn.state == "checkin_zone":
        picked = _choose(turn, _zone_choices(turn, texts)) or turn.text
        labels = {
            fold(texts(f"checkins.zones.{label}")): key for label, key in zone_choices(country)
        }
        zone = parse_zone(picked, country, labels)
        return {"timezone": zone} if zone else None
    if turn.state == "checkin_hours":
        hours = parse_hours(_choose(turn, _hours_choices(texts)) or turn.text)
        if hours is None:
            return None
        # Allowed hours (start, end) are the complement of quiet hours (end, start).
        return {"quiet": list(ANY_TIME) if hours == ANY_TIME else [hours[1], hours[0]]}
    if turn.state == "checkin_wording":
        chosen = _choose(turn, _wording_choices(texts))
        folded = fold(chosen or turn.text)
        if chosen == _word(texts, "plain") or folded in _PLAIN_WORDS:
            return {"plain": True}
        if chosen == _word(texts, "named") or folded in _NAMED_WORDS:
            return {"plain": False}
        return None
    count = parse_notify(_choose(turn, _notify_choices(texts)) or turn.text)
    return None if count is None else {"notify_after": count}


_PLAIN_WORDS = {"plain", "neutral", "discreet", "simple", "sencillos", "sencillo", "discreto"}
_NAMED_WORDS = {"named", "harborline", "say harborline", "say it is harborline", "que digan"}


def _after_setting(
    turn: Turn, decision: Decision, texts: Texts, values: dict[str, Any] | None
) -> None:
    """Back to the check-in being confirmed, or to the settings, showing them as they are now."""
    current = _settings(turn)
    settings = current
    if values is not None:
        decision.effects.append(SaveCheckinPreferences(values))
        decision.say(texts("checkins.changed"))
        settings = _with(current, values)
    draft = _draft(turn)
    if draft is not None:
        rule = Rule.from_dict(draft)
        if rule.kind == "once" and rule.at is not None and "timezone" in (values or {}):
            # "Tomorrow at 6 PM" means 6 PM where the survivor is.
            old = zone_for(draft.get("zone") or current["timezone"])
            at = rezone(rule.at, old, zone_for(settings["timezone"]))
            rule = Rule("once", at=at)
        if _confirm(turn, decision, texts, rule, settings):
            return
    _settings_menu(turn, decision, texts, settings)


def _short(turn: Turn) -> bool:
    return len(turn.text.split()) <= 4


# -- answers to the question asked last turn ------------------------------------------------


def answer_question(turn: Turn, decision: Decision, texts: Texts) -> bool:
    """Answers to the check-in question asked last turn. False: not an answer."""
    answer = _answer_kind(turn)
    if turn.state == "checkin_when":
        return _answer_when(turn, decision, texts, answer)
    if turn.state == "checkin_confirm":
        return _answer_confirm(turn, decision, texts, answer)
    if turn.state == "checkin_manage":
        return _answer_manage(turn, decision, texts, answer)
    if turn.state == "checkin_settings":
        return _answer_settings(turn, decision, texts, answer)
    if turn.state in _SETTING_STATES.values():
        decision.state = "menu"
        values = _read_setting(turn, texts)
        if values is None and answer not in ("yes", "no", "skip") and not _short(turn):
            decision.effects.append(SaveCheckinDraft(None))
            return False  # Something else entirely: read as usual.
        if values is None and answer not in ("no", "skip"):
            decision.say(texts("checkins.not_changed"))
        if values is None and answer == "no" and turn.state == "checkin_notify":
            values = {"notify_after": NEVER}  # "Should I tell a counselor?" "No."
        _after_setting(turn, decision, texts, values)
        return True
    return False


def _answer_when(turn: Turn, decision: Decision, texts: Texts, answer: str | None) -> bool:
    decision.state = "menu"
    picked = _choose(turn, _when_choices(texts))
    if picked == _word(texts, "settings"):
        _settings_menu(turn, decision, texts, _settings(turn))
        return True
    if picked == "/skip" or answer in ("no", "skip"):
        decision.say(texts("checkins.not_scheduled"))
        return True
    rule = _parse(turn)
    if rule is not None and _confirm(turn, decision, texts, rule):
        return True
    decision.say(texts("checkins.not_understood"))
    return True


def _answer_confirm(turn: Turn, decision: Decision, texts: Texts, answer: str | None) -> bool:
    decision.state = "menu"
    draft = _draft(turn)
    picked = _choose(turn, _confirm_choices(texts))
    if picked == _word(texts, "settings") and draft is not None:
        _settings_menu(turn, decision, texts, _settings(turn))
        return True
    answer = {"/yes": "yes", "/no": "no", "/skip": "skip"}.get(picked or "", answer)
    decision.effects.append(SaveCheckinDraft(None))
    if answer == "yes" and draft is not None:
        settings = _settings(turn)
        if not settings["saved"]:
            # The defaults shown with the question are what they said yes to.
            decision.effects.append(SaveCheckinPreferences(_stored(settings)))
        decision.effects.append(ScheduleCheckin(draft))
        plain = settings["plain"] or settings["discreet_mode"]
        decision.say(texts("checkins.scheduled" if plain else "checkins.scheduled_named"))
        return True
    if answer is not None:
        decision.say(texts("checkins.not_scheduled"))
        return True
    return False  # Anything else: nothing is scheduled; the message is read as usual.


def _stored(settings: dict[str, Any]) -> dict[str, Any]:
    return {
        "timezone": settings["timezone"],
        "quiet": settings["quiet"] or list(ANY_TIME),
        "plain": settings["plain"],
        "notify_after": settings["notify_after"] or NEVER,
    }


def _answer_manage(turn: Turn, decision: Decision, texts: Texts, answer: str | None) -> bool:
    decision.state = "menu"
    active = [c for c in _facts(turn).get("checkins") or [] if isinstance(c, dict)]
    picked = _choose(turn, _manage_choices(active, texts))
    action = _action_of(picked, texts)
    if picked == "/skip":
        answer = "skip"
    if action == "add":
        _ask_when(turn, decision, texts)
    elif action == "settings":
        _settings_menu(turn, decision, texts, _settings(turn))
    elif action in ("pause", "resume", "cancel"):
        decision.effects.append(ChangeCheckins(action))
        decision.say(texts(f"checkins.{action}d" if action != "cancel" else "checkins.cancelled"))
    elif answer in ("no", "skip"):
        decision.say(texts("checkins.kept"))
    else:
        return False
    return True


def _answer_settings(turn: Turn, decision: Decision, texts: Texts, answer: str | None) -> bool:
    decision.state = "menu"
    picked = _choose(turn, _settings_choices(texts))
    name = next((n for n in _SETTING_STATES if picked == _word(texts, n)), None)
    if name is not None:
        _ask_setting(turn, decision, texts, name)
        return True
    if picked == "/skip" or answer in ("no", "skip", "yes"):
        draft = _draft(turn)
        if draft is not None and _confirm(turn, decision, texts, Rule.from_dict(draft)):
            return True
        decision.say(texts("checkins.settings_done"))
        return True
    decision.effects.append(SaveCheckinDraft(None))
    return False


# -- a sent check-in waiting for its answer -------------------------------------------------


def _question_is_newer(turn: Turn) -> bool:
    """A check-in question was asked after the check-in was sent: digits answer it."""
    asked = turn.data.get("checkin_asked_at")
    sent = _facts(turn).get("pending_sent_at")
    if not turn.state.startswith("checkin_") or not isinstance(asked, str):
        return False
    return not isinstance(sent, str) or asked > sent


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
    name = turn.command.name if turn.command else None
    if name in _WAYS_OUT:
        return False
    folded = fold(turn.text)
    if turn.state != "menu" and (folded not in ("1", "2", "3") or _question_is_newer(turn)):
        # Another question is open and this answers it; still, they wrote back.
        decision.effects.append(AnswerCheckin(pending, "other"))
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
