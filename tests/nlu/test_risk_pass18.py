"""Eighteenth pass: dialect negation, texting spelling, things said sideways (lexicon only).

Phrasings written for this file, not taken from the blind19 dev set tuned on
this pass, from any held-out split or from the other dev sets in
scripts/risk_dev/. New here, English first: "ain't nobody gonna miss me" and
"ion wanna live" (dialect negation that is not a negation); money or a ride
to reach a bridge; "you were the only one who ever cared" next to "take care
of yourself fr"; belongings given away with "she don't need to know why";
"tell my babies I loved them"; cutting every night, and a foster home or a
group home as a mark of a minor; a friend or girlfriend who cuts; a jump
before he gets back; "decided, just have to pick the day"; a quota of men a
night with food as the price; "makes me sleep w/ them"; run and always found;
the same truck behind me every day; a gun or knife pointed at someone; locked
in with smoke or fire (danger and a medical emergency at once); a bullet with
my name; the debt put on a mother back home; a young girl made to see clients.
Spanish: wrists or veins opened ("se abrió las venas", "me corté las
muñecas"); a jump before he comes back; a sister or boyfriend who cuts; the
children left with a grandmother "pa irme tranquila"; "ya está decidido" with
only the date left; "auxilio, ya entró"; bleach by its regional names
(lavandina, lejía, agua jane); a count of pills swallowed; "nadie me va a
extrañar"; "díganle a mis hijos que los quise"; a children's home as a mark
of a minor; a quota of clients with food as the price; the same car behind me
every day; locked in with smoke; a play station given away with "no tiene que
saber por qué"; "fuiste la única que me escuchó"; a bullet with my name; run
and found; a gun pointed at someone; a little girl made to see clients.
Look-alikes: cutting hair, onions or a deer; a nursing placement; a sales
quota "lol"; the only one who listened at a meeting; "take care of yourself,
see you next week"; an old hoodie given away; a surprise jump into the pool;
a wedding date; a nerf or water gun; a camera pointed at someone; locked in a
library; smoke from a barbecue; a song about a bullet; a loan a mother helps
with; love sent to the kids from a late shift; "ain't nobody gonna tell me
how to dress"; "ion wanna live in texas"; a long family reunion; a scout's
pocketknife; a phone dropped off a balcony; a haircut or nails; a cut finger
in the kitchen; skipping rope; the kids left with grandma to go to work; a
report finished before a holiday; "ya entró el pago"; bleach for the
laundry; a course of 30 pills; a girl serving customers in the family shop;
"la tarea me está matando"; a window threat over a neighbour's music with a
laugh; "nadie me va a ganar"; love sent from a late bus; an ICBF appointment;
a sales quota; the same car in traffic; old clothes given to a cousin; a
question about a maximum dose for an adult; a brother who "kills" over a
console; being found after skipping class.
"""

from __future__ import annotations

import pytest

from bot.types import RiskLevel
from nlu.risk import RiskScreen
from tests.nlu.lexicon_checks import escalates, stays_at_most

URGENT = [
    ("en", "aint nobody gonna miss me when im gone", "suicide"),
    ("en", "nobody finna notice me gone", "suicide"),
    ("en", "ion even wanna wake up tomorrow", "suicide"),
    ("en", "ion wanna exist no more", "suicide"),
    ("en", "aint nobody gonna notice me gone. just need a lift to the overpass", "suicide"),
    ("en", "you were the only one who ever cared. take care of urself for real", "suicide"),
    ("en", "gave my cousin my ps5 and my chain. he dont need to know why", "suicide"),
    ("en", "tell my babies i always loved them", "suicide"),
    ("en", "been cuttin again every night since the group home", "self_harm"),
    ("en", "im cutting every day at my foster home", "child"),
    ("en", "my bestie cuts herself and begged me not to tell", "self_harm"),
    ("en", "im jumping before they wake up", "suicide"),
    ("en", "ive decided. just gotta pick the night", "suicide"),
    ("en", "10 men a night or we dont get fed", "danger"),
    ("en", "he forced me to sleep w his friends", "danger"),
    ("en", "whenever we try to leave his people always find us", "danger"),
    ("en", "same black suv behind me every morning to work", "danger"),
    ("en", "hes got a knife pressed to my sister", "danger"),
    ("en", "hes pointing his gun at my mom", "danger"),
    ("en", "trapped in the basement and theres smoke coming in", "medical"),
    ("en", "the flat is full of smoke and the door is locked", "danger"),
    ("en", "he told me my name is on a bullet", "danger"),
    ("en", "if she cant pay off the debt her family back home pays it", "danger"),
    ("en", "the little girl also has to see clients", "child"),
    ("es", "mi hermana se abrió las venas, hay mucha sangre", "medical"),
    ("es", "me corte las munecas", "suicide"),
    ("es", "estoy en el puente, me tiro antes de que amanezca", "suicide"),
    ("es", "mi novio se sigue cortando a escondidas", "self_harm"),
    ("es", "deje a los niños con mi abuela pa irme en paz", "suicide"),
    ("es", "ya lo tengo decidido. solo me queda elegir la fecha", "suicide"),
    ("es", "auxilio, ya se metio borracho", "danger"),
    ("es", "me bebí la lejía", "medical"),
    ("es", "me tome un vaso de agua jane", "suicide"),
    ("es", "me trague como 40 de mis pastillas", "medical"),
    ("es", "naide me va a extrañar", "suicide"),
    ("es", "diles a mis hijas que las ame mucho", "suicide"),
    ("es", "en la casa hogar me sigo cortando", "child"),
    ("es", "si no atendemos 10 clientes no nos dan de comer", "danger"),
    ("es", "la misma camioneta detras de mi todas las noches", "danger"),
    ("es", "atrapada en el cuarto y huele a quemado", "medical"),
    ("es", "le regale mi switch a mi hermano. no tiene que saber por que", "suicide"),
    ("es", "hay una bala con mi nombre, me dijo", "danger"),
    ("es", "cada vez que huyo me encuentran", "danger"),
    ("es", "le esta apuntando con una pistola a mi papa", "danger"),
    ("es", "la chiquita de 13 tambien atiende a los clientes", "child"),
]

