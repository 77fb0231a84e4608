"""Fourteenth pass: generalisation to unseen wording (lexicon only).

Phrasings written for this file, not taken from the writers16 dev set tuned on
this pass, from any held-out split or from the other dev sets in scripts/risk_dev/.
New here, Spanish first: threats tied to reading the chat, to studying or
leaving ("si lee los mensajes me mata", "si me voy me rompe los dedos"), to
the family ("sé a qué escuela va tu hija", "el que paga es el niño", "le hacen
algo a los niños", "si no paga lo matan"), dogs set loose on who runs, people
"made to disappear", being sold on to another boss for money, belonging to
someone for years, sex forced to pay the rent; "hace meses no nos pagan" and
"no nos dejan bajar" read as present, not past, and two quiet cues on a boat
(not let ashore, no food without the quota) corroborate; a conditional "si
no, me matan" is not a negation; someone with a photo asking for her, an ex
with her WhatsApp open who knows her plans; a supervisor taking a 15-year-old
to his car, a modelling job abroad with a paid ticket for a 16-year-old,
children collected whose parents nobody names, "la más chica tiene 14";
tied or chained up, guarded with dogs and rifles, an ID card taken; veiled
suicide (at the cliff edge with the engine running, a pet for someone "who
will still be here", one's own memorial account, clothes no longer needed,
"ya sé qué voy a hacer y cómo", fading away little by little, a recent
attempt still on the mind, a knot "ya sabes para qué", stones in the
backpack, the exhaust hose, letters for when one is gone, the last winter,
following the old cat); self-harm with glass; petrol swallowed, foaming,
coughing blood, chest pain down the arm, toes gone black, skin in shreds.
English: "asking bc i did", boxes saved up, nobody to deal with it "after",
"in case i dont", antifreeze timing, starving to see how far it goes, cutting
that helps, lips turning blue after an od, a passport kept for months with
no job change, "the youngest is 15", a stalker who found the new number, a
noose hung up, guards with rifles; glued cries ("mecorte...sangre").
Spanish jokes and plans are read as such (hyperbole): "la ahorco jaja", a
bungee jump from a bridge, a binge of a series, "se acaba todo... el semestre".
Look-alikes: "si llego tarde mi mamá me mata", hanging a picture, holiday
bags packed, a last winter in a city one leaves, a grandmother who snores,
an appointment missed, chickenpox marks, a funeral home for a grandparent,
a date for the dentist, a haircut typed in one word.
"""

from __future__ import annotations

import pytest

from bot.types import RiskLevel
from nlu.risk import RiskScreen, default_screen
from tests.nlu.lexicon_checks import escalates, stays_at_most

URGENT = [
    ("es", "si lee los mensajes que te escribo me mata, ya me lo advirtió", "danger"),
    ("es", "me dijo que si me voy a trabajar me rompe los dedos", "danger"),
    ("es", "me mandaron un audio: sé a qué escuela va tu hija", "danger"),
    ("es", "dicen que si no pagamos el lunes el que paga es el niño", "danger"),
    ("es", "el patrón avisó que si corro me suelta los perros", "danger"),
    ("es", "el encargado dice que a las que se escapan las hace desaparecer", "danger"),
    ("es", "la señora quiere venderme a otra casa por dos mil dólares", "danger"),
    ("es", "el de la agencia dice que les pertenezco hasta que pague", "danger"),
    ("es", "me obliga a acostarme con sus clientes para pagar el cuarto", "danger"),
    ("es", "hace seis meses no nos pagan y el dueño no nos deja salir", "danger"),
    ("es", "si no, me matan a mis papás, eso dijeron los de la moto", "danger"),
    ("es", "un tipo anda con una foto mía preguntando por mí en el mercado", "danger"),
    ("es", "mi ex tiene abierto mi correo y sabe todo lo que hago", "danger"),
    ("es", "mi sobrina tiene 15 y el dueño de la tienda se la lleva a su camioneta", "child"),
    ("es", "a mi hija de 16 le ofrecen trabajo de modelo en Europa con boleto pagado", "child"),
    ("es", "me piden cruzar a unos niños en el carro y nadie sabe de quién son", "child"),
    ("es", "nos tienen amarradas en el sótano", "danger"),
    ("es", "el contratista nos quitó el DNI y no nos lo devuelve", "danger"),
    ("es", "estoy en la camioneta al borde del precipicio, no he apagado el motor", "suicide"),
    ("es", "¿quién cuida mis plantas? que sea alguien que vaya a seguir aquí", "suicide"),
    ("es", "ya sé qué voy a hacer y cuándo, no me pregunten más", "suicide"),
    ("es", "quisiera ir desapareciendo sin que nadie lo note", "suicide"),
    ("es", "hice un intento el mes pasado y todavía lo pienso cada noche", "suicide"),
    ("es", "me metí al lago con piedras en los bolsillos", "suicide"),
    ("es", "tengo la manguera del escape metida por la ventanilla", "suicide"),
    ("es", "les dejé una carta a mis hijos para cuando yo ya no esté", "suicide"),
    ("es", "cuando se muera mi perrito me voy yo detrás", "suicide"),
    ("es", "me rayo las piernas con una gillette vieja", "self_harm"),
    ("es", "el chamaco se tomó un trago de thinner y no para de toser", "medical"),
    ("es", "mi tío está echando espuma por la boca", "medical"),
    ("es", "llevo días tosiendo sangre en la bodega", "medical"),
    ("es", "tengo un dolor en el pecho que me baja al brazo", "medical"),
    ("es", "pienso casi todos los días en colgarme", "suicide"),
    ("es", "ya me tragué todo el frasco de clonazepam", "medical"),
    ("es", "si me escapo me van a buscar a mi pueblo, eso dice el patrón", "danger"),
    ("es", "el coche de mi ex se acaba de estacionar enfrente del trabajo", "danger"),
    ("es", "mecortemuchoysalesangre", "self_harm"),
    ("en", "how long does it take after 40 pills? asking because i just took them", "suicide"),
    ("en", "i have two bottles of them stashed, just so you know", "suicide"),
    ("en", "how do i cancel my phone plan, dont want my sister to deal with it after", "suicide"),
    ("en", "cutting is the only thing that works and i dont want to stop", "self_harm"),
    ("en", "he od'd and his lips are going purple", "medical"),
    ("en", "they kept my passport 8 months, i cant change jobs. i live in the warehouse", "danger"),
    ("en", "the ones who wont do the extra work get locked out, the youngest is 14", "child"),
    ("en", "i changed my phone and moved twice and he still found me today", "danger"),
    ("en", "i hung up the noose in the garage", "suicide"),
    ("en", "the guards carry rifles and the gate is locked at night", "danger"),
]

