"""The dialog step is pure: decisions tested with plain tables of cases."""

from __future__ import annotations

import dataclasses
from dataclasses import replace

import pytest

from bot.types import Intent, RiskAssessment, RiskLevel
from dialogs import flow
from dialogs.commands import match_command


def turn(
    text: str,
    state: str = "menu",
    *,
    locale: str = "en",
    new: bool = False,
    stopped: bool = False,
    consent: bool | None = None,
    risk: RiskAssessment | None = None,
    intent: str = "unknown",
    country: str = "US",
    data: dict[str, object] | None = None,
    available: bool = True,
) -> flow.Turn:
    return flow.Turn(
        text=text,
        state=state,
        contact=flow.ContactView(
            locale=locale,
            country=country,
            consent=consent,
            stopped=stopped,
            is_new=new,
            counselor_available=available,
        ),
        risk=risk or RiskAssessment(),
        intent=Intent(intent, 0.9),
        command=match_command(text),
        data=data or {},
    )


def kinds(decision: flow.Decision) -> list[str]:
    return [type(e).__name__ for e in decision.effects]


def events(decision: flow.Decision) -> list[str]:
    return [e.type for e in decision.events]


HIGH = RiskAssessment(RiskLevel.HIGH, ("suicide",), ("suicide.intent",))
DANGER = RiskAssessment(RiskLevel.IMMINENT, ("danger",), ("danger.threat",))


def test_first_contact_says_it_is_automated_and_asks_consent() -> None:
    d = flow.step(turn("hi", "new", new=True))
    joined = " ".join(r.text for r in d.replies)
    assert "automated assistant" in joined and "not a person" in joined
    assert "stop" in joined and "forget me" in joined and "Exit" in joined
    assert d.state == "consent"
    assert [c.value for c in d.replies[-1].choices] == ["/yes", "/no", "/skip"]
    assert events(d) == ["contact.created"]
    assert kinds(d) == []  # Nothing is kept before a yes.


def test_first_contact_in_spanish() -> None:
    d = flow.step(turn("hola", "new", new=True, locale="es"))
    assert "asistente automático" in d.replies[0].text
    assert "No soy una persona" in d.replies[0].text


def test_first_contact_with_a_question_answers_it_too() -> None:
    d = flow.step(turn("what is a t visa", "new", new=True, intent="ask_immigration"))
    assert kinds(d) == ["Answer"]
    assert d.state == "consent"


@pytest.mark.parametrize(
    ("text", "effect", "event"),
    [
        ("yes", True, "consent.given"),
        ("/no", False, "consent.declined"),
        ("skip", False, "consent.declined"),
        ("sí", True, "consent.given"),
    ],
)
def test_consent_answers(text: str, effect: bool, event: str) -> None:
    d = flow.step(turn(text, "consent"))
    assert d.effects[0] == flow.SetConsent(effect)
    assert events(d) == [event]
    assert d.state == "menu"


def test_consent_question_left_unanswered_keeps_nothing() -> None:
    d = flow.step(turn("where can i sleep tonight", "consent", intent="ask_shelter"))
    assert kinds(d) == ["Answer"]
    assert not any(isinstance(e, flow.SetConsent) for e in d.effects)


@pytest.mark.parametrize("text", ["forget me", "/forget", "olvídame", "Borrar mis datos"])
def test_forget_me_asks_once_then_erases(text: str) -> None:
    d = flow.step(turn(text))
    assert d.state == "confirm_forget"
    assert kinds(d) == [] or kinds(d) == ["SetLocale"]
    confirmed = flow.step(turn("yes", "confirm_forget"))
    assert kinds(confirmed) == ["Erase"]
    assert events(confirmed) == ["contact.erased"]


def test_forget_me_declined_keeps_everything() -> None:
    d = flow.step(turn("no", "confirm_forget"))
    assert kinds(d) == []
    assert "kept" in d.replies[0].text


@pytest.mark.parametrize("state", ["menu", "consent", "confirm_forget", "language"])
@pytest.mark.parametrize(
    ("text", "command_effect"),
    [("stop", "SetStopped"), ("PARAR", "SetStopped"), ("/stop", "SetStopped")],
)
def test_stop_works_in_every_state(state: str, text: str, command_effect: str) -> None:
    d = flow.step(turn(text, state))
    assert command_effect in kinds(d)
    assert "contact.stopped" in events(d)


