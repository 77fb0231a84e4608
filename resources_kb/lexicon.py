"""Words for matching: synonyms in both languages, places, service kinds.

Everything here works on folded text (lowercase, no accents, no punctuation),
so "abogada", "Abogado" and "ABOGADO" are the same. Data, not logic: a
reviewer can add a word without reading the search code.
"""

from __future__ import annotations

import re
from functools import lru_cache

from dialogs.normalize import fold

__all__ = [
    "EXCLUSIVE",
    "SERVICE_KINDS",
    "SYNONYMS",
    "TOPIC_WORDS",
    "concept_spans",
    "concept_weight",
    "concepts",
    "find_place",
    "find_service_kind",
    "place_words",
    "stem",
]

# Each group names one idea. A word (or phrase) in any group adds the group's
# name as an extra token, so "attorney" and "abogada" both match "lawyer".
SYNONYMS: dict[str, tuple[str, ...]] = {
    "lawyer": (
        "lawyer",
        "lawyers",
        "attorney",
        "attorneys",
        "abogado",
        "abogada",
        "abogados",
        "abogadas",
        "legal aid",
        "legal help",
        "ayuda legal",
        "asesoria legal",
        "licenciado",
        "paralegal",
        "notario",
    ),
    "shelter": (
        "shelter",
        "shelters",
        "refuge",
        "refugio",
        "refugios",
        "albergue",
        "albergues",
        "housing",
        "vivienda",
        "safe house",
        "casa segura",
        "casa de acogida",
        "nowhere to",
        "place to stay",
        "place to sleep",
        "lugar para dormir",
        "donde dormir",
        "donde quedarme",
        "homeless",
        "en la calle",
        "on the street",
        "techo",
    ),
    "police": (
        "police",
        "cops",
        "cop",
        "policia",
        "policias",
        "law enforcement",
        "autoridades",
        "authorities",
        "patrulla",
        "detective",
        "fbi",
    ),
    "migration": (
        "immigration",
        "inmigracion",
        "migracion",
        "migra",
        "ice",
        "deport",
        "deported",
        "deportation",
        "deportar",
        "deporten",
        "deportan",
        "deportacion",
        "undocumented",
        "indocumentado",
        "indocumentada",
        "sin papeles",
        "no papers",
        "without papers",
    ),
    "documents": (
        "passport",
        "passports",
        "pasaporte",
        "pasaportes",
        "documents",
        "documentos",
        "id",
        "identificacion",
        "identification",
        "ine",
        "cedula",
        "my papers",
        "mis papeles",
        "birth certificate",
        "acta de nacimiento",
    ),
    "doctor": (
        "doctor",
        "doctora",
        "medico",
        "medica",
        "hospital",
        "clinic",
        "clinica",
        "health",
        "salud",
        "sick",
        "enfermo",
        "enferma",
        "insurance",
        "seguro medico",
        "nurse",
        "enfermera",
        "medical",
        "atencion medica",
        "pregnant",
        "embarazada",
        "injured",
        "herida",
        "herido",
        "medicine",
        "medicina",
    ),
    "wages": (
        "wage",
        "wages",
        "salary",
        "salario",
        "sueldo",
        "paid",
        "pay me",
        "paying me",
        "pagan",
        "paga",
        "pago",
        "pagaron",
        "overtime",
        "horas extra",
        "unpaid",
        "no pagados",
        "minimum wage",
        "salario minimo",
        "owe me",
        "me deben",
    ),
    "boss": ("boss", "employer", "jefe", "jefa", "patron", "patrona", "supervisor", "encargado"),
    "phone": ("phone", "cellphone", "cell", "celular", "cel", "telefono", "movil", "mobile"),
    "suicide": (
        "suicide",
        "suicidal",
        "suicidio",
        "kill myself",
        "matarme",
        "quitarme la vida",
        "end my life",
        "end it all",
        "acabar con todo",
        "want to die",
        "quiero morir",
        "me quiero morir",
        "no quiero vivir",
        "dont want to live",
    ),
    "danger": (
        "danger",
        "peligro",
        "in danger",
        "en peligro",
        "emergency",
        "emergencia",
        "emergencias",
        "threatening me",
        "me amenaza",
    ),
    "minor": (
        "minor",
        "menor",
        "menores",
        "teen",
        "teenager",
        "adolescente",
        "adolescentes",
        "kid",
        "kids",
        "child",
        "children",
        "nino",
        "ninos",
        "nina",
        "ninas",
        "under 18",
        "menos de 18",
        "underage",
    ),
    "family": (
        "family",
        "familia",
        "familiares",
        "mom",
        "mother",
        "mama",
        "madre",
        "dad",
        "father",
        "papa",
        "padre",
        "husband",
        "esposo",
        "wife",
        "esposa",
        "sister",
        "hermana",
        "brother",
        "hermano",
        "relatives",
        "parientes",
    ),
    "hotline": (
        "hotline",
        "helpline",
        "help line",
        "linea",
        "linea de ayuda",
        "phone number",
        "numero",
        "number",
        "call",
        "llamar",
        "llamo",
    ),
    "text": ("text", "texting", "sms", "mensaje de texto", "texto", "whatsapp", "chat"),
    "free": ("free", "gratis", "gratuito", "no money", "sin dinero", "afford", "alcanza"),
    "cost": ("cost", "costs", "costo", "cuesta", "fee", "fees", "price", "precio", "pay for"),
    "rape": (
        "rape",
        "raped",
        "violacion",
        "violaron",
        "violo",
        "sexual assault",
        "agresion sexual",
        "abuso sexual",
        "sexually abused",
        "abusaron",
        "forced me to have sex",
    ),
    "partner": (
        "partner",
        "pareja",
        "boyfriend",
        "novio",
        "girlfriend",
        "novia",
        "husband",
        "esposo",
        "wife",
        "esposa",
        "ex",
        "domestic violence",
        "violencia domestica",
    ),
    "school": (
        "school",
        "escuela",
        "study",
        "estudiar",
        "class",
        "classes",
        "clases",
        "course",
        "curso",
        "training",
        "capacitacion",
        "ged",
        "english lessons",
    ),
    "counseling": (
        "therapy",
        "therapist",
        "terapia",
        "terapeuta",
        "counselor",
        "counseling",
        "consejero",
        "consejera",
        "psychologist",
        "psicologo",
        "psicologa",
        "nightmares",
        "pesadillas",
        "support group",
        "grupo de apoyo",
        "mental health",
        "salud mental",
        "depressed",
        "deprimida",
        "deprimido",
        "anxiety",
        "ansiedad",
    ),
    "record": (
        "record",
        "criminal record",
        "antecedentes",
        "arrest",
        "arrested",
        "arrestaron",
        "arresto",
        "charges",
        "cargos",
        "conviction",
        "expunge",
        "vacatur",
        "borrar cargos",
    ),
    "go_home": (
        "go home",
        "go back",
        "return home",
        "regresar",
        "volver a mi pais",
        "mi pais",
        "my country",
        "home country",
        "back home",
        "repatriation",
        "repatriacion",
        "iom",
        "oim",
    ),
    "privacy": (
        "private",
        "privado",
        "privacidad",
        "privacy",
        "save",
        "saved",
        "guardan",
        "guardar",
        "keep my",
        "recorded",
        "grabado",
        "who can read",
        "quien puede leer",
        "delete",
        "borrar",
        "borro",
    ),
    "bot": (
        "robot",
        "bot",
        "human",
        "humano",
        "real person",
        "persona real",
        "automated",
        "automatico",
        "machine",
        "maquina",
        "ai",
    ),
    "visa": ("visa", "visas", "status", "estatus", "green card", "residencia", "residente"),
    "t_visa": ("t visa", "t visas", "tvisa", "t nonimmigrant", "visa t", "visas t", "visa tipo t"),
    "u_visa": ("u visa", "u visas", "uvisa", "u nonimmigrant", "visa u", "visas u", "visa tipo u"),
    "trafficking": (
        "trafficking",
        "trafficked",
        "trata",
        "trafficker",
        "tratante",
        "human trafficking",
        "trata de personas",
        "forced labor",
        "trabajo forzado",
        "forced work",
        "slavery",
        "esclavitud",
        "explotacion",
        "exploited",
        "explotan",
        "exploto",
    ),
    "benefits": (
        "benefits",
        "beneficios",
        "food stamps",
        "cupones",
        "snap",
        "medicaid",
        "welfare",
        "cash assistance",
        "ayuda economica",
        "asistencia",
    ),
    "work": ("job", "jobs", "trabajo", "empleo", "work", "trabajar", "employment", "chamba"),
    "report": ("report", "reportar", "denunciar", "denuncia", "denuncio", "complain", "queja"),
}

