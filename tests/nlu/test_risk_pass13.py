"""Thirteenth pass: generalisation to unseen wording (lexicon only).

Phrasings written for this file, not taken from blind13 (burned as a dev set
this pass), from any held-out split or from the dev sets in scripts/risk_dev/.
New here: a child drawn off by a stranger from an app or an ad (a ticket paid,
"told him not to tell", a car with a man, packages run for older guys, hours
of live streams), a stated age makes it high ("el mío de 14" too); a child
taken again and again to a neighbour's car; blackmail with intimate pictures
if one stops or says no; threats of broken fingers, "a lesson", being found in
the river, "the dogs will get us", pushed down the stairs, an abortion forced;
a passport burned or kept in a safe; locked in a room, a door chained from
outside, no handle on the inside; moved to another flat or island tonight;
two quieter danger cues that corroborate each other (unpaid for months and
slapped, posted address and strangers knocking, "ya no contesta" after a call
for help, a relative kept in a back room and not fed); a hand caught in a
machine, toes gone black, fainting again and again, a weed killer drunk; a
pregnant woman's swelling and spots, sores with care refused, fumes without
masks; suicide in front of a train, the whole bottle, pills in hand, walking
into the sea "to rest", farewells (rings given away, asking forgiveness) and
a wish to be dead with staring at the river; "me cuelgo", poison in the
glass, a blade at the neck, coal lit in a closed room, hitting oneself.
Gates and look-alikes: a bike bought from a guy online, a flight home paid by
a kind employer, locked in the bathroom by accident, a rope swing, a film
about a boat, a haircut, a passport checked at the airport, a pension
question, the whole bottle of water, a hymn, a migraine.
"""

from __future__ import annotations

import pytest

from bot.types import RiskLevel
from nlu.risk import RiskScreen
from tests.nlu.lexicon_checks import escalates, stays_at_most

URGENT = [
    ("en", "my 13 year old talks to a guy from fortnite who sent her a bus ticket", "child"),
    ("en", "my son is 15 and some older guys are paying him to carry packages", "child"),
    ("en", "hes 12 and a man on discord told him not to tell his mom about their calls", "child"),
    ("en", "my niece is 14, she just got into a van with some guy from snapchat", "child"),
    ("en", "the man across the hall keeps taking the little girl next door to his truck", "child"),
    ("en", "he says hell leak my nudes to my whole family if i quit", "danger"),
    ("en", "they have photos of her and say theyll post them if she leaves", "danger"),
    ("en", "the boss said next time he finds me resting he breaks my hands", "danger"),
    ("en", "if he sees this message he kills me, please be quick", "danger"),
    ("en", "he said anyone who talks will be found in the canal", "danger"),
    ("en", "my husband said hes going to push me down the stairs if i burn dinner again", "danger"),
    ("en", "the madam is forcing me to take pills to get rid of it", "danger"),
    ("en", "they are ripping up my passport in the kitchen", "danger"),
    ("en", "the owner keeps all our passports in his safe", "danger"),
    ("en", "we are locked in the storeroom again with no food", "danger"),
    ("en", "the exit is padlocked from outside and theres smoke", "danger"),
    ("en", "they took the handle off the inside of my door", "danger"),
    ("en", "hes moving all the girls to another house tonight", "danger"),
    ("en", "my aunt hasnt been paid in five months and the boss slaps her.", "danger"),
    ("en", "my roommate texted sos from the club and then nothing", "danger"),
    ("en", "my ex leaked my address and strangers keep showing up", "danger"),
    ("en", "his fingers are hanging by skin after the saw slipped", "medical"),
    ("en", "my dad's toes turned black after working in the cold room", "medical"),
    ("en", "i keep passing out at work and they wont let me eat", "medical"),
    ("en", "my brother is drinking the rat poison from the barn", "medical"),
    ("en", "im 7 months pregnant, my ankles are so swollen and im seeing spots", "medical"),
    ("en", "she has bed sores and they refuse to buy her the antibiotics", "medical"),
    ("en", "going to lie down in front of the night train", "suicide"),
    ("en", "downing the whole pack when the shift ends", "suicide"),
    ("en", "the tablets are in my hand now", "suicide"),
    ("en", "gonna wade out into the sea and finally rest", "suicide"),
    ("en", "gave my savings to my sister and asked my dad to forgive me", "suicide"),
    ("en", "everyone would be better off if i was dead. i keep staring at the canal", "suicide"),
    ("en", "i dont plan on being around after christmas", "suicide"),
    ("es", "mi hijo de 13 habla con un tipo de roblox que le mando el boleto de autobus", "child"),
    ("es", "al mío de 15 lo reclutan por telegram para cuidar una casa", "child"),
    ("es", "mi hija de 12 tiene un novio de 25 que le regala celulares", "child"),
    ("es", "dice que si me voy de la casa van por mis hermanos", "danger"),
    ("es", "tiene videos mios y dice que se los manda a mi esposo si lo dejo", "danger"),
    ("es", "mi jefe dice que si renuncio me da un balazo", "danger"),
    ("es", "a mi compañero lo encadenaron en la bodega por pedir su sueldo", "danger"),
    ("es", "el cuarto donde me tienen no tiene manija por dentro", "danger"),
    ("es", "nos levan para otra ciudad esta noche", "danger"),
    ("es", "me tiene agarrada del cuello contra la pared", "danger"),
    ("es", "me he desmayado tres veces en la fabrica esta semana", "medical"),
    ("es", "el niño se tomo el cloro que estaba en la cubeta", "medical"),
    ("es", "esta noche me cuelgo en el patio", "suicide"),
    ("es", "el raticida ya esta en el vaso", "suicide"),
    ("es", "tengo el cuchillo en la muñeca", "suicide"),
    ("es", "decidi quitarme la vida, ya nomas falta despedirme", "suicide"),
    ("es", "me pego yo misma con la hebilla cuando me desespero", "self_harm"),
]

