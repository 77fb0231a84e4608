"""SMS over Twilio: ``POST /sms/twilio`` (inbound) and ``POST /sms/twilio/status``.

Inbound, in this order:

    channel off (no TWILIO_ACCOUNT_SID / TWILIO_AUTH_TOKEN)  -> 404
    body over 64 KiB                                        -> 413
    X-Twilio-Signature missing or wrong                     -> 403, nothing stored
      (Twilio's RequestValidator over PUBLIC_BASE_URL + path: the URL Twilio
      called, never the Host header, so it holds behind a proxy)
    no MessageSid or From                                   -> 400
    -> carrier keywords (STOP / START / HELP and Spanish), read before anything
       but the risk screen, which still sees every message in the pipeline
    -> "2" becomes the value of the second numbered choice shown last
    -> Pipeline.handle (persisted and de-duplicated by MessageSid)
    -> TwiML: the replies shaped for SMS (numbered choices, few segments)

After STOP the contact's ``stopped`` flag is set and nothing is sent but the one
confirmation, until START (or YES, as Twilio does); HELP is always answered.
Messages the service starts (a counselor's words, "a counselor is here",
check-ins) go through the outbox and :class:`TwilioSender`: Twilio's REST API
through the real twilio library on its aiohttp client (never a blocking call),
with a status callback that is recorded in ``sms_deliveries``. Phone numbers
are parsed to E.164 with phonenumbers, hashed for identity, stored only
encrypted and never logged.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl

import aiohttp
import phonenumbers
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from starlette.datastructures import ImmutableMultiDict
from twilio.base.exceptions import TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.request_validator import (
    SIGNATURE_HEADER,
    SIGNATURE_SETTINGS_HEADER,
    RequestValidator,
    get_signature_algorithm,
)
from twilio.rest import Client
from twilio.twiml.messaging_response import MessagingResponse

from bot.channels.http import read_capped_body
from bot.channels.sms_store import SmsDelivery, SmsThread
from bot.channels.sms_text import (
    ChoiceWords,
    choice_value,
    classify_keyword,
    shape_turn,
    split_for_sms,
)
from bot.outbox import SendResult, backoff
from bot.pipeline import TurnResult
from bot.runtime import Runtime
from bot.settings import Settings
from bot.storage.models import Contact, Escalation
from bot.types import Choice, InboundMessage
from dialogs.texts import Texts, get_texts, lines_for
from escalation.models import OutboxItem

__all__ = [
    "CHANNEL",
    "PATH",
    "STATUS_PATH",
    "TwilioSender",
    "install",
    "normalize_number",
    "router",
    "sms_enabled",
]

log = logging.getLogger("harborline.channels.sms")
# The twilio library logs each request at INFO; ours stay quiet (no numbers, no bodies).
_TWILIO_HTTP_LOG = logging.getLogger("harborline.channels.sms.http")
_TWILIO_HTTP_LOG.setLevel(logging.WARNING)

CHANNEL = "sms"
PATH = "/sms/twilio"
STATUS_PATH = "/sms/twilio/status"
TWILIO_API = "https://api.twilio.com"
MAX_BODY_BYTES = 64 * 1024
STORAGE_ERRORS = (SQLAlchemyError, OSError, TimeoutError)
# Twilio error codes that mean this number can't be reached: unsubscribed (STOP at
# the carrier), not a valid number, not a mobile number, not reachable by SMS.
UNREACHABLE_CODES = frozenset({21610, 21211, 21612, 21614})
# Status callbacks can arrive out of order; a later state never goes back.
_STATUS_RANK = {
    "accepted": 0,
    "scheduled": 0,
    "queued": 0,
    "sending": 1,
    "sent": 2,
    "delivered": 3,
    "undelivered": 3,
    "failed": 3,
    "read": 4,
}

router = APIRouter(tags=["channels"])


def sms_enabled(settings: Settings) -> bool:
    return bool(settings.twilio_account_sid and settings.twilio_auth_token)


def normalize_number(raw: str, default_region: str = "US") -> str | None:
    """E.164 (+15551234567) for a possible phone number, else None."""
    try:
        number = phonenumbers.parse(
            raw.strip(), None if raw.strip().startswith("+") else default_region
        )
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _public_url(settings: Settings, path: str, query: str) -> str:
    url = settings.public_base_url.rstrip("/") + path
    return f"{url}?{query}" if query else url


# -- HTTP: inbound message and status callback ------------------------------------------------


_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "TwiML <Response> with the replies", "content": {"application/xml": {}}},
    400: {"description": "MessageSid or From missing"},
    403: {"description": "X-Twilio-Signature missing or wrong; nothing stored"},
    404: {"description": "The channel is off (no Twilio credentials)"},
    413: {"description": "Body larger than 64 KiB"},
}


@router.post(PATH, responses=_RESPONSES, summary="Twilio Messaging webhook")
async def sms_inbound(request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    params, refused = await _verified_form(request, runtime.settings, PATH)
    if refused is not None:
        return refused
    sid = params.get("MessageSid") or params.get("SmsMessageSid") or ""
    sender = params.get("From") or ""
    if not sid or len(sid) > 64 or not sender:
        return _error(400, "MessageSid and From are required")
    address = normalize_number(sender, runtime.settings.default_country)
    if address is None:
        log.warning("sms from an address that is not a phone number")  # The value stays out.
        address = sender.strip()
    messages = await receive(runtime, address, params.get("Body") or "", sid)
    return _twiml(messages)


@router.post(STATUS_PATH, status_code=204, responses=_RESPONSES, summary="Twilio status callback")
async def sms_status(request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    params, refused = await _verified_form(request, runtime.settings, STATUS_PATH)
    if refused is not None:
        return refused
    sid = params.get("MessageSid") or params.get("SmsSid") or ""
    status = (params.get("MessageStatus") or params.get("SmsStatus") or "").lower()
    code = params.get("ErrorCode") or ""
    if not sid or status not in _STATUS_RANK:
        return _error(400, "MessageSid and a known MessageStatus are required")
    try:
        await record_status(runtime, sid, status, int(code) if code.isdigit() else None)
    except STORAGE_ERRORS as exc:
        log.error("sms status not recorded: %s", type(exc).__name__)
        return _error(503, "storage unavailable")  # Twilio tries the callback again.
    return Response(status_code=204)


async def _verified_form(
    request: Request, settings: Settings, path: str
) -> tuple[ImmutableMultiDict[str, str], Response | None]:
    empty: ImmutableMultiDict[str, str] = ImmutableMultiDict()
    if not sms_enabled(settings):
        return empty, _error(404, "Not Found")
    body = await read_capped_body(request, MAX_BODY_BYTES)
    if body is None:
        return empty, _error(413, "body too large")
    params = ImmutableMultiDict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    signature = request.headers.get(SIGNATURE_HEADER, "")
    algorithm = get_signature_algorithm(request.headers.get(SIGNATURE_SETTINGS_HEADER))
    url = _public_url(settings, path, request.url.query)
    validator = RequestValidator(settings.twilio_auth_token)
    if (
        not signature
        or not settings.public_base_url
        or not validator.validate(url, params, signature, algorithm)
    ):
        log.warning("sms webhook refused: signature missing or wrong")
        return empty, _error(403, "invalid signature")
    return params, None


def _twiml(messages: list[str]) -> Response:
    twiml = MessagingResponse()
    for text in messages:
        twiml.message(text)
    return Response(str(twiml), media_type="application/xml")


def _error(status: int, error: str) -> JSONResponse:
    return JSONResponse({"error": error}, status_code=status)


# -- one inbound message ---------------------------------------------------------------------


@dataclass(slots=True)
class _Facts:
    stopped: bool = False
    choices: list[Choice] = field(default_factory=list)


async def receive(
    runtime: Runtime, address: str, body: str, sid: str, received_at: datetime | None = None
) -> list[str]:
    """The SMS texts to answer one inbound message with (empty: answer nothing)."""
    pipeline = runtime.pipeline
    who = pipeline.identity(CHANNEL, address)
    facts = await _facts(runtime, who)
    keyword = classify_keyword(body, stopped=facts.stopped)
    text = body if keyword is not None else choice_value(body, facts.choices) or body
    message = InboundMessage(
        channel=CHANNEL,
        address=address,
        text=text,
        provider_id=sid,
        received_at=received_at or pipeline.clock(),
        locale_hint=keyword.locale if keyword else None,
    )
    # The risk screen, storage, escalation: the pipeline's, as for every channel.
    result = await pipeline.handle(message)
    texts = get_texts(result.locale)
    kind = keyword.kind if keyword else None
    if kind == "stop":
        await _set_stopped(runtime, who, True)
        return [_stop_confirmation(texts, result, runtime.settings.default_country)]
    if facts.stopped and kind != "start":
        # Only START (or YES) opts back in, as carriers require; the turn ran for the
        # risk screen and the counselors, but nothing is sent except a HELP answer.
        await _set_stopped(runtime, who, True)
        return [_help(texts, runtime.settings.default_country)] if kind == "help" else []
    if kind == "help":
        await _remember(runtime, who, [], result)
        return [_help(texts, runtime.settings.default_country)]
    messages, choices = shape_turn(result.replies, _choice_words(texts))
    await _remember(runtime, who, choices, result)
    return messages


def _choice_words(texts: Texts) -> ChoiceWords:
    return ChoiceWords(texts("sms.reply_word"), texts("sms.for_word"))


def _help(texts: Texts, country: str) -> str:
    return texts("sms.help", emergency=lines_for(country, texts.locale)["emergency"])


def _stop_confirmation(texts: Texts, result: TurnResult, country: str) -> str:
    text = texts("sms.stopped")
    distress = result.status == "degraded" or any(e.type == "risk.detected" for e in result.events)
    if distress:  # Still one message: the confirmation, then where to turn now.
        lines = lines_for(country, texts.locale)
        text = f"{text} {texts('sms.stopped_danger', emergency=lines['emergency'])}"
    return text


async def _facts(runtime: Runtime, who: str) -> _Facts:
    try:
        async with runtime.db.sessions() as session:
            row = (
                await session.execute(
                    select(Contact.stopped, SmsThread.choices_enc)
                    .outerjoin(SmsThread, SmsThread.contact_id == Contact.id)
                    .where(Contact.address_hash == who)
                )
            ).first()
    except STORAGE_ERRORS as exc:
        log.warning("sms facts unavailable: %s", type(exc).__name__)
        return _Facts()  # The pipeline answers (degraded) on its own.
    if row is None:
        return _Facts()
    choices: list[Choice] = []
    if row[1] is not None:
        choices = [
            Choice(label, value)
            for label, value in json.loads(runtime.pipeline.cipher.decrypt(row[1]))
        ]
    return _Facts(bool(row[0]), choices)


async def _set_stopped(runtime: Runtime, who: str, value: bool) -> None:
    try:
        async with runtime.db.sessions() as session, session.begin():
            await session.execute(
                update(Contact).where(Contact.address_hash == who).values(stopped=value)
            )
    except STORAGE_ERRORS as exc:
        log.error("sms stop not stored: %s", type(exc).__name__)


async def _remember(runtime: Runtime, who: str, choices: list[Choice], result: TurnResult) -> None:
    """Keep the numbered choices just shown, so "2" means what the person saw."""
    if result.status != "ok":
        return  # A resend or a refused turn shows nothing new.
    encrypted = (
        runtime.pipeline.cipher.encrypt(json.dumps([[c.label, c.value] for c in choices]))
        if choices
        else None
    )
    now = runtime.pipeline.clock()
    for _ in range(2):  # A concurrent first insert: the second try updates.
        try:
            async with runtime.db.sessions() as session, session.begin():
                contact_id = await session.scalar(
                    select(Contact.id).where(Contact.address_hash == who)
                )
                if contact_id is None:
                    return  # Erased in this turn.
                thread = await session.scalar(
                    select(SmsThread).where(SmsThread.contact_id == contact_id)
                )
                if thread is None:
                    session.add(
                        SmsThread(contact_id=contact_id, choices_enc=encrypted, updated_at=now)
                    )
                else:
                    thread.choices_enc, thread.updated_at = encrypted, now
            return
        except IntegrityError:
            continue
        except STORAGE_ERRORS as exc:
            log.warning("sms choices not stored: %s", type(exc).__name__)
            return


async def record_status(runtime: Runtime, sid: str, status: str, code: int | None) -> None:
    now = runtime.pipeline.clock()
    async with runtime.db.sessions() as session, session.begin():
        delivery = await session.scalar(select(SmsDelivery).where(SmsDelivery.message_sid == sid))
        if delivery is None:
            return  # Not one of ours (a TwiML reply, or purged): nothing to record.
        if _STATUS_RANK[status] >= _STATUS_RANK.get(delivery.status, 0):
            delivery.status = status
            delivery.error_code = code
            delivery.updated_at = now
        if code in UNREACHABLE_CODES:
            item = await session.get(OutboxItem, delivery.outbox_id)
            contact = await session.get(Contact, item.contact_id) if item else None
            if contact is not None:
                contact.stopped = True  # The carrier says this number can't get our messages.


# -- outbound: Twilio's REST API from the outbox -----------------------------------------------

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


@dataclass(frozen=True, slots=True)
class _Plan:
    parts: list[str]
    done: set[int]


class TwilioSender:
    """The outbox's sender for ``sms``: one Twilio message per part, each once."""

    def __init__(self, runtime: Runtime, client: Any, http: TwilioHttpClient) -> None:
        self.runtime = runtime
        self.client = client
        self.http = http
        settings = runtime.settings
        self.origin: dict[str, str] = (
            {"messaging_service_sid": settings.twilio_messaging_service_sid}
            if settings.twilio_messaging_service_sid
            else {"from_": settings.twilio_from_number}
        )
        self.status_callback = (
            _public_url(settings, STATUS_PATH, "") if settings.public_base_url else None
        )
        self._tries: dict[str, int] = {}

    @classmethod
    def create(cls, runtime: Runtime) -> TwilioSender:
        settings = runtime.settings
        http = TwilioHttpClient(settings.twilio_api_base)
        client = Client(settings.twilio_account_sid, settings.twilio_auth_token, http_client=http)
        return cls(runtime, client, http)

    async def close(self) -> None:
        await self.http.close()

    async def send(self, address: str, text: str, key: str) -> SendResult:
        outbox_id = int(key.rsplit("-", 1)[1])
        plan = await self._plan(address, outbox_id, text)
        if plan is None:
            log.info("sms not sent: the contact stopped or was erased")
            return SendResult(ok=False)  # Never retried: STOP means nothing more.
        extra: dict[str, str] = dict(self.origin)
        if self.status_callback:
            extra["status_callback"] = self.status_callback
        for index, part in enumerate(plan.parts):
            if index in plan.done:
                continue  # Sent before a failure of a later part: never twice.
            _retry_after.set(None)
            try:
                sent = await self.client.messages.create_async(to=address, body=part, **extra)
            except TwilioRestException as exc:
                return self._refused(exc, key)
            except (aiohttp.ClientError, TimeoutError, OSError) as exc:
                log.warning("twilio unreachable: %s", type(exc).__name__)
                return self._retry(key)
            await self._record(outbox_id, index, str(sent.sid), str(sent.status or "queued"))
        self._tries.pop(key, None)
        return SendResult(ok=True)

    def _refused(self, exc: TwilioRestException, key: str) -> SendResult:
        log.warning("twilio refused a message: http %s, code %s", exc.status, exc.code)
        if exc.code in UNREACHABLE_CODES:
            self._tries.pop(key, None)
            return SendResult(ok=False, unreachable=True)
        # Rate limits, Twilio's own trouble, and credentials being fixed: try again later.
        if exc.status == 429 or exc.status >= 500 or exc.status in (401, 403):
            return self._retry(key)
        self._tries.pop(key, None)
        return SendResult(ok=False)

    def _retry(self, key: str) -> SendResult:
        tries = self._tries[key] = self._tries.get(key, 0) + 1
        wait = _retry_after.get()
        seconds = wait if wait is not None else backoff(tries, None).total_seconds()
        return SendResult(ok=False, retry_after=seconds)

    async def _plan(self, address: str, outbox_id: int, text: str) -> _Plan | None:
        who = self.runtime.pipeline.identity(CHANNEL, address)
        async with self.runtime.db.sessions() as session:
            contact = await session.scalar(select(Contact).where(Contact.address_hash == who))
            if contact is None or contact.stopped:
                return None
            item = await session.get(OutboxItem, outbox_id)
            if item is not None:
                text = await _careful_text(session, item.idempotency_key, contact, text)
            done = set(
                (
                    await session.execute(
                        select(SmsDelivery.part).where(SmsDelivery.outbox_id == outbox_id)
                    )
                ).scalars()
            )
        return _Plan(split_for_sms(text), done)

    async def _record(self, outbox_id: int, part: int, sid: str, status: str) -> None:
        now = self.runtime.pipeline.clock()
        async with self.runtime.db.sessions() as session, session.begin():
            session.add(
                SmsDelivery(
                    outbox_id=outbox_id,
                    part=part,
                    message_sid=sid,
                    status=status[:16],
                    created_at=now,
                    updated_at=now,
                )
            )


