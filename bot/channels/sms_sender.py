"""Messages the service starts, over Twilio's REST API: every part once, across crashes.

Twilio's create call has no idempotency key, so the sender keeps its own ledger
(``sms_sends`` and ``sms_parts``, see sms_store.py):

    send(address, text, key)
      -> the number said STOP (sms_opt_outs) or the contact is stopped
                                               -> not sent, reported unreachable
      -> key already sent / given up           -> the same answer again, no call
      -> before the stored next try            -> "wait N s", no call (back-off
                                                  survives restarts and callers)
      -> per part: intent row committed (status "intent", keyed hash of the text)
         -> messages.create (StatusCallback ...?part=<row id>)
         -> MessageSid recorded on the row

A part still an ``intent`` on a later try was maybe sent: the process died after
the call, or the call timed out. It is reconciled before anything is sent again:
a status callback may already have named its MessageSid (the ``part`` marker in
the callback URL); else Twilio's Message list is read (To and From, DateSent from
the intent minus a clock skew, and the newest page, where a message still queued
has no DateSent yet) for an outbound message with the same text, created since
the intent and not recorded for another part. Found: recorded, never sent again.
Not found: sent again only once the intent is older than ``IN_FLIGHT_GRACE`` (a
call that timed out may still land, and Twilio's list may lag); until then the
caller is asked to wait. An error answer below 500 proves nothing was created
and drops the intent at once; 5xx, time-outs and dropped connections keep it.

429 (with Retry-After), 5xx, network errors and 401/403 (credentials being fixed)
are retried with exponential back-off; the counter is ``sms_sends.attempts``.
21610 (the number sent STOP to Twilio) records an opt-out; 21211, 21612 and
21614 (not a reachable mobile number) are unreachable. Other 4xx give up.
"""

from __future__ import annotations

import base64
import logging
import re
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import aiohttp
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.rest import Client

from bot.channels.sms_protocol import (
    CHANNEL,
    STATUS_PATH,
    STATUS_RANK,
    UNREACHABLE_CODES,
    UNSUBSCRIBED,
    public_url,
)
from bot.channels.sms_store import SmsPart, SmsSend, is_opted_out, opt_out
from bot.channels.sms_text import normalize_number, split_for_sms
from bot.outbox import SendResult, backoff
from bot.runtime import Runtime
from bot.storage.models import Contact
from escalation.models import OutboxItem

# What this module defines; the protocol constants live in sms_protocol.
__all__ = ["IN_FLIGHT_GRACE", "MAX_TRIES", "TwilioHttpClient", "TwilioSender"]

log = logging.getLogger("harborline.channels.sms")
# The twilio library logs each request at INFO; ours stay quiet (no numbers, no bodies).
_TWILIO_HTTP_LOG = logging.getLogger("harborline.channels.sms.http")
_TWILIO_HTTP_LOG.setLevel(logging.WARNING)

TWILIO_API = "https://api.twilio.com"
# An intent younger than this may still become a message (a timed-out call landing
# late, a list that lags): it is not sent again before.
IN_FLIGHT_GRACE = timedelta(seconds=60)
# Twilio's clock against ours, when searching its list for an in-flight part.
CLOCK_SKEW = timedelta(minutes=5)
# Failed tries (429, 5xx, network) before a send is given up.
MAX_TRIES = 8
# How many of the newest messages to a number are read when reconciling.
RECENT = 50

_OUTBOX_KEY = re.compile(r"^outbox-(\d+)$")
# A concurrent sender holds the same key: look again shortly.
_BUSY_SECONDS = 5.0


# -- HTTP ----------------------------------------------------------------------------------------

# Retry-After of the last 429 on this task, read right after the call that got it.
_retry_after: ContextVar[float | None] = ContextVar("twilio_retry_after", default=None)


class TwilioHttpClient(AsyncTwilioHttpClient):  # type: ignore[misc]
    """Twilio's aiohttp client, pointed at TWILIO_API_BASE (a local fake in tests)."""

    def __init__(self, api_base: str, timeout: float = 10.0) -> None:
        super().__init__(timeout=timeout, logger=_TWILIO_HTTP_LOG)
        self.api_base = api_base.rstrip("/")

    async def request(
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 - twilio's HttpClient interface
        allow_redirects: bool = False,
    ) -> Any:
        if self.api_base != TWILIO_API and url.startswith(TWILIO_API):
            url = self.api_base + url[len(TWILIO_API) :]
        headers = dict(headers or {})
        if auth is not None:  # As a header: aiohttp deprecates its BasicAuth helper.
            token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode("ascii")
            headers["Authorization"] = f"Basic {token}"
        response = await super().request(
            method, url, params, data, headers, None, timeout or self.timeout, allow_redirects
        )
        if response.status_code == 429:
            _retry_after.set(_seconds((response.headers or {}).get("Retry-After")))
        return response