# More words for the same ideas (and a few more ideas), comma-separated. These
# help an article match but, unlike SYNONYMS, never make a question read as a
# request for a service listing (SERVICE_KINDS below).
TOPIC_WORDS: dict[str, str] = {
    "school": """college, university, universidad, prepa, preparatoria, high school, secundaria,
        diploma, degree, titulo, lesson, lessons, leccion, english class, clases de ingles,
        aprender ingles, learn english, resume, curriculum, cv, job interview,
        entrevista de trabajo, career, carrera, skill, skills, oficio, trade, vocational,
        tecnico, estudios, student, estudiante, escuela para adultos""",
    "work": """employer, employed, empleador, hire, contratar, contratan, hiring, career,
        chambear, labor, labour, laboral, trabajador, trabajadora, worker, workers""",
    "counseling": """psychiatrist, psiquiatra, psicologia, trauma, trauma, traumatized,
        ptsd, estres postraumatico, flashback, flashbacks, recuerdos, bad dreams,
        malos suenos, panic attack, ataque de panico, sad, triste, tristeza, lonely,
        alone, sola, solo, soledad, numb, vacia, vacio, heal, healing, sanar, sanacion,
        recover, recovery, recuperarme, emotional support, apoyo emocional, talk therapy,
        peer support, otros sobrevivientes, other survivors, angry, enojada, coraje,
        trust anyone, confiar""",
    "doctor": """dentist, dentista, muela, tooth, teeth, dientes, eye doctor, oculista, lentes,
        glasses, checkup, chequeo, revision medica, std, stds, sti, infection,
        infeccion, test, prueba, pruebas, birth control, anticonceptivo, anticonceptivos,
        pregnancy, embarazo, abortion, aborto, emergency room, sala de emergencias,
        urgencias, pain, dolor, duele, hurts, injury, injuries, lesion, golpes, pills,
        pastillas, vaccine, vacuna, ambulance, ambulancia""",
    "family": """daughter, hija, son, hijo, kids, hijos, children, ninos, baby, bebe, parents,
        papas, padres, cousin, primo, prima, aunt, tia, uncle, tio, grandmother, grandma,
        abuela, abuelo, relative, pariente, familiar, loved ones, seres queridos,
        siblings, hermanos, spouse, conyuge""",
    "privacy": """data, datos, information, informacion, info, store, stored, almacenan,
        encrypted, cifrado, encriptado, confidential, confidencial, secret, secreto,
        anonymous, anonimo, anonima, erase, erase me, forget me, olvidame,
        guardado, guardada, share my, comparten, sees, ve lo que""",
    "phone": """call history, historial, historial de llamadas, call log, registro de llamadas,
        track, tracking, rastrear, rastrean, location, ubicacion, gps, spy, espiar, espia,
        monitor, monitors, vigila, vigilan, checks my phone, revisa mi, hide, esconder,
        escondo, texts, mensajes, messages, browser, navegador, device, dispositivo""",
    "crisis": """crisis, hopeless, sin esperanza, desesperada, desesperado, overwhelmed,
        abrumada, abrumado, panic, panico, cant cope, no aguanto, hard moment,
        momento dificil, too heavy, no puedo mas, breaking down, falling apart,
        emotional crisis, crisis emocional, lifeline""",
    "suicide": """end my life, ending my life, quitarme la vida, hurt myself, hurting myself,
        hacerme dano, self harm, autolesion, cortarme, cutting, better off without me,
        mejor sin mi, disappear, desaparecer, no reason to live, sin razon para vivir,
        wish i was dead, no quiero seguir, not worth living, no vale la pena vivir,
        suicidal, suicida, suicidas, ideas suicidas, take my life, wanna die, dead, muerta,
        muerto, estar muerta, morirme, morir, wake up, despertar, not be alive,
        be alive, estar viva, estar vivo, take it anymore, no aguanto mas,
        point of going on, cant go on, go on anymore, point of living, para que seguir,
        no puedo seguir, sin sentido, no reason to keep living""",
    "danger": """hurt me, hurting me, lastimar, lastima, lastiman, kill me, matar,
        for my life, por mi vida, outside my door, afuera de mi puerta, talk freely,
        hablar libre, hablar libremente,
        follow, following, siguiendo, persigue, locked, locked in, encerrada, encerrado,
        trapped, atrapada, atrapado, held, retenida, retenido, against my will,
        contra mi voluntad, hiding, escondida, escondido, unsafe, insegura, inseguro,
        gun, arma, pistola, knife, cuchillo, scared, asustada, miedo, looking for me,
        me buscan, found me, me encontro, escape, escapar, run away, huir""",
    "migration": """deport, deportada, deportado, sent back, mandar de regreso, me regresan,
        removed, removal, sacar del pais, la migra, overstayed, visa vencida, se me vencio,
        immigration status, estatus migratorio, papers, papeles, illegal, ilegal,
        illegally, sin estatus, without status, no status""",
    "police": """prosecutor, prosecutors, fiscal, fiscales, testify, testificar, declarar,
        court, corte, tribunal, juicio, trial, judge, juez, agent, agente, agentes, hsi,
        investigation, investigacion, detective, officer, oficial, law enforcement,
        autoridades, sheriff, press charges, cargos""",
    "cooperation": """cooperate, cooperating, cooperation, cooperar, colaborar, colaboracion,
        help the police, ayudar a la policia, work with police, reasonable request,
        pedido razonable, supplement b, suplemento b, certification, certificacion""",
    "benefits": """food, comida, food stamps, cupones, cash, efectivo, government help,
        ayuda del gobierno, public benefits, beneficios publicos, refugee, refugiado,
        refugiada, assistance, certification letter, carta de certificacion,
        eligibility letter, carta de elegibilidad, otip, hhs""",
    "wages": """pay, pays, paying, pagar, pagan, paycheck, cheque, back pay, pago atrasado,
        minimum, minimo, overtime, horas extra, horas extras, time and a half,
        tiempo y medio, per hour, por hora, hourly, underpaid, me pagan poco, wage theft,
        robo de salario, earned, gane, owed, deben""",
    "complaint": """complaint, complaints, complain, queja, quejas, quejarme, claim, reclamo,
        reclamar, file a, poner una queja, wage claim, department of labor,
        departamento de trabajo, labor department, wage and hour, salarios y horas, whd,
        labor board""",
    "documents": """id card, identification card, credencial, papers, papeles, visa papers,
        birth certificate, acta, identity, identidad, replace, reponer, new passport,
        pasaporte nuevo, consulate, consulado, embassy, embajada""",
    "lawyer": """legal advice, consejo legal, asesoria, asesor legal, pro bono, legal rights,
        derechos legales, my case, mi caso, immigration forms, formularios, notary,
        defensor, law firm, bufete, legal clinic, clinica legal""",
    "cost": """charge, charged, cobran, cobrar, cobra, money, dinero, pay anything,
        expensive, caro, cara, bill, factura, how much""",
    "free": """free of charge, sin costo, no cost, low cost, bajo costo, toll free,
        cant pay, no puedo pagar""",
    "shelter": """apartment, departamento, apartamento, rent, renta, alquiler, sleep, dormir,
        homeless, sin casa, sin hogar, kicked out, me corrieron, me echaron, a place,
        un lugar, stay tonight, quedarme, nowhere to go, no tengo a donde, transitional,
        transicion, room, cuarto, where i work""",
    "record": """criminal history, historial criminal, historial penal, antecedentes penales,
        background check, revision de antecedentes, convicted, condenaron, condena,
        sentence, seal, sellar, clear my record, limpiar, erase my record, borrar mi record,
        non punishment, no castigo, vacate, anular, record""",
    "go_home": """return, retorno, regreso, return home, volver, ticket home, boleto,
        flight, vuelo, trip home, viaje de regreso, reintegration, reintegracion,
        international organization for migration,
        organizacion internacional para las migraciones, voluntary return,
        retorno voluntario, miss home, extrano mi casa""",
    "abuse": """abuse, abused, abusive, abuso, abusivo, abusiva, maltrato, maltratada,
        maltratan, beat, beats, beating, golpea, golpes, hits, hit me, pega, pego,
        violent, violento, violenta, violence, violencia, controls me, me controla,
        domestic, domestica, relationship, relacion, partner, pareja""",
    "rape": """sexual assault, agresion sexual, ataque sexual, sexually assaulted, touched me,
        me toco, without consent, sin consentimiento, sin mi permiso, molested, acoso,
        harassed, forced sex, sexo forzado, rainn""",
    "emergency": """emergency, emergencia, emergencias, 911, 999, 112, ambulance, ambulancia,
        fire, bomberos, emergency number, numero de emergencia, emergency services,
        servicios de emergencia""",
    "checkin": """check in, check ins, checkin, checkins, check on me, checking in,
        follow up, seguimiento, remind, recordar, recuerdame, next week, proxima semana,
        otra semana, mas adelante, keep in touch, en contacto, message me, escribeme,
        stay in touch, ongoing, continuo, long term, largo plazo, aftercare""",
    "bot": """chatbot, computer, computadora, artificial intelligence, who are you,
        who am i talking to, what are you, are you real, are you a, this chat, this app,
        this website, this service, this site, quien eres, que eres, eres real, eres un,
        eres una, este chat, esta app, esta aplicacion, esta pagina, este servicio,
        con quien hablo, con quien estoy hablando,
        inteligencia artificial, ai, harborline, somebody real, alguien de verdad""",
    "hotline": """helpline, hot line, linea, lineas, phone line, 24 7, 24 hours, 24 horas,
        call, llamar, llamo, llame, number, numero, telefono de ayuda""",
    "trafficking": """traffick, trafficked, traficking, trafficker, traffickers, tratantes,
        trata, tratada, tratado, modern slavery, esclavitud moderna, forced labor,
        forced labour, trabajo forzado, exploitation, explotacion, explotada, explotado,
        exploited, explotan, smuggling, trafico""",
    "signs": """signs, senales, red flags, warning signs, alerta, am i being, estoy siendo,
        debt, deuda, owe, debo, le debo, cant leave, no puedo irme,
        no me dejan, wont let me, lied, mintieron, enganaron, promised, prometieron,
        threaten, threatens, amenazan, amenaza""",
    "definition": """define, definition, definicion, meaning, significado, significa, mean,
        explica, explicame, counts as, cuenta como,
        considered, se considera""",
    "treaty": """palermo, protocol, protocolo, treaty, tratado, onu, united nations,
        naciones unidas, international law, derecho internacional, ley internacional,
        convention, convencion""",
    "minor": """teenager, teen, teens, adolescent, youth, jovenes, joven, young, underage,
        menor de edad, under 18, menos de 18, 13, 14, 15, 16, 17, high schooler,
        im a kid, soy nina, soy nino""",
    "uk": """nrm, national referral mechanism, mecanismo nacional de derivacion,
        first responder, reasonable grounds, motivos razonables, conclusive grounds,
        motivos concluyentes, duty to notify, modern slavery helpline, unseen, samaritans""",
    "visa_time": """how long, cuanto tiempo, cuanto dura, cuanto tarda, processing,
        tramite, expire, vence, vencer, renew, renovar, cap, limite, limit,
        per year, al ano, cada ano, green card, residencia, permanent resident,
        residente permanente""",
    "eligibility": """eligible, elegible, qualify, califico, calificar, califica,
        requirements, requisitos, criteria, criterios, prove, probar,
        demostrar, hardship, dificultad, admissible, waiver, perdon""",
    "family_visa": """supplement a, suplemento a, derivative, derivada, derivado,
        bring my family, traer a mi familia, apply with me, aplicar conmigo, join me,
        venir conmigo""",
    # "sin peligro" is "safely", not danger: the longer phrase is read first.
    "safely": """safely, safe way, sin peligro, de forma segura, con seguridad,
        de manera segura""",
    "continued_presence": """continued presence, presencia continuada, cp, witness,
        testigo, temporary status, estatus temporal, permiso temporal""",
}