async def _careful_text(session: Any, key: str, contact: Contact, text: str) -> str:
    """Neutral wording for messages the service starts when the phone may be watched.

    A discreet contact, or a handoff that began with the safe word, gets texts
    that say nothing of the service or why; a counselor's own words pass as written.
    """
    kind, _, rest = key.partition(":")
    texts = get_texts(contact.locale or "en")
    if kind in ("joined", "closed"):
        careful = contact.discreet
        if not careful and rest.isdigit():
            escalation = await session.get(Escalation, int(rest))
            careful = escalation is not None and escalation.reason == "safe_word"
        return texts(f"discreet.{kind}") if careful else text
    if kind == "checkin" and contact.discreet:
        return texts.entries.get("checkins.message_discreet", text)
    return text


# -- wiring --------------------------------------------------------------------------------------


def install(
    app: FastAPI, settings: Settings
) -> Callable[[Runtime], Awaitable[list[asyncio.Task[None]]]] | None:
    """Routes always (404 while off); the outbox sender once the runtime exists."""
    app.include_router(router)
    if not sms_enabled(settings):
        return None
    if not (settings.twilio_from_number or settings.twilio_messaging_service_sid):
        log.warning("sms: no TWILIO_FROM_NUMBER or TWILIO_MESSAGING_SERVICE_SID; replies only")
        return None
    if not settings.public_base_url:
        log.warning("sms: PUBLIC_BASE_URL is empty; every webhook will be refused (403)")

    async def start(runtime: Runtime) -> list[asyncio.Task[None]]:
        sender = TwilioSender.create(runtime)
        runtime.outbox.senders[CHANNEL] = sender
        return [asyncio.create_task(_close_at_shutdown(sender))]

    return start


async def _close_at_shutdown(sender: TwilioSender) -> None:
    try:
        await asyncio.Event().wait()
    finally:
        with contextlib.suppress(Exception):
            await sender.close()
