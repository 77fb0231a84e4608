"""Third lexicon pass: cue families the cross-validated misses showed absent.

Lexicon only (no classifier). Phrasings written for this file, not taken from
any held-out split; each family gets an urgent example and, where a look-alike
exists, an ordinary one that must stay calm.
"""

from __future__ import annotations

import pytest

from bot.types import RiskLevel
from nlu.risk import RiskScreen
from tests.nlu.lexicon_checks import escalates, stays_at_most

URGENT = [
    # farewells without "goodbye", lethality questions, methods by their setting
    ("en", "ok so this is where my life ends", "suicide"),
    ("en", "does hanging hurt a lot", "suicide"),
    ("en", "would 60 advil be enough", "suicide"),
    ("en", "she left the engine running in the closed garage", "suicide"),
    ("en", "i'm about to swallow them all", "suicide"),
    ("en", "i knotted the belt around the ceiling fan", "suicide"),
    ("en", "i'm not afraid of dying anymore", "suicide"),
    ("es", "aqui se acaba mi camino", "suicide"),
    ("es", "duele ahorcarse?", "suicide"),
    ("es", "cuantas aspirinas matarian a una persona", "suicide"),
    ("es", "ya amarre el mecate a la viga", "suicide"),
    ("es", "me bebi un vaso de cloro", "suicide"),
    # self-harm described, not named
    ("en", "i hide my fresh cuts under long sleeves", "self_harm"),
    ("es", "tapo las cortadas con manga larga", "self_harm"),
    # confinement by its purpose, intrusion, threats by consequence
    ("en", "they take our ids so we can't escape", "danger"),
    ("en", "someone is trying to open our back window", "danger"),
    ("en", "whoever complains disappears, the foreman says", "danger"),
    ("es", "nos quitan los celulares para que no podamos llamar", "danger"),
    ("es", "alguien esta tratando de abrir mi ventana", "danger"),
    ("es", "el capataz dice que el que se queje desaparece", "danger"),
    # medical signs
    ("en", "my dad's face is drooping and he can't talk right", "medical"),
    ("es", "mi papa tiene la cara caida y habla raro", "medical"),
]

CALM = [
    ("en", "i'm ready to go to the appointment"),
    ("en", "we're at the end of the month, rent is due"),
    ("en", "i locked my keys in the car again"),
    ("en", "my mom sends my son money for school"),
    ("en", "this is my last message for today, thanks"),
    ("en", "support groups for families who lost someone to suicide?"),
    ("es", "mi mama le manda dinero a mi hijo para la escuela"),
    ("es", "se me quemo el arroz otra vez"),
    ("es", "cierran la tienda desde afuera a las 9?"),
    ("es", "que cuenta como trabajo forzado segun la ley"),
]


@pytest.mark.parametrize(("lang", "text", "category"), URGENT)
def test_new_families_escalate(
    lexicon_screen: RiskScreen, lang: str, text: str, category: str
) -> None:
    escalates(lexicon_screen, lang, text, category)


@pytest.mark.parametrize(("lang", "text"), CALM)
def test_look_alikes_stay_calm(lexicon_screen: RiskScreen, lang: str, text: str) -> None:
    stays_at_most(lexicon_screen, lang, text, RiskLevel.MODERATE)
