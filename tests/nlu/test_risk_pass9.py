"""Ninth pass: generalisation to unseen wording (lexicon only).

Phrasings written for this file, not taken from blind8 (burned as a dev set
this pass), from any held-out split or from the dev sets in scripts/risk_dev/.
New here: a goodbye that is the whole message, the last message, a recorded
goodbye; giving one's belongings away; researching doses, tall places, the
taste of a poison or a choice between two means; "why am I still here";
burning skin with a lighter; sex demanded for the rent or the debt; being
locked in at night, hidden in a trunk or a container, short of air; a guard
at the door so nobody leaves (moderate); documents held by a salon owner or
"the boss got my passport"; immigration called if one quits; the next one who
talks "falls"; a relative who swore to kill; debts that double or are charged
to the family back home; the boss's people watching; care refused by the boss;
seizures, a baby that stopped moving, an infant with a fever; pills collected.
Gates: a pure rights question about documents ("can my boss keep my
passport?") is information unless the rest of the message says it is
happening; a recent time ("last month") dates a story as over only next to
its end ("I got out"), and only up to the sentence that says so; "tomorrow is
swim class" dates an event, not the act; figures of speech (a pool to jump
into, "me voy a morir de hambre", overdosed on a food) keep even the
classifier quiet.
"""

from __future__ import annotations

import pytest

from bot.types import RiskLevel
from nlu.risk import RiskScreen
from tests.nlu.lexicon_checks import asks, escalates, stays_at_most

URGENT = [
    ("en", "goodbye everybody", "suicide"),
    ("en", "finished my goodbye letters last night", "suicide"),
    ("en", "i gave away all my games and my dog to my cousin", "suicide"),
    ("en", "how much insulin to kill a person", "suicide"),
    ("en", "looked up the tallest parking garages near me", "suicide"),
    ("en", "can't decide between the rope and the pills", "suicide"),
    ("en", "why am i still alive", "suicide"),
    ("en", "i burn my thighs with a cigarette when i cant sleep", "self_harm"),
    ("en", "landlord says i can pay off the rent another way", "danger"),
    ("en", "they padlock the warehouse door every night so we stay", "danger"),
    ("en", "were hiding in a shipping container at the port", "danger"),
    ("en", "cant breathe in the back of the truck, there are 30 of us", "danger"),
    ("en", "the lady at the nail salon is keeping my passport", "danger"),
    ("en", "he said he'll report me to immigration if i quit", "danger"),
    ("en", "next one who complains to the inspector ends up in the river", "danger"),
    ("en", "my stepfather swore to god he'd kill my mom", "danger"),
    ("en", "they keep calling my parents back home about the debt", "danger"),
    ("en", "my supervisor won't let me go to the doctor, my hand is swollen", "danger"),
    ("en", "my friend started convulsing at the party", "medical"),
    ("en", "i'm 7 months and i can't feel the baby move since yesterday", "medical"),
    ("en", "my 2 month old has a high fever", "medical"),
    ("en", "they told me they will hunt me down wherever i go", "danger"),
    ("en", "tallest parking garage close to campus", "suicide"),
    ("es", "dicen que me van a encontrar en cualquier lado", "danger"),
    ("es", "adiós mundo", "suicide"),
    ("es", "les escribí mis cartas de despedida a mis hijas", "suicide"),
    ("es", "esta es la ultima vez que les escribo", "suicide"),
    ("es", "ya estoy regalando todas mis cosas", "suicide"),
    ("es", "cuantas pastillas de clonazepam son mortales", "suicide"),
    ("es", "el puente de la autopista es lo bastante alto?", "suicide"),
    ("es", "pa que sigo viva", "suicide"),
    ("es", "kiero dormirme y no despertar", "suicide"),
    ("es", "me quemo los brazos con el encendedor cuando me acuerdo", "self_harm"),
    ("es", "el casero dice que le pague la renta con mi cuerpo", "danger"),
    ("es", "vamos escondidos dentro de un contenedor", "danger"),
    ("es", "dijo que de aqui no me voy hasta pagar", "danger"),
    ("es", "me quitaron cel y pasaporte", "danger"),
    ("es", "el siguiente que se queje se cae del andamio", "danger"),
    ("es", "les están cobrando la deuda a mis papás en Honduras", "danger"),
    ("es", "el mayordomo no nos deja ir al doctor", "danger"),
    ("es", "mi compa esta convulsionando", "medical"),
    ("es", "mi bebé de 1 mes tiene fiebre", "medical"),
]

