"""Counselors on Telegram: cards in the group and in direct messages, claims, relay.

    escalation.created (bus) or the reconcile sweep
        -> a card in the counselors' group (TELEGRAM_COUNSELOR_CHAT_ID)
    page (bus, a Page row) or the reconcile sweep
        -> a card in the paged counselor's direct messages, if that account is linked
    Claim button (group: a listed or linked user; direct messages: the linked user)
        -> escalation.service.claim; the card remembers who claimed through it
    the counselor's words (a reply to the card, or any text in their direct messages)
        -> escalation.service.relay_to_survivor (outbox, once per update id)
    the survivor's words in that handoff (bus ``message`` event or the sweep)
        -> replies to that card, "#<id> The person wrote: ..."

Every card is a ``telegram_cards`` row with a unique key (``group:<escalation>``,
``page:<escalation>:<step>:<counselor>``) inserted before the card is sent, so two
workers never send the same card; a row still ``sending`` after ``CARD_LEASE`` (its
worker died, or Telegram said "later") is taken over by one worker and sent. Bus
events only make this fast: the sweep (at start-up and every ``RECONCILE_SECONDS``)
finds what a lost event left undone from the rows themselves.

A counselor account is linked to a Telegram account with a one-time code (made by
``harborline telegram link NAME``, valid 15 minutes, stored as its SHA-256 only):
the counselor sends ``/link CODE`` to the bot in a private chat. Neither side ever
sees the other's Telegram account or number: cards carry the escalation id, level
and topics; the survivor gets the counselor's words from the bot.
"""

from __future__ import annotations

import contextlib
import logging
import re
import time
from datetime import datetime, timedelta
from typing import Any

from aiogram import Bot
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.types import CallbackQuery, Message, ReplyParameters
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError

from bot.channels.telegram_store import (
    TelegramCard,
    TelegramLink,
    TelegramLinkCode,
    code_hash,
    take_card,
)
from bot.channels.telegram_text import (
    card_markup,
    card_text,
    new_link_code,
    normalise_link_code,
    parse_claim,
    parse_counselor_ids,
    split_text,
)
from bot.crypto import Cipher
from bot.runtime import Runtime
from bot.settings import Settings
from bot.state import storage_errors
from bot.storage.db import AsyncSession
from bot.storage.models import AuditEvent, Contact, Escalation
from bot.storage.models import Message as StoredMessage
from dialogs.texts import get_texts
from escalation import service
from escalation.accounts import AccountError, find_account, set_paging
from escalation.models import Counselor, Page

__all__ = [
    "CARD_LEASE",
    "LINK_CODE_VALID_FOR",
    "RECONCILE_SECONDS",
    "CounselorDesk",
    "make_link_code",
    "unlink_account",
]

log = logging.getLogger("harborline.channels.telegram.counselors")

CARD_LEASE = timedelta(seconds=60)  # A card still "sending" after this is sent again.
RECONCILE_SECONDS = 30.0
GROUP_CARDS_FOR = timedelta(days=1)  # Older open escalations are the console's.
LINK_CODE_VALID_FOR = timedelta(minutes=15)
LINK_TRIES_PER_MINUTE = 5
LINK_CACHE_SECONDS = 5.0  # How long a worker trusts its list of linked accounts.
_TAG = re.compile(r"#(\d+)")


async def make_link_code(
    session: AsyncSession, counselor: Counselor, now: datetime, actor: str
) -> str:
    """A new one-time code for ``counselor`` (older unused codes stop working)."""
    code = new_link_code()
    await session.execute(
        delete(TelegramLinkCode).where(TelegramLinkCode.counselor_id == counselor.id)
    )
    session.add(
        TelegramLinkCode(
            code_hash=code_hash(code),
            counselor_id=counselor.id,
            created_at=now,
            expires_at=now + LINK_CODE_VALID_FOR,
        )
    )
    session.add(
        AuditEvent(
            at=now, actor=actor, action="telegram.link_code", detail={"counselor": counselor.id}
        )
    )
    return code


