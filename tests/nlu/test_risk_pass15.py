"""Fifteenth pass: generalisation to unseen wording (lexicon only).

Phrasings written for this file, not taken from the blind14/blind15 dev sets
tuned on this pass, from any held-out split or from the other dev sets in
scripts/risk_dev/. New here, Spanish first: threats on the family with "o"
("o me levantan", "o me dan piso", "o matan a mi mamá"), a house burned with
the family inside, "si no pago meten a mi hermana", telling the gang where the
family lives; still under lock ("sigue con candado") and only let out to work
or eat (two moderate cues that corroborate); a girl dragged out by the hair,
tape over a mouth, a child taken away amid shouting; someone from the gang
asking relatives where she is, his relatives or the same car outside the new
place, a man asking when she leaves "es él por cómo lo describió", a changed
number that still gets found; self-inflicted burns with pus; withdrawal with
tremor and hallucinations; medication given only "si me porto bien" or not
allowed; a bleeding lump; "pasar a su oficina" to get paid; girls taken to
"parties" with a 14-15-year-old new one; armed in the next room or outside the
bathroom, "llamen a la policía por mí", "vengan rápido"; open veins in the
tub; a rope bought and confided; the gas on with windows shut, the rope ready;
pills mixed with liquor; a boss who speaks for her at the clinic; papers kept
until the fare is paid; "así vivo yo" after a rights question; thanking each
person "usted es la última"; insurance left to a child with nothing left to
do; days without food with fainting; blood in the urine, chest pain into the
left arm; blows to oneself. English: the same ideas ("or they hurt my mom",
"still locked, they only let us out for the shift", "the burns i gave myself",
"he only gives me my seizure meds when i behave", "youre the last one",
"i already took 30 of my dads sleeping pills", sextortion, a buyer coming).
"hace mucho viento/frío" no longer dates a message as past.
Look-alikes: a coach or parents who "kill" you, a soap opera fire, a shop
still locked until lunch, a child dragged out of bed, a relative asking where
one is, a car parked outside, kitchen burns, vitamins, a job interview at the
office, a team party with a 15-year-old, onions and a kitchen knife, a bath
with salts, a rope for laundry or a swing, a rooftop to hang clothes, pills
"como dijo el doctor", a fireplace, a daughter or husband who translates, a
consulate holding a passport, car insurance, "vengan ya a comer", a shirt
tight at the neck, the sun on one's face, a wedding date not chosen, a chest
day at the gym, beets, a cake knife, a report reminder.
"""

from __future__ import annotations

import pytest

from bot.types import RiskLevel
from nlu.risk import RiskScreen
from tests.nlu.lexicon_checks import escalates, stays_at_most