ASK = [
    ("en", "she sleeps across the doorway every night so no one gets out", "danger"),
    ("en", "the debt keeps growing no matter how much i work", "danger"),
    ("en", "my bosss people keep an eye on me", "danger"),
    ("en", "been stockpiling my painkillers", "suicide"),
    ("en", "a van without plates sits outside my building at night", "danger"),
    ("es", "una troca sin placas estacionada enfrente de mi casa", "danger"),
    ("es", "el encargado se sienta en la puerta para que nadie salga", "danger"),
    ("es", "la deuda nunca baja", "danger"),
    ("es", "la herida del pie ya tiene pus", "medical"),
]

CALM = [
    ("en", "jumping into the deep end with my new job lol"),
    ("en", "my sister sent me videos of her new apartment"),
    ("en", "overdosed on kdramas all weekend"),
    ("en", "ill literally die if i dont get to see them live"),
    ("en", "killing myself studying for finals"),
    ("en", "can my boss legally keep my passport?"),
    ("en", "what time does the pool open? we want to dive in"),
    ("en", "my phone is locked in the car again, ugh"),
    ("en", "the news said the factory closed"),
    ("en", "whats the tallest building in the world"),
    ("en", "locked myself out again, waiting for my roommate"),
    ("es", "ando buscando una pistola de silicona para la manualidad"),
    ("en", "chopping onions with my new chef knife 🔪"),
    ("es", "me voy a morir de calor en esta bodega"),
    ("es", "me quiero matar trabajando para el aguinaldo jaja"),
    ("es", "nos vamos a aventar a la alberca"),
    ("es", "¿puede mi jefa quedarse con mis papeles?"),
    ("es", "me duele la muela a morir"),
    ("es", "nos llevan a otra ciudad para la competencia de baile"),
    ("es", "mi prima me mandó fotos de la casa de mis abuelos"),
]

AT_MOST_MODERATE = [
    ("en", "the recruiter kept my papers for a year. i got out last spring, im safe"),
    ("es", "la patrona me quitó los papeles la semana pasada pero ya me fui de ahí"),
]


@pytest.mark.parametrize(("lang", "text", "category"), URGENT)
def test_unseen_urgent_wording(
    lexicon_screen: RiskScreen, lang: str, text: str, category: str
) -> None:
    escalates(lexicon_screen, lang, text, category)


@pytest.mark.parametrize(("lang", "text", "category"), ASK)
def test_unseen_moderate_wording_asks(
    lexicon_screen: RiskScreen, lang: str, text: str, category: str
) -> None:
    asks(lexicon_screen, lang, text, category)


@pytest.mark.parametrize(("lang", "text"), CALM)
def test_look_alikes_stay_calm(lexicon_screen: RiskScreen, lang: str, text: str) -> None:
    stays_at_most(lexicon_screen, lang, text, RiskLevel.LOW)


@pytest.mark.parametrize(("lang", "text"), AT_MOST_MODERATE)
def test_stories_told_as_over_only_ask(lexicon_screen: RiskScreen, lang: str, text: str) -> None:
    stays_at_most(lexicon_screen, lang, text, RiskLevel.MODERATE)


def test_a_rights_question_with_a_present_sign_stays_high(lexicon_screen: RiskScreen) -> None:
    text = "can my boss keep my passport? he has had it since march"
    escalates(lexicon_screen, "en", text, "danger")


def test_what_follows_the_escape_is_not_over(lexicon_screen: RiskScreen) -> None:
    text = "i got out last month. he took my papers and now he says he will kill my sister"
    escalates(lexicon_screen, "en", text, "danger")


def test_tomorrow_as_an_event_day_does_not_make_it_imminent(lexicon_screen: RiskScreen) -> None:
    result = lexicon_screen.assess("fresh cuts on my arms and tomorrow is gym class")
    assert result.level == RiskLevel.HIGH, result


def test_hyperbole_keeps_the_classifier_quiet(lexicon_screen: RiskScreen) -> None:
    from nlu.risk.scoring import analyse

    folded = lexicon_screen._normalize.fold("thinking about jumping into the pool")
    assert analyse(folded, lexicon_screen.lexicon).joking
    folded = lexicon_screen._normalize.fold("can my boss keep my passport?")
    assert not analyse(folded, lexicon_screen.lexicon).joking
