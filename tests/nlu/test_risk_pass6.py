"""Sixth pass: general forms for wording nobody tuned for.

Lexicon only unless a row says otherwise. Phrasings written for this file, not
taken from any held-out split or from the pass's own dev sets
(scripts/risk_dev/). New here: idioms for dying said of oneself
(suicide.euphemism); worthlessness ("no merezco vivir"); a pursuer arriving
(danger.arrival, danger.present); fire and bodily threats; self-harm relapse
across a comma and in Spanish; text-speak folded before matching; two veiled
or arrival cues, or a veiled cue plus plain hopelessness, corroborate; a stated
minor with distress from any layer (the classifier too) is high child risk;
pursuit, debt control and deprivation have their own family ids. Their
look-alikes (insults, errands on the stairs, jokes and sore feet across a
comma, service and battery words, hanging pictures) stay calm.
"""

from __future__ import annotations

import pytest

from bot.types import RiskLevel
from nlu.risk import RiskScreen
from nlu.risk.model import RiskPrediction
from tests.nlu.lexicon_checks import asks, escalates, stays_at_most

URGENT = [
    ("en", "part of me wants to go take a long walk off a short pier", "suicide"),
    ("en", "seriously thinking about eating my gun", "suicide"),
    ("en", "i really dont deserve to exist", "suicide"),
    ("en", "dnt wanna b here nemore", "suicide"),
    ("en", "she is running up the steps right now", "danger"),
    ("en", "he said hed light the house on fire with us inside", "danger"),
    ("en", "my pimp said he would smash my teeth if i talk", "danger"),
    ("en", "relapsed again, cut my thigh", "self_harm"),
    ("en", "i feel like dying. i cant do this anymore", "suicide"),
    ("en", "sorry dad, i tried. i cant take it anymore", "suicide"),
    ("en", "ive got a plan. everything is ready", "suicide"),
    ("en", "they took our coats so we cant run", "danger"),
    ("es", "ya no merezco vivir", "suicide"),
    ("es", "ando pensando en como quitarme la vida", "suicide"),
    ("es", "recai, otra vez con la navaja", "self_harm"),
    ("es", "amenazo con quemarme si lo dejo", "danger"),
    ("es", "le va a prender fuego a la casa con los niños adentro", "danger"),
    ("es", "dijeron que me van a romper las manos si hablo", "danger"),
    ("es", "ya viene, ya se estaciono afuera", "danger"),
    ("es", "a mi hermana no la dejan salir de la casa del patron", "danger"),
    ("es", "no me puedo ir hasta que pague lo del viaje", "danger"),
    ("es", "i feel like dying, ya no aguanto", "suicide"),
    ("es", "kiero pegarme un tiro", "suicide"),
]

MINORS = [
    ("en", "im 14 and i feel so alone"),
    ("es", "tengo 15 y ya no aguanto"),
]

CALM = [
    ("en", "my coworker told the manager to take a long walk off a short pier"),
    ("en", "he is coming up the stairs with the laundry"),
    ("en", "haha my mom is gonna kill me, i lost her keys"),
    ("en", "my shoulders ache from lifting all day, theyre killing me"),
    ("en", "going to hang the new mirror tonight"),
    ("en", "my sister is moving us to another state next summer for her job"),
    ("en", "the boss makes us work weekends, is that legal"),
    ("en", "i havent eaten lunch yet, where is the cafeteria"),
    ("es", "me corto el agua el casero, es legal"),
    ("es", "me duele la espalda de tanto cargar, me esta matando"),
    ("es", "me va a matar mi mama cuando vea el desorden"),
    ("es", "mi jefa me va a matar, jajaja, se me quemo la comida"),
    ("es", "no me dejan salir tarde los sabados, soy mayor de edad"),
    ("es", "para mi proyecto de la escuela sobre el suicidio necesito datos"),
    ("es", "voy a colgar la ropa en el patio"),
    ("es", "se me esta acabando la pila del cel"),
]


@pytest.mark.parametrize(("lang", "text", "category"), URGENT)
def test_independent_urgent_wording(
    lexicon_screen: RiskScreen, lang: str, text: str, category: str
) -> None:
    escalates(lexicon_screen, lang, text, category)


@pytest.mark.parametrize(("lang", "text"), MINORS)
def test_minor_with_distress_is_child_risk(
    lexicon_screen: RiskScreen, lang: str, text: str
) -> None:
    escalates(lexicon_screen, lang, text, "child")


@pytest.mark.parametrize(("lang", "text"), CALM)
def test_look_alikes_stay_calm(lexicon_screen: RiskScreen, lang: str, text: str) -> None:
    stays_at_most(lexicon_screen, lang, text, RiskLevel.LOW)


def test_deprivation_and_debt_ask_gently(lexicon_screen: RiskScreen) -> None:
    asks(lexicon_screen, "en", "they only give us food once a day", "danger")
    asks(lexicon_screen, "es", "nos tienen sin comer", "danger")
    asks(lexicon_screen, "es", "me suman la renta a la deuda", "danger")


@pytest.mark.parametrize(
    ("text", "family"),
    [
        ("he tracked me down at my new job", "danger.pursuit"),
        ("me encontraron otra vez", "danger.pursuit"),
        ("the owner added my food to my debt", "danger.debt_control"),
        ("no nos dan de comer", "danger.deprivation"),
        ("thinking about taking the dirt nap", "suicide.euphemism"),
    ],
)
def test_own_family_ids(lexicon_screen: RiskScreen, text: str, family: str) -> None:
    cues = lexicon_screen.assess(text).cues
    assert any(c.startswith(f"{family}:") for c in cues), cues


def test_split_families_do_not_corroborate_their_old_family(lexicon_screen: RiskScreen) -> None:
    # Debt control and deprivation were danger.abuse_mention: together with it
    # they are still one kind of evidence (moderate), as before the split.
    result = lexicon_screen.assess("i owe them money and they dont pay me")
    assert result.level == RiskLevel.MODERATE, result


def test_text_speak_is_spelled_out(lexicon_screen: RiskScreen) -> None:
    assert lexicon_screen.normalize("dnt want 2 b alive nemore") == "dont want to be alive anymore"
    # A lone digit stays a count: "took 2 pills" is not "took to pills".
    assert lexicon_screen.normalize("took 2 pills") == "tok 2 pils"


class _Moderate:
    """Stands in for RiskModel: the classifier reads moderate distress, nothing higher."""

    def predict_normalized(self, clean: str) -> RiskPrediction:
        levels = (0.05, 0.05, 0.85, 0.05, 0.0)  # none, low, moderate, high, imminent
        return RiskPrediction(levels, {"suicide": 0.3})


@pytest.mark.parametrize(
    "text",
    [
        "I'm 14 and things at home are getting really bad",
        "tengo 15 y las cosas en mi casa estan feas",
    ],
)
def test_minor_plus_classifier_moderate_is_high_child(text: str) -> None:
    screen = RiskScreen.default().with_model(_Moderate())  # type: ignore[arg-type]
    assert RiskScreen.default().assess(text).level <= RiskLevel.LOW  # the lexicon alone: calm
    result = screen.assess(text)
    assert result.level >= RiskLevel.HIGH, result
    assert "child" in result.categories, result


def test_minor_in_a_discounted_message_does_not_escalate_on_the_classifier() -> None:
    screen = RiskScreen.default().with_model(_Moderate())  # type: ignore[arg-type]
    result = screen.assess("im 15 and this homework is killing me")
    assert result.level <= RiskLevel.MODERATE, result