# Places named in a question, mapped to a jurisdiction code (ISO country,
# or country-subdivision for US states). Longest phrase wins.
_COUNTRIES: dict[str, tuple[str, ...]] = {
    "UK": (
        "uk",
        "u k",
        "united kingdom",
        "reino unido",
        "england",
        "inglaterra",
        "britain",
        "great britain",
        "gran bretana",
        "london",
        "londres",
        "scotland",
        "escocia",
        "wales",
        "gales",
        "northern ireland",
        "irlanda del norte",
        "manchester",
        "birmingham",
        "liverpool",
        "glasgow",
        "edinburgh",
        "british",
        "britanico",
        "britanica",
    ),
    "CA": (
        "canada",
        "canadian",
        "canadiense",
        "toronto",
        "vancouver",
        "montreal",
        "ontario",
        "quebec",
        "ottawa",
        "calgary",
        "alberta",
        "british columbia",
        "columbia britanica",
        "manitoba",
        "winnipeg",
        "edmonton",
    ),
    "ES": (
        "spain",
        "espana",
        "madrid",
        "barcelona",
        "sevilla",
        "seville",
        "valencia",
        "malaga",
        "bilbao",
        "andalucia",
        "cataluna",
        "catalonia",
        "zaragoza",
        "murcia",
        "espanol de espana",
    ),
    "MX": (
        "mexico",
        "mejico",
        "mexican",
        "cdmx",
        "ciudad de mexico",
        "mexico city",
        "guadalajara",
        "monterrey",
        "tijuana",
        "juarez",
        "ciudad juarez",
        "cancun",
        "oaxaca",
        "chiapas",
        "puebla",
        "veracruz",
        "guerrero",
        "sinaloa",
        "jalisco",
        "michoacan",
        "df",
    ),
    "US": (
        "usa",
        "u s",
        "us a",
        "united states",
        "estados unidos",
        "eeuu",
        "ee uu",
        "america",
        "the states",
    ),
}
_US_STATES: dict[str, tuple[str, ...]] = {
    "AL": ("alabama",),
    "AK": ("alaska",),
    "AZ": ("arizona", "phoenix"),
    "AR": ("arkansas",),
    "CA": ("california", "los angeles", "san francisco", "san diego"),
    "CO": ("colorado", "denver"),
    "CT": ("connecticut",),
    "DE": ("delaware",),
    "DC": ("washington dc", "washington d c", "district of columbia"),
    "FL": ("florida", "miami", "orlando"),
    "GA": ("georgia", "atlanta"),
    "HI": ("hawaii",),
    "ID": ("idaho",),
    "IL": ("illinois", "chicago"),
    "IN": ("indiana",),
    "IA": ("iowa",),
    "KS": ("kansas",),
    "KY": ("kentucky",),
    "LA": ("louisiana", "luisiana", "new orleans"),
    "ME": ("maine",),
    "MD": ("maryland", "baltimore"),
    "MA": ("massachusetts", "boston"),
    "MI": ("michigan", "detroit"),
    "MN": ("minnesota",),
    "MS": ("mississippi", "misisipi"),
    "MO": ("missouri",),
    "MT": ("montana",),
    "NE": ("nebraska",),
    "NV": ("nevada", "las vegas"),
    "NH": ("new hampshire",),
    "NJ": ("new jersey", "nueva jersey"),
    "NM": ("new mexico", "nuevo mexico"),
    "NY": ("new york", "nueva york", "nyc", "brooklyn", "queens", "bronx"),
    "NC": ("north carolina", "carolina del norte"),
    "ND": ("north dakota", "dakota del norte"),
    "OH": ("ohio",),
    "OK": ("oklahoma",),
    "OR": ("oregon", "portland"),
    "PA": ("pennsylvania", "pensilvania", "philadelphia", "filadelfia"),
    "RI": ("rhode island",),
    "SC": ("south carolina", "carolina del sur"),
    "SD": ("south dakota", "dakota del sur"),
    "TN": ("tennessee", "nashville"),
    "TX": ("texas", "tejas", "houston", "dallas", "san antonio", "austin", "el paso"),
    "UT": ("utah",),
    "VT": ("vermont",),
    "VA": ("virginia",),
    "WA": ("washington state", "estado de washington", "seattle"),
    "WV": ("west virginia", "virginia occidental"),
    "WI": ("wisconsin",),
    "WY": ("wyoming",),
}

