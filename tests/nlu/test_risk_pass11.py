"""Eleventh pass: generalisation to unseen wording (lexicon only).

Phrasings written for this file, not taken from blind11 (burned as a dev set
this pass), from any held-out split or from the dev sets in scripts/risk_dev/.
New here: being located ("we know you're at the shelter", the name of a
child's school, "ya sabemos en qué albergue estás", a new address found);
being seen again (his car again, his people at the new job, the man one
escaped from outside, "su troca pasó otra vez", asked about with a photo);
held by a debt or a season ("nobody leaves till it's paid", "nadie se baja
hasta llegar"), shut in with people inside, locked in when they go out;
documents of a trade held (seaman's books, cédulas, DPI) or not given back;
a death threat told about someone else with the condition last, a child to
be killed "and then himself", "next time he won't miss", the last one who
complained, a family made to pay, "si se entera que le escribo"; a knife or
boiling water thrown, a hot iron pressed, someone beaten next door now,
dragged into a van; a child taken to another country or held until paid;
grown men "paid for" with a child, a client to go with; quiet suicide cues
(God will forgive me, going to be with the dead, nobody will miss me, pills
counted out, an overdose counted, a place picked, "solo me falta valor",
"me duermo y ya no despierto"); self-harm by tool (a razor again last
night, a blade kept in a wallet, a friend burning herself, "me rasco hasta
sangrar"); heat stroke, legs gone numb, skin coming off, sunken eyes, care
refused ("walk it off", fired if one sees a doctor, insulin held).
Gates and look-alikes: a rights question about a third person's passport or
one agreed to, a professional asking what to do when told, a child's "I
wanna die" at every lost game, "se me pegó la canción", "me quiero morir
jaja", "el curro me está matando", the keys to the work van, "the heat today
is gonna kill us", a past story next to one's child, blood-pressure pills.
"""

from __future__ import annotations

import pytest

from bot.types import RiskLevel
from nlu.risk import RiskScreen
from tests.nlu.lexicon_checks import escalates, stays_at_most

URGENT = [
    ("en", "they told her they know where she is staying now", "danger"),
    ("en", "a text said we know which shelter ur hiding in", "danger"),
    ("en", "the smuggler found out which school my grandson attends", "danger"),
    ("en", "spotted his van again, three times since monday", "danger"),
    ("en", "the man i ran from is waiting by the bus stop at my work", "danger"),
    ("en", "his cousin showed up at my new job and stared at me", "danger"),
    ("en", "none of us can quit till we pay off what we owe for the ride", "danger"),
    ("en", "they closed the truck with all of us inside", "danger"),
    ("en", "the skipper keeps our seaman books in a locked drawer", "danger"),
    ("en", "she threatened she would kill him if he ever leaves her", "danger"),
    ("en", "he wrote that he will kill the kids and then himself", "danger"),
    ("en", "the last worker who asked for his pay had an accident", "danger"),
    ("en", "my boss threw a bottle at me this morning", "danger"),
    ("en", "she pressed the hot pan against my arm", "danger"),
    ("en", "they are choking a girl downstairs", "danger"),
    ("en", "my ex is taking my son to his country for good", "child"),
    ("en", "the lord will understand me", "suicide"),
    ("en", "i just want to go be with my grandpa now", "suicide"),
    ("en", "nobody is gonna miss me", "suicide"),
    ("en", "my tablets are lined up on the dresser", "suicide"),
    ("en", "i swallowed 25 of my quetiapine", "medical"),
    ("en", "razor again this morning before class", "self_harm"),
    ("en", "my roommate has been burning herself with a curling iron", "self_harm"),
    ("en", "my brother stopped sweating out in the field and is dizzy", "medical"),
    ("en", "crew leader said walk it off, my ankle is purple", "danger"),
    ("en", "if i go to the clinic he says im fired", "danger"),
    ("es", "dicen que ya saben en qué albergue te quedas", "danger"),
    ("es", "la misma moto pasó de nuevo toda la noche", "danger"),
    ("es", "el patrón dice que nadie se va hasta pagar lo del pasaje", "danger"),
    ("es", "la encargada se quedó con nuestros dpi y no los devuelve", "danger"),
    ("es", "mi pareja dice que si lo denuncio me desaparece", "danger"),
    ("es", "si mi patrón se entera de que estoy pidiendo ayuda aquí me mata", "danger"),
    ("es", "le están dando una paliza a mi prima en el cuarto", "danger"),
    ("es", "se llevaron a mi sobrina a la fuerza en una camioneta", "danger"),
    ("es", "no me la devuelven hasta que pague la deuda", "danger"),
    ("es", "me dijo que tengo que atender a sus clientes los sábados", "danger"),
    ("es", "sé que el señor me va a perdonar", "suicide"),
    ("es", "solo me falta el valor", "suicide"),
    ("es", "llevo meses guardando pastillas", "suicide"),
    ("es", "me tragué como cuarenta tabletas del clonazepam", "medical"),
    ("es", "mi amiga se quema con el encendedor cuando está triste", "self_harm"),
    ("es", "me araño las piernas hasta que me sale sangre", "self_harm"),
    ("es", "el bebé tiene los ojos hundidos y no ha hecho pipí", "medical"),
    ("es", "el compa del turno se está desangrando en el piso", "medical"),
]

CALM = [
    ("en", "when a person's recruiter holds their ID, what does the law say?"),
    ("en", "is it legal for the agency to hold my papers if we agreed to it in the contract?"),
    ("en", "if a patient tells us he is being trafficked, who do we call?"),
    ("en", "my nephew screams i wanna die whenever he loses at mario kart"),
    ("en", "the heat this summer is gonna kill us, need more fans"),
    ("en", "the foreman keeps the keys to the work van"),
    ("en", "she said keep working on the essay tonight"),
    ("en", "honestly i'd rather die than sit through another staff meeting"),
    ("en", "saw his car at the mall, my brother was shopping"),
    ("es", "se me pegó esa canción todo el día"),
    ("es", "me tropecé frente a todo el salón, me quiero morir jsjs"),
    ("es", "el trabajo me está matando esta semana"),
    ("es", "mi mamá me va a matar si no apruebo química"),
    ("es", "ya me tomé las pastillas del colesterol, ¿las puedo tomar con jugo?"),
    ("es", "me quitaron el pasaporte para revisarlo en migración"),
    ("es", "mi vecino de 15 años va a la prepa conmigo"),
]


@pytest.mark.parametrize(("lang", "text", "category"), URGENT)
def test_unseen_urgent_wording(
    lexicon_screen: RiskScreen, lang: str, text: str, category: str
) -> None:
    escalates(lexicon_screen, lang, text, category)


@pytest.mark.parametrize(("lang", "text"), CALM)
def test_look_alikes_stay_calm(lexicon_screen: RiskScreen, lang: str, text: str) -> None:
    stays_at_most(lexicon_screen, lang, text, RiskLevel.MODERATE)


def test_a_calm_past_story_next_to_a_child_stays_calm(lexicon_screen: RiskScreen) -> None:
    story = "de chavala me quemaba los brazos, hace años que no; mi hijo de 9 vio las marcas"
    stays_at_most(lexicon_screen, "es", story, RiskLevel.MODERATE)
    now = "mi hijo de 9 vio que me quemo los brazos con cigarros otra vez"
    result = lexicon_screen.assess(now)
    assert result.level >= RiskLevel.HIGH, result


def test_a_document_not_given_back_is_ongoing(lexicon_screen: RiskScreen) -> None:
    text = "she took our passports three months ago to renew them and still hasnt given them back"
    escalates(lexicon_screen, "en", text, "danger")
