"""Staff accounts: argon2 password hashes, log-in with lock-out, account changes.

Every function takes an open ``AsyncSession`` and the current time; it adds and
flushes rows but never commits: the caller owns the transaction (and commits
also after a failed log-in, so the failure counter and the audit row persist).

Rules:

- names: 3-64 characters ``[A-Za-z0-9_.-]``, case-insensitive (stored lower-case);
- passwords: 12-1024 characters; only the argon2 hash is stored;
- 5 failed log-ins in a row lock the account for 15 minutes; the counter resets
  on success and when the lock is set; attempts during a lock are refused
  without checking the password;
- an unknown name costs the same argon2 verification (against a dummy hash), so
  timing does not tell which names exist;
- a hash made with older argon2 parameters is replaced on the next log-in;
- every log-in success and failure, lock-out and account change writes an
  ``AuditEvent``. Details never hold a password, and unknown names are not
  recorded (people type passwords into the name field);
- pages go to the console always and to one chosen channel: ``sms`` (a phone
  number, parsed with phonenumbers and stored as E.164, encrypted) or
  ``telegram`` (the counselor's numeric Telegram user id, encrypted); the
  address never appears in the audit log.
"""

from __future__ import annotations

import asyncio
import re
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any, TypeVar

import phonenumbers
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.crypto import Cipher
from bot.storage.models import AuditEvent
from escalation.models import PAGE_CHANNELS, Counselor, StaffSession

__all__ = [
    "LOCK_AFTER",
    "LOCK_FOR",
    "PAGE_LOCALES",
    "ROLES",
    "AccountError",
    "LoginResult",
    "audit",
    "authenticate",
    "check_login",
    "create_account",
    "deactivate",
    "find_account",
    "hash_password",
    "is_locked",
    "list_accounts",
    "page_address",
    "parse_page_address",
    "set_on_call",
    "set_paging",
    "unlock",
    "validate_name",
    "validate_password",
]

_T = TypeVar("_T")

ROLES = ("counselor", "supervisor", "reviewer", "admin")
LOCK_AFTER = 5
LOCK_FOR = timedelta(minutes=15)
MIN_PASSWORD = 12
MAX_PASSWORD = 1024
_NAME = re.compile(r"[A-Za-z0-9_.-]{3,64}")
PAGE_LOCALES = ("en", "es")
_TELEGRAM_ID = re.compile(r"[1-9][0-9]{0,15}")

# argon2id with the library's defaults (RFC 9106 low-memory profile). Looked up
# at call time, so tests can swap in cheap parameters.
HASHER = PasswordHasher()
# Hashing costs ~0.5 s of CPU: it runs in worker threads (never on the event
# loop that serves the chat), at most two at a time per process, and waiting
# log-ins hold no thread, so a flood of them cannot starve everything else.
HASH_CONCURRENCY = 2
_slots: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
    weakref.WeakKeyDictionary()
)


class AccountError(ValueError):
    """A mistake a person can make (bad name, short password, unknown account).

    The message is safe to show: it never contains the password.
    """


@dataclass(frozen=True)
class LoginResult:
    """The outcome of one log-in attempt.

    ``counselor`` is set only on success. ``locked`` is true when the account is
    locked now (this attempt was refused, or it was the one that locked it).
    """

    counselor: Counselor | None
    locked: bool = False


def validate_name(name: str) -> str:
    """The stored form of an account name, or AccountError."""
    if not _NAME.fullmatch(name):
        raise AccountError("name must be 3-64 characters: letters, digits, '_', '.', '-'")
    return name.lower()


def validate_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"password must be at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise AccountError(f"password must be at most {MAX_PASSWORD} characters")
    return password


async def hash_password(password: str, hasher: PasswordHasher | None = None) -> str:
    validate_password(password)
    return await _in_thread(_hash, hasher or HASHER, password)


def is_locked(counselor: Counselor, now: datetime) -> bool:
    return counselor.locked_until is not None and counselor.locked_until > now


async def audit(
    session: AsyncSession, now: datetime, actor: str, action: str, **detail: Any
) -> None:
    """One audit row. ``detail`` must be JSON-safe and never hold secrets or message text."""
    session.add(AuditEvent(at=now, actor=actor[:64], action=action, detail=detail))
    await session.flush()


