"""Sixteenth pass: generalisation to unseen wording (lexicon only).

Phrasings written for this file, not taken from the blind16 dev set tuned on
this pass, from any held-out split or from the other dev sets in
scripts/risk_dev/. New here, Spanish first: an overdose already swallowed and
said sideways ("me tragué lo que había en el botiquín", "una caja entera de
ibuprofeno", the weed killer from the shed); how much poison or how many pills
"para no despertar"; cutting the legs as a habit, hitting one's head against
the wall "cuando me enojo conmigo"; walking into the sea "hasta que ya no
pueda volver"; the gas left open with the gaps taped; "cuando se acuesten
todos lo hago"; saying goodbye without anyone noticing; pets left with a
sister and "cuando termine de escribir esto"; "ya he vivido lo mío" or "usted
y yo sabemos para qué la compré" next to the means; threats to whoever
complains ("a los que reclamen los tiran al río", "se queda en el monte",
"aparecemos en una zanja", "me raja", "me lleva por delante", "quemar viva",
"te voy a enseñar lo que pasa por salir", the barracks burned); a worker
thrown overboard; groping ("me mete mano"); videos sold; a forced marriage;
locked in a cellar with no water; a broken door and hiding under the bed; a
neighbour who comes into the room at night (a minor); the wage taken and a
move to another farm; insulin given back only for the quota; "si voy al
hospital mi marido me mata"; ID cards kept; a child used as a lookout;
"retos" sent to a niece; a bus fare paid to meet an older man; "si no vende no
come". English: "necked about 25 of my nan's co-codamol", insulin injected all
at once, how fast antifreeze kills, "if I took 50", researching methods,
cutting most nights, cutting deeper than meant, towels under the door with the
gas on, "stay with me while I do it", "the family back home will die if I
stop" (an oath), "they will take my little sister instead", put in the
freezer, "make sure I don't make it home", beaten for asking for wages, an
inhaler handed out for work, seaman books kept, a man with a gun in the
hallway, the refuge found, photos of one's front door, pills given so the
clients can come, men brought to a girl, "can't leave until the other guys
arrive", "come to his car after close or he cuts my shifts", "he didn't stop
when I said no", a man on a game sending a 12-year-old money, train money to
a 14-year-old, no air in a locked truck, pinching until purple, a head held
under the bath water, "sending me back home to get fixed", "everyone would be
better off" next to pills, which bridge is high enough.
Look-alikes: cough syrup, weeds and a lawn, pool chlorine, toenails, a
chichón from a car door, kids on a pier, a sunset walk, cooking with the
window shut, a cake after the kids are asleep, a goodbye at the airport, a dog
left with a neighbour for a holiday, "ya no le veo el caso a estudiar", a
garden hose, a hunting shotgun, a school trip, a cake "por delante", a
headache that "me raja la cabeza", a photo in the paper, fixing a car, "me
toca trabajar", a priest who marries us, a lift, a lunch break, a football
through the window, a cat in the bedroom, looking for a sock under the bed, a
work bus, a wedding photo, an expired bank card, a consulate holding papers;
ibuprofen over a month, bleach on grout, methods for a stats class, onions
every night, arms at the gym, a friend who talks me down from shoes, a jump
rope, a towel against smoke, a show once everyone's asleep, fundraiser
letters, a dog going to mum on holiday, a shop run, vitamins, a cold room to
stack boxes, coming home late, a game of FIFA, fish thrown back, a teacher's
surprise party, a floppy-eared toy, a school bus trip, a landlord's photos, a
pool breath-hold, a printer too expensive, fireworks from a high floor.
"""

from __future__ import annotations

import pytest

from bot.types import RiskLevel
from nlu.risk import RiskScreen
from tests.nlu.lexicon_checks import escalates, stays_at_most

