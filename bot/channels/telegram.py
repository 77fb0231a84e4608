"""Telegram channel on aiogram 3: survivors in private chats, counselors in a group.

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
    counselors' group (TELEGRAM_COUNSELOR_CHAT_ID)
        -> escalation cards with a Claim button; a counselor's reply to a card is
           relayed to the survivor; the survivor's words come back as replies

Webhook checks, in order: secret header (constant time; wrong or missing -> 401,
nothing read or stored), JSON body (-> 400), then the update is processed and
persisted by the pipeline's inbox before the answer: 200, or 503 when storage is
down so Telegram delivers it again.

Replies to an update are sent at once; what Telegram refuses for now (429, 5xx,
network) goes to the durable outbox, which ``TelegramSender`` delivers with the
provider's ``retry_after`` or back-off. A block (403) marks the contact stopped.

Quick exit (``/exit`` or the Exit button) deletes every message id kept for the
chat (bot's and person's, Telegram allows 48 hours), then sends one neutral line.
Logs never carry text, chat ids or user ids.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import re
from collections.abc import Awaitable, Callable, Iterable
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
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    ReplyParameters,
    Update,
)
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from bot.channels.telegram_store import forget_ids, message_ids, purge_old, remember
from bot.outbox import SendResult, backoff
from bot.pipeline import STORAGE_ERRORS, TurnResult
from bot.runtime import Runtime
from bot.settings import Settings
from bot.storage.models import Contact, Escalation, InboxItem
from bot.storage.models import Message as StoredMessage
from bot.types import InboundMessage, Reply
from dialogs.texts import Texts, get_texts
from escalation import service
from escalation.accounts import find_account
from escalation.models import Counselor

__all__ = [
    "CALLBACK_MAX_BYTES",
    "CHANNEL",
    "MAX_CHARS",
    "PATH",
    "TelegramChannel",
    "TelegramSender",
    "install",
    "locale_hint",
    "parse_counselor_ids",
    "split_text",
]

log = logging.getLogger("harborline.channels.telegram")

CHANNEL = "telegram"
PATH = "/telegram/webhook"
MAX_CHARS = 4096  # Telegram's limit for one message.
CALLBACK_MAX_BYTES = 64  # Telegram's limit for callback_data.
EXIT_VALUE = "/exit"
CLAIM_PREFIX = "claim:"
POLL_TIMEOUT_SECONDS = 25
PURGE_EVERY_SECONDS = 600.0
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name
ALLOWED_UPDATES = ["message", "edited_message", "callback_query"]
COMMANDS = ("start", "menu", "help", "person", "language", "forget", "exit")
_CASE = re.compile(r"#(\d+)")
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+|\n+")

# -- pure helpers ---------------------------------------------------------------------------


def split_text(text: str, limit: int = MAX_CHARS) -> list[str]:
    """Split ``text`` into messages of at most ``limit`` characters.

    Cuts after the last sentence end (or line break) that fits; a sentence
    longer than ``limit`` is cut at the last space, then hard.
    """
    text = text.strip()
    parts: list[str] = []
    while len(text) > limit:
        window = text[: limit + 1]
        cut = max(
            (m.end() for m in _SENTENCE_END.finditer(window) if m.start() <= limit), default=0
        )
        if cut <= 0:
            cut = window.rfind(" ")
        if cut <= 0:
            cut = limit
        head = text[:cut].rstrip()
        if head:
            parts.append(head[:limit])
        text = text[cut:].lstrip()
    if text:
        parts.append(text)
    return parts


def locale_hint(language_code: str | None) -> str:
    """Telegram's user language: any Spanish ("es", "es-MX") -> "es", else "en"."""
    return "es" if (language_code or "").lower().startswith("es") else "en"


def parse_counselor_ids(raw: str) -> dict[int, str]:
    """``"123:ana,456:luis"`` -> ``{123: "ana", 456: "luis"}``; malformed items are skipped."""
    found: dict[int, str] = {}
    for item in raw.split(","):
        user_id, _, name = item.strip().partition(":")
        if user_id.strip().lstrip("-").isdigit() and name.strip():
            found[int(user_id)] = name.strip().lower()
    return found


