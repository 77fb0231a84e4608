"""Tenth pass: generalisation to unseen wording (lexicon only).

Phrasings written for this file, not taken from blind10 (burned as a dev set
this pass), from any held-out split or from the dev sets in scripts/risk_dev/.
New here: a hanging rope already up, a car left running in a shut garage,
goodbye letters written next to a means; flat passive wishes ("no point being
here", "más fácil no estar", "me quito del medio"), a plan with no date yet,
letting go of the wheel; burning or scratching again, a razor on the arms,
cutting started again, fists into a wall until the skin splits, "volví a
cortarme"; coughing blood, a toe gone black, blood from the ear, a bone
through the skin, a fall one cannot get up from; whoever runs the work saying
keep working or no ambulance, medicine withheld; a threat told condition
first ("if I leave he'll find me", "si me voy me buscan"), acid, photos sent
to the family, being put off at the next port; grooming next to a stated
minor (pictures asked for, chats to delete, a secret game, a paid ticket,
"my son is 12", "my teen daughter"); locked in at night, not let out without
the employer, months at sea without land; a vehicle outside the shelter; a
debt that only grows (moderate); documents kept by an agency (moderate).
Gates: "desde hace tres meses" is ongoing, not a past marker; sprint drills,
a game character, cuts while peeling food and questions about the service's
own tracking stay calm.
"""

from __future__ import annotations

import pytest

from bot.types import RiskLevel
from nlu.risk import RiskScreen
from tests.nlu.lexicon_checks import asks, escalates, stays_at_most

URGENT = [
    ("en", "the noose is up in the attic", "suicide"),
    ("en", "engine running in the shut garage, windows down", "suicide"),
    ("en", "i dont see the point in being alive", "suicide"),
    ("en", "everybody would get along fine without me", "suicide"),
    ("en", "ive made a plan, no date set", "suicide"),
    ("en", "burnt my arms again with the iron tip", "self_harm"),
    ("en", "started cutting again after 2 years", "self_harm"),
    ("en", "hit the wall till my knuckles bled", "self_harm"),
    ("en", "my uncle is coughing up blood in the trailer", "medical"),
    ("en", "his toes have turned black", "medical"),
    ("en", "i fell in the kitchen and cant get up", "medical"),
    ("en", "foreman told us wait and see, he hit his head hard", "danger"),
    ("en", "if we quit she says she will call immigration on us", "danger"),
    ("en", "he said hed send my photos to my family if i talk", "danger"),
    ("en", "im 14 and a guy online wants me to delete our chats", "child"),
    ("en", "my daughter is 12 and a man keeps asking her for pictures", "child"),
    ("en", "they lock the bunkhouse from the outside every night", "danger"),
    ("en", "we are not allowed out unless the boss drives us", "danger"),
    ("es", "ya colgué la soga en el patio", "suicide"),
    ("es", "a veces siento que sería mejor no despertar", "suicide"),
    ("es", "mejor me quito del medio y ya", "suicide"),
    ("es", "volví a cortarme los brazos", "self_harm"),
    ("es", "me golpeé la cabeza contra la pared hasta sangrar", "self_harm"),
    ("es", "a mi compa le sale sangre del oído", "medical"),
    ("es", "al señor se le ve el hueso del brazo", "medical"),
    ("es", "el capataz dijo que no llamemos a nadie", "danger"),
    ("es", "si me voy de la casa me buscan", "danger"),
    ("es", "dice que me echa ácido si lo dejo", "danger"),
    ("es", "tengo 12 y un señor del juego me pide fotos", "child"),
    ("es", "cierran la bodega con candado toda la noche", "danger"),
    ("es", "la patrona me encierra con llave desde hace dos meses", "danger"),
]

ASK = [
    ("en", "the same truck has been parked across the street every night", "danger"),
    ("en", "every month we owe her more", "danger"),
    ("es", "la agencia tiene mi pasaporte y no me lo da", "danger"),
    ("es", "la deuda es cada vez más grande", "danger"),
    ("es", "mi novio tiene mi contraseña y me puso la ubicación compartida", "danger"),
]

CALM = [
    ("en", "we had to run suicides at practice, brutal"),
    ("en", "in the game my knight got locked in the tower lol"),
    ("en", "do you track my location when i use this chat?"),
    ("en", "burned my hand on the stove again, clumsy me"),
    ("en", "ropes up on the climbing wall, lets go"),
    ("en", "finished my cover letters for the job fair"),
    ("en", "my son is 12 and wants pictures of the dinosaurs for school"),
    ("en", "is a melatonin overdose possible? i take 3mg"),
    ("es", "me corté picando cebolla jaja"),
    ("es", "en el juego me encerraron en el calabozo"),
    ("es", "ya colgué la cuerda de la ropa en el patio"),
    ("es", "le escribí una carta de recomendación a mi alumna"),
    ("es", "me toca trabajar el sábado, qué flojera"),
    ("es", "el abogado tiene mis papeles en regla"),
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
    stays_at_most(lexicon_screen, lang, text, RiskLevel.MODERATE)


def test_desde_hace_is_ongoing_not_past(lexicon_screen: RiskScreen) -> None:
    text = "no me dejan salir del barco desde hace 6 meses"
    escalates(lexicon_screen, "es", text, "danger")
    story = "hace 6 meses no me dejaban salir, ya me escapé y estoy bien"
    stays_at_most(lexicon_screen, "es", story, RiskLevel.MODERATE)


def test_a_minor_with_grooming_is_child_risk(lexicon_screen: RiskScreen) -> None:
    result = lexicon_screen.assess("my teen daughter is getting texts from an older man")
    assert result.level >= RiskLevel.HIGH, result
    assert "child" in result.categories, result
    adult = lexicon_screen.assess("an older man keeps texting my coworker")
    assert adult.level <= RiskLevel.MODERATE, adult
