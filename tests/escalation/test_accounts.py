"""Staff accounts on SQLite and PostgreSQL: hashing, lock-out, audit rows."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from bot.storage.db import Database
from bot.storage.models import AuditEvent
from escalation import accounts
from escalation.accounts import (
    LOCK_AFTER,
    LOCK_FOR,
    AccountError,
    authenticate,
    check_login,
    create_account,
    deactivate,
    find_account,
    set_on_call,
    unlock,
)
from escalation.models import Counselor, StaffSession
from tests.conftest import Clock
from tests.escalation.staff import CHEAP, PASSWORD, add_staff

WRONG = "not the right password at all"


async def _login(db: Database, name: str, password: str, clock: Clock) -> accounts.LoginResult:
    async with db.sessions() as session, session.begin():
        return await check_login(session, name, password, clock())


async def _audit(db: Database) -> list[AuditEvent]:
    async with db.sessions() as session:
        return list((await session.execute(select(AuditEvent).order_by(AuditEvent.id))).scalars())


async def _account(db: Database, name: str) -> Counselor:
    async with db.sessions() as session:
        counselor = await find_account(session, name)
    assert counselor is not None
    return counselor


async def test_create_stores_only_an_argon2id_hash(db: Database, clock: Clock) -> None:
    created = await add_staff(db, "Alice.Smith", role="supervisor", now=clock())
    assert created.name == "alice.smith"  # names are case-insensitive
    stored = await _account(db, "ALICE.smith")
    assert stored.password_hash.startswith("$argon2id$")
    assert PASSWORD not in stored.password_hash
    assert (stored.role, stored.active, stored.on_call, stored.failed_logins) == (
        "supervisor",
        True,
        False,
        0,
    )
    events = await _audit(db)
    assert [(e.actor, e.action, e.detail) for e in events] == [
        ("test", "account.created", {"account": "alice.smith", "role": "supervisor"})
    ]


@pytest.mark.parametrize(
    ("name", "password", "role", "message"),
    [
        ("al", PASSWORD, "counselor", "3-64 characters"),
        ("a" * 65, PASSWORD, "counselor", "3-64 characters"),
        ("alice smith", PASSWORD, "counselor", "3-64 characters"),
        ("alice\n", PASSWORD, "counselor", "3-64 characters"),
        ("álice", PASSWORD, "counselor", "3-64 characters"),
        ("alice", "eleven char", "counselor", "at least 12"),
        ("alice", "x" * 1025, "counselor", "at most 1024"),
        ("alice", PASSWORD, "root", "role must be one of"),
    ],
)
async def test_create_refuses_bad_input(
    db: Database, clock: Clock, name: str, password: str, role: str, message: str
) -> None:
    async with db.sessions() as session, session.begin():
        with pytest.raises(AccountError, match=message) as caught:
            await create_account(session, name, password, role, clock())
    assert password not in str(caught.value)


async def test_names_are_unique_whatever_the_case(db: Database, clock: Clock) -> None:
    await add_staff(db, "alice", now=clock())
    with pytest.raises(AccountError, match="exists already"):
        await add_staff(db, "ALICE", now=clock())


async def test_right_password_logs_in_and_is_audited(db: Database, clock: Clock) -> None:
    await add_staff(db, "alice", now=clock())
    async with db.sessions() as session, session.begin():
        counselor = await authenticate(session, "Alice", PASSWORD, clock())
    assert counselor is not None and counselor.name == "alice"
    assert (await _audit(db))[-1].action == "login.succeeded"
    assert (await _audit(db))[-1].actor == "alice"


async def test_five_failures_lock_for_fifteen_minutes(db: Database, clock: Clock) -> None:
    await add_staff(db, "alice", now=clock())
    for attempt in range(1, LOCK_AFTER):
        result = await _login(db, "alice", WRONG, clock)
        assert result == accounts.LoginResult(None, locked=False)
        assert (await _account(db, "alice")).failed_logins == attempt
    fifth = await _login(db, "alice", WRONG, clock)
    assert fifth.counselor is None and fifth.locked
    locked = await _account(db, "alice")
    assert locked.locked_until == clock() + LOCK_FOR

    # Locked: even the right password is refused, and the refusal does not extend the lock.
    clock.advance(minutes=14, seconds=59)
    refused = await _login(db, "alice", PASSWORD, clock)
    assert refused.counselor is None and refused.locked
    assert (await _account(db, "alice")).locked_until == locked.locked_until

    clock.advance(seconds=1)
    result = await _login(db, "alice", PASSWORD, clock)
    assert result.counselor is not None and not result.locked
    after = await _account(db, "alice")
    assert (after.failed_logins, after.locked_until) == (0, None)

    actions = [e.action for e in await _audit(db)]
    assert actions.count("login.failed") == LOCK_AFTER + 1
    assert actions.count("account.locked") == 1
    assert actions[-1] == "login.succeeded"
    reasons = [e.detail.get("reason") for e in await _audit(db) if e.action == "login.failed"]
    assert reasons == ["password"] * LOCK_AFTER + ["locked"]


async def test_success_resets_the_failure_count(db: Database, clock: Clock) -> None:
    await add_staff(db, "alice", now=clock())
    for _ in range(LOCK_AFTER - 1):
        await _login(db, "alice", WRONG, clock)
    assert (await _login(db, "alice", PASSWORD, clock)).counselor is not None
    for _ in range(LOCK_AFTER - 1):
        assert not (await _login(db, "alice", WRONG, clock)).locked
    assert (await _login(db, "alice", PASSWORD, clock)).counselor is not None


class CountingHasher(PasswordHasher):
    def __init__(self) -> None:
        super().__init__(time_cost=1, memory_cost=8, parallelism=1)
        self.verified = 0

    def verify(self, hash: str | bytes, password: str | bytes) -> bool:
        self.verified += 1
        return super().verify(hash, password)


@pytest.mark.parametrize("name", ["nobody", "x", "a" * 500, "robert'); DROP TABLE counselors;--"])
async def test_unknown_names_cost_a_verification_and_leave_no_name(
    db: Database, clock: Clock, name: str
) -> None:
    hasher = CountingHasher()
    async with db.sessions() as session, session.begin():
        result = await check_login(session, name, PASSWORD, clock(), hasher=hasher)
    assert result == accounts.LoginResult(None, locked=False)
    assert hasher.verified == 1  # same work as for a real account
    [event] = await _audit(db)
    assert (event.actor, event.action, event.detail) == (
        "unknown",
        "login.failed",
        {"reason": "unknown_name"},
    )


async def test_a_deactivated_account_cannot_log_in(db: Database, clock: Clock) -> None:
    counselor = await add_staff(db, "alice", now=clock())
    async with db.sessions() as session, session.begin():
        session.add(
            StaffSession(
                token_hash="0" * 64,
                counselor_id=counselor.id,
                csrf_token="c",
                created_at=clock(),
                expires_at=clock() + timedelta(hours=1),
            )
        )
    async with db.sessions() as session, session.begin():
        stored = await find_account(session, "alice")
        assert stored is not None
        await set_on_call(session, stored, True, clock(), actor="admin")
        await deactivate(session, stored, clock(), actor="admin")
    result = await _login(db, "alice", PASSWORD, clock)
    assert result.counselor is None and not result.locked
    stored = await _account(db, "alice")
    assert (stored.active, stored.on_call) == (False, False)
    async with db.sessions() as session:
        assert (await session.execute(select(StaffSession))).first() is None
    events = [(e.actor, e.action, e.detail) for e in await _audit(db)]
    assert ("admin", "account.on_call", {"account": "alice", "on_call": True}) in events
    assert ("admin", "account.deactivated", {"account": "alice"}) in events
    assert events[-1] == ("alice", "login.failed", {"reason": "inactive"})


async def test_unlock_clears_the_lock(db: Database, clock: Clock) -> None:
    await add_staff(db, "alice", now=clock())
    for _ in range(LOCK_AFTER):
        await _login(db, "alice", WRONG, clock)
    async with db.sessions() as session, session.begin():
        stored = await find_account(session, "alice")
        assert stored is not None
        await unlock(session, stored, clock(), actor="cli:root")
    assert (await _login(db, "alice", PASSWORD, clock)).counselor is not None
    assert ("cli:root", "account.unlocked") in [(e.actor, e.action) for e in await _audit(db)]


async def test_old_hash_parameters_are_upgraded_at_log_in(db: Database, clock: Clock) -> None:
    await add_staff(db, "alice", now=clock())
    assert "m=8,t=1,p=1" in (await _account(db, "alice")).password_hash
    stronger = PasswordHasher(time_cost=2, memory_cost=16, parallelism=1)
    async with db.sessions() as session, session.begin():
        assert await authenticate(session, "alice", PASSWORD, clock(), hasher=stronger)
    upgraded = (await _account(db, "alice")).password_hash
    assert "m=16,t=2,p=1" in upgraded
    assert stronger.verify(upgraded, PASSWORD)
    assert "account.rehashed" in [e.action for e in await _audit(db)]
    # A wrong password never triggers a rehash.
    before = (await _account(db, "alice")).password_hash
    async with db.sessions() as session, session.begin():
        assert await authenticate(session, "alice", WRONG, clock(), hasher=CHEAP) is None
    assert (await _account(db, "alice")).password_hash == before


async def test_no_audit_row_holds_a_password(db: Database, clock: Clock) -> None:
    await add_staff(db, "alice", now=clock())
    for password in (WRONG, PASSWORD, WRONG * 2):
        await _login(db, "alice", password, clock)
        await _login(db, PASSWORD, password, clock)  # a password typed as the name
    dumped = json.dumps([[e.actor, e.action, e.detail] for e in await _audit(db)])
    assert PASSWORD not in dumped and WRONG not in dumped