CALM = [
    ("en", "been cutting every day at the salon, my feet hurt"),
    ("en", "cuttin up the brisket for the cookout"),
    ("en", "my placement at the clinic starts on monday"),
    ("en", "gotta hit my quota this month or i dont eat lol"),
    ("en", "you were the only one who listened in class today"),
    ("en", "take care of yourself, see you next week"),
    ("en", "she doesnt need to know why i was late"),
    ("en", "im jumping before she gets back to surprise her in the pool"),
    ("en", "we just need to pick the date for the wedding"),
    ("en", "nerf gun pointed at my dad lol"),
    ("en", "the camera was pointed at me the whole show"),
    ("en", "locked in at the library studying till close"),
    ("en", "the song says theres a bullet with my name on it"),
    ("en", "if he doesnt pay off the loan his mom will help him"),
    ("en", "tell my kids i love them, im stuck at work late"),
    ("en", "aint nobody gonna tell me how to dress"),
    ("en", "ion wanna live in texas no more, too hot"),
    ("en", "ion wanna be here anymore, this wedding been going forever"),
    ("en", "my nephew got a pocket knife for cub scouts"),
    ("en", "knocked my cup off the balcony lol"),
    ("en", "every time i run a 5k they give me a medal"),
    ("en", "same white truck behind me at the drive thru"),
    ("en", "my friend cuts hair for a living"),
    ("en", "my foster kitten is so cute"),
    ("es", "mi hermana se corta el pelo sola"),
    ("es", "mi amiga se corta las uñas en clase"),
    ("es", "se corto el dedo picando cebolla"),
    ("es", "dejo a los niños con mi mamá para irme a trabajar"),
    ("es", "termino el informe para irme tranquila de vacaciones"),
    ("es", "ayúdame, ya entró el pago?"),
    ("es", "tome cloro para limpiar el baño"),
    ("es", "compre lavandina pa la ropa"),
    ("es", "tengo que tomar 30 pastillas en total del tratamiento"),
    ("es", "mi nena atiende clientes en la tienda de la familia"),
    ("es", "la tarea me está matando jaja"),
    ("es", "el calor me está matando"),
    ("es", "jaja me voy a tirar por la ventana si el vecino sigue con la música"),
    ("es", "nadie me va a ganar en el fútbol"),
    ("es", "díganle a mis hijos que los quiero, llego tarde"),
    ("es", "el icbf me dio la cita para el lunes"),
    ("es", "si no hago la cuota de ventas no como"),
    ("es", "el mismo carro detrás de mí en el tráfico"),
    ("es", "le regalé mi ropa vieja a mi prima"),
    ("es", "no tienen que saber por qué llegué tarde"),
    ("es", "fuiste la única que me escuchó en la reunión, gracias"),
    ("es", "cuál es la dosis máxima de ibuprofeno para un adulto?"),
    ("es", "jaja mi mamá dice que si no lavo los platos me mata"),
    ("es", "cada vez que me escapo de clase me encuentran jaja"),
    ("es", "me apunta con la cámara para la foto"),
    ("es", "salto a la cuerda antes de que llegue la profe"),
]


@pytest.mark.parametrize(("lang", "text", "category"), URGENT)
def test_unseen_urgent_wording(
    lexicon_screen: RiskScreen, lang: str, text: str, category: str
) -> None:
    escalates(lexicon_screen, lang, text, category)


@pytest.mark.parametrize(("lang", "text"), CALM)
def test_look_alikes_stay_calm(lexicon_screen: RiskScreen, lang: str, text: str) -> None:
    stays_at_most(lexicon_screen, lang, text, RiskLevel.MODERATE)


# Found in review, written for it: urgent lines next to look-alikes of the
# new patterns that must stay quiet (not even "are you safe?").
REVIEW_URGENT = [
    ("en", "same truck behind me every day, its the guys from the farm", "danger"),
    ("en", "he said theres a bullet with my name", "danger"),
    ("es", "el mismo carro atras de mi todos los dias", "danger"),
    ("es", "ya esta decidido. solo falta elegir el dia", "suicide"),
    ("es", "regale mi play y mis cosas, no tiene que saber por que", "suicide"),
]
QUIET = [
    ("en", "the same truck behind me every day is the school bus lol"),
    ("en", "a bullet with my name on it is my favorite song"),
    ("es", "el mismo carro atrás de mí todos los días es el del vecino que va al mismo trabajo"),
    ("es", "ya está decidido, solo falta el día de la boda"),
    ("es", "regalé mi play a mi primo, ya no la uso"),
]


@pytest.mark.parametrize(("lang", "text", "category"), REVIEW_URGENT)
def test_review_urgent_wording(
    lexicon_screen: RiskScreen, lang: str, text: str, category: str
) -> None:
    escalates(lexicon_screen, lang, text, category)


@pytest.mark.parametrize(("lang", "text"), QUIET)
def test_review_look_alikes_stay_quiet(lexicon_screen: RiskScreen, lang: str, text: str) -> None:
    stays_at_most(lexicon_screen, lang, text, RiskLevel.NONE)
