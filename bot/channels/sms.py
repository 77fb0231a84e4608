"""SMS over Twilio: ``POST /sms/twilio`` (inbound) and ``POST /sms/twilio/status``.

Inbound, in this order:

    channel off (no TWILIO_ACCOUNT_SID / TWILIO_AUTH_TOKEN)  -> 404
    body over 64 KiB                                        -> 413
    X-Twilio-Signature missing or wrong                     -> 403, nothing stored
      (Twilio's RequestValidator over PUBLIC_BASE_URL + path + query: the URL
      Twilio called, never the Host header, so it holds behind a proxy)
    no MessageSid or From                                   -> 400
    -> carrier keywords (STOP / START / HELP and Spanish) on the whole message:
       STOP and START change ``sms_opt_outs`` *before* the turn runs
    -> "2" becomes the value of the second numbered choice shown last
    -> Pipeline.handle (risk screen first; persisted and de-duplicated by MessageSid)
    -> TwiML: the replies shaped for SMS (numbered choices, few segments)

After STOP the number is in ``sms_opt_outs`` and nothing is sent but the one
confirmation, until START (or YES, as Twilio does); HELP is always answered.
On SMS the dialog resumes a stopped contact only on START
(``resume_on_any_message=False``); as a second guard the channel stops it again
after any other turn, and the sender reads ``sms_opt_outs`` first, so nothing
leaves in between. Messages the service starts (a counselor's words, "a
counselor is here", check-ins, pages) go through :class:`TwilioSender`
(sms_sender.py). Phone numbers are parsed to E.164 with phonenumbers, hashed
for identity, stored only encrypted and never logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from starlette.datastructures import ImmutableMultiDict
from twilio.request_validator import (
    SIGNATURE_HEADER,
    SIGNATURE_SETTINGS_HEADER,
    RequestValidator,
    get_signature_algorithm,
)
from twilio.twiml.messaging_response import MessagingResponse

from bot.channels.http import read_capped_body
from bot.channels.sms_protocol import (
    CHANNEL,
    STATUS_PATH,
    STATUS_RANK,
    UNREACHABLE_CODES,
    UNSUBSCRIBED,
    public_url,
)
from bot.channels.sms_store import SmsPart, SmsSend, SmsThread, is_opted_out, opt_in, opt_out
from bot.channels.sms_text import (
    ChoiceWords,
    choice_value,
    classify_keyword,
    normalize_number,
    shape_turn,
)
from bot.pipeline import TurnResult
from bot.runtime import Runtime
from bot.settings import Settings
from bot.state import storage_errors
from bot.storage.models import Contact
from bot.types import Choice, InboundMessage, Reply
from dialogs.texts import Texts, get_texts, lines_for
from escalation.models import OutboxItem

if TYPE_CHECKING:
    from bot.channels.sms_sender import TwilioSender

__all__ = [
    "CHANNEL",
    "PATH",
    "STATUS_PATH",
    "install",
    "normalize_number",
    "receive",
    "record_status",
    "router",
    "sms_enabled",
]

log = logging.getLogger("harborline.channels.sms")

PATH = "/sms/twilio"
MAX_BODY_BYTES = 64 * 1024

router = APIRouter(tags=["channels"])


def sms_enabled(settings: Settings) -> bool:
    return bool(settings.twilio_account_sid and settings.twilio_auth_token)


# -- HTTP: inbound message and status callback ------------------------------------------------


_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "TwiML <Response> with the replies", "content": {"application/xml": {}}},
    400: {"description": "MessageSid or From missing"},
    403: {"description": "X-Twilio-Signature missing or wrong; nothing stored"},
    404: {"description": "The channel is off (no Twilio credentials)"},
    413: {"description": "Body larger than 64 KiB"},
}
_STATUS_RESPONSES: dict[int | str, dict[str, Any]] = {
    **{k: v for k, v in _RESPONSES.items() if k != 200},
    400: {"description": "MessageSid or a known MessageStatus missing"},
    503: {"description": "Storage unavailable; Twilio calls again"},
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


@router.post(
    STATUS_PATH, status_code=204, responses=_STATUS_RESPONSES, summary="Twilio status callback"
)
async def sms_status(request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    params, refused = await _verified_form(request, runtime.settings, STATUS_PATH)
    if refused is not None:
        return refused
    sid = params.get("MessageSid") or params.get("SmsSid") or ""
    status = (params.get("MessageStatus") or params.get("SmsStatus") or "").lower()
    code = params.get("ErrorCode") or ""
    marker = request.query_params.get("part", "")
    if not sid or len(sid) > 64 or status not in STATUS_RANK or status == "intent":
        return _error(400, "MessageSid and a known MessageStatus are required")
    try:
        await record_status(
            runtime,
            sid,
            status,
            int(code) if code.isdigit() and len(code) < 10 else None,
            part_id=int(marker) if marker.isdigit() and len(marker) < 16 else None,
            to=params.get("To") or "",
        )
    except storage_errors() as exc:
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
    url = public_url(settings, path, request.url.query)
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
    opted_out: bool = False
    choices: list[Choice] = field(default_factory=list)


async def receive(
    runtime: Runtime, address: str, body: str, sid: str, received_at: datetime | None = None
) -> list[str]:
    """The SMS texts to answer one inbound message with (empty: answer nothing)."""
    pipeline = runtime.pipeline
    who = pipeline.identity(CHANNEL, address)
    facts = await _facts(runtime, who)
    keyword = classify_keyword(body, stopped=facts.opted_out)
    kind = keyword.kind if keyword else None
    # The number's choice holds before the turn runs, so it holds even if the turn
    # fails: from STOP on nothing is sent to it, from START on it may be again.
    opted_in = False
    if kind == "stop":
        await _set_opt_out(runtime, who, True)
    elif kind == "start" and facts.opted_out:
        opted_in = await _set_opt_out(runtime, who, False)
    # Every synonym reaches the dialog as its own word ("revoke" is "stop"); the
    # risk screen still reads every message (a lone keyword carries no risk cue).
    text = keyword.command if keyword else choice_value(body, facts.choices) or body
    message = InboundMessage(
        channel=CHANNEL,
        address=address,
        text=text,
        provider_id=sid,
        received_at=received_at or pipeline.clock(),
        locale_hint=keyword.locale if keyword else None,
        resume_on_any_message=False,  # After STOP, only START opts back in.
    )
    # The risk screen, storage, escalation: the pipeline's, as for every channel.
    result = await pipeline.handle(message)
    texts = get_texts(result.locale)
    country = runtime.settings.default_country
    if kind == "stop":
        await _set_stopped(runtime, who, True)
        return [_stop_confirmation(texts, result, country)]
    if facts.opted_out and kind != "start":
        # Only START (or YES) opts back in, as carriers require. The turn ran for the
        # risk screen and the counselors, and the dialog took any message as a
        # return: the contact is stopped again, and nothing is sent but HELP's answer.
        await _set_stopped(runtime, who, True)
        return [_help(texts, country)] if kind == "help" else []
    if kind == "help":
        await _remember(runtime, who, [], result)
        return [_help(texts, country)]
    replies = result.replies
    if opted_in:  # Also when the turn could not run (rate limit, storage): START holds.
        await _set_stopped(runtime, who, False)
    if kind == "start":
        replies = _started(replies, texts, announce=opted_in)
    messages, choices = shape_turn(replies, _choice_words(texts))
    await _remember(runtime, who, choices, result)
    return messages


def _choice_words(texts: Texts) -> ChoiceWords:
    return ChoiceWords(texts("sms.reply_word"), texts("sms.for_word"))


def _help(texts: Texts, country: str) -> str:
    return texts("sms.help", emergency=lines_for(country, texts.locale)["emergency"])


def _started(replies: list[Reply], texts: Texts, announce: bool) -> list[Reply]:
    """START says what it means on SMS: messages from this number again, and how to end them."""
    resumed, started = texts("stop.resumed"), texts("sms.started")
    out = [Reply(started, r.choices) if r.text == resumed else r for r in replies]
    if announce and not any(r.text == started for r in out):
        out.insert(0, Reply(started))
    return out


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
            opted_out = await is_opted_out(session, who)
            choices_enc = await session.scalar(
                select(SmsThread.choices_enc)
                .join(Contact, SmsThread.contact_id == Contact.id)
                .where(Contact.address_hash == who)
            )
    except storage_errors() as exc:
        log.warning("sms facts unavailable: %s", type(exc).__name__)
        return _Facts()  # The pipeline answers (degraded) on its own.
    choices: list[Choice] = []
    if choices_enc is not None:
        choices = [
            Choice(label, value)
            for label, value in json.loads(runtime.pipeline.cipher.decrypt(choices_enc))
        ]
    return _Facts(opted_out, choices)


async def _set_opt_out(runtime: Runtime, who: str, value: bool) -> bool:
    """Record STOP (True) or START (False) for the number; False if it could not be stored."""
    try:
        async with runtime.db.sessions() as session, session.begin():
            if value:
                await opt_out(session, who, "keyword", runtime.pipeline.clock())
                # Stopped at once too, so the check-in dispatcher cancels rather than sends.
                await session.execute(
                    update(Contact).where(Contact.address_hash == who).values(stopped=True)
                )
            else:
                await opt_in(session, who)
    except storage_errors() as exc:
        # Twilio keeps its own block list for STOP; our sender learns it from 21610.
        log.error("sms opt-out not stored: %s", type(exc).__name__)
        return False
    return True


async def _set_stopped(runtime: Runtime, who: str, value: bool) -> None:
    try:
        async with runtime.db.sessions() as session, session.begin():
            await session.execute(
                update(Contact).where(Contact.address_hash == who).values(stopped=value)
            )
    except storage_errors() as exc:
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
        except storage_errors() as exc:
            log.warning("sms choices not stored: %s", type(exc).__name__)
            return


async def record_status(
    runtime: Runtime,
    sid: str,
    status: str,
    code: int | None,
    part_id: int | None = None,
    to: str = "",
) -> None:
    """A status callback: the part's state moves forward only; unreachable stops the number.

    ``part_id`` is the marker in the callback URL: it names the MessageSid of a part
    whose create call never came back (a crash or a time-out), so it is not sent again.
    """
    now = runtime.pipeline.clock()
    async with runtime.db.sessions() as session, session.begin():
        part = await session.scalar(select(SmsPart).where(SmsPart.message_sid == sid))
        if part is None and part_id is not None:
            candidate = await session.get(SmsPart, part_id)
            if candidate is not None and candidate.message_sid is None:
                candidate.message_sid = sid
                part = candidate
        if part is None:
            return  # Not one of ours (a TwiML reply, or purged): nothing to record.
        if STATUS_RANK[status] >= STATUS_RANK.get(part.status, 0):
            part.status = status
            part.error_code = code
            part.updated_at = now
        if code not in UNREACHABLE_CODES:
            return
        # The carrier says this number can't get our messages: stop it.
        number = normalize_number(to, runtime.settings.default_country) if to else None
        who = runtime.pipeline.identity(CHANNEL, number) if number else None
        contact = None
        send = await session.get(SmsSend, part.send_id)
        if send is not None and send.outbox_id is not None:
            item = await session.get(OutboxItem, send.outbox_id)
            if item is not None and item.contact_id is not None:  # Not a counselor's page.
                contact = await session.get(Contact, item.contact_id)
        if contact is None and who is not None:
            contact = await session.scalar(select(Contact).where(Contact.address_hash == who))
        if contact is not None:
            contact.stopped = True
            who = who or contact.address_hash
        if code == UNSUBSCRIBED and who is not None:
            await opt_out(session, who, "carrier", now)


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
        # Twilio's REST client and aiohttp load only where SMS is on (about 14 MB).
        from bot.channels.sms_sender import TwilioSender

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