URGENT = [
    ("es", "los de la moto dicen que o les pago la cuota o matan a mi mamá", "danger"),
    ("es", "me dijeron que si no les hago los mandados o me levantan", "danger"),
    ("es", "o trabajo para ellos o me dan piso, eso me mandaron a decir", "danger"),
    ("es", "si dejo la chamba le prenden fuego a la casa con mi familia adentro", "danger"),
    ("es", "dijeron q si me voy queman la casa con mis papas dentro", "danger"),
    ("es", "todavia esta con candado, nomas nos abren para ir a trabajar", "danger"),
    ("es", "sigue con candado, nomás nos abren la puerta pa comer", "danger"),
    ("es", "ahorita se llevaron a otra chica arrastrandola de los pelos", "danger"),
    ("es", "unos de la mara llegaron donde mi tía a preguntar por donde ando", "danger"),
    ("es", "vinieron los de la pandilla a preguntarle a mi mamá dónde vivo ahora", "danger"),
    (
        "es",
        "una camioneta estacionada enfrente desde el lunes, es la camioneta del primo de él",
        "danger",
    ),
    (
        "es",
        "me cambié de ciudad pero hoy vi al hermano de mi ex parado afuera del trabajo mirándome",
        "danger",
    ),
    ("es", "las quemaduras que yo misma me hago en el brazo ya tienen pus", "self_harm"),
    (
        "es",
        "mi compa lleva tres dias sin trago, esta temblando y dice que ve bichos",
        "medical",
    ),
    ("es", "mi pareja me da la insulina solo si hago lo que dice", "danger"),
    (
        "es",
        "me salió una bola en el seno que sangra y mi marido no me deja ir al doctor",
        "medical",
    ),
    (
        "es",
        "el mayordomo dice que la que quiera su pago tiene que pasar a su cuarto sola",
        "danger",
    ),
    ("es", "al bar llevan a las muchachas a fiestas con clientes, la nueva tiene 14", "child"),
    (
        "es",
        "no puedo hablar fuerte, el está en la cocina con un machete, llamen a la policía por mí",
        "danger",
    ),
    ("es", "tengo las venas abiertas, estoy metida en la tina", "suicide"),
    ("es", "tengo que contarle a alguien, compré una soga ayer", "suicide"),
    (
        "es",
        "estoy arriba en el techo del edificio, hace mucho frio, no se pa que les escribo",
        "suicide",
    ),
    ("es", "me tomé todas las pastillas que me recetaron, ya está hecho", "suicide"),
    ("es", "le prendieron fuego a la galera donde dormimos y todavía hay gente adentro", "danger"),
    (
        "es",
        "el capataz habla por mí con el doctor, nunca me deja entrar sola a la consulta",
        "danger",
    ),
    ("es", "la agencia tiene mi pasaporte hasta que termine de pagar el boleto", "danger"),
    ("es", "desde que nos casamos no me deja salir sola ni llamar a mi familia", "danger"),
    (
        "es",
        "escribiendo a cada persona que quiero para darle las gracias. usted es la última",
        "suicide",
    ),
    (
        "es",
        "tramité lo del seguro para que les quede a mis hijas. luego no hay nada que hacer",
        "suicide",
    ),
    ("es", "llevo 6 dias sin comer y me desmayo cuando me paro", "medical"),
    ("es", "necesito irme hoy pero él dice que migración me quita a los niños", "danger"),
    ("es", "VENGAN RAPIDO", "danger"),
    (
        "es",
        "la muchacha nueva tiene cinta en la boca, le estan poniendo cinta en la boca ahorita",
        "danger",
    ),
    ("es", "el señor está gritando que se lleva a los niños y ya los subió a la troca", "danger"),
    ("es", "si no pago esta semana meten a mi hermanita a trabajar en la cantina", "danger"),
    ("es", "dijeron que le van a decir a la mara dónde vive mi familia", "danger"),
    ("es", "me cambié de celular y siempre me encuentra, hoy otra vez me escribió", "danger"),
    ("es", "está afuera de la recámara con un machete y no me deja salir", "danger"),
    ("es", "ese vato anda vendiendo a una chamaca de la colonia por internet", "danger"),
    (
        "es",
        "cuando me enojo conmigo me doy golpes en la cara hasta que me sangra la nariz",
        "self_harm",
    ),
    ("es", "abrí la llave del gas y cerré todas las ventanas", "suicide"),
    ("es", "ya está colgada la soga. adiós", "suicide"),
    ("es", "revolví mis pastillas para dormir con tequila hace rato", "suicide"),
    ("es", "mi hermano orina sangre desde que lo golpearon en la obra", "medical"),
    ("es", "me duele el pecho y el brazo izquierdo se me duerme desde la mañana", "medical"),
    ("es", "mi patrón no me deja tomar mis medicamentos de la presión", "danger"),
    ("en", "the recruiter says i pay off the debt or they hurt my mom back home", "danger"),
    (
        "en",
        "if i stop working for them they will burn our house down with my kids inside",
        "danger",
    ),
    ("en", "its still locked, they only let us out for the shift", "danger"),
    ("en", "they just dragged a girl out of her room screaming, its 3am", "danger"),
    ("en", "two guys from the gang went to my aunts place asking where i am", "danger"),
    (
        "en",
        "we relocated last month and today i saw his brother outside my new job watching me",
        "danger",
    ),
    ("en", "the burns i gave myself last week are oozing and smell bad", "self_harm"),
    ("en", "day 3 with no alcohol, im shaking nonstop and seeing things on the walls", "medical"),
    ("en", "he only gives me my seizure meds when i behave", "danger"),
    ("en", "i have a lump on my breast thats been bleeding for weeks", "medical"),
    (
        "en",
        "the supervisor tells us girls to come to his trailer one by one if we want our paycheck",
        "danger",
    ),
    (
        "en",
        "they take the new girls to private parties with clients, the new one is only 15",
        "child",
    ),
    ("en", "please call the cops for me, hes in the next room with a knife. 12 pine st", "danger"),
    ("en", "my wrists are cut open and im sitting in the tub", "suicide"),
    ("en", "i have to tell somebody. i got a rope this morning", "suicide"),
    ("en", "took all my pills lol whatever", "suicide"),
    ("en", "someone set fire to the trailer where we sleep and people are still inside", "danger"),
    (
        "en",
        "my boss always translates for me at the clinic and i never see the doctor alone",
        "danger",
    ),
    ("en", "my employer is holding my id until i pay back the plane ticket", "danger"),
    ("en", "since the wedding im not allowed to leave the house alone", "danger"),
    ("en", "ive been texting everyone i love to say thank you. youre the last one", "suicide"),
    (
        "en",
        "i sorted the life insurance for my daughter. after that theres nothing left to do",
        "suicide",
    ),
    ("en", "i havent eaten in four days and i keep fainting", "medical"),
    ("en", "hes out on parole and says hell finish what he started", "danger"),
    ("en", "i need to get out tonight but he says the police will take my kids", "danger"),
    ("en", "hes dragging my sister into the van right now", "danger"),
    ("en", "if we dont pay by friday they will send my little sister to work the bar", "danger"),
    ("en", "man is downstairs with a gun asking for me", "danger"),
    ("en", "i already took 30 of my dads sleeping pills", "suicide"),
    ("en", "turned on the gas and the windows are taped shut", "suicide"),
    ("en", "im punching the wall until my knuckles bleed again", "self_harm"),
    ("en", "my dad has chest pain and his left arm went numb", "medical"),
    ("en", "my cousin collapsed in the kitchen and isnt responding", "medical"),
    ("en", "he doesnt let me take my insulin anymore", "danger"),
    ("en", "my ex says if i dont come back he will post my nudes", "danger"),
]