def keyboard(reply: Reply, exit_label: str | None) -> InlineKeyboardMarkup | None:
    """Choices as one button per row; the Exit button last when asked for."""
    rows = [
        [InlineKeyboardButton(text=c.label, callback_data=c.value)]
        for c in reply.choices
        if 0 < len(c.value.encode()) <= CALLBACK_MAX_BYTES
    ]
    if exit_label:
        rows.append([InlineKeyboardButton(text=exit_label, callback_data=EXIT_VALUE)])
    return InlineKeyboardMarkup(inline_keyboard=rows) if rows else None


def as_plain_text(reply: Reply) -> str:
    """A reply without buttons (the outbox carries text): choices as numbered lines."""
    if not reply.choices:
        return reply.text
    lines = "\n".join(f"{i}. {c.label}" for i, c in enumerate(reply.choices, 1))
    return f"{reply.text}\n{lines}"


def card_text(
    escalation_id: int, level: str, categories: Iterable[str], waiting_minutes: int, texts: Texts
) -> str:
    """What counselors see of a new request: never its words, never who it is."""
    topics = ", ".join(categories) or "-"
    return (
        f"{texts('telegram.card.title')} #{escalation_id}\n"
        f"{texts('telegram.card.level')}: {level}\n"
        f"{texts('telegram.card.topics')}: {topics}\n"
        f"{texts('telegram.card.waiting')}: {waiting_minutes}"
    )


# -- sending --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Piece:
    text: str
    markup: InlineKeyboardMarkup | None
    plain: str  # The same message as text only, for the outbox.


