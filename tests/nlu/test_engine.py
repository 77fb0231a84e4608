"""The Rasa backend, against a local fake Rasa server over real HTTP."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator

import pytest
import uvicorn
from fastapi import FastAPI, Request

from nlu.engine import NluEngine, RasaClient
from nlu.intents import IntentClassifier


class FakeRasa:
    """Speaks Rasa's `POST /model/parse`; can be told to be slow or broken."""

    def __init__(self) -> None:
        self.mode = "ok"
        self.calls: list[str] = []
        self.app = FastAPI()

        @self.app.post("/model/parse")
        async def parse(request: Request) -> dict[str, object]:
            body = await request.json()
            self.calls.append(body["text"])
            if self.mode == "slow":
                await asyncio.sleep(2)
            if self.mode == "broken":
                raise RuntimeError("model not loaded")
            return {
                "text": body["text"],
                "intent": {"name": "ask_legal", "confidence": 0.91},
                "entities": [{"entity": "court", "value": "family court", "start": 0, "end": 5}],
            }


@pytest.fixture(scope="module")
def fake_rasa() -> Iterator[tuple[FakeRasa, str]]:
    fake = FakeRasa()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(fake.app, host="127.0.0.1", port=port, log_level="error")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        threading.Event().wait(0.02)
    yield fake, f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=5)


async def test_rasa_intent_is_used_and_our_entities_kept(
    fake_rasa: tuple[FakeRasa, str], intents: IntentClassifier | None
) -> None:
    fake, url = fake_rasa
    fake.mode = "ok"
    engine = NluEngine(intents, RasaClient(url, timeout=1.0))
    intent = await engine.parse("i need a lawyer in Texas")
    await engine.close()
    assert intent.name == "ask_legal" and intent.confidence == pytest.approx(0.91)
    kinds = {e["entity"]: e["value"] for e in intent.entities}
    assert kinds["location"] == "US-TX"  # Ours, normalised.
    assert kinds["court"] == "family court"  # Rasa's extra entity.
    assert fake.calls[-1] == "i need a lawyer in Texas"


@pytest.mark.parametrize("mode", ["slow", "broken"])
async def test_rasa_timeout_or_error_falls_back_to_builtin(
    fake_rasa: tuple[FakeRasa, str], intents: IntentClassifier | None, mode: str
) -> None:
    fake, url = fake_rasa
    fake.mode = mode
    engine = NluEngine(intents, RasaClient(url, timeout=0.2))
    intent = await engine.parse("where can i sleep tonight")
    await engine.close()
    assert intent.name == "ask_shelter"


async def test_rasa_not_running_falls_back_to_builtin(intents: IntentClassifier | None) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # Nothing listens here once closed.
    engine = NluEngine(intents, RasaClient(f"http://127.0.0.1:{port}", timeout=0.2))
    intent = await engine.parse("borra mis datos")
    await engine.close()
    assert intent.name == "forget_me"