CALM = [
    ("es", "si no llego a tiempo al partido mi entrenador me mata jaja"),
    ("es", "o termino la tesis o me matan mis papás jaja"),
    ("es", "en la novela queman la casa con todos adentro, qué fuerte"),
    ("es", "la tienda sigue cerrada con llave, solo abren a la hora de comer los domingos?"),
    ("es", "saqué a mi hijo de la cama a rastras para ir a la escuela jaja"),
    ("es", "uno de la banda de mi primo preguntó dónde ando para el ensayo"),
    ("es", "mi mamá llamó a mi tía para preguntar dónde ando, se preocupa mucho"),
    (
        "es",
        "un carro estacionado enfrente desde el lunes, ¿lo mueve la grúa? no es del edificio",
    ),
    ("es", "me quemé con el sartén haciendo la cena, ya se puso roja, ¿qué le pongo?"),
    ("es", "mi tío dejó el alcohol hace un año y ya no tiembla, está muy bien"),
    ("es", "mi mamá me da las vitaminas solo cuando me acuerdo de pedírselas"),
    ("es", "tengo un lunar en la espalda, ¿dónde me lo pueden revisar?"),
    ("es", "el gerente me dijo que pase a su oficina el lunes para firmar el contrato"),
    ("es", "llevamos a las muchachas del equipo a una fiesta de cumpleaños, la más chica tiene 15"),
    ("es", "mi hermano está en la cocina con un cuchillo picando cebolla"),
    ("es", "me metí a la tina con sales, qué relajante"),
    ("es", "compré una cuerda para tender la ropa en el patio"),
    ("es", "estoy en la azotea tendiendo la ropa, hace mucho viento"),
    ("es", "me tomé todas las pastillas del tratamiento como dijo el doctor y ya me siento mejor"),
    ("es", "prendimos fuego en la chimenea y los niños se durmieron"),
    ("es", "mi hija me traduce en el doctor porque no hablo inglés, ¿hay intérpretes?"),
    ("es", "el consulado tiene mi pasaporte hasta que salga la visa"),
    ("es", "desde que nos casamos vivimos en Houston y estamos felices"),
    ("es", "estoy escribiendo a cada persona del grupo para darle las gracias por la fiesta"),
    ("es", "ya arreglé lo del seguro del carro, después de eso ya no tengo pendientes hoy"),
    ("es", "vengan ya a comer que se enfría"),
    ("es", "tu eres la última en la fila para el almuerzo"),
    ("es", "la camisa me estaba apretando el cuello toda la boda"),
    ("es", "el sol me quema la cara cuando trabajo en el campo, ¿qué bloqueador uso?"),
    ("es", "no he escogido el día de la boda todavía"),
    ("es", "ya vendí mis cosas, estoy lista para la mudanza a Monterrey"),
    ("es", "me tomé las pastillas con un vaso de leche como dijo el doctor"),
    ("es", "mi papá está aquí con una pistola de agua mojando a los niños"),
    ("es", "hice pecho en el gimnasio y ahora me duele el brazo izquierdo"),
    ("en", "if i fail this test my parents will kill me lol"),
    ("en", "the bakery is still locked, they only open it for the lunch rush"),
    ("en", "my dog dragged a girl's scarf out of the closet lol"),
    ("en", "my mom called my aunt asking where i am, she worries too much"),
    ("en", "we moved to a new apartment and my cousin came to help us unpack"),
    ("en", "i burned my hand on the oven and it looks a bit red"),
    ("en", "my uncle quit drinking last year and the shakes are gone"),
    ("en", "my mom gives me my vitamins only when i remember to ask"),
    ("en", "the boss said to stop by his office if we want our paycheck early"),
    ("en", "my husband translates for me at the doctor because my english is bad"),
    ("en", "the consulate is holding my passport until the visa is ready"),
    ("en", "i bought a rope for the tire swing in the backyard"),
    ("en", "we set fire to the logs in the fire pit and roasted marshmallows"),
    ("en", "i just texted everyone on the team to say thank you for the party"),
    ("en", "i sorted out the car insurance so theres nothing left to do today"),
    ("en", "i took all my antibiotics like the doctor said, its done now"),
    ("en", "im on the rooftop bar with friends, its windy"),
    ("en", "my sister is in the next room with a kitchen knife cutting onions"),
    ("en", "come quick, the cake is ready"),
    ("en", "im dragging my kids to the car for school lol"),
    ("en", "the buyer comes tomorrow to see the car"),
    ("en", "my brother is here with a knife to cut the cake"),
    ("en", "the chef knife is my best friend in the kitchen"),
    ("en", "my pee turned red after eating beets"),
    ("en", "chest day at the gym, now my left arm hurts"),
    ("en", "if i dont finish the report my boss will send the reminder"),
    # A review's own look-alikes for this pass's patterns (each alarmed before a guard).
    ("es", "ya está la cena, vengan ya"),
    ("es", "le hacen daño a la familia las peleas, dice la psicóloga"),
    ("es", "tengo que contarle a alguien, compré una soga nueva para saltar en el gym"),
    ("en", "i took every pill the doctor prescribed, finished the antibiotics today"),
    ("en", "it would be easier for everyone if we meet at 5"),
    ("en", "my dad is taking my daughter over the border to visit grandma, do i need a letter?"),
    ("en", "next time it's my finger on the button, I'm choosing the movie"),
    ("en", "the blade is my best friend when i shave haha"),
]