URGENT = [
    ("es", "me tragué todo lo que había en el botiquín de mi abuela", "suicide"),
    ("es", "me tomé el matayerbas que había en la bodega", "medical"),
    ("es", "el raticida te mata si te lo tomas entero?", "suicide"),
    ("es", "sigo cortándome las piernas casi diario", "self_harm"),
    ("es", "me despedí de mis hermanas sin que se dieran cuenta", "suicide"),
    ("es", "mire, yo ya he vivido lo mío. tengo la soga en el granero", "suicide"),
    ("es", "usted y yo sabemos para qué la compré, la pistola", "suicide"),
    ("es", "esta noche cuando se acuesten todos lo hago, ya tengo todo listo", "suicide"),
    ("es", "el capataz dijo que la que se queje se queda en el monte", "danger"),
    (
        "es",
        "me escribió que cuando llegue me va a enseñar lo que pasa por salir sin permiso",
        "danger",
    ),
    ("es", "si lo dejo dice que me lleva por delante", "danger"),
    ("es", "me dijo que si hablo con la abogada me raja", "danger"),
    ("es", "el mayordomo amenaza con que nos quema las galeras si vamos al consulado", "danger"),
    ("es", "anoche echaron al mar a un muchacho de la tripulación", "danger"),
    ("es", "mi padrastro me mete mano cuando mi mamá sale", "danger"),
    ("es", "mi esposo me ha encerrado en el sótano sin agua desde anoche", "danger"),
    (
        "es",
        "el patrón se quedó con mi insulina y dice que me la da si termino el surco",
        "danger",
    ),
    ("es", "sé que tengo que ir al hospital pero si voy mi marido me mata", "danger"),
    ("es", "la señora guarda nuestras credenciales y no nos paga", "danger"),
    ("es", "a mi hijo los de la cuadra lo usan de halcón", "child"),
    ("es", "a mi sobrina de 12 le mandan retos en un grupo", "child"),
    (
        "es",
        "el chavo me paga el pasaje para ir a verlo y dice que no le cuente a mis papás, tengo 13",
        "child",
    ),
    ("es", "mi hermanito de 9 dice que si no vende los dulces no come", "child"),
    ("es", "nos quitan el sueldo entero y dicen que nos llevan a otra finca", "danger"),
    ("es", "cuando me enojo conmigo me pego con la cabeza contra el muro", "self_harm"),
    ("es", "voy a meterme al mar hasta que ya no pueda volver", "suicide"),
    ("en", "i necked about 25 of my nans co codamol", "suicide"),
    ("en", "injected all my insulin at once, im shaky", "medical"),
    ("en", "how fast does antifreeze kill you", "suicide"),
    ("en", "tylenol would that do it if i took 50", "suicide"),
    ("en", "been researching methods all week", "suicide"),
    ("en", "still cutting most nights, arms and thighs", "self_harm"),
    ("en", "cut deeper than i meant to tonight", "self_harm"),
    ("en", "gas is on and i stuffed towels under the door", "suicide"),
    ("en", "can you stay with me while i do it", "suicide"),
    ("en", "dont want to die alone when i go", "suicide"),
    (
        "en",
        "my dad says the family back home will die if i stop working, its the oath",
        "danger",
    ),
    ("en", "the boss said if we complain again he puts us in the freezer", "danger"),
    ("en", "he said hell make sure i dont make it home next time", "danger"),
    ("en", "they keep all our seaman books in the captains cabin", "danger"),
    ("en", "the guy with the gun is in the hallway now", "danger"),
    ("en", "my ex found the refuge, hes outside", "danger"),
    ("en", "they make me take the pills so the clients can do what they want", "danger"),
    ("en", "they bring men to her room every night, shes 15", "danger"),
    ("en", "he said i cant leave until the other guys arrive", "danger"),
    (
        "en",
        "my manager said i have to go to his car after close or he cuts my shifts",
        "danger",
    ),
    ("en", "he didnt stop when i said no", "danger"),
    ("en", "my daughter 12 is chatting with a guy on roblox who sends her money", "child"),
    ("en", "im 14 and this guy sent me train money to come see him", "child"),
    ("en", "theres no air in here and they locked the truck", "danger"),
    ("en", "they pinch my arms until they go purple, im 11", "danger"),
    ("en", "he held my head under the bath water last night", "danger"),
    ("en", "dad says hes sending me back home to get fixed, im 15", "child"),
    ("en", "everyone would be better off. the pills are in my drawer", "suicide"),
    ("en", "i have a plan and i have what i need", "suicide"),
]

