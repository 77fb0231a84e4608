"""Intent and entity parsing: the built-in classifier, or a Rasa server with fallback.

The risk screen is not here on purpose: it always runs in-process, first,
whatever engine parses intents (see nlu.risk).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.types import Intent
from nlu.entities import extract_entities
from nlu.intents import IntentClassifier

__all__ = ["NluEngine", "RasaClient", "install_risk_model"]

log = logging.getLogger("harborline.nlu")


class RasaClient:
    """Asks a running Rasa server's `POST /model/parse` for the intent."""

    def __init__(self, base_url: str, timeout: float = 0.5) -> None:
        # Imported here: a server without a Rasa backend never loads httpx (about 7 MB).
        import httpx

        self.errors: tuple[type[Exception], ...] = (httpx.HTTPError, ValueError)
        self._http = httpx.AsyncClient(base_url=base_url.rstrip("/"), timeout=timeout)

    async def parse(self, text: str) -> Intent:
        response = await self._http.post("/model/parse", json={"text": text})
        response.raise_for_status()
        body: dict[str, Any] = response.json()
        intent = body.get("intent") or {}
        name = intent.get("name")
        if not isinstance(name, str) or not name:
            raise ValueError("Rasa answered without an intent")
        entities = tuple(
            {"entity": str(e.get("entity")), "value": e.get("value"), "text": e.get("value")}
            for e in body.get("entities") or []
            if isinstance(e, dict) and e.get("entity")
        )
        return Intent(name, float(intent.get("confidence") or 0.0), entities)

    async def close(self) -> None:
        await self._http.aclose()


def _utcnow() -> datetime:
    return datetime.now(UTC)


class NluEngine:
    def __init__(
        self,
        intents: IntentClassifier | None,
        rasa: RasaClient | None = None,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self.intents = intents
        self.rasa = rasa
        self.clock = clock

    def parse_builtin(self, text: str) -> Intent:
        entities = tuple(e.as_dict() for e in extract_entities(text, self.clock()))
        if self.intents is None:
            return Intent("unknown", 0.0, entities)
        intent = self.intents.classify(text)
        return Intent(intent.name, intent.confidence, entities)

    async def parse(self, text: str) -> Intent:
        builtin = self.parse_builtin(text)
        if self.rasa is None:
            return builtin
        try:
            remote = await self.rasa.parse(text)
        except self.rasa.errors as exc:
            log.warning("rasa unavailable, using the built-in engine: %s", type(exc).__name__)
            return builtin
        # Our places and times are normalised (US-TX, ISO times); keep them, add Rasa's others.
        ours = {e["entity"] for e in builtin.entities}
        extra = tuple(e for e in remote.entities if e["entity"] not in ours)
        return Intent(remote.name, remote.confidence, builtin.entities + extra)

    async def close(self) -> None:
        if self.rasa is not None:
            await self.rasa.close()


def install_risk_model(cache_dir: Path) -> None:
    """The trained risk layer on top of the lexicon; without it the lexicon works alone.

    Trained in a child process when missing, so a server never carries scikit-learn.
    The shared screen's compiled lexicon patterns are kept in ``cache_dir`` too.
    """
    from nlu.risk import default_screen, use_model
    from nlu.risk import model as risk_model

    if default_screen(cache_dir).model is not None:
        return  # Already installed (tests and scripted chats share one).
    model = risk_model.load_or_train(cache_dir, in_subprocess=True)
    if model is not None:
        use_model(model)