async def find_account(session: AsyncSession, name: str) -> Counselor | None:
    """The account with this name (case-insensitive), active or not."""
    result = await session.execute(select(Counselor).where(Counselor.name == name.lower()))
    return result.scalar_one_or_none()


async def list_accounts(session: AsyncSession) -> list[Counselor]:
    result = await session.execute(select(Counselor).order_by(Counselor.name))
    return list(result.scalars())


async def create_account(
    session: AsyncSession,
    name: str,
    password: str,
    role: str,
    now: datetime,
    *,
    actor: str = "system",
    hasher: PasswordHasher | None = None,
) -> Counselor:
    """A new active account (not on call). AccountError for a bad or taken name."""
    stored = validate_name(name)
    if role not in ROLES:
        raise AccountError(f"role must be one of: {', '.join(ROLES)}")
    password_hash = await hash_password(password, hasher)
    if await find_account(session, stored) is not None:
        raise AccountError(f"an account named {stored!r} exists already")
    counselor = Counselor(
        name=stored,
        password_hash=password_hash,
        role=role,
        active=True,
        on_call=False,
        page_channel="console",
        locale="en",
        failed_logins=0,
        created_at=now,
    )
    session.add(counselor)
    await session.flush()
    await audit(session, now, actor, "account.created", account=stored, role=role)
    return counselor


async def check_login(
    session: AsyncSession,
    name: str,
    password: str,
    now: datetime,
    *,
    hasher: PasswordHasher | None = None,
) -> LoginResult:
    """Check a name and password; count failures, lock, audit. Commit afterwards."""
    hasher = hasher or HASHER
    counselor = None
    if _NAME.fullmatch(name) and len(password) <= MAX_PASSWORD:
        query = select(Counselor).where(Counselor.name == name.lower()).with_for_update()
        counselor = (await session.execute(query)).scalar_one_or_none()
    if counselor is None:
        await _in_thread(_verify_dummy, hasher, password)
        await audit(session, now, "unknown", "login.failed", reason="unknown_name")
        return LoginResult(None)
    if is_locked(counselor, now):
        await _in_thread(_verify_dummy, hasher, password)  # same cost
        await audit(session, now, counselor.name, "login.failed", reason="locked")
        return LoginResult(None, locked=True)
    matches = await _in_thread(_verify, hasher, counselor.password_hash, password)
    if matches and counselor.active:
        counselor.failed_logins = 0
        counselor.locked_until = None
        if _needs_rehash(hasher, counselor.password_hash):
            counselor.password_hash = await _in_thread(_hash, hasher, password)
            await audit(session, now, counselor.name, "account.rehashed")
        await audit(session, now, counselor.name, "login.succeeded")
        return LoginResult(counselor)
    if not counselor.active:
        await audit(session, now, counselor.name, "login.failed", reason="inactive")
        return LoginResult(None)
    counselor.failed_logins = (counselor.failed_logins or 0) + 1
    await audit(
        session,
        now,
        counselor.name,
        "login.failed",
        reason="password",
        count=counselor.failed_logins,
    )
    if counselor.failed_logins >= LOCK_AFTER:
        counselor.failed_logins = 0
        counselor.locked_until = now + LOCK_FOR
        await audit(
            session, now, counselor.name, "account.locked", until=counselor.locked_until.isoformat()
        )
        return LoginResult(None, locked=True)
    await session.flush()
    return LoginResult(None)


async def authenticate(
    session: AsyncSession,
    name: str,
    password: str,
    now: datetime,
    *,
    hasher: PasswordHasher | None = None,
) -> Counselor | None:
    """The account when name and password are right and it may log in now, else None."""
    return (await check_login(session, name, password, now, hasher=hasher)).counselor


async def set_on_call(
    session: AsyncSession, counselor: Counselor, on_call: bool, now: datetime, *, actor: str
) -> None:
    """The counselor's availability toggle (see escalation.roster for what it means)."""
    if counselor.on_call == on_call:
        return
    counselor.on_call = on_call
    await audit(session, now, actor, "account.on_call", account=counselor.name, on_call=on_call)


