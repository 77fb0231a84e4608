"""Seventeenth pass: understatement, ellipsis, dialect and spelling by ear (lexicon only).

Phrasings written for this file, not taken from the blind18 dev set tuned on
this pass, from any held-out split or from the other dev sets in
scripts/risk_dev/. New here, English first: an overdose already taken and said
sideways ("necked the whole lot about an hour ago", "what was left of my nan's
sleeping tablets", "took the lot, feeling proper woozy"); the next train that
"doesn't stop here"; "chuck myself off the bridge"; "I've got the place and the
how"; ending it on a named day; "no reason to keep going"; a decision said
with a time; "mind the dog for me, thanks for everything"; selling things and
giving the rest away; "googled how many it would take"; cutting too far; shut
in a car boot; "they watch us day and night" next to cameras in the dorm; West
African Pidgin arrival ("oga don come back. he dey for door"); the same man
outside the flat every night; the ex given the new address; a quota of clients
with food as the price; "says she's 18 but looks 13"; flat to flat, town to
town, not knowing where; "it's today, once everyone's asleep"; "just wanted to
let you know" next to a height; Pidgin and South Asian English threats and
papers or going out withheld ("dem wan kill me", "if i comot dem go finish my
mama", "madam is not allowing us to go outside", "the sponsor is not returning
our passports"); "polished off my nan's sleepers", "way too many of my
painkillers". Spanish: the whole blister or bottle swallowed
(with "me he tomado", "me clavé", voseo and no accents); what was left of a
grandmother's pills; cutting as a habit ("me sigo cortando", "todavía me
corto"); cut too deep with numb fingers; "si la vuelvo a denunciar me matan";
"si no hago 15 clientes no nos dan de comer"; a live-in maid never let out,
her passport taken, sleeping in a box room; Portuguese-Spanish mix ("não tenho
passaporte, a patroa o guardou"); "dice que tiene 18 pero se ve de 14"; house
to house, town to town; in a stranger's car or a boot; "hay vienen" (by ear)
with "auxilio"; outside in his truck; "no kiero seguir, ya sé bien cómo"; the
place and the how; "cuidame al perro, gracias por todo"; a rooftop with "solo
quería despedirme"; "es esta noche cuando se acuesten"; "me he metido todas
las pastillas"; the same car outside every night; a man following from the
metro; passports collected and work without pay.
Look-alikes: the lot taken to the tip, the rest of a cake, antibiotics
finished as told, a slow train and the bus, a break-up on Friday, a meeting
not worth continuing, a decision about college, a dog minded during a
holiday, giving things away before a move, calories googled, a haircut or
fabric cut too short, shopping and a pram in the boot, a pet camera, Pidgin
guests come for the jollof, a cute man at the stop, a mother given the new
address, rent targets, a friend who looks 30, a pub crawl, a child who locks
herself in to skip chores, a sprain in A&E, a weekend away with no signal,
office hyperbole "lol", a pharmacist's full course, leaving work early, an embassy processing a
visa, chocolates, gummies, paracetamol over a week, pills with breakfast, a gate
locked at night; cough syrup and a box of
milk, a haircut, a wood cut, cold fingers, "mi mamá me mata si llego tarde",
two coffees a morning, a teenager who never leaves her room, sleeping in the
garage on hot nights, a band on tour, waiting in the car outside the shop,
"ay viene el camión", a father waiting outside in his car, "no quiero seguir
estudiando", directions known, a surprise party place, a cat minded during a
trip, "el tren llega en diez, nos vemos", "solo quería avisar que llego
tarde", a question about who is called when someone is in danger, a blunt
knife, a handsome man at the stop, a dog following, volunteer work, a course of
pills finished, a passport checked and returned, "que nadie me busque" before a
holiday, a mother's pills run out.
"""

from __future__ import annotations

import pytest

from bot.types import RiskLevel
from nlu.risk import RiskScreen
from tests.nlu.lexicon_checks import escalates, stays_at_most