# What a survivor may call each kind of service listing.
SERVICE_KINDS: dict[str, tuple[str, ...]] = {
    "shelter": SYNONYMS["shelter"],
    "legal": SYNONYMS["lawyer"] + ("legal", "immigration lawyer", "abogado de inmigracion"),
    "health": SYNONYMS["doctor"],
    "counseling": SYNONYMS["counseling"],
    "work": (
        "job training",
        "capacitacion",
        "wage claim",
        "unpaid wages",
        "department of labor",
        "departamento de trabajo",
        "empleo",
        "job",
        "trabajo",
    ),
    "documents": (
        "passport office",
        "consulate",
        "consulado",
        "embassy",
        "embajada",
        "new passport",
        "pasaporte nuevo",
    ),
    "hotline": ("hotline", "helpline", "linea de ayuda", "linea contra la trata"),
    "crisis": ("crisis line", "linea de crisis", "suicide line", "crisis"),
}

_REQUEST = re.compile(
    r"\b(find|finding|near|nearby|need|looking for|where|busco|buscar|encontrar|cerca|"
    r"necesito|donde|hay|list|lista)\b"
)


def _phrases(groups: dict[str, tuple[str, ...]]) -> list[tuple[str, str]]:
    pairs = [(fold(p), name) for name, phrases in groups.items() for p in phrases]
    # Longest first, so "new mexico" wins over "mexico".
    return sorted(pairs, key=lambda pair: -len(pair[0]))