CALM = [
    ("es", "si llego tarde a la cena mi mamá me mata"),
    ("es", "mañana vamos a colgar el cuadro en la sala"),
    ("es", "ya tengo todo listo para irme de vacaciones a la playa"),
    ("es", "este es mi último invierno en Toronto, en marzo me mudo a Monterrey"),
    ("es", "mi abuela respira fuerte cuando duerme, ronca mucho"),
    ("es", "el perro de mi vecina me sigue cuando salgo a correr"),
    ("es", "este finde me voy a aventar la temporada completa de la serie"),
    ("es", "ya tengo el lugar y la fecha de la fiesta de mi hija"),
    ("es", "mecorteelpelo jaja"),
    ("en", "i need to pick a date for my dentist visit"),
    ("en", "in case i dont make it to the appointment tomorrow, can i reschedule?"),
    ("en", "my son has marks on his arms from the chickenpox"),
    ("en", "where is a good funeral home for my grandpa, he passed on sunday"),
    ("en", "i sleep at the shelter on weekdays, is there a laundry room?"),
]


@pytest.mark.parametrize(("lang", "text", "category"), URGENT)
def test_unseen_urgent_wording(
    lexicon_screen: RiskScreen, lang: str, text: str, category: str
) -> None:
    escalates(lexicon_screen, lang, text, category)


@pytest.mark.parametrize(("lang", "text"), CALM)
def test_look_alikes_stay_calm(lexicon_screen: RiskScreen, lang: str, text: str) -> None:
    stays_at_most(lexicon_screen, lang, text, RiskLevel.MODERATE)


def test_ongoing_unpaid_months_read_as_present(lexicon_screen: RiskScreen) -> None:
    over = "hace dos años el patrón no me pagaba, ahora estoy bien"
    assert lexicon_screen.assess(over).level < RiskLevel.HIGH
    ongoing = "hace dos meses no me pagan y la señora no me deja salir"
    escalates(lexicon_screen, "es", ongoing, "danger")


# Found after the pass, in wording of our own: patterns that first read ordinary
# sentences as danger. Each stays below high, lexicon and classifier together.
CALM_AFTER_REVIEW = [
    ("en", "my grandma takes 12 pills a day, can i get help paying for them"),
    ("en", "she takes 10 tablets a day for her heart"),
    ("en", "next time it's my turn to cook"),
    ("en", "my sister braids my hair by my hair dryer every sunday"),
    ("en", "the guards have guns at the bank, is that normal here"),
]


@pytest.mark.parametrize(("lang", "text"), CALM_AFTER_REVIEW)
def test_ordinary_sentences_found_in_review_stay_calm(
    lexicon_screen: RiskScreen, lang: str, text: str
) -> None:
    stays_at_most(lexicon_screen, lang, text, RiskLevel.MODERATE)
    assert default_screen().assess(text).level < RiskLevel.HIGH, (lang, text)  # with the model