URGENT = [
    ("en", "necked the whole lot about an hour ago, feeling really woozy", "suicide"),
    ("en", "swallowed what was left of my nans sleeping tablets", "medical"),
    ("en", "had whatever was left of the co codamol, bit dizzy now", "suicide"),
    ("en", "took the lot, feeling proper woozy", "medical"),
    ("en", "the next train doesnt stop here", "suicide"),
    ("en", "honestly might just chuck myself off the bridge", "suicide"),
    ("en", "ive got the place and the how", "suicide"),
    ("en", "ending it tomorrow on my day off", "suicide"),
    ("en", "theres no reason to keep going", "suicide"),
    ("en", "ive made my decision, tonight", "suicide"),
    ("en", "mind the dog for me, thanks for everything", "suicide"),
    ("en", "sold my bike, giving everything else away", "suicide"),
    ("en", "googled how many it would take.", "suicide"),
    ("en", "cut way too far this time", "self_harm"),
    ("en", "they put me in the boot of his car", "danger"),
    ("en", "the boss watches us day and night. cameras in the dorm", "danger"),
    ("en", "oga don come back. he dey for door", "danger"),
    ("en", "the same guy outside my flat every night", "danger"),
    ("en", "told my ex husband the new address without thinking", "danger"),
    ("en", "if we dont get 8 customers a night we dont eat", "danger"),
    ("en", "they say shes 18 but she looks about 13", "child"),
    ("en", "another flat, another town, i dont even know where", "danger"),
    ("en", "its today. once everyones asleep", "suicide"),
    ("en", "top of the car park roof. just wanted to let you know", "suicide"),
    ("es", "me he tomado el frasco entero de rivotril", "suicide"),
    ("es", "me trague lo que quedaba de las pastillas de mi abuela", "medical"),
    ("es", "me clave toda la caja de clonas", "suicide"),
    ("es", "me sigo cortando casi diario", "self_harm"),
    ("es", "sigo lastimandome los brazos", "self_harm"),
    ("es", "todavía me corto a diario", "self_harm"),
    ("es", "corte demasiado hondo esta vez", "self_harm"),
    ("es", "si la vuelvo a denunciar me matan a mi y a mis hijos", "danger"),
    ("es", "si no hago 15 clientes por noche no nos dan de comer", "danger"),
    (
        "es",
        "a la muchacha que limpia no la dejan salir y la señora le quitó el pasaporte",
        "danger",
    ),
    ("es", "nao tenho passaporte, a patroa o guardou e nao me deixam sair", "danger"),
    ("es", "dice que tiene 18 pero se ve de 14", "child"),
    ("es", "otra casa, otro pueblo, ya ni se donde estamos", "danger"),
    ("es", "me metieron en la cajuela de una camioneta", "danger"),
    ("es", "hay vienen, auxilio", "danger"),
    ("es", "ya llego afuera en su camioneta", "danger"),
    ("es", "no kiero seguir, ya se bien como", "suicide"),
    ("es", "ya tengo el lugar y el como", "suicide"),
    ("es", "cuidame al perro, gracias por todo", "suicide"),
    ("es", "la azotea del edificio. solo queria despedirme", "suicide"),
    ("es", "es esta noche cuando se acuesten", "suicide"),
    ("en", "dem wan kill me if i talk", "danger"),
    ("en", "if i comot dem go finish my mama", "danger"),
    ("en", "madam is not allowing us to go outside at all", "danger"),
    ("en", "the sponsor is not returning our passports", "danger"),
    ("en", "polished off my nans sleepers", "suicide"),
    ("en", "took way too many of my painkillers", "medical"),
    ("es", "me he metido todas las pastillas", "suicide"),
    ("es", "el mismo carro frente a mi casa cada noche", "danger"),
    ("es", "hay un tipo siguiendome desde el metro", "danger"),
    ("es", "nos recogieron los pasaportes y trabajamos sin paga", "danger"),
]

