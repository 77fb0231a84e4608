"""Twelfth pass: generalisation to unseen wording (lexicon only).

Phrasings written for this file, not taken from blind12 (burned as a dev set
this pass), from any held-out split or from the dev sets in scripts/risk_dev/.
New here: a death told as where people end up (buried under the slab, "en el
fondo del río"), a house burned with one inside, a man thrown overboard, a
family made to pay or to work a debt off if one runs, a child "taken for it",
photos or a video sent to the family if one quits, never seeing a child again
if one files; a weapon on the way or at the door, a gun laid on the table,
banging on a door one hides behind; moved at night to another farm, phones
collected, "no sé en qué ciudad estamos"; locked in from outside, not let off
at port, shoes taken so one cannot go far; found at the shelter or the new
flat, a tracker in a child's bag, a photo of the children from an unknown
number; kicked in the stomach, hit with a pipe, pushed down the stairs,
something put in a drink, "given" to his friends; a stranger grooming a
stated minor (mature for her age, delete the chats, his address to mail a
gift, alone with him), a minor worked all night or sold; a bone out, a baby
that stopped moving, pills with alcohol, care refused; quiet suicide cues (a
rope bought "then I'm done", no next year, "if anything happens to me",
"when I send this I take them", how much paracetamol it takes, the gun
loaded "so they won't see", the first handful taken); a razor kept under
the mattress "for when it gets bad".
Gates and look-alikes: a relative "is gonna kill me" over a forgotten cake,
a film character trapped, the last message from an old number, a worker
asking how to ask a client about suicide, how to make a will, a baby kicking
a pregnant mother, a tracker put on one's own keys, a rope for a swing.
"""

from __future__ import annotations

import pytest

from bot.types import RiskLevel
from nlu.risk import RiskScreen
from tests.nlu.lexicon_checks import escalates, stays_at_most

URGENT = [
    ("en", "the foreman said anyone who talks to the union ends up under the concrete", "danger"),
    ("en", "they swore theyd burn down my moms house in oaxaca", "danger"),
    ("en", "the mate threw a deckhand overboard last night and nobody said a word", "danger"),
    ("en", "if i leave the farm my little brother back home pays for it", "danger"),
    ("en", "she said if i dont pay by sunday theyll take it out of my daughter", "danger"),
    ("en", "if i quit he is sending the videos of me to my husband", "danger"),
    ("en", "if i report him ill never see my son again", "danger"),
    ("en", "my stepdad has a knife and hes coming up the stairs", "danger"),
    ("en", "someone is pounding on the bathroom door and im hiding in the shower", "danger"),
    ("en", "they are moving all of us to a different camp at 3am", "danger"),
    ("en", "the agency locks the apartment from the outside every night", "danger"),
    ("en", "they wont let any of us off the boat at port", "danger"),
    ("en", "he hid my shoes and my id so i cant go far", "danger"),
    ("en", "my ex came by the shelter looking for me today", "danger"),
    ("en", "found an airtag taped inside my daughters stroller", "danger"),
    ("en", "got a text from an unknown number with a photo of my house", "danger"),
    ("en", "he punched her in the stomach again", "danger"),
    ("en", "the supervisor hit my cousin with a shovel", "danger"),
    ("en", "my boyfriend slipped something in my drink at the party", "danger"),
    ("en", "a guy online keeps telling my 13 yo she is mature for her age", "child"),
    ("en", "some man on roblox asked my 11 yo son what hes wearing", "child"),
    ("en", "a stranger wants my 14 yr old niece's address so he can send her shoes", "child"),
    ("en", "my uncle sold my cousin to an old man in the city", "child"),
    ("en", "his bone is poking out of his arm after the fall", "medical"),
    ("en", "im 8 months pregnant and havent felt the baby move since this morning", "medical"),
    ("en", "she downed a bunch of pills with the whiskey", "medical"),
    ("en", "bought the rope today. after that im done", "suicide"),
    ("en", "i dont think ill be around for his graduation, if anything happens to me", "suicide"),
    ("en", "looked up how much tylenol it would take", "suicide"),
    ("en", "the gun is loaded and i sent the kids to my moms so they wont see", "suicide"),
    ("en", "ive taken the first handful already", "medical"),
    ("en", "keep a blade under my pillow for when it gets really bad", "self_harm"),
    ("es", "el capataz dice que el que se queje termina enterrado en el monte", "danger"),
    ("es", "dijo que quema la casa con los niños adentro", "danger"),
    ("es", "si me voy de la finca mi mamá lo paga", "danger"),
    ("es", "dice que si no le pago se lo cobra a mi hija", "danger"),
    ("es", "si me escapo no vuelvo a ver a mis hijos", "danger"),
    ("es", "ya viene pa acá con la pistola", "danger"),
    ("es", "nos trasladan de rancho esta madrugada", "danger"),
    ("es", "nos encierran con llave por fuera cada noche", "danger"),
    ("es", "al barco no lo dejan desembarcar en ningún puerto", "danger"),
    ("es", "mi ex se apareció en el refugio buscando por mi hija", "danger"),
    ("es", "encontramos un gps escondido en la mochila de mi hijo", "danger"),
    ("es", "le dio una patada en la barriga a mi hermana", "danger"),
    ("es", "me pegan con el cinturón si no termino", "danger"),
    ("es", "un señor le escribe a mi sobrina de 13 que es muy madura para su edad", "child"),
    ("es", "vendieron a mi prima a un viejo del rancho", "child"),
    ("es", "tiene 8 meses de embarazo y no siente al bebé moverse desde anoche", "medical"),
    ("es", "se le ve el hueso de la pierna", "medical"),
    ("es", "el patrón no deja llamar a la ambulancia", "danger"),
    ("es", "cuando mande este mensaje me las tomo", "suicide"),
    ("es", "he estado buscando cuantas pastillas de clonazepam hacen falta", "suicide"),
    ("es", "la pistola ya está cargada, los niños están con mi tía para que no vean", "suicide"),
    ("es", "ya me tomé el primer puñado", "medical"),
]

