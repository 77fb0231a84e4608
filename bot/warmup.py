"""Warm a serving process before it takes traffic.

Much of a turn is built on first use: statements compiled for this database,
dialog texts loaded, the language detector built. Each first use costs 10 to
40 ms, and a burst of survivors arriving at a fresh server would queue behind
them. So a serving process (`create_app(..., serving=True)`) rehearses one
conversation per language that is rolled back (`Pipeline.rehearse`): nothing
is kept, sent, published or paged. The memory this builds (the language
detector's models, about 13 MB, above all) a server would build on its first
messages anyway; it now shows in the resident size measured after start.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging

from sqlalchemy.exc import SQLAlchemyError

from bot.runtime import Runtime

__all__ = ["REHEARSAL", "release_free_memory", "warm_up"]

log = logging.getLogger("harborline.warmup")

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


async def warm_up(runtime: Runtime) -> None:
    """Rehearse; a failure (the database not reachable yet) only costs the warm-up."""
    try:
        for locale, texts in REHEARSAL.items():
            await runtime.pipeline.rehearse(texts, locale)
    except (SQLAlchemyError, OSError, TimeoutError) as exc:
        log.warning("warm-up skipped: %s", type(exc).__name__)


def release_free_memory() -> bool:
    """Give the C allocator's free pages back to the system (glibc's ``malloc_trim``).

    Start-up frees a lot (training data read, index temporaries, the rehearsal),
    and glibc keeps freed memory in its heaps for reuse: about 5 MB a server
    would hold all its life. Returns False where there is no glibc (musl, macOS).
    """
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    trim = getattr(ctypes.CDLL(name), "malloc_trim", None)
    if trim is None:
        return False
    trim(0)
    return True
