"""The web chat and health endpoints through the real ASGI app."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from bot.runtime import Runtime
from bot.storage.models import InboxItem
from bot.web.app import ChatFastPath, create_app
from nlu.intents import IntentClassifier
from resources_kb.service import KnowledgeBase
from tests.conftest import Clock, make_settings

SESSION = "s" * 24


@pytest.fixture
async def client(
    tmp_path: Path, kb: KnowledgeBase, intents: IntentClassifier | None, clock: Clock
) -> AsyncIterator[httpx.AsyncClient]:
    from bot.runtime import build_runtime

    settings = make_settings(tmp_path)
    runtime = await build_runtime(settings, kb=kb, intents=intents, clock=clock)
    app = create_app(settings, runtime)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://test") as http,
    ):
        http.runtime = runtime  # type: ignore[attr-defined]
        yield http
    await runtime.close()


def frame(text: str, msg_id: str = "1", session: str = SESSION) -> dict[str, str]:
    return {"session": session, "id": msg_id, "text": text}


async def test_chat_page_is_served_without_third_party_requests(client: httpx.AsyncClient) -> None:
    page = await client.get("/")
    assert page.status_code == 200
    assert "Exit" in page.text
    assert "http://" not in page.text.replace('data-url="https://', "")
    assert "cdn" not in page.text.lower()
    script = await client.get("/static/chat.js")
    assert script.status_code == 200 and "sessionStorage" in script.text


async def test_health_and_readiness(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": "ok"}


async def test_readiness_fails_when_the_database_is_gone(client: httpx.AsyncClient) -> None:
    runtime: Runtime = client.runtime  # type: ignore[attr-defined]
    original = runtime.db.ping

    async def broken() -> None:
        raise OSError("gone")

    runtime.db.ping = broken  # type: ignore[method-assign]
    try:
        response = await client.get("/readyz")
    finally:
        runtime.db.ping = original  # type: ignore[method-assign]
    assert response.status_code == 503
    assert response.json()["checks"]["database"] == "unreachable"


async def test_a_conversation_over_http(client: httpx.AsyncClient) -> None:
    first = await client.post("/api/chat", json=frame("/start", "1"))
    assert first.status_code == 200
    body = first.json()
    assert "automated assistant" in body["replies"][0]["text"]
    assert body["replies"][-1]["choices"][0]["value"] == "/yes"
    crisis = await client.post("/api/chat", json=frame("i want to end my life tonight", "2"))
    assert crisis.status_code == 200
    assert "911" in crisis.json()["replies"][0]["text"]


async def test_retry_with_the_same_id_returns_the_same_replies(client: httpx.AsyncClient) -> None:
    await client.post("/api/chat", json=frame("/start", "1"))
    one = await client.post("/api/chat", json=frame("help", "2"))
    two = await client.post("/api/chat", json=frame("help", "2"))
    assert one.json()["replies"] == two.json()["replies"]
    assert two.json()["status"] == "duplicate"


async def test_quick_exit_tells_the_page_to_leave(client: httpx.AsyncClient) -> None:
    await client.post("/api/chat", json=frame("/start", "1"))
    body = (await client.post("/api/chat", json=frame("/exit", "2"))).json()
    assert body["exit"] is True


@pytest.mark.parametrize(
    "payload",
    [
        b"{not json",
        b"[]",
        b'{"session": "short", "id": "1", "text": "hi"}',
        b'{"session": "' + b"s" * 24 + b'", "id": "1"}',
        b'{"session": "' + b"s" * 24 + b'", "id": "../../etc", "text": "hi"}',
        b'{"session": "' + b"s" * 24 + b'", "id": "1", "text": 5}',
        b'{"session": "' + b"s" * 24 + b'", "id": "1", "text": "\xff\xfe bad utf8"}',
    ],
)
async def test_malformed_frames_get_a_clear_4xx(client: httpx.AsyncClient, payload: bytes) -> None:
    response = await client.post(
        "/api/chat", content=payload, headers={"content-type": "application/json"}
    )
    assert 400 <= response.status_code < 500
    assert "error" in response.json()


async def test_oversized_body_is_refused_before_reading(client: httpx.AsyncClient) -> None:
    huge = {"session": SESSION, "id": "1", "text": "a" * 100_000}
    response = await client.post("/api/chat", json=huge)
    assert response.status_code == 413


async def test_long_but_allowed_message_gets_a_kind_reply(client: httpx.AsyncClient) -> None:
    await client.post("/api/chat", json=frame("/start", "1"))
    response = await client.post("/api/chat", json=frame("please help " * 500, "2"))
    assert response.status_code == 200
    assert "long message" in " ".join(r["text"] for r in response.json()["replies"])


async def test_flooding_gets_429_with_a_kind_text(client: httpx.AsyncClient) -> None:
    runtime: Runtime = client.runtime  # type: ignore[attr-defined]
    codes = []
    for i in range(runtime.settings.rate_limit_per_minute + 2):
        response = await client.post("/api/chat", json=frame("hello", f"f{i}"))
        codes.append(response.status_code)
    assert codes[-1] == 429
    assert "wait a moment" in response.json()["replies"][0]["text"]


async def test_unknown_route_is_a_json_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/nope")
    assert response.status_code == 404 and response.json() == {"error": "Not Found"}


# -- the fast path past the router -------------------------------------------------------------

MakeClient = Callable[[str], Awaitable[httpx.AsyncClient]]


@pytest.fixture
async def make_client(
    tmp_path: Path, kb: KnowledgeBase, intents: IntentClassifier | None, clock: Clock
) -> AsyncIterator[MakeClient]:
    """Apps with equal settings, each with its own database; ``"routed"`` has no fast path."""
    from bot.runtime import build_runtime

    async with contextlib.AsyncExitStack() as stack:

        async def make(kind: str) -> httpx.AsyncClient:
            (tmp_path / kind).mkdir()
            settings = make_settings(tmp_path / kind)
            runtime = await build_runtime(settings, kb=kb, intents=intents, clock=clock)
            stack.push_async_callback(runtime.close)
            app = create_app(settings, runtime)
            if kind == "routed":  # Before the first request builds the middleware stack.
                app.user_middleware = [m for m in app.user_middleware if m.cls is not ChatFastPath]
            if kind == "no route":
                app.router.routes = [r for r in app.routes if getattr(r, "path", "") != "/api/chat"]
            await stack.enter_async_context(app.router.lifespan_context(app))
            transport = httpx.ASGITransport(app=app)
            http = await stack.enter_async_context(
                httpx.AsyncClient(transport=transport, base_url="http://test")
            )
            http.runtime = runtime  # type: ignore[attr-defined]
            return http

        yield make


async def inbox(http: httpx.AsyncClient) -> list[tuple[str, str, str]]:
    runtime: Runtime = http.runtime  # type: ignore[attr-defined]
    async with runtime.db.sessions() as session:
        rows = await session.execute(
            select(InboxItem.channel, InboxItem.provider_id, InboxItem.status).order_by(
                InboxItem.id
            )
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


JSON = {"content-type": "application/json"}
S = b'"session": "' + SESSION.encode() + b'"'


@pytest.mark.parametrize(
    ("body", "headers"),
    [
        (b"{" + S + b', "id": "1", "text": "hi"}', JSON),
        (b"{" + S + b', "id": "2", "text": "I want to die tonight"}', JSON),
        (b"{" + S + b', "id": "3", "text": "hola", "locale": "es", "extra": 1}', JSON),
        (
            b"{" + S + b', "id": "4", "text": "hi"}',
            {"content-type": "application/json; charset=utf-8"},
        ),
        (b"{" + S + b', "id": "5", "text": "hi"}', {}),  # No content type.
        (b"{" + S + b', "id": "6", "text": "hi"}', {"content-type": "text/plain"}),
        (b"{" + S + b', "id": "7", "text": "hi", "locale": "fr"}', JSON),
        (b"{" + S + b', "id": "8", "text": "a\\ud800b"}', JSON),  # A lone surrogate.
        (b"{" + S + b', "id": "../x", "text": "hi"}', JSON),
        (b"{" + S + b', "id": "9"}', JSON),
        (b"{not json", JSON),
        (b"[]", JSON),
        (b"", JSON),
    ],
)
async def test_the_chat_fast_path_answers_as_the_routed_endpoint_does(
    make_client: MakeClient, body: bytes, headers: dict[str, str]
) -> None:
    fast = await make_client("fast")
    routed = await make_client("routed")
    by_fast_path = await fast.post("/api/chat", content=body, headers=headers)
    by_router = await routed.post("/api/chat", content=body, headers=headers)
    assert by_fast_path.status_code == by_router.status_code
    assert by_fast_path.json() == by_router.json()
    assert by_fast_path.headers["content-type"] == by_router.headers["content-type"]
    assert await inbox(fast) == await inbox(routed)


async def test_a_valid_frame_never_reaches_the_router(make_client: MakeClient) -> None:
    bare = await make_client("no route")
    answered = await bare.post("/api/chat", json=frame("hi"))
    assert answered.status_code == 200 and answered.json()["replies"]
    # What the fast path hands on finds no route there.
    refused = await bare.post("/api/chat", json={"session": SESSION, "id": "2"})
    assert refused.status_code in (404, 405)
    assert len(await inbox(bare)) == 1


async def test_a_retry_through_the_fast_path_is_answered_from_the_store(
    make_client: MakeClient,
) -> None:
    fast = await make_client("fast")
    first = await fast.post("/api/chat", json=frame("I want to die tonight", "r1"))
    again = await fast.post("/api/chat", json=frame("I want to die tonight", "r1"))
    assert first.status_code == again.status_code == 200
    assert again.json()["replies"] == first.json()["replies"]
    assert len(await inbox(fast)) == 1


async def test_only_a_post_to_the_exact_chat_path_takes_the_fast_path(
    client: httpx.AsyncClient,
) -> None:
    assert (await client.get("/api/chat")).status_code == 405
    assert (await client.put("/api/chat", json=frame("hi"))).status_code == 405
    slash = await client.post("/api/chat/", json=frame("hi"))
    assert slash.status_code in (307, 404)  # The router's answer, not a turn.
    assert await inbox(client) == []


async def test_a_huge_chunked_frame_is_answered_as_the_router_does(make_client: MakeClient) -> None:
    # No Content-Length, so only a limit on what is read can stop it.
    body = b"{" + S + b', "id": "big", "text": "' + b"a" * 200_000 + b'"}'

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 8192):
            yield body[start : start + 8192]

    fast = await make_client("fast")
    routed = await make_client("routed")
    by_fast_path = await fast.post("/api/chat", content=chunks(), headers=JSON)
    by_router = await routed.post("/api/chat", content=chunks(), headers=JSON)
    assert by_fast_path.status_code == by_router.status_code
    assert 400 <= by_fast_path.status_code < 500
    assert by_fast_path.json() == by_router.json()
    assert await inbox(fast) == await inbox(routed) == []