CALM = [
    ("es", "me tomé un jarabe para la tos y ya me siento mejor"),
    ("es", "cuánto cloro es suficiente para limpiar la alberca"),
    ("es", "me corto las uñas de los pies cada domingo"),
    ("es", "me di con la cabeza en la puerta del carro, tengo un chichón jaja"),
    ("es", "mis hijos con las piernas colgando del muelle pescando"),
    ("es", "vamos a caminar al mar hasta que se ponga el sol"),
    ("es", "cuando se duerman los niños lo hago, el pastel para la fiesta"),
    ("es", "ya está todo preparado para la fiesta de mañana"),
    ("es", "me despedí de mi madre en el aeropuerto, se fue a Lima"),
    ("es", "le dejé el perro a la vecina porque me voy de vacaciones una semana"),
    ("es", "ya he vivido lo mío en las fiestas jaja ahora me quedo en casa"),
    ("es", "ya no le veo el caso a estudiar química la verdad"),
    ("es", "compré una manguera para regar el jardín"),
    ("es", "la que no quiera ir a la excursión se queda en la escuela"),
    ("es", "mi mamá me va a enseñar lo que pasa si no riego las plantas"),
    ("es", "nos llevamos por delante todo el pastel jaja"),
    ("es", "me raja la cabeza este dolor"),
    ("es", "el sol nos quema la cara en el campo"),
    ("es", "aparezco en la foto del periódico"),
    ("es", "mi hermano le mete mano al carro todos los fines de semana"),
    ("es", "mi jefe me toca trabajar el sábado"),
    ("es", "el encargado cerró con llave y se fue a comer, vuelve en una hora"),
    ("es", "los niños rompieron el vidrio con la pelota"),
    ("es", "estoy debajo de la cama buscando el calcetín"),
    ("es", "duermo con el celular debajo de la almohada"),
    ("es", "las mujeres a un lado y los hombres al otro para la foto de la boda"),
    ("es", "el banco me quitó la tarjeta porque estaba vencida"),
    ("es", "el consulado tiene los papeles de todos los que pedimos la visa"),
    ("es", "ya llegaron por mí, nos vamos al cine"),
    ("es", "casi me da un infarto con el penal del último minuto"),
    ("en", "ive had 20 of the ibuprofen over the last month for my back"),
    ("en", "how long does bleach take to whiten grout"),
    ("en", "how long does weed killer take to work on the lawn"),
    ("en", "ive been reading up on methods for my stats class"),
    ("en", "im still cutting onions every night for the restaurant"),
    ("en", "keep doing what im doing to my arms at the gym, theyre growing"),
    ("en", "my friend had to talk me down from buying the shoes"),
    ("en", "the jump rope is in my closet"),
    ("en", "put a towel under the door so the smoke smell doesnt get out lol"),
    ("en", "ill watch my show once everyone is asleep"),
    ("en", "the letters are written for the school fundraiser"),
    ("en", "the dog goes to my mum when we go on holiday"),
    ("en", "can you stay with me while i go to the shop"),
    ("en", "my mum made me take the vitamins so the doctors would be happy"),
    ("en", "they put us in the cold room to stack boxes"),
    ("en", "ill make sure i dont come back late"),
    ("en", "he will stab you in fifa lol"),
    ("en", "we threw the fish back into the sea"),
    ("en", "my teacher told her not to tell anyone about the surprise party"),
    ("en", "the bus comes at 8 to take us to a different city for the school trip"),
    ("en", "the manager found the shelter for the stray cats"),
    ("en", "i held my head under the water at the pool for a minute"),
    ("en", "the boss says its too expensive to fix the printer"),
    ("en", "he closed the van doors and drove to the depot"),
    ("en", "the guy with the knife in the kitchen is the chef"),
    ("en", "we got thrashed 6 0 today lmao i want to die"),
    ("en", "i overdosed on chocolate at easter"),
    ("en", "our company audits suppliers for forced labour, who can we call?"),
    # A review's own look-alikes for this pass's patterns (each alarmed before a guard).
    ("en", "he didn't stop when I said no to more cake lol"),
]


@pytest.mark.parametrize(("lang", "text", "category"), URGENT)
def test_unseen_urgent_wording(
    lexicon_screen: RiskScreen, lang: str, text: str, category: str
) -> None:
    escalates(lexicon_screen, lang, text, category)


@pytest.mark.parametrize(("lang", "text"), CALM)
def test_look_alikes_stay_calm(lexicon_screen: RiskScreen, lang: str, text: str) -> None:
    stays_at_most(lexicon_screen, lang, text, RiskLevel.MODERATE)


def test_a_longer_alternative_is_tried_before_a_shorter_info_span(
    lexicon_screen: RiskScreen,
) -> None:
    """A first-aid course question is information, not someone not breathing."""
    text = "en el curso de primeros auxilios vimos que hacer si alguien no respira"
    stays_at_most(lexicon_screen, "es", text, RiskLevel.MODERATE)
    escalates(lexicon_screen, "es", "mi tío no respira, ayuda", "medical")


def test_papers_recovered_long_ago_read_as_past(lexicon_screen: RiskScreen) -> None:
    text = "hace tiempo la patrona me quitó el pasaporte, ya lo recuperé, gracias"
    stays_at_most(lexicon_screen, "es", text, RiskLevel.MODERATE)
    ongoing = "hace tiempo que la patrona me quitó el pasaporte y no me lo devuelve"
    escalates(lexicon_screen, "es", ongoing, "danger")


def test_everyday_plans_do_not_ask_if_someone_is_safe(lexicon_screen: RiskScreen) -> None:
    """Moderate cues of this pass (gas on, a train time, the dog, "don't worry about me")
    ask gently; ordinary plans said the same way must not (a review's own lines)."""
    for text in (
        "gas is on, dinner in 20",
        "train comes at 11, see you at the station",
        "the dog goes to my sister when we travel",
        "dont worry about me anymore, i found a job!",
    ):
        assert lexicon_screen.assess(text).level < RiskLevel.MODERATE, text
    escalates(lexicon_screen, "en", "he wouldnt stop when i said stop", "danger")
