"""The counselor console's API through the real app: login, queue, claim, relay, close."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from bot.runtime import Runtime, build_runtime
from bot.storage.models import AuditEvent
from bot.web.app import create_app
from nlu.intents import IntentClassifier
from resources_kb.service import KnowledgeBase
from tests.conftest import Clock, make_settings
from tests.escalation.staff import PASSWORD, add_staff, form_token, log_in, use_cheap_hashing

SESSION = "survivor-session-0001"


@pytest.fixture
async def app_client(
    tmp_path: Path,
    kb: KnowledgeBase,
    intents: IntentClassifier | None,
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[tuple[httpx.AsyncClient, Runtime]]:
    use_cheap_hashing(monkeypatch)
    settings = make_settings(tmp_path)
    runtime = await build_runtime(settings, kb=kb, intents=intents, clock=clock)
    app = create_app(settings, runtime)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="https://test") as http,
    ):
        http.runtime = runtime  # type: ignore[attr-defined]  # For tests.escalation.staff.
        yield http, runtime
    await runtime.close()


async def survivor(http: httpx.AsyncClient, text: str, msg_id: str) -> dict[str, object]:
    response = await http.post("/api/chat", json={"session": SESSION, "id": msg_id, "text": text})
    return dict(response.json())


async def test_console_needs_login(app_client: tuple[httpx.AsyncClient, Runtime]) -> None:
    http, _ = app_client
    assert (await http.get("/console/api/queue")).status_code == 401
    page = await http.get("/console", headers={"accept": "text/html"})
    assert page.status_code == 303 and page.headers["location"] == "/console/login"


async def test_claim_chat_and_close_through_the_console(
    app_client: tuple[httpx.AsyncClient, Runtime],
) -> None:
    http, runtime = app_client
    counselor = await add_staff(runtime.db, "maria")
    csrf = await log_in(http, "maria")
    headers = {"X-CSRF-Token": csrf}
    assert (await http.post("/console/api/oncall", json={"on_call": True}, headers=headers)).json()

    await survivor(http, "/start", "1")
    async with runtime.bus.subscribe() as alarms:
        crisis = await survivor(http, "I have the pills in my hand", "2")
        assert "asking a counselor to join" in json.dumps(crisis)
        # The turn pages at once: the console hears the alarm and the page.
        heard = [await asyncio.wait_for(alarms.get(), 5) for _ in range(2)]
    assert [e["type"] for e in heard] == ["escalation.created", "page"]
    assert heard[1]["counselor_id"] == counselor.id
    assert await runtime.paging.run_once() == []  # Not paged twice.

    queue = (await http.get("/console/api/queue")).json()
    item = queue["items"][0]
    assert item["level"] == "imminent" and item["status"] == "paged"
    escalation = item["id"]

    # Without the CSRF token a state change is refused.
    refused = await http.post(f"/console/api/escalations/{escalation}/claim")
    assert refused.status_code == 403
    claim = await http.post(f"/console/api/escalations/{escalation}/claim", headers=headers)
    assert claim.status_code == 200

    joined = (await http.get("/api/chat/updates", params={"session": SESSION})).json()
    assert "A counselor is here now" in joined["messages"][0]["text"]
    relayed = await survivor(http, "thank you, I'm scared", "3")
    assert relayed["replies"] == []
    await http.post(
        f"/console/api/escalations/{escalation}/messages",
        json={"text": "I'm here with you.", "client_key": "a1"},
        headers=headers,
    )
    got = (await http.get("/api/chat/updates", params={"session": SESSION})).json()
    assert [m["text"] for m in got["messages"]] == ["I'm here with you."]

    await http.post(
        f"/console/api/escalations/{escalation}/notes", json={"text": "safe plan"}, headers=headers
    )
    detail = (await http.get(f"/console/api/escalations/{escalation}")).json()
    assert detail["excerpt"] == "I have the pills in my hand"
    assert [m["from"] for m in detail["messages"]] == ["survivor", "counselor"]
    assert detail["notes"][0]["text"] == "safe plan"
    async with runtime.db.sessions() as session:
        viewed = await session.scalar(
            select(AuditEvent).where(AuditEvent.action == "transcript.viewed")
        )
    assert viewed is not None and viewed.detail == {"escalation_id": escalation}

    bad = await http.post(
        f"/console/api/escalations/{escalation}/close", json={"disposition": "x"}, headers=headers
    )
    assert bad.status_code == 422
    closed = await http.post(
        f"/console/api/escalations/{escalation}/close",
        json={"disposition": "resolved"},
        headers=headers,
    )
    assert closed.status_code == 200
    bye = (await http.get("/api/chat/updates", params={"session": SESSION})).json()
    assert "has left this chat" in bye["messages"][0]["text"]
    assert (await http.get("/console/api/queue")).json()["items"] == []


async def test_a_counselor_cannot_read_another_counselors_conversation(
    app_client: tuple[httpx.AsyncClient, Runtime],
) -> None:
    http, runtime = app_client
    await add_staff(runtime.db, "ana")
    await add_staff(runtime.db, "bea")
    await survivor(http, "talk to a person", "1")
    csrf = await log_in(http, "ana")
    queue = (await http.get("/console/api/queue")).json()
    escalation = queue["items"][0]["id"]
    await http.post(f"/console/api/escalations/{escalation}/claim", headers={"X-CSRF-Token": csrf})
    await http.post("/console/logout", headers={"X-CSRF-Token": csrf})
    http.cookies.clear()
    await log_in(http, "bea")
    assert (await http.get("/console/api/queue")).json()["items"] == []
    assert (await http.get(f"/console/api/escalations/{escalation}")).status_code == 403


async def test_live_events_reach_the_console(
    app_client: tuple[httpx.AsyncClient, Runtime],
) -> None:
    http, runtime = app_client
    counselor = await add_staff(runtime.db, "maria")
    await log_in(http, "maria")
    async with runtime.bus.subscribe() as events:
        await survivor(http, "I want to kill myself tonight", "1")
        created = await asyncio.wait_for(events.get(), 2)
        assert created["type"] == "escalation.created"
    # The stream itself: the handler filters pages by counselor.
    from bot.web.console import _for

    assert _for(counselor, {"type": "page", "counselor_id": counselor.id})
    assert not _for(counselor, {"type": "page", "counselor_id": counselor.id + 1})


async def test_login_returns_to_the_staff_page_asked_for_and_nowhere_else(
    app_client: tuple[httpx.AsyncClient, Runtime],
) -> None:
    http, runtime = app_client
    await add_staff(runtime.db, "rita", "reviewer")
    asked = await http.get("/admin/stale", headers={"accept": "text/html"})
    assert asked.headers["location"] == "/console/login?next=/admin/stale"
    form = await http.get(asked.headers["location"])
    assert 'name="next" value="/admin/stale"' in form.text
    data = {"name": "rita", "password": PASSWORD, "csrf_token": form_token(form.text)}
    back = await http.post("/console/login", data={**data, "next": "/admin/stale"})
    assert back.status_code == 303 and back.headers["location"] == "/admin/stale"

    # Another site, or a scheme-relative '//host', is never a target: a reviewer lands
    # on the admin, where their work is.
    for evil in ("https://evil.example/", "//evil.example/admin", "/adminx"):
        http.cookies.clear()
        form = await http.get(f"/console/login?next={evil}")
        assert "evil" not in form.text
        data["csrf_token"] = form_token(form.text)
        landed = await http.post("/console/login", data={**data, "next": evil})
        assert landed.status_code == 303 and landed.headers["location"] == "/admin"
