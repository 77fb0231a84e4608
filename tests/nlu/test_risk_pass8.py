"""Eighth pass: generalisation to unseen wording (lexicon only).

Phrasings written for this file, not taken from any held-out split or from the
pass's dev sets (scripts/risk_dev/{long_messages,child_medical,fa_control}_*.yml).
New here: being watched or located (photos of one's home, someone driving past
every night: danger.surveillance); veiled threats (an "accident" after a report
to the authorities, people who know where the family lives); being thrown
overboard; a move nobody agreed to; a minor paid to come to an adult's room or
car, or hiding bruises; contemplating a method (stepping in front of a train,
how easy it would be, a plan for a weekday not to be talked out of); standing
at the edge (a place that is its own means, so a commuter naming the train
stays moderate); self-harm evidence (reopened stitches, fresh cuts to hide, a
wound that shows fat, a relapse tonight); a chronic illness without its
medicine next to a symptom; an injection of everything left. Their look-alikes
(a mailman passing by, wedding photos, a sugar relapse, a commuter on the
platform, a kitten's insulin, kids kept in by rain) stay calm.
"""

from __future__ import annotations

import pytest

from bot.types import RiskLevel
from nlu.risk import RiskScreen
from tests.nlu.lexicon_checks import asks, escalates, stays_at_most

URGENT = [
    ("en", "somebody has been driving past my house every night and im afraid", "danger"),
    ("en", "my supervisor said if anyone talks to the union they'll have an accident", "danger"),
    ("en", "on this boat they toss the sick guys overboard", "danger"),
    ("en", "a guy on discord pays me to come to his car after practice, i'm 13", "child"),
    ("en", "the nurse asked about the bruises and i said i fell, im 12", "child"),
    ("en", "I keep picturing myself stepping in front of the train", "suicide"),
    ("en", "sitting on the ledge of the roof, i can't do this anymore", "suicide"),
    ("en", "i have a plan for friday. don't try to talk me out of it", "suicide"),
    ("en", "i ripped open my stitches on purpose", "self_harm"),
    ("en", "need to hide the fresh cuts on my thighs before swim class", "self_harm"),
    ("en", "two months clean and i relapsed tonight", "self_harm"),
    ("en", "my heart meds ran out and my chest is tight", "medical"),
    ("en", "how much rat poison would kill a person", "suicide"),
    ("es", "el patron dice que saben donde vive mi familia y tengo miedo", "danger"),
    ("es", "si hablas con la migra te va a pasar algo", "danger"),
    ("es", "volví a cortarme después de meses limpia", "self_harm"),
    ("es", "tengo cortes nuevos en las piernas y no sé cómo taparlos", "self_harm"),
    ("es", "se me acabaron las pastillas de la presión y no paro de vomitar", "medical"),
    ("es", "sería tan fácil tirarme del balcón", "suicide"),
    ("es", "cuantos gramos de raticida matan a un adulto", "suicide"),
    ("es", "sigo parada en el puente y ya no aguanto", "suicide"),
]

ASK = [
    ("en", "he keeps turning up outside my job", "danger"),
    ("en", "it would be so easy to just let go of the railing", "suicide"),
    ("en", "i'm out of my inhaler and i'm struggling", "medical"),
    ("es", "me dejo llevar por el río y ya", "suicide"),
    ("es", "pasan por mi casa todas las noches desde que puse la denuncia", "danger"),
]

CALM = [
    ("en", "the mailman passes by my house every day at noon"),
    ("en", "the photographer took pictures of us at the wedding"),
    ("en", "accidents happen, my son spilled juice on the couch"),
    ("en", "i relapsed on sugar this weekend lol"),
    ("en", "my boss pays me to come in early on saturdays"),
    ("en", "i ran out of my allergy pills"),
    ("en", "i nearly fainted at the blood drive haha"),
    ("en", "the twins are gonna be the death of us lol"),
    ("es", "paso por tu casa todas las noches para dejar el pan"),
    ("es", "con la tormenta llevamos dos dias encerrados en la casa"),
    ("es", "casi me corto con el cuchillo jaja"),
    ("es", "en el fortnite me mataron cinco veces"),
]

AT_MOST_MODERATE = [
    ("en", "standing at the platform waiting for the 6:15 train"),
    ("es", "estoy en el anden esperando el tren, llego en 5 minutos"),
    ("es", "se me acabo la insulina del gato, donde compro"),
    ("es", "nadie sabe mi nueva direccion todavia, me mude ayer"),
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
def test_places_and_pets_only_ask(lexicon_screen: RiskScreen, lang: str, text: str) -> None:
    stays_at_most(lexicon_screen, lang, text, RiskLevel.MODERATE)


def test_a_report_threat_still_fires_inside_a_joke_free_story(lexicon_screen: RiskScreen) -> None:
    text = "work is fine mostly. the foreman said if i call the police i'll disappear. anyway"
    escalates(lexicon_screen, "en", text, "danger")


def test_rain_does_not_hide_a_captor(lexicon_screen: RiskScreen) -> None:
    escalates(lexicon_screen, "es", "está lloviendo y el patrón nos tiene encerrados", "danger")