def _seconds(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


# -- the sender ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Part:
    id: int
    digest: str
    sid: str | None
    intent_at: datetime


@dataclass(slots=True)
class _Send:
    id: int
    text: str
    frozen: bool
    parts: dict[int, _Part] = field(default_factory=dict)


class _LookupFailed(Exception):
    """Twilio's list could not be read: whether a part went out is unknown."""

    def __init__(self, code: int | None) -> None:
        super().__init__(code)
        self.code = code


class TwilioSender:
    """The outbox's sender for ``sms`` (and for anyone paging a phone): each part once."""

    def __init__(self, runtime: Runtime, client: Any, http: TwilioHttpClient) -> None:
        self.runtime = runtime
        self.client = client
        self.http = http
        settings = runtime.settings
        self.service_sid = settings.twilio_messaging_service_sid
        self.from_number = "" if self.service_sid else settings.twilio_from_number
        self.origin: dict[str, str] = (
            {"messaging_service_sid": self.service_sid}
            if self.service_sid
            else {"from_": self.from_number}
        )
        self.status_callback = (
            public_url(settings, STATUS_PATH) if settings.public_base_url else None
        )
        # Test hooks: a crash right before or right after Twilio's create call.
        self.before_create: Callable[[], Awaitable[None]] | None = None
        self.after_create: Callable[[], Awaitable[None]] | None = None

    @classmethod
    def create(cls, runtime: Runtime) -> TwilioSender:
        settings = runtime.settings
        http = TwilioHttpClient(settings.twilio_api_base)
        client = Client(settings.twilio_account_sid, settings.twilio_auth_token, http_client=http)
        return cls(runtime, client, http)

    async def close(self) -> None:
        await self.http.close()

    def _now(self) -> datetime:
        return self.runtime.pipeline.clock()

    def _digest(self, body: str) -> str:
        return self.runtime.pipeline.identity("sms-part", body)

    async def send(self, address: str, text: str, key: str) -> SendResult:
        address = normalize_number(address, self.runtime.settings.default_country) or address
        loaded = await self._load(address, text, key)
        if isinstance(loaded, SendResult):
            return loaded
        for index, body in enumerate(split_for_sms(loaded.text)):
            known = loaded.parts.get(index)
            if known is not None and known.sid is not None:
                continue  # Sent on an earlier try: never twice.
            if known is not None:
                settled = await self._settle(loaded, known, address)
                if isinstance(settled, SendResult):
                    return settled
                if settled:
                    continue  # Found at Twilio: recorded, not sent again.
            result = await self._send_part(loaded, index, body, address)
            if result is not None:
                return result
        await self._finish(loaded.id, "sent")
        return SendResult(ok=True)

    # -- one part --------------------------------------------------------------------------------

    async def _settle(self, send: _Send, part: _Part, address: str) -> SendResult | bool:
        """An intent from an earlier try: True when Twilio has its message (now
        recorded), False when it surely never went out, else how long to wait."""
        try:
            found = await self._find_at_twilio(part, address)
        except _LookupFailed as exc:
            return await self._retry(send.id, exc.code)
        if found is not None:
            await self._record_sid(part.id, *found)
            return True
        age = self._now() - part.intent_at
        if age < IN_FLIGHT_GRACE:
            return SendResult(ok=False, retry_after=(IN_FLIGHT_GRACE - age).total_seconds())
        return False

    async def _send_part(
        self, send: _Send, index: int, body: str, address: str
    ) -> SendResult | None:
        """None when the part is out and recorded; else what to tell the caller."""
        part_id = await self._intent(send, index, body)
        if part_id is None:
            return SendResult(ok=False, retry_after=_BUSY_SECONDS)
        extra: dict[str, str] = dict(self.origin)
        if self.status_callback:
            extra["status_callback"] = f"{self.status_callback}?part={part_id}"
        if self.before_create is not None:
            await self.before_create()
        _retry_after.set(None)
        try:
            sent = await self.client.messages.create_async(to=address, body=body, **extra)
        except TwilioRestException as exc:
            if exc.status < 500:  # An error answer: nothing was created.
                await self._drop_intent(part_id)
            return await self._refused(send.id, address, exc)  # 5xx: the intent stays.
        except aiohttp.ClientConnectorError as exc:  # Never reached Twilio.
            log.warning("twilio unreachable: %s", type(exc).__name__)
            await self._drop_intent(part_id)
            return await self._retry(send.id, None)
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            # Maybe created: the intent stays, and the next try looks before sending.
            log.warning("twilio call interrupted: %s", type(exc).__name__)
            return await self._retry(send.id, None, IN_FLIGHT_GRACE)
        if self.after_create is not None:
            await self.after_create()
        await self._record_sid(part_id, str(sent.sid), str(sent.status or "queued"))
        return None

    async def _find_at_twilio(self, part: _Part, address: str) -> tuple[str, str] | None:
        """(MessageSid, status) of the message an intent became, if Twilio has one."""
        sid = await self._part_sid(part.id)
        if sid is not None:  # A status callback named it meanwhile.
            return sid, "queued"
        since = part.intent_at - CLOCK_SKEW
        filters: dict[str, Any] = {"to": address}
        if self.from_number:
            filters["from_"] = self.from_number
        messages = self.client.messages
        try:
            dated = await messages.list_async(date_sent_after=since, limit=RECENT, **filters)
            newest = await messages.list_async(limit=RECENT, **filters)
        except TwilioRestException as exc:
            log.warning("twilio list refused: http %s, code %s", exc.status, exc.code)
            raise _LookupFailed(exc.code or exc.status) from exc
        except TwilioException as exc:  # A page that is not 200 (429, 5xx).
            log.warning("twilio list failed: %s", type(exc).__name__)
            raise _LookupFailed(None) from exc
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            log.warning("twilio list unreachable: %s", type(exc).__name__)
            raise _LookupFailed(None) from exc
        seen: dict[str, Any] = {}
        for message in [*dated, *newest]:
            if not message.sid or message.sid in seen:
                continue
            if not str(message.direction or "").startswith("outbound"):
                continue
            if self.service_sid and message.messaging_service_sid != self.service_sid:
                continue
            if message.date_created is not None and message.date_created < since:
                continue
            if self._digest(message.body or "") != part.digest:
                continue
            seen[message.sid] = message
        if not seen:
            return None
        async with self.runtime.db.sessions() as session:
            claimed = set(
                (
                    await session.execute(
                        select(SmsPart.message_sid).where(SmsPart.message_sid.in_(list(seen)))
                    )
                ).scalars()
            )
        left = [m for sid_, m in seen.items() if sid_ not in claimed]
        if not left:
            return None
        first = min(left, key=lambda m: (m.date_created is None, m.date_created))
        return str(first.sid), str(first.status or "queued")

    # -- outcomes --------------------------------------------------------------------------------

    async def _refused(self, send_id: int, address: str, exc: TwilioRestException) -> SendResult:
        log.warning("twilio refused a message: http %s, code %s", exc.status, exc.code)
        if exc.code in UNREACHABLE_CODES:
            await self._finish(send_id, "failed", exc.code)
            if exc.code == UNSUBSCRIBED:  # STOP reached Twilio before us.
                who = self.runtime.pipeline.identity(CHANNEL, address)
                async with self.runtime.db.sessions() as session, session.begin():
                    await opt_out(session, who, "carrier", self._now())
            return SendResult(ok=False, unreachable=True)
        # Rate limits, Twilio's own trouble, and credentials being fixed: try again later.
        if exc.status >= 500:  # Maybe created all the same: settled on the next try.
            return await self._retry(send_id, exc.code or exc.status, IN_FLIGHT_GRACE)
        if exc.status in (401, 403, 429):
            return await self._retry(send_id, exc.code or exc.status)
        await self._finish(send_id, "failed", exc.code or exc.status)
        return SendResult(ok=False)

    async def _retry(
        self, send_id: int, error: int | None, at_least: timedelta | None = None
    ) -> SendResult:
        """Count a failed try durably and say when to try again (or give up).

        ``at_least``: after a call that may have created the message, the next try
        comes once the intent can be settled (IN_FLIGHT_GRACE), not sooner.
        """
        wait = _retry_after.get()
        now = self._now()
        async with self.runtime.db.sessions() as session, session.begin():
            send = await session.get(SmsSend, send_id)
            if send is None:
                return SendResult(ok=False)
            send.attempts += 1
            send.last_error = error
            send.updated_at = now
            if send.attempts >= MAX_TRIES:
                send.status, send.text_enc, send.next_attempt_at = "failed", None, None
                log.warning("sms given up after %s tries", send.attempts)
                return SendResult(ok=False)
            seconds = wait if wait is not None else backoff(send.attempts, None).total_seconds()
            if at_least is not None:
                seconds = max(seconds, at_least.total_seconds())
            send.next_attempt_at = now + timedelta(seconds=seconds)
        return SendResult(ok=False, retry_after=seconds)

    # -- the ledger ------------------------------------------------------------------------------

    async def _load(self, address: str, text: str, key: str) -> _Send | SendResult:
        now = self._now()
        who = self.runtime.pipeline.identity(CHANNEL, address)
        async with self.runtime.db.sessions() as session, session.begin():
            send = await session.scalar(select(SmsSend).where(SmsSend.send_key == key))
            if send is not None and send.status == "sent":
                return SendResult(ok=True)
            if send is not None and send.status == "failed":
                return SendResult(ok=False)
            contact = await session.scalar(select(Contact).where(Contact.address_hash == who))
            if await is_opted_out(session, who) or (contact is not None and contact.stopped):
                # STOP means nothing more, whatever is queued; START opens it again.
                log.info("sms not sent: the number said stop")
                if send is not None:
                    send.status, send.text_enc, send.updated_at = "failed", None, now
                return SendResult(ok=False, unreachable=True)
            item = await self._outbox_item(session, key)
            if send is None:
                send = await self._new_send(session, key, item, now)
                if send is None:
                    return SendResult(ok=False, retry_after=_BUSY_SECONDS)
            if send.next_attempt_at is not None and send.next_attempt_at > now:
                wait = (send.next_attempt_at - now).total_seconds()
                return SendResult(ok=False, retry_after=wait)  # The back-off holds.
            frozen = send.text_enc is not None
            if frozen:
                assert send.text_enc is not None
                text = self.runtime.pipeline.cipher.decrypt(send.text_enc)
            rows = (
                await session.execute(select(SmsPart).where(SmsPart.send_id == send.id))
            ).scalars()
            parts = {r.part: _Part(r.id, r.digest, r.message_sid, r.intent_at) for r in rows}
            return _Send(send.id, text, frozen, parts)

    @staticmethod
    async def _outbox_item(session: AsyncSession, key: str) -> OutboxItem | None:
        match = _OUTBOX_KEY.match(key)
        return await session.get(OutboxItem, int(match[1])) if match else None

    @staticmethod
    async def _new_send(
        session: AsyncSession, key: str, item: OutboxItem | None, now: datetime
    ) -> SmsSend | None:
        send = SmsSend(
            send_key=key[:128],
            outbox_id=item.id if item is not None else None,
            status="sending",
            attempts=0,
            created_at=now,
            updated_at=now,
        )
        try:
            async with session.begin_nested():
                session.add(send)
        except IntegrityError:
            return None  # Another worker created it this moment.
        return send

    async def _intent(self, send: _Send, index: int, body: str) -> int | None:
        """Write down, durably, that this part is about to be sent. None: someone else is."""
        now = self._now()
        try:
            async with self.runtime.db.sessions() as session, session.begin():
                if not send.frozen:  # The parts are fixed from the first attempt on.
                    await session.execute(
                        update(SmsSend)
                        .where(SmsSend.id == send.id, SmsSend.text_enc.is_(None))
                        .values(text_enc=self.runtime.pipeline.cipher.encrypt(send.text))
                    )
                    send.frozen = True
                row = await session.scalar(
                    select(SmsPart).where(SmsPart.send_id == send.id, SmsPart.part == index)
                )
                if row is None:
                    row = SmsPart(send_id=send.id, part=index, created_at=now)
                    session.add(row)
                elif row.message_sid is not None:
                    return None  # Recorded meanwhile by another worker.
                row.digest = self._digest(body)
                row.status = "intent"
                row.intent_at = now
                row.updated_at = now
                await session.flush()
                return row.id
        except IntegrityError:
            return None

    async def _drop_intent(self, part_id: int) -> None:
        async with self.runtime.db.sessions() as session, session.begin():
            row = await session.get(SmsPart, part_id)
            if row is not None and row.message_sid is None:
                await session.delete(row)

    async def _part_sid(self, part_id: int) -> str | None:
        async with self.runtime.db.sessions() as session:
            sid: str | None = await session.scalar(
                select(SmsPart.message_sid).where(SmsPart.id == part_id)
            )
            return sid

    async def _record_sid(self, part_id: int, sid: str, status: str) -> None:
        now = self._now()
        async with self.runtime.db.sessions() as session, session.begin():
            row = await session.get(SmsPart, part_id)
            if row is None or row.message_sid == sid:
                return  # Named by a status callback already.
            row.message_sid = sid
            if STATUS_RANK.get(status, 0) >= STATUS_RANK.get(row.status, 0):
                row.status = status[:16]
            row.updated_at = now

    async def _finish(self, send_id: int, status: str, error: int | None = None) -> None:
        now = self._now()
        async with self.runtime.db.sessions() as session, session.begin():
            send = await session.get(SmsSend, send_id)
            if send is None:
                return
            send.status, send.text_enc, send.next_attempt_at = status, None, None
            send.updated_at = now
            if error is not None:
                send.last_error = error