def _topic_groups() -> dict[str, tuple[str, ...]]:
    groups = {name: tuple(words) for name, words in SYNONYMS.items()}
    for name, text in TOPIC_WORDS.items():
        words = tuple(w.strip() for w in text.split(",") if w.strip())
        groups[name] = groups.get(name, ()) + words
    return groups


@lru_cache(maxsize=1)
def _synonym_phrases() -> tuple[dict[str, list[str]], dict[str, int]]:
    """Folded phrase -> the groups it names; first word -> longest phrase (words)."""
    owners: dict[str, list[str]] = {}
    for phrase, name in _phrases(_topic_groups()):
        if phrase and name not in owners.setdefault(phrase, []):
            owners[phrase].append(name)
    longest: dict[str, int] = {}
    for phrase in owners:
        words = phrase.split()
        longest[words[0]] = max(longest.get(words[0], 0), len(words))
    return owners, longest


_WORD = re.compile(r"\S+")


@lru_cache(maxsize=1)
def _place_pattern() -> tuple[re.Pattern[str], dict[str, str]]:
    codes: dict[str, str] = {}
    for code, phrases in _COUNTRIES.items():
        for phrase in phrases:
            codes[fold(phrase)] = code
    for state, phrases in _US_STATES.items():
        for phrase in phrases:
            codes[fold(phrase)] = f"US-{state}"
    words = sorted(codes, key=len, reverse=True)
    return re.compile(r"\b(" + "|".join(re.escape(w) for w in words) + r")\b"), codes