class TelegramSender:
    """The outbox's push sender: counselor relay, closings, replies Telegram refused.

    Long texts are split; parts already delivered for a key are not sent again
    when the rest is retried (within this process).
    """

    def __init__(self, channel: TelegramChannel) -> None:
        self.channel = channel
        self._progress: dict[str, int] = {}
        self._failures: dict[str, int] = {}

    async def send(self, address: str, text: str, key: str) -> SendResult:
        parts = split_text(text)
        sent: list[int] = []
        try:
            for index in range(self._progress.get(key, 0), len(parts)):
                message = await self.channel.bot.send_message(int(address), parts[index])
                sent.append(message.message_id)
                self._progress[key] = index + 1
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
        finally:
            if sent:
                await self.channel.remember_sent(address, sent)
        self._progress.pop(key, None)
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
        self.counselors = parse_counselor_ids(settings.telegram_counselor_ids)
        self.poll_timeout = POLL_TIMEOUT_SECONDS
        self.cards: dict[int, int] = {}  # escalation id -> card message id (this process)
        self._forwarded: dict[int, int] = {}  # escalation id -> last survivor message relayed
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
        if group is not None:
            router.callback_query.register(
                _on_claim, F.message.chat.id == group, F.data.startswith(CLAIM_PREFIX)
            )
            router.message.register(_on_counselor_message, F.chat.id == group)
        router.callback_query.register(_on_choice, F.message.chat.type == "private")
        router.message.register(_on_text, F.chat.type == "private", F.text)
        router.message.register(_on_not_text, F.chat.type == "private")
        router.message.register(_on_group)
        router.edited_message.register(_on_edited)
        return router

    async def process(self, update: Update) -> bool:
        """Handle one update. False: not persisted (storage down), deliver it again."""
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
        if result.status == "duplicate":
            return True  # Processed before: its replies went out (or to the outbox) then.
        if result.status == "unavailable" and self.webhook:
            return False  # Nothing stored: Telegram delivers it again.
        texts = get_texts(result.locale)
        who = rt.pipeline.identity(CHANNEL, address)
        if any(e.type == "session.exit" for e in result.events):
            await self.quick_exit(chat_id, who, user_message_id, texts)
            return True
        await self.send_turn(chat_id, who, result, texts, update_id, user_message_id)
        return result.status not in ("unavailable", "degraded") or not self.webhook

    async def send_turn(
        self,
        chat_id: int,
        who: str,
        result: TurnResult,
        texts: Texts,
        update_id: int,
        user_message_id: int | None,
    ) -> None:
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
        sent, rest, blocked = await self._send_pieces(chat_id, pieces)
        async with self.runtime.db.sessions() as session, session.begin():
            contact = await session.scalar(select(Contact).where(Contact.address_hash == who))
            if contact is None:
                return  # Erased this turn (forget me): keep nothing.
            ids = ([user_message_id] if user_message_id else []) + sent
            await remember(session, contact.id, who, ids, self.now())
            if blocked:
                contact.stopped = True
                return
            for n, piece in enumerate(rest):
                await service.enqueue_for_survivor(
                    session,
                    contact.id,
                    piece.plain,
                    self.runtime.pipeline.cipher,
                    self.now(),
                    f"tg:{update_id}:{n}",
                )
        if rest and not blocked:
            self.runtime.outbox.wake()

    async def _send_pieces(
        self, chat_id: int, pieces: list[_Piece]
    ) -> tuple[list[int], list[_Piece], bool]:
        """Send in order; stop at the first refusal. (sent ids, not sent, blocked)."""
        sent: list[int] = []
        for index, piece in enumerate(pieces):
            try:
                message = await self.bot.send_message(
                    chat_id, piece.text, reply_markup=piece.markup
                )
            except TelegramForbiddenError:
                return sent, [], True
            except TelegramAPIError as exc:
                # 429, 5xx, network: the outbox delivers the rest. 400: same, it retries
                # only with back-off and gives up after a few attempts.
                log.warning("reply deferred to the outbox: %s", type(exc).__name__)
                return sent, pieces[index:], False
            sent.append(message.message_id)
        return sent, [], False

    async def quick_exit(
        self, chat_id: int, who: str, user_message_id: int | None, texts: Texts
    ) -> None:
        """Delete every kept message of this chat, then one neutral line."""
        async with self.runtime.db.sessions() as session, session.begin():
            ids = await message_ids(session, who, self.now())
            await forget_ids(session, who)
        if user_message_id:
            ids.append(user_message_id)
        for message_id in ids:
            # Too old or already gone: nothing more Telegram lets us do.
            with contextlib.suppress(TelegramAPIError):
                await self.bot.delete_message(chat_id, message_id)
        with contextlib.suppress(TelegramAPIError):
            line = await self.bot.send_message(chat_id, texts("telegram.exit_done"))
            await self.remember_sent(str(chat_id), [line.message_id])

    async def remember_sent(self, address: str, ids: list[int]) -> None:
        who = self.runtime.pipeline.identity(CHANNEL, address)
        try:
            async with self.runtime.db.sessions() as session, session.begin():
                contact_id = await session.scalar(
                    select(Contact.id).where(Contact.address_hash == who)
                )
                if contact_id is not None:
                    await remember(session, contact_id, who, ids, self.now())
        except STORAGE_ERRORS as exc:
            log.warning("message ids not kept: %s", type(exc).__name__)

    async def mark_update(self, update_id: int) -> bool:
        """Record an update handled outside the pipeline: True the first time only."""
        return await self.mark_once(str(update_id))

    async def mark_once(self, key: str) -> bool:
        """True for the first worker to record ``key`` (the inbox's unique key)."""
        now = self.now()
        async with self.runtime.db.sessions() as session:
            session.add(
                InboxItem(
                    channel=CHANNEL,
                    provider_id=key,
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
        try:
            if not await self.mark_update(update_id):
                return True
        except STORAGE_ERRORS as exc:
            log.warning("update not recorded: %s", type(exc).__name__)
            return False
        with contextlib.suppress(TelegramAPIError):
            await self.bot.send_message(chat_id, get_texts(locale_hint(language))(key))
        return True

    # counselors ---------------------------------------------------------------------------

    async def post_card(self, escalation_id: int) -> None:
        if self.counselor_chat is None:
            return
        async with self.runtime.db.sessions() as session:
            escalation = await session.get(Escalation, escalation_id)
        if escalation is None or not await self.mark_once(f"card:{escalation_id}"):
            return  # Gone, or another worker posted the card.
        texts = get_texts("en")
        waiting = int(max(0.0, (self.now() - escalation.created_at).total_seconds()) // 60)
        text = card_text(escalation.id, escalation.level, escalation.categories, waiting, texts)
        markup = InlineKeyboardMarkup(
            inline_keyboard=[
                [
                    InlineKeyboardButton(
                        text=texts("telegram.card.claim"),
                        callback_data=f"{CLAIM_PREFIX}{escalation.id}",
                    )
                ]
            ]
        )
        card = await self.bot.send_message(self.counselor_chat, text, reply_markup=markup)
        self.cards[escalation.id] = card.message_id

    async def claim(self, query: CallbackQuery, update_id: int) -> bool:
        texts = get_texts("en")
        name = self.counselors.get(query.from_user.id)
        data = query.data or ""
        escalation_id = int(data[len(CLAIM_PREFIX) :]) if data[len(CLAIM_PREFIX) :].isdigit() else 0
        if name is None or not escalation_id:
            with contextlib.suppress(TelegramAPIError):
                await query.answer(texts("telegram.card.not_allowed"), show_alert=True)
            return True
        rt = self.runtime
        try:
            async with rt.db.sessions() as session, session.begin():
                counselor = await find_account(session, name)
                if counselor is None or not counselor.active:
                    raise service.EscalationError("no active account")
                escalation = await session.get(Escalation, escalation_id)
                contact = await session.get(Contact, escalation.contact_id) if escalation else None
                survivor = get_texts((contact.locale if contact else None) or "en")
                done = await service.claim(
                    session,
                    escalation_id,
                    counselor,
                    self.now(),
                    rt.pipeline.cipher,
                    {"joined": survivor("handoff.joined"), "closed": survivor("handoff.closed")},
                )
        except service.EscalationError:
            with contextlib.suppress(TelegramAPIError):
                await query.answer(texts("telegram.card.closed"), show_alert=True)
            return True
        await self._publish(done.events)
        rt.outbox.wake()
        with contextlib.suppress(TelegramAPIError):
            await query.answer(texts("telegram.card.claimed"))
        message = query.message
        if isinstance(message, Message):
            self.cards.setdefault(escalation_id, message.message_id)
            with contextlib.suppress(TelegramAPIError):
                await self.bot.edit_message_text(
                    text=f"{message.text or ''}\n{texts('telegram.card.claimed')} ({name})",
                    chat_id=message.chat.id,
                    message_id=message.message_id,
                )
        return True

    async def counselor_message(self, message: Message, update_id: int) -> bool:
        """A counselor's reply to a card (or to a relayed message) goes to the survivor."""
        original = message.reply_to_message
        name = self.counselors.get(message.from_user.id) if message.from_user else None
        found = _CASE.search((original.text or "") if original else "")
        if name is None or found is None or not message.text:
            return True  # Group talk among counselors: not ours to read or keep.
        rt = self.runtime
        try:
            async with rt.db.sessions() as session, session.begin():
                counselor = await find_account(session, name)
                if counselor is None or not counselor.active:
                    raise service.EscalationError("no active account for this Telegram user")
                done = await service.relay_to_survivor(
                    session,
                    int(found[1]),
                    counselor,
                    message.text,
                    rt.pipeline.cipher,
                    self.now(),
                    client_key=f"tg{update_id}",
                )
        except service.EscalationError as exc:
            with contextlib.suppress(TelegramAPIError):
                await message.reply(str(exc))
            return True
        await self._publish(done.events)
        rt.outbox.wake()
        return True

    async def forward_survivor(self, escalation_id: int) -> None:
        """The survivor's new words in a Telegram-claimed handoff, as replies to the card."""
        if self.counselor_chat is None:
            return
        names = set(self.counselors.values())
        rt = self.runtime
        async with rt.db.sessions() as session:
            escalation = await session.get(Escalation, escalation_id)
            if escalation is None or escalation.claimed_by is None or escalation.claimed_at is None:
                return
            holder = await session.scalar(
                select(Counselor.name).where(Counselor.id == escalation.claimed_by)
            )
            if holder not in names:
                return  # Claimed in the console: the console shows it.
            rows = (
                await session.execute(
                    select(StoredMessage.id, StoredMessage.text_enc)
                    .where(
                        StoredMessage.conversation_id == escalation.conversation_id,
                        StoredMessage.direction == "in",
                        StoredMessage.created_at >= escalation.claimed_at,
                        StoredMessage.id > self._forwarded.get(escalation_id, 0),
                    )
                    .order_by(StoredMessage.id)
                )
            ).all()
        label = get_texts("en")("telegram.card.from_person")
        card = self.cards.get(escalation_id)
        for row_id, text_enc in rows:
            self._forwarded[escalation_id] = row_id
            if not await self.mark_once(f"relay:{row_id}"):
                continue  # Another worker relayed it.
            text = f"#{escalation_id} {label}:\n{rt.pipeline.cipher.decrypt(text_enc)}"
            reply_to = (
                ReplyParameters(message_id=card, allow_sending_without_reply=True) if card else None
            )
            for part in split_text(text):
                await self.bot.send_message(self.counselor_chat, part, reply_parameters=reply_to)

    async def _publish(self, events: list[dict[str, Any]]) -> None:
        try:
            for event in events:
                await self.runtime.bus.publish(event)
        except STORAGE_ERRORS as exc:
            log.warning("bus publish failed: %s", type(exc).__name__)

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
            for update in updates:
                if not await self._process_safely(update):
                    await asyncio.sleep(1.0)
                    break  # Not stored: fetch it again.
                offset = update.update_id + 1

    async def _process_safely(self, update: Update) -> bool:
        try:
            return await self.process(update)
        except Exception as exc:
            log.error("update failed: %s", type(exc).__name__)
            return True  # A bug must not block every later update.

    async def watch_bus(
        self, queue: asyncio.Queue[dict[str, Any]], leave: Callable[[], Awaitable[Any]]
    ) -> None:
        try:
            while True:
                event = await queue.get()
                escalation_id = event.get("escalation_id")
                if not isinstance(escalation_id, int):
                    continue
                try:
                    if event.get("type") == "escalation.created":
                        await self.post_card(escalation_id)
                    elif event.get("type") == "message" and event.get("from") == "survivor":
                        await self.forward_survivor(escalation_id)
                except Exception as exc:
                    log.error("counselor group update failed: %s", type(exc).__name__)
        finally:
            await leave()

    async def purge(self) -> int:
        async with self.runtime.db.sessions() as session, session.begin():
            return await purge_old(session, self.now())

    async def purge_forever(self) -> None:
        while True:
            try:
                await self.purge()
            except STORAGE_ERRORS as exc:
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
        runtime.outbox.senders[CHANNEL] = TelegramSender(self)
        tasks = [
            asyncio.create_task(self.hold_session()),
            asyncio.create_task(self.setup()),
            asyncio.create_task(self.purge_forever()),
        ]
        if not self.webhook:
            tasks.append(asyncio.create_task(self.poll()))
        if self.counselor_chat is not None:
            # Subscribed before returning, so no escalation created after start-up is missed.
            subscription = runtime.bus.subscribe()
            queue = await subscription.__aenter__()

            async def leave() -> None:
                await subscription.__aexit__(None, None, None)

            tasks.append(asyncio.create_task(self.watch_bus(queue, leave)))
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
    return await channel.claim(query, event_update.update_id)


async def _on_counselor_message(
    message: Message, channel: TelegramChannel, event_update: Update
) -> bool:
    return await channel.counselor_message(message, event_update.update_id)


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
            update = Update.model_validate(data, context={"bot": channel.bot})
        except (ValueError, ValidationError):
            return _error(400, "not a Telegram update")
        if not await channel._process_safely(update):
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