@pytest.mark.parametrize(("lang", "text", "category"), URGENT)
def test_unseen_urgent_wording(
    lexicon_screen: RiskScreen, lang: str, text: str, category: str
) -> None:
    escalates(lexicon_screen, lang, text, category)


@pytest.mark.parametrize(("lang", "text"), CALM)
def test_look_alikes_stay_calm(lexicon_screen: RiskScreen, lang: str, text: str) -> None:
    stays_at_most(lexicon_screen, lang, text, RiskLevel.MODERATE)


def test_weather_is_not_a_past_marker(lexicon_screen: RiskScreen) -> None:
    """ "Hace mucho viento" is the weather now, not "a long time ago"."""
    now = "estoy en la azotea del hotel, hace mucho frío y ya no sé ni pa qué escribo"
    escalates(lexicon_screen, "es", now, "suicide")
    long_ago = "hace mucho estuve en la azotea de un edificio pensando en tirarme, ya estoy bien"
    assert lexicon_screen.assess(long_ago).level < RiskLevel.HIGH


def test_a_bare_cry_for_help_is_urgent_but_not_a_call_to_dinner(
    lexicon_screen: RiskScreen,
) -> None:
    escalates(lexicon_screen, "es", "VENGAN YA", "danger")
    escalates(lexicon_screen, "es", "ayuda vengan rapido", "danger")
    stays_at_most(lexicon_screen, "es", "vengan ya que la comida se enfría", RiskLevel.MODERATE)


def test_conditional_before_a_threat_is_not_a_negation(lexicon_screen: RiskScreen) -> None:
    text = "me dijeron que si no pago me meten a mi hermana al bar"
    escalates(lexicon_screen, "es", text, "danger")
    text = "if i dont go back to work they will tell the gang where my parents live"
    escalates(lexicon_screen, "en", text, "danger")