# How many times a concept token counts (default CONCEPT_REPEAT): the letter
# of a visa decides which article answers, more than any other word.
CONCEPT_REPEAT = 1
CONCEPT_WEIGHTS = {"t_visa": 3, "u_visa": 3}
# Pairs of concepts that exclude each other: an article titled for one does
# not answer a question that names only the other.
EXCLUSIVE = (("~t_visa", "~u_visa"),)


def concept_weight(token: str) -> int:
    """How many times concept `token` ("~lawyer") counts in a text."""
    return CONCEPT_WEIGHTS.get(token.lstrip("~"), CONCEPT_REPEAT)


def concepts(folded: str) -> list[str]:
    """Concept tokens ("~lawyer") for every synonym phrase in folded text."""
    return [name for name, _, _ in concept_spans(folded)]


def concept_spans(folded: str) -> list[tuple[str, int, int]]:
    """(concept token, start, end) for every synonym phrase in folded text.

    Scans left to right taking the longest phrase that starts at each word, so
    "legal aid" is one match rather than "legal" and "aid" (a dictionary look-up
    per word and length, fast on long bodies too).
    """
    owners, longest = _synonym_phrases()
    words = [(m.group(), m.start(), m.end()) for m in _WORD.finditer(folded)]
    found: list[tuple[str, int, int]] = []
    i = 0
    while i < len(words):
        for length in range(min(longest.get(words[i][0], 0), len(words) - i), 0, -1):
            phrase = folded[words[i][1] : words[i + length - 1][2]]
            names = owners.get(phrase)
            if names:
                start, end = words[i][1], words[i + length - 1][2]
                found.extend((f"~{name}", start, end) for name in names)
                i += length
                break
        else:
            i += 1
    return found


