"""Telegram channel on aiogram 3: survivors in private chats, counselors in a group or DMs.

Off unless ``TELEGRAM_BOT_TOKEN`` is set. Updates arrive by long polling (no
``TELEGRAM_WEBHOOK_URL``) or at ``POST /telegram/webhook`` (``setWebhook`` with
``TELEGRAM_WEBHOOK_SECRET`` at start-up). Either way each update goes through an
aiogram ``Dispatcher`` whose handlers only translate:

    private text message, or a tap on a choice button (callback query)
        -> InboundMessage(channel="telegram", address=str(chat id), text,
                          provider_id=str(update_id), locale_hint from Telegram)
        -> Pipeline.handle -> replies as sendMessage, choices as inline keyboards
    photo, voice, sticker, location, document, edited message, group chat
        -> one kind text; only the update id is stored (inbox de-duplication)
    counselors (telegram_counselors.CounselorDesk)
        -> escalation cards with a Claim button in the counselors' group and in the
           direct messages of linked counselors (``/link CODE``); relay both ways

Webhook checks, in order: secret header (constant time; wrong or missing -> 401,
nothing read or stored), JSON body (-> 400), then the update is processed and
persisted by the pipeline's inbox before the answer: 200, or 503 when storage is
down so Telegram delivers it again.

Replies are durable. The pipeline stores each turn's result with the update id;
the channel sends the pieces in order and writes a ``telegram_sends`` marker after
each one Telegram accepted (under a lock per chat). Until every piece has a marker
the update is not acknowledged (no 200, no polling offset), so after a crash
Telegram delivers it again, the pipeline returns the stored result ("duplicate")
and only the unmarked pieces go out. What Telegram refuses for now (429, 5xx,
network) goes to the durable outbox with a marker in the same transaction; its
``TelegramSender`` delivers with ``retry_after`` or back-off, marking each part. A
block (403) marks the contact stopped.

Quick exit (``/exit`` or the Exit button) deletes every message id kept for the
chat (bot's and person's, Telegram allows 48 hours), then sends one neutral line;
a redelivery of an older update after that sends nothing.
Logs never carry text, chat ids or user ids.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aiogram import Bot, Dispatcher, F, Router
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.types import (
    BotCommand,
    CallbackQuery,
    InlineKeyboardMarkup,
    Message,
    Update,
)
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from bot.channels.telegram_counselors import RECONCILE_SECONDS, CounselorDesk
from bot.channels.telegram_store import (
    TelegramSend,
    exited_after,
    forget_ids,
    message_ids,
    purge_old,
    remember,
    sent_parts,
)
from bot.channels.telegram_text import (
    CALLBACK_MAX_BYTES,
    CLAIM_PREFIX,
    EXIT_VALUE,
    LINK_COMMAND,
    MAX_CHARS,
    as_plain_text,
    card_text,
    keyboard,
    locale_hint,
    parse_counselor_ids,
    split_text,
)
from bot.outbox import SendResult, backoff
from bot.pipeline import TurnResult
from bot.runtime import Runtime
from bot.settings import Settings
from bot.state import storage_errors
from bot.storage.models import Contact, InboxItem
from bot.types import InboundMessage, Reply
from dialogs.texts import Texts, get_texts
from escalation import service

__all__ = [
    "CALLBACK_MAX_BYTES",
    "CHANNEL",
    "EXIT_VALUE",
    "MAX_CHARS",
    "PATH",
    "TelegramChannel",
    "TelegramSender",
    "card_text",
    "install",
    "locale_hint",
    "parse_counselor_ids",
    "split_text",
]

log = logging.getLogger("harborline.channels.telegram")

CHANNEL = "telegram"
PATH = "/telegram/webhook"
POLL_TIMEOUT_SECONDS = 25
PURGE_EVERY_SECONDS = 600.0
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name
ALLOWED_UPDATES = ["message", "edited_message", "callback_query"]
COMMANDS = ("start", "menu", "help", "person", "language", "forget", "exit")


# -- sending --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Piece:
    text: str
    markup: InlineKeyboardMarkup | None
    plain: str  # The same message as text only, for the outbox.


def reply_pieces(result: TurnResult, texts: Texts) -> list[_Piece]:
    """A turn's replies as Telegram messages: split below 4096 characters, the buttons
    on the last part of a reply, an Exit button on the last reply of the turn."""
    pieces: list[_Piece] = []
    last = len(result.replies) - 1
    for index, reply in enumerate(result.replies):
        exit_label = texts("telegram.exit_button") if index == last else None
        markup = keyboard(reply, exit_label)
        parts = split_text(reply.text)
        for n, part in enumerate(parts):
            final = n == len(parts) - 1
            plain = as_plain_text(Reply(part, reply.choices if final else ()))
            pieces.append(_Piece(part, markup if final else None, plain))
    return pieces


class TelegramSender:
    """The outbox's push sender: counselor relay, closings, replies Telegram refused.

    Long texts are split; each part that Telegram accepted gets a ``telegram_sends``
    marker (``o:<key>:<n>``), so a retry, or a row requeued after a crash, sends only
    the parts still missing.
    """

    def __init__(self, channel: TelegramChannel) -> None:
        self.channel = channel
        self._failures: dict[str, int] = {}

    async def send(self, address: str, text: str, key: str) -> SendResult:
        parts = split_text(text)
        keys = [f"o:{key}:{n}" for n in range(len(parts))]
        who = self.channel.runtime.pipeline.identity(CHANNEL, address)
        async with self.channel.runtime.db.sessions() as session:
            contact_id = await session.scalar(select(Contact.id).where(Contact.address_hash == who))
            done = await sent_parts(session, keys)
        try:
            for part, part_key in zip(parts, keys, strict=True):
                if part_key in done:
                    continue
                message = await self.channel.bot.send_message(int(address), part)
                await self.channel.mark_sent(
                    part_key, contact_id, who, [message.message_id], message.message_id
                )
        except TelegramRetryAfter as exc:
            return SendResult(ok=False, retry_after=float(exc.retry_after))
        except TelegramForbiddenError:
            return SendResult(ok=False, unreachable=True)
        except (TelegramServerError, TelegramNetworkError):
            failures = self._failures.get(key, 0) + 1
            self._failures[key] = failures
            return SendResult(ok=False, retry_after=backoff(failures, None).total_seconds())
        except TelegramAPIError as exc:  # 400 and the like: retrying won't help.
            log.warning("outbox send refused: %s", type(exc).__name__)
            return SendResult(ok=False)
        self._failures.pop(key, None)
        return SendResult(ok=True)


# -- the channel ----------------------------------------------------------------------------


class TelegramChannel:
    """Translates updates to pipeline turns and back; holds the aiogram Bot."""

    def __init__(self, settings: Settings, bot: Bot | None = None) -> None:
        self.settings = settings
        self.bot = bot or make_bot(settings)
        self.webhook = bool(settings.telegram_webhook_url)
        self.counselor_chat = settings.telegram_counselor_chat_id
        self.desk = CounselorDesk(self.bot, settings)
        self.poll_timeout = POLL_TIMEOUT_SECONDS
        self._runtime: Runtime | None = None
        self.dispatcher = Dispatcher()
        self.dispatcher["channel"] = self
        self.dispatcher.include_router(self._router())

    @property
    def runtime(self) -> Runtime:
        if self._runtime is None:
            raise RuntimeError("the Telegram channel has not started")
        return self._runtime

    def now(self) -> datetime:
        return self.runtime.pipeline.clock()

    # routing ------------------------------------------------------------------------------

    def _router(self) -> Router:
        router = Router(name="harborline-telegram")
        group = self.counselor_chat
        private = F.chat.type == "private"
        # Counselors first: a claim, /link, /unlink, a linked counselor's DMs.
        router.callback_query.register(
            _on_claim,
            F.data.startswith(CLAIM_PREFIX),
            (F.message.chat.type == "private") | (F.message.chat.id == group),
        )
        router.message.register(_on_link, private, F.text.regexp(LINK_COMMAND).as_("link"))
        router.message.register(
            _on_unlink, private, F.text.regexp(r"^/unlink(@\w+)?\s*$"), self.desk.linked_sender
        )
        router.message.register(_on_counselor_direct, private, self.desk.linked_sender)
        if group is not None:
            router.message.register(_on_counselor_message, F.chat.id == group)
        # Survivors.
        router.callback_query.register(_on_choice, F.message.chat.type == "private")
        router.message.register(_on_text, private, F.text)
        router.message.register(_on_not_text, private)
        router.message.register(_on_group)
        router.edited_message.register(_on_edited)
        return router

    async def process(self, update: Update) -> bool:
        """Handle one update. False: not done (storage down), deliver it again."""
        result = await self.dispatcher.feed_update(self.bot, update)
        return result is not False

    # survivors ----------------------------------------------------------------------------

    async def survivor_turn(
        self,
        chat_id: int,
        text: str,
        update_id: int,
        language_code: str | None,
        user_message_id: int | None,
    ) -> bool:
        rt = self.runtime
        address = str(chat_id)
        message = InboundMessage(
            channel=CHANNEL,
            address=address,
            text=text,
            provider_id=str(update_id),
            received_at=self.now(),
            locale_hint=locale_hint(language_code),
        )
        result = await rt.pipeline.handle(message)
        if result.status == "unavailable" and self.webhook:
            return False  # Nothing stored: Telegram delivers it again.
        texts = get_texts(result.locale)
        who = rt.pipeline.identity(CHANNEL, address)
        if result.status not in ("ok", "duplicate"):
            # Not stored (rate limited, storage down): a best-effort answer, no markers.
            await self._send_unstored(chat_id, reply_pieces(result, texts))
            return result.status not in ("unavailable", "degraded") or not self.webhook
        try:
            async with rt.state.lock(f"telegram-send:{who}"):
                await self.deliver(chat_id, who, result, texts, update_id, user_message_id)
        except storage_errors() as exc:
            # Markers say what went out; the redelivered update sends the rest.
            log.warning("replies not all recorded: %s", type(exc).__name__)
            return False
        return True

    async def deliver(
        self,
        chat_id: int,
        who: str,
        result: TurnResult,
        texts: Texts,
        update_id: int,
        user_message_id: int | None,
    ) -> None:
        """Send the turn's pieces that have no marker yet, marking each one sent."""
        exiting = any(e.type == "session.exit" for e in result.events)
        erased = any(e.type == "contact.erased" for e in result.events)
        pieces = [] if exiting else reply_pieces(result, texts)
        keys = [f"reply:{update_id}:{n}" for n in range(len(pieces))]
        exit_key = f"exit:{update_id}"
        async with self.runtime.db.sessions() as session:
            contact_id = await session.scalar(select(Contact.id).where(Contact.address_hash == who))
            done = await sent_parts(session, [*keys, exit_key])
            if result.status == "duplicate" and (
                (contact_id is None and not erased)
                or (contact_id is not None and await exited_after(session, contact_id, update_id))
            ):
                return  # Erased or quick exit since: sending now would undo what they asked.
        if exiting:
            if exit_key not in done:
                await self.quick_exit(chat_id, who, contact_id, update_id, user_message_id, texts)
            return
        own = [user_message_id] if user_message_id and not done else []
        for index, (piece, key) in enumerate(zip(pieces, keys, strict=True)):
            if key in done:
                continue
            try:
                sent = await self.bot.send_message(chat_id, piece.text, reply_markup=piece.markup)
            except TelegramForbiddenError:
                await self._blocked(contact_id)
                return
            except TelegramAPIError as exc:
                # 429, 5xx, network: the outbox delivers the rest. 400: same, it retries
                # only with back-off and gives up after a few attempts.
                log.warning("reply deferred to the outbox: %s", type(exc).__name__)
                rest = [(p, k) for p, k in zip(pieces[index:], keys[index:], strict=True)]
                await self._defer(contact_id, [(p, k) for p, k in rest if k not in done])
                return
            await self.mark_sent(key, contact_id, who, [*own, sent.message_id], sent.message_id)
            own = []

    async def mark_sent(
        self, key: str, contact_id: int | None, who: str, ids: list[int], message_id: int | None
    ) -> None:
        """The marker for one sent piece, with the ids quick exit will delete."""
        db = self.runtime.db
        async with db.writing(), db.sessions() as session:
            session.add(TelegramSend(key=key, message_id=message_id, sent_at=self.now()))
            if contact_id is not None:
                await remember(session, contact_id, who, ids, self.now())
            try:
                await session.commit()
            except IntegrityError:  # Marked by a sender that did not hold the lock.
                await session.rollback()
                log.warning("piece marked twice")

    async def _defer(self, contact_id: int | None, rest: list[tuple[_Piece, str]]) -> None:
        if contact_id is None or not rest:
            return  # Erased this turn (forget me): keep nothing.
        db = self.runtime.db  # Reads the contact, then writes: the writer lock first.
        async with db.writing(), db.write_sessions() as session, session.begin():
            for piece, key in rest:
                # Queued and marked together: a redelivery neither sends it nor queues it again.
                await service.enqueue_for_survivor(
                    session,
                    contact_id,
                    piece.plain,
                    self.runtime.pipeline.cipher,
                    self.now(),
                    f"tg:{key}",
                )
                session.add(TelegramSend(key=key, message_id=None, sent_at=self.now()))
        self.runtime.outbox.wake()

    async def _blocked(self, contact_id: int | None) -> None:
        if contact_id is None:
            return
        async with self.runtime.db.sessions() as session, session.begin():
            await session.execute(
                update(Contact).where(Contact.id == contact_id).values(stopped=True)
            )

    async def _send_unstored(self, chat_id: int, pieces: list[_Piece]) -> None:
        for piece in pieces:
            try:
                await self.bot.send_message(chat_id, piece.text, reply_markup=piece.markup)
            except TelegramAPIError as exc:
                log.warning("reply not sent: %s", type(exc).__name__)
                return

    async def quick_exit(
        self,
        chat_id: int,
        who: str,
        contact_id: int | None,
        update_id: int,
        user_message_id: int | None,
        texts: Texts,
    ) -> None:
        """Delete every kept message of this chat, then one neutral line.

        Ids are forgotten only after their deletion was asked for, and the exit is
        marked last, so a crash anywhere in between repeats the exit on redelivery.
        """
        async with self.runtime.db.sessions() as session:
            ids = await message_ids(session, who, self.now())
        if user_message_id:
            ids.append(user_message_id)
        for message_id in ids:
            # Too old or already gone: nothing more Telegram lets us do.
            with contextlib.suppress(TelegramAPIError):
                await self.bot.delete_message(chat_id, message_id)
        async with self.runtime.db.sessions() as session, session.begin():
            await forget_ids(session, who, ids)
        line: int | None = None
        with contextlib.suppress(TelegramAPIError):
            line = (await self.bot.send_message(chat_id, texts("telegram.exit_done"))).message_id
        async with self.runtime.db.sessions() as session, session.begin():
            session.add(
                TelegramSend(
                    key=f"exit:{update_id}",
                    message_id=line,
                    contact_id=contact_id,
                    update_id=update_id,
                    sent_at=self.now(),
                )
            )
            if contact_id is not None and line is not None:
                await remember(session, contact_id, who, [line], self.now())

    async def mark_update(self, update_id: int) -> bool:
        """Record an update handled outside the pipeline: True the first time only."""
        now = self.now()
        async with self.runtime.db.sessions() as session:
            session.add(
                InboxItem(
                    channel=CHANNEL,
                    provider_id=str(update_id),
                    status="done",
                    payload_enc=None,
                    result_enc=None,
                    received_at=now,
                    processed_at=now,
                )
            )
            try:
                await session.commit()
            except IntegrityError:
                await session.rollback()
                return False
        return True

    async def kind_reply(
        self, update_id: int, chat_id: int, key: str, language: str | None
    ) -> bool:
        """One kind text for an update that is not a turn; only its update id is kept.

        The inbox row de-duplicates the update; the text's own marker makes a
        redelivery after a crash send it if (and only if) it did not go out.
        """
        marker = f"kind:{update_id}"
        who = self.runtime.pipeline.identity(CHANNEL, str(chat_id))
        try:
            async with self.runtime.state.lock(f"telegram-send:{who}"):
                if not await self.mark_update(update_id):
                    async with self.runtime.db.sessions() as session:
                        if await sent_parts(session, [marker]):
                            return True
                try:
                    line = await self.bot.send_message(
                        chat_id, get_texts(locale_hint(language))(key)
                    )
                except TelegramAPIError as exc:
                    log.warning("kind reply not sent: %s", type(exc).__name__)
                    return True  # A courtesy: not worth holding the update for.
                await self.mark_sent(marker, None, who, [], line.message_id)
        except storage_errors() as exc:
            log.warning("update not recorded: %s", type(exc).__name__)
            return False
        return True

    # background work ----------------------------------------------------------------------

    async def setup(self) -> None:
        """Commands in English and Spanish; the webhook when configured. Retried."""
        for attempt in range(1, 6):
            try:
                for language in ("en", "es"):
                    texts = get_texts(language)
                    commands = [
                        BotCommand(command=c, description=texts(f"telegram.commands.{c}"))
                        for c in COMMANDS
                    ]
                    code = "es" if language == "es" else None
                    await self.bot.set_my_commands(commands, language_code=code)
                if self.webhook:
                    await self.bot.set_webhook(
                        self.settings.telegram_webhook_url,
                        secret_token=self.settings.telegram_webhook_secret or None,
                        allowed_updates=ALLOWED_UPDATES,
                    )
                return
            except TelegramAPIError as exc:
                log.warning("telegram setup failed: %s", type(exc).__name__)
                await asyncio.sleep(min(60.0, 2.0**attempt))

    async def poll(self) -> None:
        """Long polling: one update at a time, in order; offset moves once handled."""
        offset: int | None = None
        failures = 0
        while True:
            try:
                updates = await self.bot.get_updates(
                    offset=offset,
                    timeout=self.poll_timeout,
                    allowed_updates=ALLOWED_UPDATES,
                    request_timeout=self.poll_timeout + 10,
                )
                failures = 0
            except TelegramRetryAfter as exc:
                await asyncio.sleep(exc.retry_after)
                continue
            except TelegramAPIError as exc:
                failures += 1
                log.warning("getUpdates failed: %s", type(exc).__name__)
                await asyncio.sleep(min(30.0, 2.0**failures))
                continue
            for update_ in updates:
                if not await self._process_safely(update_):
                    await asyncio.sleep(1.0)
                    break  # Not done: fetch it again.
                offset = update_.update_id + 1

    async def _process_safely(self, update_: Update) -> bool:
        try:
            return await self.process(update_)
        except Exception as exc:
            log.error("update failed: %s", type(exc).__name__)
            return True  # A bug must not block every later update.

    async def watch_bus(
        self, queue: asyncio.Queue[dict[str, Any]], leave: Callable[[], Awaitable[Any]]
    ) -> None:
        try:
            while True:
                event = await queue.get()
                try:
                    await self.desk.on_event(event)
                except Exception as exc:
                    log.error("counselor update failed: %s", type(exc).__name__)
        finally:
            await leave()

    async def reconcile_forever(self) -> None:
        """Cards, pages and relays that a lost event or a dead worker left undone."""
        while True:
            try:
                await self.desk.reconcile()
            except Exception as exc:
                log.error("telegram reconcile failed: %s", type(exc).__name__)
            await asyncio.sleep(RECONCILE_SECONDS)

    async def purge(self) -> int:
        async with self.runtime.db.sessions() as session, session.begin():
            return await purge_old(session, self.now())

    async def purge_forever(self) -> None:
        while True:
            try:
                await self.purge()
            except storage_errors() as exc:
                log.warning("telegram purge failed: %s", type(exc).__name__)
            await asyncio.sleep(PURGE_EVERY_SECONDS)

    async def hold_session(self) -> None:
        """Keeps the bot's HTTP session until shutdown, then closes it."""
        try:
            await asyncio.Event().wait()
        finally:
            await self.bot.session.close()

    async def start(self, runtime: Runtime) -> list[asyncio.Task[None]]:
        self._runtime = runtime
        self.desk.start(runtime)
        runtime.outbox.senders[CHANNEL] = TelegramSender(self)
        tasks = [
            asyncio.create_task(self.hold_session()),
            asyncio.create_task(self.setup()),
            asyncio.create_task(self.purge_forever()),
        ]
        if not self.webhook:
            tasks.append(asyncio.create_task(self.poll()))
        # Subscribed before returning, so no event published after start-up is missed.
        subscription = runtime.bus.subscribe()
        queue = await subscription.__aenter__()

        async def leave() -> None:
            await subscription.__aexit__(None, None, None)

        tasks.append(asyncio.create_task(self.watch_bus(queue, leave)))
        if self.settings.paging_enabled:  # The same switch as paging: tests sweep by hand.
            tasks.append(asyncio.create_task(self.reconcile_forever()))
        return tasks


