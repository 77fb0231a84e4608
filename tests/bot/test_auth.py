"""Staff log-in, sessions and CSRF through the real ASGI app (SQLite and PostgreSQL)."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Annotated, Any

import httpx
import pytest
from fastapi import APIRouter, Depends
from sqlalchemy import select

from bot.runtime import Runtime, build_runtime
from bot.storage.models import AuditEvent
from bot.web.app import create_app
from bot.web.auth import Staff, StaffRoute, require_role
from escalation.accounts import LOCK_AFTER
from escalation.models import Counselor, StaffSession
from nlu.intents import IntentClassifier
from resources_kb.service import KnowledgeBase
from tests.conftest import Clock, make_settings
from tests.escalation.staff import (
    PASSWORD,
    add_staff,
    form_token,
    log_in,
    use_cheap_hashing,
)

GENERIC = "Name or password not right."
LATER = "try again later"

# Probe routes standing in for the console: what current_staff and require_role protect.
probe = APIRouter(route_class=StaffRoute)


@probe.get("/console/probe")
async def probe_read(staff: Staff) -> dict[str, str]:
    return {"name": staff.name}


@probe.post("/console/probe")
async def probe_change(staff: Staff) -> dict[str, str]:
    return {"changed_by": staff.name}


@probe.post("/console/probe/admin")
async def probe_admin(
    staff: Annotated[Counselor, Depends(require_role("admin", "supervisor"))],
) -> dict[str, str]:
    return {"admin": staff.name}


@pytest.fixture(autouse=True)
def _cheap_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    use_cheap_hashing(monkeypatch)


@pytest.fixture
async def make_client(
    tmp_path: Path,
    backend: tuple[str, str],
    kb: KnowledgeBase,
    intents: IntentClassifier | None,
    clock: Clock,
) -> AsyncIterator[Callable[..., Any]]:
    """Apps over one database (each with its own runtime and settings), closed at the end."""
    opened: list[tuple[Runtime, httpx.AsyncClient, Any]] = []
    database_url, redis_url = backend

    async def build(base_url: str = "http://test", **extra: object) -> httpx.AsyncClient:
        settings = make_settings(tmp_path, database_url, redis_url, **extra)
        runtime = await build_runtime(settings, kb=kb, intents=intents, clock=clock)
        app = create_app(settings, runtime)
        app.include_router(probe)
        lifespan = app.router.lifespan_context(app)
        await lifespan.__aenter__()
        http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=base_url)
        http.runtime = runtime  # type: ignore[attr-defined]
        opened.append((runtime, http, lifespan))
        return http

    yield build
    for runtime, http, lifespan in reversed(opened):
        await http.aclose()
        await lifespan.__aexit__(None, None, None)
        await runtime.close()


@pytest.fixture
async def client(make_client: Callable[..., Any], clock: Clock) -> httpx.AsyncClient:
    http: httpx.AsyncClient = await make_client()
    await add_staff(rt(http).db, "alice", now=clock())
    return http


def rt(http: httpx.AsyncClient) -> Runtime:
    runtime: Runtime = http.runtime  # type: ignore[attr-defined]
    return runtime


async def post_login(
    http: httpx.AsyncClient, name: str, password: str, token: str | None = None
) -> httpx.Response:
    if token is None:
        token = form_token((await http.get("/console/login")).text)
    return await http.post(
        "/console/login", data={"name": name, "password": password, "csrf_token": token}
    )


def set_cookie(response: httpx.Response, name: str) -> str:
    headers = [h for h in response.headers.get_list("set-cookie") if h.startswith(f"{name}=")]
    assert len(headers) == 1, response.headers.get_list("set-cookie")
    return headers[0]


async def sessions(http: httpx.AsyncClient) -> list[StaffSession]:
    async with rt(http).db.sessions() as session:
        return list((await session.execute(select(StaffSession))).scalars())


async def audit_actions(http: httpx.AsyncClient) -> list[tuple[str, str]]:
    async with rt(http).db.sessions() as session:
        rows = await session.execute(select(AuditEvent).order_by(AuditEvent.id))
        return [(e.actor, e.action) for e in rows.scalars()]


async def test_the_login_page(client: httpx.AsyncClient) -> None:
    page = await client.get("/console/login")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert '<form method="post" action="/console/login"' in page.text
    assert 'name="name"' in page.text and 'type="password"' in page.text
    token = form_token(page.text)
    assert f'<meta name="csrf-token" content="{token}">' in page.text
    assert "http://" not in page.text and "https://" not in page.text  # nothing third-party
    assert page.headers["cache-control"] == "no-store"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    cookie = set_cookie(page, "hl_login")
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/console/login" in cookie
    assert "/console/login" not in (await client.get("/openapi.json")).text


async def test_login_sets_a_strict_session_cookie(client: httpx.AsyncClient) -> None:
    response = await post_login(client, "Alice", PASSWORD)
    assert response.status_code == 303
    assert response.headers["location"] == "/console"
    cookie = set_cookie(response, "hl_staff")
    token = cookie.split(";")[0].split("=", 1)[1]
    assert len(token) >= 43
    flags = [part.strip() for part in cookie.split(";")[1:]]
    assert "HttpOnly" in flags and "SameSite=strict" in flags and "Path=/" in flags
    assert "Secure" not in flags  # plain http, COOKIE_SECURE unset
    assert not any(f.lower().startswith(("max-age", "expires")) for f in flags)
    [stored] = await sessions(client)
    assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()  # never the token
    assert (stored.expires_at - stored.created_at).total_seconds() == 12 * 3600
    assert (await client.get("/console/probe")).json() == {"name": "alice"}
    assert ("alice", "login.succeeded") in await audit_actions(client)


@pytest.mark.parametrize(
    ("base_url", "extra"),
    [("https://test", {}), ("http://test", {"COOKIE_SECURE": True})],
)
async def test_secure_cookies_on_https_or_when_configured(
    make_client: Callable[..., Any], clock: Clock, base_url: str, extra: dict[str, object]
) -> None:
    http: httpx.AsyncClient = await make_client(base_url, **extra)
    await add_staff(rt(http).db, "alice", now=clock())
    page = await http.get("/console/login")
    assert "Secure" in set_cookie(page, "hl_login")
    # A browser sends Secure cookies only over https; the test hands it over itself.
    token = form_token(page.text)
    http.cookies.clear()
    http.cookies.set("hl_login", token)
    response = await http.post(
        "/console/login", data={"name": "alice", "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 303
    assert "Secure" in [p.strip() for p in set_cookie(response, "hl_staff").split(";")]


async def test_wrong_password_and_unknown_name_look_the_same(client: httpx.AsyncClient) -> None:
    wrong = await post_login(client, "alice", "not the password, sorry")
    unknown = await post_login(client, "mallory", PASSWORD)
    for response in (wrong, unknown):
        assert response.status_code == 401
        assert GENERIC in response.text
        assert LATER not in response.text
        assert "hl_staff" not in response.headers.get("set-cookie", "")
        assert PASSWORD not in response.text and "not the password" not in response.text
    assert wrong.text.replace('value="alice"', "") == unknown.text.replace(
        'value="mallory"', ""
    ).replace(form_token(unknown.text), form_token(wrong.text))
    assert await sessions(client) == []


async def test_lock_out_and_release_with_the_clock(client: httpx.AsyncClient, clock: Clock) -> None:
    for _ in range(LOCK_AFTER - 1):
        assert LATER not in (await post_login(client, "alice", "wrong wrong wrong")).text
    locking = await post_login(client, "alice", "wrong wrong wrong")
    assert locking.status_code == 401 and GENERIC in locking.text and LATER in locking.text
    refused = await post_login(client, "alice", PASSWORD)
    assert refused.status_code == 401 and LATER in refused.text
    clock.advance(minutes=15)
    assert (await post_login(client, "alice", PASSWORD)).status_code == 303
    actions = await audit_actions(client)
    assert ("alice", "account.locked") in actions and actions[-1] == ("alice", "login.succeeded")


async def test_the_login_form_needs_its_own_token(client: httpx.AsyncClient) -> None:
    missing = await client.post("/console/login", data={"name": "alice", "password": PASSWORD})
    assert missing.status_code == 400 and "open too long" in missing.text
    await client.get("/console/login")  # a cookie, but a forged form value
    forged = await post_login(client, "alice", PASSWORD, token="attacker-chosen")
    assert forged.status_code == 400
    assert await sessions(client) == []


@pytest.mark.parametrize(
    "body",
    [
        {"content": b'{"name": "alice"}', "headers": {"content-type": "application/json"}},
        {"content": b"name=alice&password=", "headers": {"content-type": "text/plain"}},
        {"files": {"name": ("n.txt", b"alice")}, "data": {"password": PASSWORD}},
    ],
)
async def test_odd_login_bodies_are_refused_politely(
    client: httpx.AsyncClient, body: dict[str, Any]
) -> None:
    await client.get("/console/login")
    response = await client.post("/console/login", **body)
    assert response.status_code == 400


async def test_csrf_is_required_for_every_change(client: httpx.AsyncClient) -> None:
    csrf = await log_in(client, "alice")
    assert (await client.post("/console/probe")).status_code == 403
    wrong = await client.post("/console/probe", headers={"X-CSRF-Token": "x" * 43})
    assert wrong.status_code == 403 and wrong.json() == {"error": "csrf token missing or wrong"}
    by_header = await client.post("/console/probe", headers={"X-CSRF-Token": csrf})
    assert by_header.json() == {"changed_by": "alice"}
    by_form = await client.post("/console/probe", data={"csrf_token": csrf})
    assert by_form.json() == {"changed_by": "alice"}
    assert (await client.get("/console/probe")).status_code == 200  # reads need none


async def test_csrf_tokens_belong_to_one_session(
    make_client: Callable[..., Any], clock: Clock
) -> None:
    first: httpx.AsyncClient = await make_client()
    second: httpx.AsyncClient = await make_client()
    await add_staff(rt(first).db, "alice", now=clock())
    await add_staff(rt(first).db, "bob", now=clock())
    alice_csrf = await log_in(first, "alice")
    await log_in(second, "bob")
    stolen = await second.post("/console/probe", headers={"X-CSRF-Token": alice_csrf})
    assert stolen.status_code == 403


async def test_without_a_session(client: httpx.AsyncClient) -> None:
    api = await client.get("/console/probe")
    assert api.status_code == 401 and api.json() == {"error": "login required"}
    page = await client.get("/console/probe", headers={"accept": "text/html,*/*"})
    assert page.status_code == 303
    assert page.headers["location"] == "/console/login?next=/console/probe"
    client.cookies.set("hl_staff", "made-up-token")
    assert (await client.post("/console/probe", headers={"X-CSRF-Token": "x"})).status_code == 401
    client.cookies.set("hl_staff", "x" * 5000)
    assert (await client.get("/console/probe")).status_code == 401


async def test_roles(client: httpx.AsyncClient, clock: Clock) -> None:
    await add_staff(rt(client).db, "sam", role="supervisor", now=clock())
    csrf = await log_in(client, "alice")
    denied = await client.post("/console/probe/admin", headers={"X-CSRF-Token": csrf})
    assert denied.status_code == 403
    csrf = await log_in(client, "sam")
    allowed = await client.post("/console/probe/admin", headers={"X-CSRF-Token": csrf})
    assert allowed.json() == {"admin": "sam"}
    with pytest.raises(ValueError, match="roles"):
        require_role("superuser")


async def test_logout(client: httpx.AsyncClient) -> None:
    csrf = await log_in(client, "alice")
    assert (await client.post("/console/logout")).status_code == 403  # no CSRF token
    assert len(await sessions(client)) == 1
    response = await client.post("/console/logout", data={"csrf_token": csrf})
    assert response.status_code == 303 and response.headers["location"] == "/console/login"
    assert 'hl_staff=""' in set_cookie(response, "hl_staff")
    assert await sessions(client) == []
    assert (await client.get("/console/probe")).status_code == 401
    assert ("alice", "logout") in await audit_actions(client)
    # Logging out again (no session) just clears the cookie.
    assert (await client.post("/console/logout")).status_code == 303


async def test_a_new_login_replaces_the_old_session(client: httpx.AsyncClient) -> None:
    await log_in(client, "alice")
    await log_in(client, "alice")
    assert len(await sessions(client)) == 1


async def test_sessions_expire_after_twelve_idle_hours(
    client: httpx.AsyncClient, clock: Clock
) -> None:
    await log_in(client, "alice")
    clock.advance(hours=11, minutes=59)
    assert (await client.get("/console/probe")).status_code == 200  # and moves the expiry on
    clock.advance(hours=11, minutes=59)
    assert (await client.get("/console/probe")).status_code == 200
    clock.advance(hours=12)
    assert (await client.get("/console/probe")).status_code == 401
    assert await sessions(client) == []  # the expired row is gone


async def test_sessions_end_24_hours_after_login_however_active(
    client: httpx.AsyncClient, clock: Clock
) -> None:
    await log_in(client, "alice")
    for _ in range(3):
        clock.advance(hours=7, minutes=59)
        assert (await client.get("/console/probe")).status_code == 200
    clock.advance(minutes=3)  # 24 h 0 min after log-in, 3 minutes idle
    assert (await client.get("/console/probe")).status_code == 401


async def test_deactivation_ends_the_session(client: httpx.AsyncClient, clock: Clock) -> None:
    from escalation.accounts import deactivate, find_account

    await log_in(client, "alice")
    async with rt(client).db.sessions() as session, session.begin():
        alice = await find_account(session, "alice")
        assert alice is not None
        await deactivate(session, alice, clock(), actor="admin")
    assert (await client.get("/console/probe")).status_code == 401