CALM = [
    ("en", "bought a used bike from a guy on facebook, works great"),
    ("en", "my nanny job is the best, they paid her flight home for christmas"),
    ("en", "accidentally locked in the bathroom at the cafe lol, staff let me out"),
    ("en", "we watched a film where a guy gets thrown in the trunk, so dumb"),
    ("en", "im taking the whole box of old toys to the donation center"),
    ("en", "in the hymn we sing about eternal rest every sunday"),
    ("en", "my feet are swollen after the long flight, is that normal?"),
    ("en", "the teacher said to keep the kids phones in a locker during exams"),
    ("en", "my grandma gave my rings to the jeweler to fix"),
    ("es", "le voy a cortar el pelo a mi hija el sabado"),
    ("es", "en el aeropuerto le quitaron el pasaporte para revisarlo y se lo devolvieron"),
    ("es", "cómo cobra uno la pensión de su mamá en el banco?"),
    ("es", "me amarro el pelo antes de entrar a la cocina"),
    ("es", "ya llegaron por mi, me voy a la fiesta, gracias"),
]


@pytest.mark.parametrize(("lang", "text", "category"), URGENT)
def test_unseen_urgent_wording(
    lexicon_screen: RiskScreen, lang: str, text: str, category: str
) -> None:
    escalates(lexicon_screen, lang, text, category)


@pytest.mark.parametrize(("lang", "text"), CALM)
def test_look_alikes_stay_calm(lexicon_screen: RiskScreen, lang: str, text: str) -> None:
    stays_at_most(lexicon_screen, lang, text, RiskLevel.MODERATE)


def test_two_quiet_danger_cues_corroborate(lexicon_screen: RiskScreen) -> None:
    one = "my cousin hasnt been paid in four months"
    assert lexicon_screen.assess(one).level == RiskLevel.MODERATE
    two = "my cousin hasnt been paid in four months and now her phone is off"
    escalates(lexicon_screen, "en", two, "danger")
