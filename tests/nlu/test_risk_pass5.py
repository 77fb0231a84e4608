"""Fifth pass: wording written independently of the training data.

Lexicon only (no classifier). Phrasings written for this file, not taken from
any held-out split. New patterns (merged into the existing
family ids, which the case tables already cover): better off dead, no point
living, checking out for good, surplus in this world, finish what he started
(suicide.intent); method research (tallest bridge, how much would it take;
suicide.research); arrangements for after (pets, passwords, letters,
belongings, life insurance; suicide.veiled); permission/pay control, moved at
night, a debt that keeps growing (danger.abuse_mention); family threatened if
I run (danger.threat). Their look-alikes (hotel check-out, childcare while at
court, timing questions about paperwork, a letter for Christmas) stay calm.
"""

from __future__ import annotations

import pytest

from bot.types import RiskLevel
from nlu.risk import RiskScreen
from tests.nlu.lexicon_checks import asks, escalates, stays_at_most

URGENT = [
    ("en", "honestly my kids would be better off if i wasnt here", "suicide"),
    ("en", "i just dont see any point in staying alive", "suicide"),
    ("en", "thinking of checking out for good", "suicide"),
    ("en", "i feel like im taking up space in this world", "suicide"),
    ("en", "maybe i should just finish what he started", "suicide"),
    ("en", "i googled the highest bridge around here", "suicide"),
    ("en", "how many of these pills would kill a person", "suicide"),
    ("en", "saying my goodbyes while i still can", "suicide"),
    ("en", "they said my mom back home will pay if i escape", "danger"),
    ("es", "seria mejor estar muerto que seguir aqui", "suicide"),
    ("es", "siento que sobro en esta vida", "suicide"),
    ("es", "ya no le veo sentido a vivir", "suicide"),
    ("es", "a veces quiero terminar lo que mi esposo empezo", "suicide"),
    ("es", "busque cual es el puente mas alto de aqui", "suicide"),
    ("es", "cual es la manera mas rapida de morir", "suicide"),
    ("es", "cuiden a mi gato cuando yo ya no este", "suicide"),
    ("es", "no nos dejan salir sin permiso de la señora", "danger"),
    ("es", "me dijo que si lo denuncio va a publicar mis fotos", "danger"),
    ("es", "dicen que mi familia va a pagar si me escapo", "danger"),
]

# At least moderate with the category: veiled arrangements and control.
VEILED = [
    ("en", "i wrote down all my passwords for my sister", "suicide"),
    ("en", "who is going to feed my cat", "suicide"),
    ("en", "gave away all my shoes, i wont need them", "suicide"),
    ("en", "they move us at night every few days", "danger"),
    ("en", "i told my sister she can have my jewelry", "suicide"),
    ("en", "been stockpiling my painkillers", "suicide"),
    ("en", "i owe the boss for the ride and it keeps going up", "danger"),
    ("es", "le deje mis claves a mi hermano en una nota", "suicide"),
    ("es", "nos cambian de lugar en la madrugada", "danger"),
    ("es", "nadie se daria cuenta si me muero", "suicide"),
    ("es", "siempre estoy pensando en mi propio entierro", "suicide"),
    ("es", "le debo la renta y el viaje y nunca se acaba", "danger"),
]

CALM = [
    ("en", "checking out of the motel permanently on friday, where do i go", None),
    ("en", "who will take care of my kids while i go to court", None),
    ("en", "how many days does it take to get a work permit", None),
    ("en", "how many weeks does it take for the t visa", None),
    ("en", "i wrote a letter to my kids for christmas", None),
    ("en", "what is the tallest building in chicago", None),
    ("en", "i want to finish what i started and get my diploma", None),
    ("en", "it would be easier if i had a car", None),
    ("es", "mi hermana puede cuidar a mi gato mientras voy a la cita", None),
    ("es", "cual es el edificio mas alto de la ciudad", None),
    ("es", "quiero terminar lo que empece en la escuela", None),
    ("es", "como cambio la contraseña de mi correo", None),
    ("es", "le escribi una carta a mis hijos para navidad", None),
]


@pytest.mark.parametrize(("lang", "text", "category"), URGENT)
def test_independent_urgent_wording(
    lexicon_screen: RiskScreen, lang: str, text: str, category: str
) -> None:
    escalates(lexicon_screen, lang, text, category)


@pytest.mark.parametrize(("lang", "text", "category"), VEILED)
def test_veiled_wording_asks_gently(
    lexicon_screen: RiskScreen, lang: str, text: str, category: str
) -> None:
    asks(lexicon_screen, lang, text, category)


@pytest.mark.parametrize(("lang", "text", "category"), CALM)
def test_look_alikes_stay_calm(
    lexicon_screen: RiskScreen, lang: str, text: str, category: None
) -> None:
    stays_at_most(lexicon_screen, lang, text, RiskLevel.LOW)
