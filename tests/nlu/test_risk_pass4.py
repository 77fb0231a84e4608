"""Fourth pass: wording written independently of the training data.

Lexicon only (no classifier). Phrasings written for this file, not taken from
any held-out split. Veiled wording and control the earlier passes missed now
reach at least a gentle question (or high where the cue is explicit); ordinary
messages that borrow crisis words (media stories, "I'll die if I fill one more
form", questions about warning signs or an employer holding a passport) stay
calm, and the Spanish verb "son" is no longer read as English "soon".
"""

from __future__ import annotations

import pytest

from bot.types import RiskLevel
from nlu.risk import RiskScreen
from tests.nlu.lexicon_checks import asks, escalates, stays_at_most

# At least moderate with the category: veiled cues that a classifier
# or a second cue can take to high.
VEILED = [
    ("en", "maybe i should quit being a burden on my kids", "suicide"),
    ("en", "no one would even care if i were gone", "suicide"),
    ("en", "sometimes i want to vanish forever", "suicide"),
    ("en", "honestly i cant see myself being alive by summer", "suicide"),
    ("en", "the owner doesnt give us enough food", "danger"),
    ("en", "they havent fed us in three days", "danger"),
    ("es", "ya quiero dejar de ser una molestia", "suicide"),
    ("es", "nadie notaria si me muriera", "suicide"),
    ("es", "a veces quiero desaparecerme para siempre", "suicide"),
    ("es", "la señora no nos da de comer", "danger"),
    ("es", "llevamos tres dias sin comer aqui", "danger"),
]

URGENT = [
    ("en", "had a relapse with sh yesterday", "self_harm"),
    ("en", "the sh urges wont go away", "self_harm"),
]

CALM = [
    ("en", "i swear i'm gonna die if i have to read one more letter from uscis"),
    ("en", "a guy was at the door delivering a package for my neighbor"),
    ("en", "in the show the dad killed himself and my daughter has questions"),
    ("en", "what are the red flags that a job offer is trafficking"),
    ("en", "is it legal for a boss to keep workers passports?"),
    ("en", "my aunt offered to keep my passport for safekeeping"),
    ("en", "the bus is 20 kms from here"),
    ("en", "shh my baby is sleeping"),
    ("es", "me estaba muriendo de frio en la parada"),
    ("es", "me muero si tengo que hacer otra fila"),
    ("es", "en la telenovela el papa se suicido, que fuerte"),
    ("es", "como reconozco las señales de trata en un trabajo"),
    ("es", "es legal que el patron me guarde el pasaporte?"),
    ("es", "las pastillas del doctor las debo tomar con comida?"),
    ("es", "me corte con una hoja de papel jaja"),
]

# "son" is a Spanish verb: never a time word next to a danger cue.
NOT_IMMINENT = [
    ("es", "cuales son las señales de alguien que esta en peligro"),
    ("es", "ellos son los que me quitaron el pasaporte"),
]


@pytest.mark.parametrize(("lang", "text", "category"), VEILED)
def test_veiled_cues_ask(lexicon_screen: RiskScreen, lang: str, text: str, category: str) -> None:
    asks(lexicon_screen, lang, text, category)


@pytest.mark.parametrize(("lang", "text", "category"), URGENT)
def test_new_cues_escalate(lexicon_screen: RiskScreen, lang: str, text: str, category: str) -> None:
    escalates(lexicon_screen, lang, text, category)


@pytest.mark.parametrize(("lang", "text"), CALM)
def test_look_alikes_stay_calm(lexicon_screen: RiskScreen, lang: str, text: str) -> None:
    stays_at_most(lexicon_screen, lang, text, RiskLevel.LOW)


@pytest.mark.parametrize(("lang", "text"), NOT_IMMINENT)
def test_spanish_son_is_not_soon(lexicon_screen: RiskScreen, lang: str, text: str) -> None:
    result = lexicon_screen.assess(text)
    assert not any(cue == 'imminence:"son"' for cue in result.cues), (lang, text, result)
    assert result.level <= RiskLevel.HIGH, (lang, text, result)


# Exploitation described by a minor: moderate cue + minor -> high child risk.
MINOR_EXPLOITED = [
    ("en", "im 16 and he said i need to bring money for him every weekend"),
    ("es", "tengo 15 y el me dice que tengo que sacar dinero para el"),
]


@pytest.mark.parametrize(("lang", "text"), MINOR_EXPLOITED)
def test_minor_made_to_earn_for_someone(lexicon_screen: RiskScreen, lang: str, text: str) -> None:
    escalates(lexicon_screen, lang, text, "child")