# -- aiogram handlers (thin: they only hand over to the channel) ----------------------------


async def _on_text(message: Message, channel: TelegramChannel, event_update: Update) -> bool:
    user = message.from_user
    return await channel.survivor_turn(
        message.chat.id,
        message.text or "",
        event_update.update_id,
        user.language_code if user else None,
        message.message_id,
    )


async def _on_choice(query: CallbackQuery, channel: TelegramChannel, event_update: Update) -> bool:
    with contextlib.suppress(TelegramAPIError):
        await query.answer()  # Stops the button's spinner.
    if query.message is None or not query.data:
        return True
    return await channel.survivor_turn(
        query.message.chat.id,
        query.data,
        event_update.update_id,
        query.from_user.language_code,
        None,
    )


async def _on_not_text(message: Message, channel: TelegramChannel, event_update: Update) -> bool:
    language = message.from_user.language_code if message.from_user else None
    return await channel.kind_reply(
        event_update.update_id, message.chat.id, "telegram.not_text", language
    )


async def _on_group(message: Message, channel: TelegramChannel, event_update: Update) -> bool:
    language = message.from_user.language_code if message.from_user else None
    return await channel.kind_reply(
        event_update.update_id, message.chat.id, "telegram.group", language
    )


async def _on_edited(message: Message, channel: TelegramChannel, event_update: Update) -> bool:
    if message.chat.type != "private":
        return True
    language = message.from_user.language_code if message.from_user else None
    return await channel.kind_reply(
        event_update.update_id, message.chat.id, "telegram.edited", language
    )