@pytest.mark.parametrize("state", ["menu", "consent", "confirm_forget", "language"])
def test_always_available_commands(state: str) -> None:
    assert "handoff.requested" in events(flow.step(turn("talk to a person", state)))
    assert flow.step(turn("menu", state)).state == "menu"
    assert flow.step(turn("/forget", state)).state == "confirm_forget"
    assert "session.exit" in events(flow.step(turn("salir", state)))
    assert "forget me" in flow.step(turn("help", state)).replies[0].text


def test_help_lists_the_ways_out() -> None:
    text = flow.step(turn("help")).replies[0].text
    for word in ("menu", "stop", "forget me", "talk to a person"):
        assert word in text


def test_stopped_contact_writing_again_is_welcomed_back() -> None:
    d = flow.step(turn("hello", stopped=True, intent="greeting"))
    assert d.effects[0] == flow.SetStopped(False)
    assert "contact.resumed" in events(d)


def test_where_only_start_resumes_other_words_leave_the_stop_in_place() -> None:
    # SMS: carriers expect STOP to hold until START, whatever else is sent.
    quiet = flow.step(replace(turn("hello", stopped=True), resume_on_any_message=False))
    assert flow.SetStopped(False) not in quiet.effects
    assert "contact.resumed" not in events(quiet)
    back = flow.step(replace(turn("start", stopped=True), resume_on_any_message=False))
    assert flow.SetStopped(False) in back.effects
    assert "contact.resumed" in events(back)


def test_language_switch_by_word() -> None:
    d = flow.step(turn("español"))
    assert flow.SetLocale("es") in d.effects
    assert events(d) == ["language.changed"]
    assert d.replies[0].text == "Listo. Te escribiré en español."


def test_language_switch_by_intent_entity() -> None:
    t = turn("can you talk to me in spanish")
    entities = ({"entity": "language", "value": "es"},)
    t = dataclasses.replace(t, intent=Intent("change_language", 0.9, entities))
    d = flow.step(t)
    assert flow.SetLocale("es") in d.effects
    assert events(d) == ["language.changed"]


def test_crisis_reply_comes_first_with_numbers_and_escalates() -> None:
    d = flow.step(turn("i want to die", risk=HIGH))
    assert "911" in d.replies[0].text
    assert "988" in d.replies[1].text
    assert kinds(d) == ["Escalate"]
    assert d.effects[0] == flow.Escalate("risk")
    assert [c.value for c in d.replies[-1].choices] == ["/person"]


def test_crisis_in_another_country_uses_its_numbers() -> None:
    d = flow.step(turn("me va a matar", risk=DANGER, locale="es", country="ES"))
    assert "112" in d.replies[0].text
    assert "016" in d.replies[1].text


def test_crisis_on_first_contact_still_says_it_is_automated() -> None:
    d = flow.step(turn("i want to die", "new", new=True, risk=HIGH))
    assert "911" in d.replies[0].text
    assert any("automated assistant" in r.text for r in d.replies)
    assert kinds(d) == ["Escalate"]


def test_crisis_overrides_pending_forget_confirmation() -> None:
    d = flow.step(turn("yes i have the pills", "confirm_forget", risk=DANGER))
    assert kinds(d) == ["Escalate"]


def test_moderate_risk_checks_gently_and_offers_a_person() -> None:
    moderate = RiskAssessment(RiskLevel.MODERATE, (), ("hopeless",))
    d = flow.step(turn("i have nowhere to go", risk=moderate, intent="ask_shelter"))
    assert "Are you safe right now?" in d.replies[0].text
    assert "/person" in [c.value for c in d.replies[1].choices]
    assert kinds(d) == ["Answer"]  # The question still gets its answer.
    assert not any(isinstance(e, flow.Escalate) for e in d.effects)


def test_unknown_slash_command_gets_a_kind_reply() -> None:
    d = flow.step(turn("/frobnicate"))
    assert "don't know that command" in d.replies[0].text


def test_empty_message_gets_a_kind_reply_and_the_menu() -> None:
    d = flow.step(turn("   "))
    assert "didn't get any words" in d.replies[0].text
    assert d.replies[0].choices


