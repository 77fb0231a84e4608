"""Helpers for tests that need staff accounts and a logged-in console client.

await add_staff(runtime.db, "alice", role="supervisor")
csrf = await log_in(http, "alice")        # the client now carries hl_staff
await http.post("/console/...", headers={"X-CSRF-Token": csrf})
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import httpx
import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from bot.storage.db import Database
from escalation import accounts
from escalation.models import Counselor, StaffSession

PASSWORD = "correct horse battery staple"
# Real parameters cost ~0.5 s a hash here; tests use the cheapest argon2id.
CHEAP = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


def use_cheap_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(accounts, "HASHER", CHEAP)


async def add_staff(
    db: Database,
    name: str,
    role: str = "counselor",
    password: str = PASSWORD,
    now: datetime | None = None,
) -> Counselor:
    async with db.sessions() as session, session.begin():
        return await accounts.create_account(
            session, name, password, role, now or datetime.now(UTC), actor="test"
        )


def form_token(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no csrf_token field in the page"
    return match.group(1)


async def log_in(http: httpx.AsyncClient, name: str, password: str = PASSWORD) -> str:
    """Log in through the real form; returns the session's CSRF token."""
    page = await http.get("/console/login")
    response = await http.post(
        "/console/login",
        data={"name": name, "password": password, "csrf_token": form_token(page.text)},
    )
    assert response.status_code == 303, response.text
    return await session_csrf(http, name)


async def session_csrf(http: httpx.AsyncClient, name: str) -> str:
    """The CSRF token of the newest session of ``name`` (read from the database)."""
    db: Database = http.runtime.db  # type: ignore[attr-defined]
    async with db.sessions() as session:
        token = await session.scalar(
            select(StaffSession.csrf_token)
            .join(Counselor, Counselor.id == StaffSession.counselor_id)
            .where(Counselor.name == name)
            .order_by(StaffSession.id.desc())
        )
    assert token is not None
    return token