def find_place(text: str) -> str | None:
    """The jurisdiction a question names ("shelter in Texas" -> "US-TX"), if any."""
    pattern, codes = _place_pattern()
    match = pattern.search(fold(text))
    return codes[match.group(1)] if match else None


def place_words(folded: str) -> set[str]:
    """The words of every place named in folded text."""
    pattern, _ = _place_pattern()
    return {word for match in pattern.finditer(folded) for word in match.group(1).split()}


def find_service_kind(text: str) -> str | None:
    """The kind of service asked for, when the text reads as a request for one."""
    folded = fold(text)
    for kind, pattern in _service_kind_patterns():
        if pattern.search(folded):
            named = find_place(folded) is not None
            return kind if named or _REQUEST.search(folded) else None
    return None


@lru_cache(maxsize=1)
def _service_kind_patterns() -> list[tuple[str, re.Pattern[str]]]:
    """One compiled alternation per kind, in SERVICE_KINDS order (the first kind wins)."""
    return [
        (kind, re.compile(r"\b(?:" + "|".join(re.escape(fold(p)) for p in phrases) + r")\b"))
        for kind, phrases in SERVICE_KINDS.items()
    ]


_SUFFIXES = (
    "amientos",
    "imientos",
    "amiento",
    "imiento",
    "aciones",
    "iciones",
    "mente",
    "acion",
    "icion",
    "ando",
    "iendo",
    "ados",
    "idos",
    "adas",
    "idas",
    "ing",
    "ies",
    "ed",
    "es",
    "as",
    "os",
    "ar",
    "er",
    "ir",
    "ly",
    "s",
    "a",
    "o",
    "e",
)


STEM_LENGTH = 6

# Spanish pronouns joined to a verb: "ayudarme", "quedarnos", "dejarlo".
_CLITIC = re.compile(r"(?<=[aei]r)(?:me|te|se|nos|los|las|les|lo|la|le)$")


@lru_cache(maxsize=50_000)
def stem(word: str) -> str:
    """A light, language-blind suffix stripper, cut to six letters.

    Keeps at least three letters, so "deja", "dejar" and "dejan" meet; the cut
    joins what suffixes miss ("deportation", "deportar" -> "deport").
    """
    word = _CLITIC.sub("", word) if len(word) > 6 else word
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)][:STEM_LENGTH]
    return word[:STEM_LENGTH]
