"""The conversation as a pure function: (state, turn) -> decision.

No I/O here. The pipeline gathers what a turn needs (risk, language, intent,
command, contact facts), calls :func:`step`, then carries out the effects
(store consent, erase, escalate, look up the knowledge base) and sends the
replies. That keeps every decision testable with plain tables of cases.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from bot.types import Choice, Event, Intent, Reply, RiskAssessment, RiskLevel
from dialogs import checkins
from dialogs.commands import Command, match_command
from dialogs.normalize import fold
from dialogs.texts import Texts, get_texts, lines_for

__all__ = [
    "Answer",
    "ContactView",
    "Decision",
    "Effect",
    "EndHandoff",
    "Erase",
    "Escalate",
    "Relay",
    "SetConsent",
    "SetDiscreet",
    "SetLocale",
    "SetSafeWord",
    "SetStopped",
    "ShowMore",
    "Turn",
    "step",
]


# Effects: what the pipeline must do after the decision.
@dataclass(frozen=True, slots=True)
class SetConsent:
    value: bool


@dataclass(frozen=True, slots=True)
class SetLocale:
    locale: str


@dataclass(frozen=True, slots=True)
class SetStopped:
    value: bool


@dataclass(frozen=True, slots=True)
class Erase:
    pass


@dataclass(frozen=True, slots=True)
class Escalate:
    reason: str  # "risk" | "requested"


@dataclass(frozen=True, slots=True)
class Answer:
    """Look the question up in the knowledge base and reply with what is found."""

    query: str


@dataclass(frozen=True, slots=True)
class ShowMore:
    article_id: str


@dataclass(frozen=True, slots=True)
class SetDiscreet:
    value: bool


@dataclass(frozen=True, slots=True)
class SetSafeWord:
    """Store the keyed hash of this word (None: remove the safe word)."""

    word: str | None


@dataclass(frozen=True, slots=True)
class Relay:
    """During a handoff: pass the message to the counselor instead of answering."""


@dataclass(frozen=True, slots=True)
class EndHandoff:
    reason: str


Effect = (
    SetConsent
    | SetLocale
    | SetStopped
    | Erase
    | Escalate
    | Answer
    | ShowMore
    | Relay
    | EndHandoff
    | checkins.CheckinEffect
    | SetDiscreet
    | SetSafeWord
)


@dataclass(frozen=True, slots=True)
class ContactView:
    locale: str
    country: str
    consent: bool | None
    stopped: bool
    is_new: bool
    retention_days: int = 30
    # Someone is on call now: decides what we may honestly promise.
    counselor_available: bool = False


@dataclass(frozen=True, slots=True)
class Turn:
    text: str
    state: str
    contact: ContactView
    risk: RiskAssessment = field(default_factory=RiskAssessment)
    intent: Intent = field(default_factory=lambda: Intent("unknown", 0.0))
    command: Command | None = None
    too_long: bool = False
    data: dict[str, Any] = field(default_factory=dict)
    # The message is the survivor's safe word (the pipeline compares keyed hashes).
    safe_word: bool = False
    # False on SMS: only an explicit "start" ends a stop there.
    resume_on_any_message: bool = True


@dataclass(slots=True)
class Decision:
    state: str
    replies: list[Reply] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    effects: list[Effect] = field(default_factory=list)

    def say(self, text: str, *choices: Choice) -> None:
        self.replies.append(Reply(text, tuple(choices)))


def step(turn: Turn) -> Decision:
    locale = _locale_after_command(turn)
    decision = Decision(state=turn.state)
    texts = get_texts(locale)
    if locale != turn.contact.locale:
        decision.effects.append(SetLocale(locale))

    if turn.safe_word:
        _safe_word_used(turn, decision, texts)
        return decision
    if turn.state == "handoff":
        _handoff(turn, decision, texts)
        return decision
    if turn.risk.escalates:
        _crisis(turn, decision, texts)
        return decision
    resumes = turn.resume_on_any_message or _command(turn) == "start"
    if turn.contact.stopped and resumes and _command(turn) not in ("stop", "forget", "exit"):
        decision.effects.append(SetStopped(False))
        decision.events.append(Event("contact.resumed"))
        decision.say(texts("stop.resumed"))
    if turn.contact.is_new:
        _welcome(turn, decision, texts)
        return decision
    if turn.too_long:
        decision.say(texts("errors.too_long"))
    if not turn.text.strip():
        decision.say(texts("errors.empty"), *_menu_choices(texts))
        return decision
    if checkins.answer_pending(turn, decision, texts, _request_person):
        return decision
    if _handle_command(turn, decision, texts):
        return decision
    if _handle_pending_question(turn, decision, texts):
        return decision
    if turn.risk.level == RiskLevel.MODERATE:
        _moderate(decision, texts)
        if turn.intent.name in _SMALLTALK or turn.intent.name == "unknown":
            return decision
    _handle_intent(turn, decision, texts)
    return decision


_SMALLTALK = {"greeting", "thanks", "goodbye", "affirm", "deny", "out_of_scope"}


def _command(turn: Turn) -> str | None:
    return turn.command.name if turn.command else None


def _locale_after_command(turn: Turn) -> str:
    name = _command(turn)
    if name == "set_en":
        return "en"
    if name == "set_es":
        return "es"
    return turn.contact.locale


def _menu_choices(texts: Texts) -> tuple[Choice, ...]:
    other = "/en" if texts.locale == "es" else "/es"
    return (
        Choice(texts("menu.choices.ask"), "/ask"),
        Choice(texts("menu.choices.services"), "/services"),
        Choice(texts("menu.choices.person"), "/person"),
        Choice(texts("menu.choices.checkins"), "/checkins"),
        Choice(texts("menu.choices.language"), other),
    )


def _menu(decision: Decision, texts: Texts) -> None:
    decision.state = "menu"
    decision.say(texts("menu.prompt"), *_menu_choices(texts))


def _welcome(turn: Turn, decision: Decision, texts: Texts) -> None:
    decision.events.append(Event("contact.created"))
    decision.say(texts("welcome.intro"))
    decision.say(texts("welcome.controls"))
    if turn.command is None and turn.intent.name.startswith("ask_"):
        decision.effects.append(Answer(turn.text))
    elif _command(turn) == "person" or turn.intent.name == "talk_to_person":
        _request_person(turn, decision, texts)
    _ask_consent(turn, decision, texts)


def _ask_consent(turn: Turn, decision: Decision, texts: Texts) -> None:
    decision.state = "consent"
    decision.say(
        texts("consent.ask", days=turn.contact.retention_days),
        Choice(_word(texts, "yes"), "/yes"),
        Choice(_word(texts, "no"), "/no"),
        Choice(_word(texts, "skip"), "/skip"),
    )


def _word(texts: Texts, name: str) -> str:
    words = {
        "en": {"yes": "Yes", "no": "No", "skip": "Skip"},
        "es": {"yes": "Sí", "no": "No", "skip": "Saltar"},
    }
    return words[texts.locale][name]


def _handoff(turn: Turn, decision: Decision, texts: Texts) -> None:
    """A counselor is talking with the person: relay, except for the ways out."""
    name = _command(turn)
    if name == "stop":
        decision.effects.append(EndHandoff("survivor_stopped"))
        _cmd_stop(turn, decision, texts)
    elif name in ("forget", "exit"):
        _COMMANDS[name](turn, decision, texts)
        decision.state = "handoff" if name == "exit" else decision.state
    else:
        decision.effects.append(Relay())
        decision.events.append(Event("handoff.message"))


def _crisis(turn: Turn, decision: Decision, texts: Texts) -> None:
    lines = lines_for(turn.contact.country, texts.locale)
    decision.say(texts("crisis.care", emergency=lines["emergency"]))
    suicidal = {"suicide", "self_harm"} & set(turn.risk.categories)
    key = "crisis.line_suicide" if suicidal else "crisis.line_danger"
    decision.say(_capitalize(texts(key, **lines)))
    next_key = "crisis.next" if turn.contact.counselor_available else "crisis.none_on_call"
    decision.say(texts(next_key), Choice(texts("menu.choices.person"), "/person"))
    decision.effects.append(Escalate("risk"))
    if turn.risk.level == RiskLevel.HIGH and turn.intent.name.startswith("ask_"):
        # "Can my boss keep my passport?" is a warning sign and a real question:
        # the person gets the numbers and the answer. Imminent risk gets no detour.
        decision.effects.append(Answer(turn.text))
    if turn.contact.is_new:
        decision.events.append(Event("contact.created"))
        decision.say(texts("welcome.intro"))
    decision.state = "menu"


def _moderate(decision: Decision, texts: Texts) -> None:
    decision.say(texts("moderate.check"))
    decision.say(
        texts("moderate.offer"),
        Choice(texts("moderate.choices.safe"), "/safe"),
        Choice(texts("moderate.choices.person"), "/person"),
        Choice(texts("moderate.choices.menu"), "/menu"),
    )


def _capitalize(text: str) -> str:
    return text[:1].upper() + text[1:]


def _request_person(turn: Turn, decision: Decision, texts: Texts) -> None:
    lines = lines_for(turn.contact.country, texts.locale)
    decision.effects.append(Escalate("requested"))
    decision.events.append(Event("handoff.requested"))
    available = turn.contact.counselor_available
    decision.say(texts("person.requested" if available else "person.none_on_call"))
    decision.say(texts("person.wait_lines", **lines))
    decision.say(texts("person.safety", emergency=lines["emergency"]))


def _handle_command(turn: Turn, decision: Decision, texts: Texts) -> bool:
    if _set_safe_word(turn, decision, texts):
        return True
    name = _command(turn)
    if name is None or (name in ("yes", "no", "skip", "safe") and turn.state != "menu"):
        return False
    handler = _COMMANDS.get(name)
    if handler is None:
        return False
    handler(turn, decision, texts)
    return True


def _cmd_stop(turn: Turn, decision: Decision, texts: Texts) -> None:
    decision.effects.append(SetStopped(True))
    decision.events.append(Event("contact.stopped"))
    decision.state = "menu"
    decision.say(texts("stop.done"))


def _cmd_start(turn: Turn, decision: Decision, texts: Texts) -> None:
    if not turn.contact.stopped:
        _menu(decision, texts)


def _cmd_help(turn: Turn, decision: Decision, texts: Texts) -> None:
    decision.say(texts("help.text"))
    _menu(decision, texts)


def _cmd_menu(turn: Turn, decision: Decision, texts: Texts) -> None:
    _menu(decision, texts)


def _cmd_language(turn: Turn, decision: Decision, texts: Texts) -> None:
    decision.state = "language"
    decision.say(
        texts("language.ask"),
        Choice("English", "/en"),
        Choice("Español", "/es"),
        Choice(_word(texts, "skip"), "/skip"),
    )


def _cmd_set_language(turn: Turn, decision: Decision, texts: Texts) -> None:
    decision.events.append(
        Event("language.changed", {"from": turn.contact.locale, "to": texts.locale})
    )
    decision.say(texts("language.changed"))
    _menu(decision, texts)


def _cmd_person(turn: Turn, decision: Decision, texts: Texts) -> None:
    decision.state = "menu"
    _request_person(turn, decision, texts)


def _cmd_forget(turn: Turn, decision: Decision, texts: Texts) -> None:
    decision.state = "confirm_forget"
    decision.say(
        texts("forget.confirm"),
        Choice(_word(texts, "yes"), "/yes"),
        Choice(_word(texts, "no"), "/no"),
    )


def _cmd_exit(turn: Turn, decision: Decision, texts: Texts) -> None:
    decision.events.append(Event("session.exit"))
    decision.state = "menu"
    decision.say(texts("exit.done"))


def _cmd_ask(turn: Turn, decision: Decision, texts: Texts) -> None:
    decision.state = "menu"
    topics = ("safety", "immigration", "work", "legal", "health", "shelter")
    choices = [Choice(texts(f"answers.topics.{t}"), texts(f"answers.topics.{t}")) for t in topics]
    decision.say(texts("answers.topics_prompt"), *choices)


def _cmd_services(turn: Turn, decision: Decision, texts: Texts) -> None:
    decision.state = "menu"
    topics = ("shelter", "legal", "health", "work")
    choices = [Choice(texts(f"answers.topics.{t}"), texts(f"answers.topics.{t}")) for t in topics]
    decision.say(texts("services.prompt"), *choices)


def _cmd_checkins(turn: Turn, decision: Decision, texts: Texts) -> None:
    checkins.command(turn, decision, texts)


def _cmd_more(turn: Turn, decision: Decision, texts: Texts) -> None:
    article = turn.data.get("last_article")
    if isinstance(article, str):
        decision.effects.append(ShowMore(article))
    else:
        _menu(decision, texts)


def _cmd_unknown(turn: Turn, decision: Decision, texts: Texts) -> None:
    decision.say(texts("errors.unknown_command"))


def _cmd_ack(turn: Turn, decision: Decision, texts: Texts) -> None:
    # A bare yes/no/skip with nothing pending: show the way forward.
    _menu(decision, texts)


_COMMANDS = {
    "stop": _cmd_stop,
    "start": _cmd_start,
    "help": _cmd_help,
    "menu": _cmd_menu,
    "language": _cmd_language,
    "set_en": _cmd_set_language,
    "set_es": _cmd_set_language,
    "person": _cmd_person,
    "forget": _cmd_forget,
    "exit": _cmd_exit,
    "ask": _cmd_ask,
    "services": _cmd_services,
    "checkins": _cmd_checkins,
    "more": _cmd_more,
    "discreet_on": lambda turn, decision, texts: _cmd_discreet(decision, texts, True),
    "discreet_off": lambda turn, decision, texts: _cmd_discreet(decision, texts, False),
    "safe_word": lambda turn, decision, texts: decision.say(texts("discreet.safe_word_how")),
    "unknown": _cmd_unknown,
    "yes": _cmd_ack,
    "no": _cmd_ack,
    "skip": _cmd_ack,
    "safe": _cmd_ack,
}


def _cmd_discreet(decision: Decision, texts: Texts, on: bool) -> None:
    decision.effects.append(SetDiscreet(on))
    decision.events.append(Event("discreet.changed", {"on": on}))
    decision.say(texts("discreet.on" if on else "discreet.off"))


_SAFE_WORD = re.compile(r"^(?:/safeword|safe ?word|palabra (?:clave|segura))\s+(.+)$")
_SAFE_WORD_OFF = {"off", "remove", "delete", "none", "no", "quitar", "borrar", "ninguna"}


def _set_safe_word(turn: Turn, decision: Decision, texts: Texts) -> bool:
    """'safe word sunflower' / 'palabra clave girasol': chosen by the survivor."""
    match = _SAFE_WORD.match(fold(turn.text))
    if match is None:
        return False
    word = match[1].strip()
    if word in _SAFE_WORD_OFF:
        decision.effects.append(SetSafeWord(None))
        decision.events.append(Event("safe_word.changed", {"set": False}))
        decision.say(texts("discreet.safe_word_cleared"))
    elif len(word) < 3 or match_command(word) is not None:
        decision.say(texts("discreet.safe_word_taken"))
    else:
        decision.effects.append(SetSafeWord(word))
        decision.events.append(Event("safe_word.changed", {"set": True}))
        decision.say(texts("discreet.safe_word_set"))
    return True


def _safe_word_used(turn: Turn, decision: Decision, texts: Texts) -> None:
    """Escalate without a sign: the visible reply is plain (none during a handoff)."""
    decision.effects.append(Escalate("safe_word"))
    if turn.state == "handoff":
        decision.effects.append(Relay())
        return
    decision.say(texts("discreet.noted"))


def _answer_kind(turn: Turn) -> str | None:
    """yes / no / skip from a command word or the intent classifier."""
    name = _command(turn)
    if name in ("yes", "no", "skip"):
        return name
    if turn.command is None and turn.intent.confidence >= 0.6:
        return {"affirm": "yes", "deny": "no"}.get(turn.intent.name)
    return None


def _handle_pending_question(turn: Turn, decision: Decision, texts: Texts) -> bool:
    """Answers to the question the bot asked last turn (consent, erase, language)."""
    if turn.state.startswith("checkin_"):
        return checkins.answer_question(turn, decision, texts)
    answer = _answer_kind(turn)
    if turn.state == "consent":
        decision.state = "menu"
        if answer == "yes":
            decision.effects.append(SetConsent(True))
            decision.events.append(Event("consent.given"))
            decision.say(texts("consent.accepted", days=turn.contact.retention_days))
            _menu(decision, texts)
            return True
        if answer in ("no", "skip"):
            decision.effects.append(SetConsent(False))
            decision.events.append(Event("consent.declined"))
            decision.say(texts("consent.declined"))
            _menu(decision, texts)
            return True
        return False  # Anything else: consent stays unanswered (nothing kept).
    if turn.state == "confirm_forget":
        decision.state = "menu"
        if answer == "yes":
            decision.effects.append(Erase())
            decision.events.append(Event("contact.erased"))
            decision.say(texts("forget.done"))
            return True
        decision.say(texts("forget.kept"))
        if answer is not None:
            _menu(decision, texts)
            return True
        return False
    if turn.state == "language":
        decision.state = "menu"
        if answer == "skip":
            _menu(decision, texts)
            return True
    return False


def _handle_intent(turn: Turn, decision: Decision, texts: Texts) -> None:
    name = turn.intent.name
    decision.state = "menu"
    if name in ("greeting",):
        decision.say(texts("smalltalk.greeting"), *_menu_choices(texts))
    elif name == "thanks":
        decision.say(texts("smalltalk.thanks"))
    elif name == "goodbye":
        decision.say(texts("smalltalk.goodbye"))
    elif name == "out_of_scope":
        decision.say(texts("smalltalk.out_of_scope"), *_menu_choices(texts)[:3])
    elif name == "talk_to_person":
        _request_person(turn, decision, texts)
    elif name == "forget_me":
        _cmd_forget(turn, decision, texts)
    elif name == "stop":
        _cmd_stop(turn, decision, texts)
    elif name == "change_language":
        _change_language_by_intent(turn, decision, texts)
    elif name == "schedule_checkin":
        checkins.request(turn, decision, texts)
    elif name == "cancel_checkin":
        checkins.cancel_by_intent(turn, decision, texts)
    elif name in ("affirm", "deny"):
        _menu(decision, texts)
    else:
        decision.effects.append(Answer(turn.text))


def _change_language_by_intent(turn: Turn, decision: Decision, texts: Texts) -> None:
    languages = [e.get("value") for e in turn.intent.entities if e.get("entity") == "language"]
    target = next((v for v in languages if v in ("en", "es")), None)
    if target is None:
        _cmd_language(turn, decision, texts)
        return
    new_texts = get_texts(target)
    decision.effects.append(SetLocale(target))
    decision.events.append(Event("language.changed", {"from": turn.contact.locale, "to": target}))
    decision.say(new_texts("language.changed"))
    _menu(decision, new_texts)