CALM = [
    ("en", "my sister is gonna kill me, i forgot her dog at the groomer"),
    ("en", "in that film the hero gets trapped in a mine for a week"),
    ("en", "last message from this number, got a new phone, will text from it"),
    ("en", "im a school nurse, how do i ask a student about suicide the right way?"),
    ("en", "my dad is 80, how do i make a will for him?"),
    ("en", "the baby kicked me in the ribs all night lol"),
    ("en", "i put an airtag on my own keys because i lose them"),
    ("en", "bought rope for the tire swing, then im done with the yard"),
    ("en", "the nurse said im next in line"),
    ("en", "my 15 yo got a summer job at the pool"),
    ("en", "i hit the nail with a hammer and missed"),
    ("en", "my mom is going to take me to the doctor tomorrow"),
    ("es", "mi mamá me va a matar, se me olvidó su cumpleaños"),
    ("es", "este cacharro me va a matar, otra vez no arranca"),
    ("es", "es la última vez que les escribo desde este número, cambié de celular"),
    ("es", "¿cómo le pregunto a un paciente por ideas suicidas sin asustarlo?"),
    ("es", "me ayudas con un mensaje de despedida para mis compañeros de trabajo?"),
    ("es", "mi hija de 14 va a la escuela en la tarde"),
]


@pytest.mark.parametrize(("lang", "text", "category"), URGENT)
def test_unseen_urgent_wording(
    lexicon_screen: RiskScreen, lang: str, text: str, category: str
) -> None:
    escalates(lexicon_screen, lang, text, category)


@pytest.mark.parametrize(("lang", "text"), CALM)
def test_look_alikes_stay_calm(lexicon_screen: RiskScreen, lang: str, text: str) -> None:
    stays_at_most(lexicon_screen, lang, text, RiskLevel.MODERATE)


def test_two_quiet_settling_cues_corroborate(lexicon_screen: RiskScreen) -> None:
    one = "if anything happens to me"
    assert lexicon_screen.assess(one).level == RiskLevel.MODERATE
    two = "if anything happens to me, i dont see a next year for me"
    escalates(lexicon_screen, "en", two, "suicide")
