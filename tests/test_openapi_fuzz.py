"""Property-based fuzzing of every public endpoint against the app's own OpenAPI document.

schemathesis reads /openapi.json from the ASGI app, generates requests from it
(valid ones and, in negative mode, invalid ones) and checks each response: never
a 5xx, a status code the operation declares, the declared content type, and a
body valid against the declared schema. Examples are bounded per operation so
the run stays well under a minute.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    ignored_auth,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.python.asgi import shutdown_lifespans

from bot.runtime import build_runtime
from bot.settings import Settings
from bot.web.app import create_app
from nlu.intents import IntentClassifier
from resources_kb.service import KnowledgeBase
from tests.conftest import make_settings

TOKEN = "fuzz-rest-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    ignored_auth,
]


def _lifespan(
    settings: Settings, kb: KnowledgeBase, intents: IntentClassifier | None
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """The app's runtime, built inside schemathesis's event loop with the cached models."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.runtime = await build_runtime(settings, kb=kb, intents=intents)
        try:
            yield
        finally:
            await app.state.runtime.close()

    return lifespan


@pytest.fixture
def app(tmp_path: Path, kb: KnowledgeBase, intents: IntentClassifier | None) -> Iterator[FastAPI]:
    settings_ = make_settings(tmp_path, REST_CHANNEL_ENABLED=True, REST_CHANNEL_TOKEN=TOKEN)
    app_ = create_app(settings_)
    app_.router.lifespan_context = _lifespan(settings_, kb, intents)
    try:
        yield app_
    finally:
        shutdown_lifespans()  # schemathesis started the lifespan on the first request.


# The document is the app's own; building the app does no I/O (the runtime comes with
# the lifespan). Loaded eagerly: schemathesis's lazy `from_fixture` does not run on pytest 9.
schema = schemathesis.openapi.from_dict(create_app(Settings()).openapi())


@schema.parametrize()
@settings(
    max_examples=50,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_public_api_survives_generated_input(app: FastAPI, case: schemathesis.Case) -> None:
    # This test's app, also for the checks that send their own probes (ignored_auth).
    case.operation.schema.app = app
    case.call_and_validate(base_url="http://testserver", app=app, headers=AUTH, checks=CHECKS)