CALM = [
    ("en", "took the lot to the tip this morning, garage is finally clear"),
    ("en", "had what was left of the birthday cake, feeling a bit sick lol"),
    ("en", "i finished the rest of my antibiotics like the gp said"),
    ("en", "the next train doesnt stop here so ill get the bus"),
    ("en", "next one doesnt stop here, typical"),
    ("en", "im ending it with him on friday, hes been cheating"),
    ("en", "no reason to continue the meeting, everyones agreed"),
    ("en", "ive decided to go back to college"),
    ("en", "look after the dog for me while im in spain, thanks for everything"),
    ("en", "sold my old bike and giving the rest away before the move"),
    ("en", "googled how many calories are in a kebab"),
    ("en", "the hairdresser cut too much off, i look like a boiled egg"),
    ("en", "i cut too much fabric for the dress"),
    ("en", "the shopping is in the boot of the car"),
    ("en", "put the pram in the boot"),
    ("en", "theres a camera in my room for the dog"),
    ("en", "dem don come for the party, the jollof is ready"),
    ("en", "same guy at my bus stop every morning, hes so cute lol"),
    ("en", "gave my mum the new address for the christmas cards"),
    ("en", "if we dont get 10 customers a day we dont make rent"),
    ("en", "she says shes 18 but she looks 30 lol"),
    ("en", "another bar, another town, dont even know which one, loving the pub crawl"),
    ("en", "my daughter locked herself in her room to get out of the washing up"),
    ("en", "in a&e with a sprained ankle from footy, should be out soon"),
    ("en", "off to the lake for the weekend so i wont be on here, take care"),
    ("en", "one more meeting and im throwing myself out the window lol"),
    ("en", "the pharmacist said to finish all the tablets, is that right?"),
    ("es", "me tomé todo el bote de yogur, qué rico"),
    ("es", "me tomé toda la caja de leche jaja"),
    ("es", "sigo cortándome el pelo yo sola"),
    ("es", "hice un corte muy profundo en la madera para la repisa"),
    ("es", "no siento los dedos del frío"),
    ("es", "si vuelvo a llegar tarde mi mamá me mata jaja"),
    ("es", "sin 2 cafés por la mañana no funciono"),
    ("es", "mi hija no sale nunca de su cuarto, puro celular"),
    ("es", "duermo en el garaje cuando hace calor"),
    ("es", "otro bar, otra ciudad, ni sé dónde estamos jaja, de gira con la banda"),
    ("es", "me tienen en el carro esperando afuera del súper"),
    ("es", "ay viene el camión, apúrate"),
    ("es", "ya está afuera en su carro esperándome mi papá"),
    ("es", "no quiero seguir estudiando derecho"),
    ("es", "ya sé cómo llegar, gracias"),
    ("es", "tengo el lugar y el cómo para la fiesta sorpresa"),
    ("es", "cuida al gato mientras estoy de viaje, gracias por todo"),
    ("es", "el tren llega en diez, chau, nos vemos allá"),
    ("es", "solo quería avisar que llego tarde"),
    ("es", "si alguien está en peligro ustedes llaman a emergencias o a quién?"),
    ("es", "este cuchillo no corta ni un tomate, hay que afilarlo"),
    ("es", "dice que tiene 18 pero parece de 30 jaja"),
    ("en", "my boss is not allowing me to leave early on friday"),
    ("en", "the embassy is not returning my passport until the visa is done"),
    ("en", "polished off the whole box of chocolates"),
    ("en", "took a few too many of the gummies lol"),
    ("en", "had the whole packet of paracetamol over the week for my tooth"),
    ("en", "i necked my pills with breakfast"),
    ("en", "dem lock the gate for night"),
    ("es", "el mismo tipo en la parada todas las mañanas, qué guapo jaja"),
    ("es", "hay un perro siguiéndome desde el parque"),
    ("es", "trabajo sin paga de voluntaria en la parroquia"),
    ("es", "me he tomado todas las pastillas del tratamiento como dijo el médico"),
    ("es", "me sacaron el pasaporte en migración para revisarlo y me lo devolvieron"),
    ("es", "que nadie me busque, me voy de vacaciones"),
    ("es", "me acabé las pastillas de mi mamá para la presión, hay que comprar más"),
]

# Found in review, written for it: urgent lines next to look-alikes of the
# new patterns that must stay quiet (not even "are you safe?").
REVIEW_URGENT = [
    ("es", "corte muy hondo con la navaja", "self_harm"),
    ("es", "sigo cortando mis brazos", "self_harm"),
    ("es", "ya está afuera en su carro, tengo miedo", "danger"),
    ("en", "camera in my room, they watch everything", "danger"),
    ("en", "I have decided, tonight is the night", "suicide"),
    ("en", "she says she is 18 but looks 13", "child"),
    ("en", "gave my ex the new address so he can find me", "danger"),
    ("es", "hay un tipo siguiendome desde la parada", "danger"),
    ("es", "el patron guarda las llaves y no nos deja salir", "danger"),
    ("es", "me corto cuando me siento sola", "self_harm"),
]
QUIET = [
    ("es", "ya está afuera en su carro mi hermano, me voy"),
    ("es", "ya esta afuera en su carro el uber"),
    ("es", "corté muy hondo el tomate jaja"),
    ("es", "sigo cortando el pasto casi diario"),
    ("es", "me la paso cortando cebolla en el restaurante"),
    ("en", "camera in my room is for the baby"),
    ("en", "I have decided, I'm taking the job in Leeds tonight"),
    ("en", "she says she's 18 but looks 13 in that photo haha she's my sister"),
    ("en", "gave my ex the new address so he can send the kids' stuff"),
    ("es", "hay un tipo siguiéndome en instagram jaja"),
    ("es", "la patrona guarda las llaves del coche"),
    ("es", "me sigo cortando con las hojas de papel en la oficina"),
    ("es", "todavía me corto al afeitarme jaja"),
]


@pytest.mark.parametrize(("lang", "text", "category"), URGENT)
def test_unseen_urgent_wording(
    lexicon_screen: RiskScreen, lang: str, text: str, category: str
) -> None:
    escalates(lexicon_screen, lang, text, category)


@pytest.mark.parametrize(("lang", "text"), CALM)
def test_look_alikes_stay_calm(lexicon_screen: RiskScreen, lang: str, text: str) -> None:
    stays_at_most(lexicon_screen, lang, text, RiskLevel.MODERATE)


@pytest.mark.parametrize(("lang", "text", "category"), REVIEW_URGENT)
def test_review_urgent_wording(
    lexicon_screen: RiskScreen, lang: str, text: str, category: str
) -> None:
    escalates(lexicon_screen, lang, text, category)


@pytest.mark.parametrize(("lang", "text"), QUIET)
def test_review_look_alikes_stay_quiet(lexicon_screen: RiskScreen, lang: str, text: str) -> None:
    stays_at_most(lexicon_screen, lang, text, RiskLevel.NONE)
