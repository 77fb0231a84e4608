"""Warm a serving process before it takes traffic.

Much of a turn is built on first use: statements compiled for this database,
cue patterns compiled for each new word, dialog texts loaded, the language
detector built. Each first use costs 10 to 40 ms, and a burst of survivors
arriving at a fresh server would queue behind them. So a serving process
(`create_app(..., serving=True)`) first screens the ordinary messages the
intent model was trained on, and then rehearses one conversation per
language that is rolled back (`Pipeline.rehearse`): nothing is kept, sent,
published or paged.
"""

from __future__ import annotations

import asyncio

from bot.runtime import Runtime
from nlu.language import detect_language
from nlu.rasa_data import load_examples
from nlu.risk import assess

__all__ = ["REHEARSAL", "warm_up"]

# One conversation per language down the common paths: welcome, consent, a
# question, services, a worried message, the menu, a person, a check-in.
REHEARSAL = {
    "en": [
        "hello",
        "yes",
        "what are my rights at work",
        "where can i find a shelter",
        "i feel alone and scared",
        "menu",
        "can i talk to someone",
        "check in with me tomorrow",
    ],
    "es": [
        "buenas",
        "si",
        "cuales son mis derechos en el trabajo",
        "donde hay un refugio",
        "me siento sola y con miedo",
        "menu",
        "quiero hablar con alguien",
        "escribeme manana",
    ],
}


def _screen_ordinary_messages() -> None:
    for example in load_examples("nlu"):
        assess(example.text)
        detect_language(example.text)


async def warm_up(runtime: Runtime) -> None:
    await asyncio.to_thread(_screen_ordinary_messages)
    for locale, texts in REHEARSAL.items():
        await runtime.pipeline.rehearse(texts, locale)