async def deactivate(
    session: AsyncSession, counselor: Counselor, now: datetime, *, actor: str
) -> None:
    """No more log-ins, pages or roster places; open staff sessions are ended."""
    counselor.active = False
    counselor.on_call = False
    await session.execute(delete(StaffSession).where(StaffSession.counselor_id == counselor.id))
    await audit(session, now, actor, "account.deactivated", account=counselor.name)


async def unlock(session: AsyncSession, counselor: Counselor, now: datetime, *, actor: str) -> None:
    counselor.failed_logins = 0
    counselor.locked_until = None
    await audit(session, now, actor, "account.unlocked", account=counselor.name)


def parse_page_address(channel: str, address: str | None, region: str = "US") -> str | None:
    """The stored form of a paging address for a channel, or AccountError.

    console: no address. sms: a phone number (national numbers read in
    ``region``) as E.164. telegram: the counselor's numeric Telegram user id
    (their private chat with the bot has the same id).
    """
    if channel not in PAGE_CHANNELS:
        raise AccountError(f"paging channel must be one of: {', '.join(PAGE_CHANNELS)}")
    text = (address or "").strip()
    if channel == "console":
        if text:
            raise AccountError("console pages need no address")
        return None
    if not text:
        raise AccountError(f"{channel} pages need an address")
    if channel == "sms":
        try:
            number = phonenumbers.parse(text[:64], region.upper())
        except phonenumbers.NumberParseException:
            number = None
        if number is None or not phonenumbers.is_valid_number(number):
            raise AccountError("not a phone number that can get SMS, e.g. +15551234567")
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if not _TELEGRAM_ID.fullmatch(text):
        raise AccountError("a Telegram page address is the counselor's numeric user id")
    return text


def page_address(counselor: Counselor, cipher: Cipher) -> str | None:
    """The decrypted paging address (E.164 number or Telegram user id), if any."""
    if counselor.page_address_enc is None:
        return None
    return cipher.decrypt(counselor.page_address_enc)


async def set_paging(
    session: AsyncSession,
    counselor: Counselor,
    now: datetime,
    cipher: Cipher,
    *,
    actor: str,
    channel: str | None = None,
    address: str | None = None,
    locale: str | None = None,
    region: str = "US",
) -> None:
    """Where this counselor's pages go besides the console, and in which language.

    A channel given without an address keeps the stored one only when the
    channel does not change; console clears it. AccountError for a bad value.
    """
    if locale is not None and locale not in PAGE_LOCALES:
        raise AccountError(f"locale must be one of: {', '.join(PAGE_LOCALES)}")
    if channel is None and address is not None:
        channel = counselor.page_channel
    if channel is not None:
        stored: bytes | None
        if (
            address is None
            and channel == counselor.page_channel
            and counselor.page_address_enc is not None
        ):
            stored = counselor.page_address_enc  # Same channel, same address.
        else:
            parsed = parse_page_address(channel, address, region)
            stored = cipher.encrypt(parsed) if parsed is not None else None
        counselor.page_channel = channel
        counselor.page_address_enc = stored
    if locale is not None:
        counselor.locale = locale
    await audit(
        session,
        now,
        actor,
        "account.paging",
        account=counselor.name,
        channel=counselor.page_channel,
        locale=counselor.locale,
    )


async def _in_thread(function: Callable[..., _T], *args: Any) -> _T:
    loop = asyncio.get_running_loop()
    slots = _slots.get(loop)
    if slots is None:
        slots = _slots[loop] = asyncio.Semaphore(HASH_CONCURRENCY)
    async with slots:
        return await asyncio.to_thread(function, *args)


def _hash(hasher: PasswordHasher, password: str) -> str:
    return hasher.hash(password)


def _verify(hasher: PasswordHasher, password_hash: str, password: str) -> bool:
    try:
        return hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def _needs_rehash(hasher: PasswordHasher, password_hash: str) -> bool:
    try:
        return hasher.check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


def _verify_dummy(hasher: PasswordHasher, password: str) -> bool:
    return _verify(hasher, _dummy_hash(hasher), password)


@lru_cache(maxsize=8)
def _dummy_hash(hasher: PasswordHasher) -> str:
    return hasher.hash("not a password: only spends the same time as a real check")
