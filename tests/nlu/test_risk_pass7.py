"""Seventh pass: generalisation to unseen wording (lexicon only).

Phrasings written for this file, not taken from any held-out split or from the
pass's own dev sets (scripts/risk_dev/en3.yml, es3.yml). New here: a modal in
one language with a suicide verb in the other; wishing not to exist "to make
it easier"; questions about a method's pain or speed; a note's opening next
to absolving someone; a made-up mind next to hopelessness or being a burden
(suicide.resolve); food, water, sleep or the toilet withheld by a person
(danger.withheld, high; plain hunger stays moderate); fear or a plea for what
to do next to a moderate danger cue, across languages (distress.plea); men
going into a child's room; a stalled baby after violence. Their look-alikes
(decisions about visas, pleas about paperwork, picnic spots, jump starts)
stay calm.
"""

from __future__ import annotations

import pytest

from bot.types import RiskLevel
from nlu.risk import RiskScreen
from tests.nlu.lexicon_checks import asks, escalates, stays_at_most

URGENT = [
    ("en", "honestly i need to suicidarme", "suicide"),
    ("en", "life would be simpler for my kids if i was gone", "suicide"),
    ("en", "is it painful to suffocate or is it quick", "suicide"),
    ("en", "when you see this message, it was never your fault", "suicide"),
    ("en", "theres no point in trying, my mind is made up", "suicide"),
    ("en", "the owner never lets us drink water in the greenhouse", "danger"),
    ("en", "we are not permitted to sleep until the orders are done", "danger"),
    ("en", "he is parked across the street again, i am terrified", "danger"),
    ("en", "i can hear him on the stairs, what should i do", "danger"),
    ("en", "the trafficker is at the shelter asking for me", "danger"),
    ("en", "he kicked me and the baby stopped moving", "medical"),
    ("es", "voy a end my life", "suicide"),
    ("es", "ojala que todo se acabe de una vez", "suicide"),
    ("es", "es rapido ahogarse", "suicide"),
    ("es", "cuando leas esta nota, no fue tu culpa", "suicide"),
    ("es", "ya no tiene caso seguir, ya lo tengo decidido", "suicide"),
    ("es", "la patrona no nos deja tomar agua en todo el dia", "danger"),
    ("es", "lo escucho tocando la puerta, que hago", "danger"),
    ("es", "el padrote esta afuera buscandome", "danger"),
    ("es", "los clientes entran a su cuarto cada noche", "danger"),
]

CALM = [
    ("en", "ive made up my mind, im moving to texas"),
    ("en", "what do i do if i lost my i-94"),
    ("en", "i found the spot for the party, its near the park"),
    ("en", "my cousin is going to jump start the car"),
    ("es", "ya lo decidi, me voy a mudar a texas"),
    ("es", "que hago si pierdo mi pasaporte"),
    ("es", "mi hija duerme mucho, no fue mi culpa que faltara a la escuela"),
    ("es", "quiero aprender ingles para siempre poder ayudar a mis hijos"),
]


@pytest.mark.parametrize(("lang", "text", "category"), URGENT)
def test_unseen_urgent_wording(
    lexicon_screen: RiskScreen, lang: str, text: str, category: str
) -> None:
    escalates(lexicon_screen, lang, text, category)


@pytest.mark.parametrize(("lang", "text"), CALM)
def test_look_alikes_stay_calm(lexicon_screen: RiskScreen, lang: str, text: str) -> None:
    stays_at_most(lexicon_screen, lang, text, RiskLevel.LOW)


def test_plain_hunger_still_asks_gently(lexicon_screen: RiskScreen) -> None:
    asks(lexicon_screen, "en", "they only give us food once a day", "danger")
    asks(lexicon_screen, "es", "nos tienen sin comer", "danger")


def test_fear_alone_is_not_danger(lexicon_screen: RiskScreen) -> None:
    result = lexicon_screen.assess("im scared of my court date, what do i do")
    assert result.level <= RiskLevel.MODERATE, result


def test_misspellings_are_spelled_out(lexicon_screen: RiskScreen) -> None:
    assert lexicon_screen.normalize("wanna b ded") == "wana be dead"
    assert lexicon_screen.normalize("slit my rists") == "slit my wrists"