async def unlink_account(
    session: AsyncSession, counselor: Counselor, now: datetime, actor: str, cipher: Cipher
) -> bool:
    """Forget the counselor's Telegram account: no more cards there. True if one was linked.

    Pages chosen to go to Telegram go to the console only again.
    """
    result = await session.execute(
        delete(TelegramLink).where(TelegramLink.counselor_id == counselor.id)
    )
    gone = bool(getattr(result, "rowcount", 0))
    if gone:
        session.add(
            AuditEvent(
                at=now, actor=actor, action="telegram.unlinked", detail={"counselor": counselor.id}
            )
        )
    if counselor.page_channel == "telegram":
        await set_paging(session, counselor, now, cipher, actor=actor, channel="console")
    return gone


class CounselorDesk:
    """The counselors' side of the channel; the channel hands it updates and bus events."""

    def __init__(self, bot: Bot, settings: Settings) -> None:
        self.bot = bot
        self.group = settings.telegram_counselor_chat_id
        self.listed = parse_counselor_ids(settings.telegram_counselor_ids)
        self._runtime: Runtime | None = None
        self._linked: set[int] = set()
        self._linked_read = float("-inf")

    def start(self, runtime: Runtime) -> None:
        self._runtime = runtime

    @property
    def runtime(self) -> Runtime:
        if self._runtime is None:
            raise RuntimeError("the Telegram channel has not started")
        return self._runtime

    def now(self) -> datetime:
        return self.runtime.pipeline.clock()

    # who is who ---------------------------------------------------------------------------

    async def account_for(self, session: AsyncSession, user_id: int) -> Counselor | None:
        """The active counselor account of a Telegram user: listed in settings, or linked."""
        name = self.listed.get(user_id)
        if name is not None:
            counselor = await find_account(session, name)
        else:
            counselor = await session.scalar(
                select(Counselor)
                .join(TelegramLink, TelegramLink.counselor_id == Counselor.id)
                .where(TelegramLink.user_id == user_id)
            )
        return counselor if counselor is not None and counselor.active else None

    async def is_linked(self, user_id: int) -> bool:
        """Is this Telegram user a linked counselor? (Read at most every few seconds.)"""
        if time.monotonic() - self._linked_read > LINK_CACHE_SECONDS:
            try:
                async with self.runtime.db.sessions() as session:
                    self._linked = set(await session.scalars(select(TelegramLink.user_id)))
                self._linked_read = time.monotonic()
            except storage_errors() as exc:
                log.warning("linked accounts not read: %s", type(exc).__name__)
        return user_id in self._linked

    async def linked_sender(self, message: Message) -> bool:
        """aiogram filter: a private message from a linked counselor."""
        return message.from_user is not None and await self.is_linked(message.from_user.id)

    # linking ------------------------------------------------------------------------------

    async def link(self, message: Message, raw_code: str) -> bool:
        """``/link CODE`` in a private chat: link this Telegram account to the code's account."""
        texts = get_texts("en")
        user = message.from_user
        if user is None:
            return True
        rt = self.runtime
        if not await rt.state.allow(f"telegram-link:{user.id}", LINK_TRIES_PER_MINUTE):
            await self._say(message.chat.id, texts("telegram.counselor.link_wait"))
            return True
        code = normalise_link_code(raw_code)
        now = self.now()
        linked = False
        if code is not None:
            async with rt.db.writing(), rt.db.write_sessions() as session, session.begin():
                row = await session.scalar(
                    select(TelegramLinkCode)
                    .where(TelegramLinkCode.code_hash == code_hash(code))
                    .with_for_update()
                )
                counselor = await session.get(Counselor, row.counselor_id) if row else None
                if row is not None:
                    await session.delete(row)  # One use, whatever happens next.
                if row is not None and row.expires_at > now and counselor and counselor.active:
                    await session.execute(
                        delete(TelegramLink).where(
                            (TelegramLink.counselor_id == counselor.id)
                            | (TelegramLink.user_id == user.id)
                        )
                    )
                    await session.flush()
                    session.add(
                        TelegramLink(
                            counselor_id=counselor.id,
                            user_id=user.id,
                            chat_id=message.chat.id,
                            linked_at=now,
                        )
                    )
                    actor = f"counselor:{counselor.id}"
                    session.add(
                        AuditEvent(at=now, actor=actor, action="telegram.linked", detail={})
                    )
                    # Pages now come here too (the console always gets them).
                    with contextlib.suppress(AccountError):
                        await set_paging(
                            session,
                            counselor,
                            now,
                            rt.pipeline.cipher,
                            actor=actor,
                            channel="telegram",
                            address=str(user.id),
                        )
                    linked = True
        if linked:
            self._linked.add(user.id)
            await self._say(message.chat.id, texts("telegram.counselor.linked"))
        else:
            await self._say(message.chat.id, texts("telegram.counselor.link_failed"))
        return True

    async def unlink(self, message: Message) -> bool:
        texts = get_texts("en")
        user = message.from_user
        if user is None:
            return True
        async with (
            self.runtime.db.writing(),
            self.runtime.db.write_sessions() as session,
            session.begin(),
        ):
            counselor = await session.scalar(
                select(Counselor)
                .join(TelegramLink, TelegramLink.counselor_id == Counselor.id)
                .where(TelegramLink.user_id == user.id)
            )
            if counselor is not None:
                actor = f"counselor:{counselor.id}"
                cipher = self.runtime.pipeline.cipher
                await unlink_account(session, counselor, self.now(), actor, cipher)
        self._linked.discard(user.id)
        await self._say(message.chat.id, texts("telegram.counselor.unlinked"))
        return True

    # cards --------------------------------------------------------------------------------

    async def post_group_card(self, escalation_id: int) -> bool:
        if self.group is None:
            return False
        return await self._send_card(f"group:{escalation_id}", escalation_id, None, self.group)

    async def deliver_pages(self, escalation_id: int | None = None) -> int:
        """Cards for the current step's pages to linked counselors that have none yet."""
        statement = (
            select(Page.escalation_id, Page.step, Page.counselor_id, TelegramLink.chat_id)
            .join(Escalation, Escalation.id == Page.escalation_id)
            .join(TelegramLink, TelegramLink.counselor_id == Page.counselor_id)
            .join(Counselor, Counselor.id == Page.counselor_id)
            .where(
                Escalation.status.in_(("open", "paged")),
                Escalation.acknowledged_at.is_(None),
                Page.step == Escalation.page_step,
                Counselor.active.is_(True),
                Counselor.page_channel == "telegram",
            )
            .distinct()
        )
        if escalation_id is not None:
            statement = statement.where(Page.escalation_id == escalation_id)
        async with self.runtime.db.sessions() as session:
            pages = (await session.execute(statement)).all()
            keys = {f"page:{e}:{s}:{c}": (e, s, c, chat) for e, s, c, chat in pages}
            existing = set(
                await session.scalars(select(TelegramCard.key).where(TelegramCard.key.in_(keys)))
                if keys
                else []
            )
        delivered = 0
        for key, (escalation, step, counselor, chat) in keys.items():
            if key not in existing and await self._send_card(
                key, escalation, counselor, chat, step
            ):
                delivered += 1
        return delivered

    async def _send_card(
        self,
        key: str,
        escalation_id: int,
        counselor_id: int | None,
        chat_id: int,
        step: int | None = None,
    ) -> bool:
        """Send one card unless another worker has it: claim the key, send, record."""
        rt = self.runtime
        now = self.now()
        async with rt.db.sessions() as session:
            card_id = await take_card(
                session,
                key,
                escalation_id=escalation_id,
                counselor_id=counselor_id,
                chat_id=chat_id,
                now=now,
                lease=CARD_LEASE,
            )
            if card_id is None:
                return False  # Sent, being sent, or given up by someone else.
            escalation = await session.get(Escalation, escalation_id)
        stale = escalation is None or escalation.status == "closed"
        if counselor_id is not None and escalation is not None:
            stale = stale or escalation.acknowledged_at is not None
        if stale or escalation is None:
            await self._card_done(card_id, "dropped", None)
            return False
        texts = get_texts("en")
        waiting = int(max(0.0, (now - escalation.created_at).total_seconds()) // 60)
        text = card_text(escalation.id, escalation.level, escalation.categories, waiting, texts)
        try:
            sent = await self.bot.send_message(
                chat_id, text, reply_markup=card_markup(escalation.id, texts)
            )
        except TelegramRetryAfter as exc:
            # Sent again by the sweep once the lease is over and Telegram's wait is done.
            await self._card_retry_in(card_id, float(exc.retry_after))
            return False
        except (TelegramServerError, TelegramNetworkError) as exc:
            log.warning("card not sent yet: %s", type(exc).__name__)
            return False  # The lease runs out; the sweep sends it.
        except TelegramAPIError as exc:  # 403 (blocked), 400: retrying won't help.
            log.warning("card refused: %s", type(exc).__name__)
            await self._card_done(card_id, "failed", None)
            return False
        await self._card_done(card_id, "sent", sent.message_id)
        if counselor_id is not None and step is not None:
            await self._record_page(escalation_id, step, counselor_id)
        return True

    async def _card_done(self, card_id: int, status: str, message_id: int | None) -> None:
        async with self.runtime.db.sessions() as session, session.begin():
            await session.execute(
                update(TelegramCard)
                .where(TelegramCard.id == card_id)
                .values(status=status, message_id=message_id, updated_at=self.now())
            )

    async def _card_retry_in(self, card_id: int, seconds: float) -> None:
        # The lease ends ``seconds`` from now instead of CARD_LEASE from now.
        moved = self.now() - CARD_LEASE + timedelta(seconds=seconds)
        async with self.runtime.db.sessions() as session, session.begin():
            await session.execute(
                update(TelegramCard).where(TelegramCard.id == card_id).values(updated_at=moved)
            )

    async def _record_page(self, escalation_id: int, step: int, counselor_id: int) -> None:
        """The page went out on Telegram: a Page row with channel "telegram", delivered now,
        beside the dispatcher's console row (pages are unique per escalation, step,
        person and channel). Only the card's owner gets here, once per card key."""
        now = self.now()
        try:
            async with (
                self.runtime.db.writing(),
                self.runtime.db.write_sessions() as session,
                session.begin(),
            ):
                pages = list(
                    await session.scalars(
                        select(Page).where(
                            Page.escalation_id == escalation_id,
                            Page.step == step,
                            Page.counselor_id == counselor_id,
                        )
                    )
                )
                mine = next((p for p in pages if p.channel == "telegram"), None)
                if mine is not None:
                    mine.delivered_at = mine.delivered_at or now
                else:
                    session.add(
                        Page(
                            escalation_id=escalation_id,
                            counselor_id=counselor_id,
                            step=step,
                            channel="telegram",
                            sent_at=now,
                            delivered_at=now,
                        )
                    )
        except IntegrityError:  # Recorded already: the card row is the record either way.
            log.info("telegram page row exists")

    # claims and relay ---------------------------------------------------------------------

    async def claim(self, query: CallbackQuery, update_id: int) -> bool:
        texts = get_texts("en")
        escalation_id = parse_claim(query.data)
        card = query.message if isinstance(query.message, Message) else None
        rt = self.runtime
        now = self.now()
        name: str | None = None
        try:
            async with rt.db.writing(), rt.db.write_sessions() as session, session.begin():
                counselor = await self.account_for(session, query.from_user.id)
                if counselor is not None and escalation_id is not None:
                    name = counselor.name
                    escalation = await session.get(Escalation, escalation_id)
                    contact = (
                        await session.get(Contact, escalation.contact_id) if escalation else None
                    )
                    survivor = get_texts((contact.locale if contact else None) or "en")
                    done = await service.claim(
                        session,
                        escalation_id,
                        counselor,
                        now,
                        rt.pipeline.cipher,
                        {
                            "joined": survivor("handoff.joined"),
                            "closed": survivor("handoff.closed"),
                        },
                    )
                    if card is not None:
                        await self._claimed_through(session, card, escalation_id, counselor.id, now)
        except service.EscalationError:
            name = None
            problem = "telegram.card.closed"
        else:
            problem = "telegram.card.not_allowed"
        if name is None:
            with contextlib.suppress(TelegramAPIError):
                await query.answer(texts(problem), show_alert=True)
            return True
        await self._publish(done.events)
        rt.outbox.wake()
        with contextlib.suppress(TelegramAPIError):
            await query.answer(texts("telegram.card.claimed"))
        if card is not None:
            with contextlib.suppress(TelegramAPIError):
                await self.bot.edit_message_text(
                    text=f"{card.text or ''}\n{texts('telegram.card.claimed')} ({name})",
                    chat_id=card.chat.id,
                    message_id=card.message_id,
                )
        return True

    async def _claimed_through(
        self,
        session: AsyncSession,
        card: Message,
        escalation_id: int,
        counselor_id: int,
        now: datetime,
    ) -> None:
        """Remember the card the claim came through: the survivor's words go there."""
        row = await session.scalar(
            select(TelegramCard).where(
                TelegramCard.chat_id == card.chat.id, TelegramCard.message_id == card.message_id
            )
        )
        if row is None:  # A card this table never saw (posted before it existed).
            row = TelegramCard(
                key=f"tap:{card.chat.id}:{card.message_id}",
                escalation_id=escalation_id,
                counselor_id=None,
                chat_id=card.chat.id,
                message_id=card.message_id,
                status="sent",
                forwarded_up_to=0,
                created_at=now,
            )
            session.add(row)
        row.claimed_by = counselor_id
        row.updated_at = now

    async def counselor_message(self, message: Message, update_id: int, direct: bool) -> bool:
        """A counselor's words (a reply to a card, or in their DMs) go to the survivor."""
        texts = get_texts("en")
        user = message.from_user
        if user is None:
            return True
        if direct and (message.text or "").startswith("/"):
            await self._say(message.chat.id, texts("telegram.counselor.help"))
            return True
        if not message.text:
            if direct:
                await self._say(message.chat.id, texts("telegram.counselor.text_only"))
            return True
        problem = await self._relay(message, user.id, update_id, direct)
        if problem is not None and (direct or problem == "telegram.card.closed"):
            await self._say(message.chat.id, texts(problem))
        return True

    async def _relay(
        self, message: Message, user_id: int, update_id: int, direct: bool
    ) -> str | None:
        """Relay the words; the text key of what went wrong, if anything did."""
        rt = self.runtime
        try:
            async with rt.db.writing(), rt.db.write_sessions() as session, session.begin():
                counselor = await self.account_for(session, user_id)
                if counselor is None:
                    return "telegram.card.not_allowed"  # In the group: someone not listed.
                escalation_id = await self._target(session, message, counselor, direct)
                if escalation_id is None:
                    return "telegram.counselor.which"  # In the group: talk among counselors.
                done = await service.relay_to_survivor(
                    session,
                    escalation_id,
                    counselor,
                    message.text or "",
                    rt.pipeline.cipher,
                    self.now(),
                    client_key=f"tg{update_id}",
                )
        except service.EscalationError:
            return "telegram.card.closed"
        await self._publish(done.events)
        rt.outbox.wake()
        return None

    async def _target(
        self, session: AsyncSession, message: Message, counselor: Counselor, direct: bool
    ) -> int | None:
        """Which escalation the words are for: the card (or relayed message) they reply
        to; in direct messages, else the one request this counselor holds there."""
        original = message.reply_to_message
        if original is not None:
            found = await session.scalar(
                select(TelegramCard.escalation_id).where(
                    TelegramCard.chat_id == message.chat.id,
                    TelegramCard.message_id == original.message_id,
                )
            )
            if found is not None:
                return int(found)
            tag = _escalation_tag(original.text or "")
            if tag is not None:
                return tag
        if not direct:
            return None
        held = list(
            await session.scalars(
                select(Escalation.id)
                .join(TelegramCard, TelegramCard.escalation_id == Escalation.id)
                .where(
                    TelegramCard.chat_id == message.chat.id,
                    TelegramCard.claimed_by == counselor.id,
                    Escalation.claimed_by == counselor.id,
                    Escalation.status == "claimed",
                )
                .distinct()
            )
        )
        return held[0] if len(held) == 1 else None

    async def forward_survivor(self, escalation_id: int) -> int:
        """The survivor's new words in a handoff claimed on Telegram, as replies to the card.

        The card row's ``forwarded_up_to`` moves after each message, under a lock per
        escalation, so each message is forwarded once (a send cut short by a crash
        right after Telegram took it is the one case that repeats).
        """
        rt = self.runtime
        label = get_texts("en")("telegram.card.from_person")
        forwarded = 0
        async with rt.state.lock(f"telegram-forward:{escalation_id}"):
            async with rt.db.sessions() as session:
                row = (
                    await session.execute(
                        select(TelegramCard, Escalation)
                        .join(Escalation, Escalation.id == TelegramCard.escalation_id)
                        .where(
                            TelegramCard.escalation_id == escalation_id,
                            TelegramCard.status == "sent",
                            TelegramCard.claimed_by == Escalation.claimed_by,
                            Escalation.status == "claimed",
                        )
                        .order_by(TelegramCard.updated_at.desc())
                        .limit(1)
                    )
                ).first()
                if row is None:
                    return 0  # Claimed in the console (or closed): the console shows it.
                card, escalation = row
                messages = (
                    await session.execute(
                        select(StoredMessage.id, StoredMessage.text_enc)
                        .where(
                            StoredMessage.conversation_id == escalation.conversation_id,
                            StoredMessage.direction == "in",
                            StoredMessage.created_at >= escalation.claimed_at,
                            StoredMessage.id > card.forwarded_up_to,
                        )
                        .order_by(StoredMessage.id)
                    )
                ).all()
            reply_to = ReplyParameters(
                message_id=card.message_id or 0, allow_sending_without_reply=True
            )
            for row_id, text_enc in messages:
                text = f"#{escalation_id} {label}:\n{rt.pipeline.cipher.decrypt(text_enc)}"
                try:
                    for part in split_text(text):
                        await self.bot.send_message(card.chat_id, part, reply_parameters=reply_to)
                except TelegramAPIError as exc:
                    log.warning("survivor words not forwarded yet: %s", type(exc).__name__)
                    break  # The next message event or the sweep tries again.
                async with rt.db.sessions() as session, session.begin():
                    await session.execute(
                        update(TelegramCard)
                        .where(TelegramCard.id == card.id)
                        .values(forwarded_up_to=row_id)
                    )
                forwarded += 1
        return forwarded

    # the sweep ----------------------------------------------------------------------------

    async def reconcile(self) -> int:
        """Finish from the rows what lost bus events or dead workers left undone."""
        rt = self.runtime
        now = self.now()
        done = 0
        async with rt.db.sessions() as session:
            stale = (
                await session.execute(
                    select(
                        TelegramCard.key,
                        TelegramCard.escalation_id,
                        TelegramCard.counselor_id,
                        TelegramCard.chat_id,
                    ).where(
                        TelegramCard.status == "sending", TelegramCard.updated_at < now - CARD_LEASE
                    )
                )
            ).all()
            missing_group: list[int] = []
            if self.group is not None:
                has_card = (
                    select(TelegramCard.id)
                    .where(
                        TelegramCard.escalation_id == Escalation.id,
                        TelegramCard.counselor_id.is_(None),
                    )
                    .exists()
                )
                missing_group = list(
                    await session.scalars(
                        select(Escalation.id).where(
                            Escalation.status != "closed",
                            Escalation.created_at > now - GROUP_CARDS_FOR,
                            ~has_card,
                        )
                    )
                )
            handoffs = list(
                await session.scalars(
                    select(func.distinct(TelegramCard.escalation_id))
                    .join(Escalation, Escalation.id == TelegramCard.escalation_id)
                    .where(
                        TelegramCard.claimed_by == Escalation.claimed_by,
                        Escalation.status == "claimed",
                    )
                )
            )
        for key, escalation_id, counselor_id, chat_id in stale:
            step = int(key.split(":")[2]) if key.startswith("page:") else None
            done += await self._send_card(key, escalation_id, counselor_id, chat_id, step)
        for escalation_id in missing_group:
            done += await self.post_group_card(escalation_id)
        done += await self.deliver_pages()
        for escalation_id in handoffs:
            done += await self.forward_survivor(escalation_id)
        return done

    # helpers ------------------------------------------------------------------------------

    async def on_event(self, event: dict[str, Any]) -> None:
        """A bus event: only a nudge; the rows say what is to do."""
        escalation_id = event.get("escalation_id")
        if not isinstance(escalation_id, int):
            return
        kind = event.get("type")
        if kind == "escalation.created":
            await self.post_group_card(escalation_id)
        elif kind == "page" and event.get("channel", "telegram") == "telegram":
            await self.deliver_pages(escalation_id)
        elif kind == "message" and event.get("from") == "survivor":
            await self.forward_survivor(escalation_id)

    async def _publish(self, events: list[dict[str, Any]]) -> None:
        try:
            for event in events:
                await self.runtime.bus.publish(event)
        except storage_errors() as exc:
            log.warning("bus publish failed: %s", type(exc).__name__)

    async def _say(self, chat_id: int, text: str) -> None:
        with contextlib.suppress(TelegramAPIError):
            await self.bot.send_message(chat_id, text)


def _escalation_tag(text: str) -> int | None:
    """``"#12 The person wrote: ..."`` or a card's ``"New request #12"`` -> 12."""
    found = _TAG.search(text)
    return int(found[1]) if found else None