def test_free_text_goes_to_the_knowledge_base() -> None:
    d = flow.step(turn("can they take my passport", intent="ask_documents"))
    assert d.effects == [flow.Answer("can they take my passport")]


def test_more_shows_the_last_article() -> None:
    d = flow.step(turn("more", data={"last_article": "t-visa-basics"}))
    assert d.effects == [flow.ShowMore("t-visa-basics")]


def test_talk_to_person_by_intent_escalates_as_requested() -> None:
    d = flow.step(turn("can i talk with a real human please", intent="talk_to_person"))
    assert d.effects == [flow.Escalate("requested")]
    joined = " ".join(r.text for r in d.replies)
    assert "can't say how soon" in joined and "911" in joined


def test_nobody_on_call_is_said_honestly() -> None:
    crisis = flow.step(turn("i want to die", risk=HIGH, available=False))
    assert "No counselor is free right now" in crisis.replies[2].text
    assert "988" in crisis.replies[1].text  # The 24/7 line is still given.
    person = flow.step(turn("talk to a person", available=False))
    assert "No counselor is free right now" in person.replies[0].text
    assert "1-888-373-7888" in person.replies[1].text


def test_someone_on_call_is_asked_to_join() -> None:
    crisis = flow.step(turn("i want to die", risk=HIGH, available=True))
    assert "asking a counselor to join" in crisis.replies[2].text


def test_during_handoff_messages_are_relayed_not_answered() -> None:
    d = flow.step(turn("thank you for listening", "handoff", intent="thanks"))
    assert d.effects == [flow.Relay()]
    assert d.replies == []
    assert events(d) == ["handoff.message"]


def test_during_handoff_risk_is_relayed_to_the_counselor() -> None:
    d = flow.step(turn("i have the pills", "handoff", risk=DANGER))
    assert d.effects == [flow.Relay()]


def test_stop_during_handoff_ends_it() -> None:
    d = flow.step(turn("stop", "handoff"))
    assert flow.EndHandoff("survivor_stopped") in d.effects
    assert "contact.stopped" in events(d)


def test_forget_me_during_handoff_still_asks_to_confirm() -> None:
    d = flow.step(turn("forget me", "handoff"))
    assert d.state == "confirm_forget"


def test_a_high_risk_question_is_also_answered() -> None:
    documents = RiskAssessment(RiskLevel.HIGH, ("danger",), ("danger.documents",))
    d = flow.step(turn("can my boss keep my passport", risk=documents, intent="ask_documents"))
    assert flow.Escalate("risk") in d.effects
    assert flow.Answer("can my boss keep my passport") in d.effects
    assert "911" in d.replies[0].text


def test_imminent_risk_gets_no_detour_into_answers() -> None:
    d = flow.step(turn("i have the pills, what is 988", risk=DANGER, intent="ask_health"))
    assert not any(isinstance(e, flow.Answer) for e in d.effects)


CHECKIN_QUESTIONS = [
    "checkin_when",
    "checkin_confirm",
    "checkin_manage",
    "checkin_settings",
    "checkin_zone",
    "checkin_hours",
    "checkin_wording",
    "checkin_notify",
]
_DRAFT = {"kind": "once", "at": "2026-11-22T23:00:00+00:00", "weekday": None, "local_time": None}


@pytest.mark.parametrize("state", CHECKIN_QUESTIONS)
def test_crisis_comes_first_in_every_checkin_question(state: str) -> None:
    from dialogs import checkins

    d = flow.step(turn("2", state, risk=HIGH, data={"checkin_draft": _DRAFT}))
    assert flow.Escalate("risk") in d.effects
    assert "911" in d.replies[0].text
    assert not [e for e in d.effects if isinstance(e, checkins.CheckinEffect)]


@pytest.mark.parametrize("state", CHECKIN_QUESTIONS)
@pytest.mark.parametrize(
    ("text", "expected"),
    [("forget me", "confirm_forget"), ("menu", "menu"), ("talk to a person", "menu")],
)
def test_the_ways_out_work_in_every_checkin_question(state: str, text: str, expected: str) -> None:
    from dialogs import checkins

    d = flow.step(turn(text, state, data={"checkin_draft": _DRAFT}))
    assert d.state == expected
    assert not [e for e in d.effects if isinstance(e, checkins.ScheduleCheckin)]