async def _on_claim(query: CallbackQuery, channel: TelegramChannel, event_update: Update) -> bool:
    return await _storage_guard(channel.desk.claim(query, event_update.update_id))


async def _on_link(message: Message, channel: TelegramChannel, link: Any) -> bool:
    return await _storage_guard(channel.desk.link(message, str(link[1])))


async def _on_unlink(message: Message, channel: TelegramChannel) -> bool:
    return await _storage_guard(channel.desk.unlink(message))


async def _on_counselor_direct(
    message: Message, channel: TelegramChannel, event_update: Update
) -> bool:
    work = channel.desk.counselor_message(message, event_update.update_id, direct=True)
    return await _storage_guard(work)


async def _on_counselor_message(
    message: Message, channel: TelegramChannel, event_update: Update
) -> bool:
    work = channel.desk.counselor_message(message, event_update.update_id, direct=False)
    return await _storage_guard(work)


async def _storage_guard(work: Awaitable[bool]) -> bool:
    """Storage down: not done, Telegram delivers it again (claims and relays are
    idempotent: the same counselor, the same update id)."""
    try:
        return await work
    except storage_errors() as exc:
        log.warning("counselor update not done: %s", type(exc).__name__)
        return False


# -- wiring ---------------------------------------------------------------------------------


def make_bot(settings: Settings) -> Bot:
    api = TelegramAPIServer.from_base(settings.telegram_api_base)
    return Bot(settings.telegram_bot_token, session=AiohttpSession(api=api))


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def webhook_router(channel: TelegramChannel) -> APIRouter:
    router = APIRouter()
    secret = channel.settings.telegram_webhook_secret.encode()

    @router.post(
        PATH,
        responses={
            400: {"description": "not a Telegram update"},
            401: {"description": "secret token missing or wrong"},
            503: {"description": "storage down: Telegram delivers the update again"},
        },
    )
    async def telegram_webhook(request: Request) -> JSONResponse:
        """Telegram's webhook: one update per request, answered once it is stored."""
        given = request.headers.get(SECRET_HEADER, "").encode()
        # Without a configured secret nobody is let in.
        if not secret or not hmac.compare_digest(given, secret):
            return _error(401, "unauthorized")
        try:
            data = json.loads(await request.body())
            if not isinstance(data, dict):
                raise ValueError("not an object")
            update_ = Update.model_validate(data, context={"bot": channel.bot})
        except (ValueError, ValidationError):
            return _error(400, "not a Telegram update")
        if not await channel._process_safely(update_):
            return _error(503, "try again")
        return JSONResponse({})

    return router


def install(
    app: FastAPI, settings: Settings
) -> Callable[[Runtime], Awaitable[list[asyncio.Task[None]]]] | None:
    """Off without a token. Adds the webhook route; the starter sends and polls."""
    if not settings.telegram_bot_token:
        return None
    channel = TelegramChannel(settings)
    app.state.telegram = channel
    app.include_router(webhook_router(channel))
    return channel.start
