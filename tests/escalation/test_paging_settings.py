"""Where a counselor's pages go: channel, encrypted address, language; migration 0080."""

from __future__ import annotations

import json

import pytest
from alembic import command
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import create_async_engine

from bot.crypto import Cipher
from bot.storage.db import Database
from bot.storage.migrate import alembic_config, upgrade
from bot.storage.models import AuditEvent
from escalation.accounts import AccountError, page_address, parse_page_address, set_paging
from escalation.models import Counselor
from tests.conftest import FIXED_KEY, Clock
from tests.escalation.staff import add_staff

CIPHER = Cipher([FIXED_KEY])

GOOD = [
    ("sms", "+1 202 555 0143", "US", "+12025550143"),
    ("sms", "(202) 555-0143", "US", "+12025550143"),
    ("sms", "612 34 56 78", "ES", "+34612345678"),
    ("telegram", " 123456789 ", "US", "123456789"),
    ("console", None, "US", None),
    ("console", "", "US", None),
]
BAD = [
    ("sms", "555-0143", "too short"),
    ("sms", "call me", "not a number"),
    ("sms", None, "no address"),
    ("sms", "+1" + "2" * 80, "absurdly long"),
    ("telegram", "@maria", "a user name, not the id"),
    ("telegram", "-100123", "a group, not a person"),
    ("telegram", "0", "not an id"),
    ("console", "+12025550143", "console takes no address"),
    ("pigeon", "coo", "no such channel"),
]


@pytest.mark.parametrize(("channel", "address", "region", "stored"), GOOD)
def test_addresses_are_normalised(
    channel: str, address: str | None, region: str, stored: str | None
) -> None:
    assert parse_page_address(channel, address, region) == stored


@pytest.mark.parametrize(("channel", "address", "why"), BAD)
def test_bad_addresses_are_refused_with_a_clear_message(
    channel: str, address: str | None, why: str
) -> None:
    with pytest.raises(AccountError) as refused:
        parse_page_address(channel, address)
    assert str(refused.value) and "Traceback" not in str(refused.value)


async def test_the_number_is_stored_encrypted_and_never_audited(db: Database, clock: Clock) -> None:
    await add_staff(db, "maria", now=clock())
    async with db.sessions() as session, session.begin():
        counselor = await session.scalar(select(Counselor).where(Counselor.name == "maria"))
        assert counselor is not None
        await set_paging(
            session, counselor, clock(), CIPHER, actor="test", channel="sms",
            address="(202) 555-0143", locale="es",
        )  # fmt: skip
    async with db.sessions() as session:
        stored = await session.scalar(select(Counselor).where(Counselor.name == "maria"))
        audit = list((await session.execute(select(AuditEvent.detail))).scalars())
    assert stored is not None
    assert (stored.page_channel, stored.locale) == ("sms", "es")
    assert stored.page_address_enc is not None and b"0143" not in stored.page_address_enc
    assert page_address(stored, CIPHER) == "+12025550143"
    assert all("0143" not in json.dumps(detail) for detail in audit)
    assert {"account": "maria", "channel": "sms", "locale": "es"} in audit


async def test_changing_the_language_keeps_the_number_and_console_clears_it(
    db: Database, clock: Clock
) -> None:
    await add_staff(db, "maria", now=clock())
    async with db.sessions() as session, session.begin():
        counselor = await session.scalar(select(Counselor).where(Counselor.name == "maria"))
        assert counselor is not None
        await set_paging(
            session, counselor, clock(), CIPHER, actor="t", channel="sms", address="+12025550143"
        )
        await set_paging(session, counselor, clock(), CIPHER, actor="t", locale="es")
        await set_paging(session, counselor, clock(), CIPHER, actor="t", channel="sms")
        assert page_address(counselor, CIPHER) == "+12025550143"
        with pytest.raises(AccountError):  # A new channel needs its own address.
            await set_paging(session, counselor, clock(), CIPHER, actor="t", channel="telegram")
        with pytest.raises(AccountError):
            await set_paging(session, counselor, clock(), CIPHER, actor="t", locale="fr")
        await set_paging(session, counselor, clock(), CIPHER, actor="t", channel="console")
        assert counselor.page_address_enc is None and counselor.locale == "es"


async def _downgrade(url: str, revision: str) -> None:
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:

            def run(sync_conn: object) -> None:
                config = alembic_config(url)
                config.attributes["connection"] = sync_conn
                command.downgrade(config, revision)

            await conn.run_sync(run)
    finally:
        await engine.dispose()


async def test_migration_0080_goes_down_and_up_again(
    backend: tuple[str, str], db: Database, clock: Clock
) -> None:
    url, _ = backend
    staff = await add_staff(db, "maria", now=clock())
    async with db.engine.begin() as conn:
        # A page to a counselor: no contact, an address of its own.
        await conn.execute(
            text(
                "INSERT INTO outbox (counselor_id, address_enc, channel, payload_enc,"
                " idempotency_key, status, attempts, next_attempt_at, created_at)"
                " VALUES (:c, :a, 'sms', :p, 'page:1:1:0', 'pending', 0, :t, :t)"
            ),
            {"c": staff.id, "a": b"x", "p": b"y", "t": clock()},
        )
    with pytest.raises(Exception, match=r"ck_outbox_target|CHECK"):
        async with db.engine.begin() as conn:  # Nobody to send it to.
            await conn.execute(
                text(
                    "INSERT INTO outbox (channel, payload_enc, idempotency_key, status,"
                    " attempts, next_attempt_at, created_at)"
                    " VALUES ('sms', :p, 'nobody', 'pending', 0, :t, :t)"
                ),
                {"p": b"y", "t": clock()},
            )
    await db.close()
    await _downgrade(url, "0070")
    await upgrade(url)
    again = Database(url)
    try:
        async with again.sessions() as session:
            # The counselor's row could not live in the old table; the account did.
            assert await session.scalar(select(Counselor.locale)) == "en"
            assert await session.scalar(text("SELECT count(*) FROM outbox")) == 0
    finally:
        await again.close()
