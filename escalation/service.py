"""Escalations: open, page with acknowledgement, claim, relay, close.

Every function takes an open session and the current time, changes rows and
returns what the caller must publish once the transaction commits. Paging
decisions are plain functions of the roster, so they are tested as tables.
"""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from bot.crypto import Cipher
from bot.storage.db import AsyncSession
from bot.storage.models import AuditEvent, Contact, Conversation, Escalation, Message
from bot.types import RiskLevel
from dialogs.texts import get_texts
from escalation.models import Counselor, Note, OutboxItem, Page
from escalation.roster import load_roster

__all__ = [
    "EscalationError",
    "PagePolicy",
    "Published",
    "acknowledge",
    "add_note",
    "claim",
    "close",
    "enqueue_for_survivor",
    "page_at_once",
    "page_due",
    "page_event",
    "page_key",
    "page_text",
    "paging_targets",
    "queue",
    "relay_to_survivor",
    "transfer",
]

log = logging.getLogger("harborline.paging")

LAST_STEP = 3  # 0 primary, 1 backup, 2 supervisor, 3+ everyone on call (repeats)
ORDER = {level.label: int(level) for level in RiskLevel}


class EscalationError(Exception):
    """A counselor action that cannot be done (already claimed, not yours, closed)."""


@dataclass(frozen=True, slots=True)
class PagePolicy:
    imminent_seconds: float = 60.0
    high_seconds: float = 180.0

    def timeout(self, level: str) -> timedelta:
        seconds = self.imminent_seconds if level == "imminent" else self.high_seconds
        return timedelta(seconds=seconds)


@dataclass(slots=True)
class Published:
    """Events to publish on the console bus after commit.

    ``pages``: console page rows behind the "page" events, marked delivered once
    those are published. ``enqueued``: outbox rows written (SMS pages), so the
    caller can wake the outbox dispatcher.
    """

    events: list[dict[str, Any]] = field(default_factory=list)
    pages: list[int] = field(default_factory=list)
    enqueued: int = 0


def paging_targets(step: int, roster: Any) -> list[Counselor]:
    """Who to page at a step, from a roster with primary/backup/supervisor/everyone."""
    if step == 0:
        found = [roster.primary]
    elif step == 1:
        found = [roster.backup]
    elif step == 2:
        found = [roster.supervisor]
    else:
        found = list(roster.everyone_on_call)
    return [c for c in found if c is not None]


def page_key(escalation_id: int, counselor_id: int, step: int) -> str:
    """The outbox idempotency key of a page: one per escalation, person and step."""
    return f"page:{escalation_id}:{counselor_id}:{step}"


def page_text(locale: str, level: str) -> str:
    """What a page says outside the console: a level, never the person's words."""
    texts = get_texts(locale)
    key = f"escalation.page.{level}"
    return texts(key if key in texts.entries else "escalation.page.other")


def page_event(escalation: Escalation, counselor: Counselor, step: int) -> dict[str, Any]:
    """The bus event for one page: ids, level, step and the counselor's chosen channel."""
    return {
        "type": "page",
        "escalation_id": escalation.id,
        "counselor_id": counselor.id,
        "level": escalation.level,
        "step": step,
        "channel": counselor.page_channel,
    }


async def page_due(
    session: AsyncSession,
    now: datetime,
    policy: PagePolicy,
    cipher: Cipher,
    *,
    skip_locked: bool,
    roster: Any = None,
    limit: int = 50,
) -> Published:
    """Page the next step of every escalation whose acknowledgement is overdue.

    Everything a step does is written in this transaction: the escalation's
    new step and time, a console ``pages`` row per person, and for people
    paged by SMS an outbox row (key per escalation, person and step) with its
    ``pages`` row. Committed, the step happened wholly; rolled back, not at all.
    The roster is loaded only when something is due.
    """
    statement = (
        select(Escalation)
        .where(
            Escalation.status.in_(("open", "paged")),
            Escalation.next_page_at.is_not(None),
            Escalation.next_page_at <= now,
        )
        .order_by(Escalation.next_page_at)
        .limit(limit)
    )
    if skip_locked:
        # Several workers: each escalation is paged by exactly one of them.
        statement = statement.with_for_update(skip_locked=True)
    published = Published()
    due = (await session.execute(statement)).scalars().all()
    if not due:
        return published
    if roster is None:
        roster = await load_roster(session, now)
    console: list[Page] = []
    for escalation in due:
        console.extend(await _page_one(session, escalation, roster, now, policy, cipher, published))
    if console:
        await session.flush()  # Row ids, so the caller can mark them delivered.
        published.pages.extend(page.id for page in console)
    return published


async def page_at_once(
    session: AsyncSession,
    escalation: Escalation,
    now: datetime,
    policy: PagePolicy,
    cipher: Cipher,
    *,
    roster: Any = None,
) -> Published:
    """The first page of a new escalation, written in the transaction that creates it.

    For the pipeline: called right after the escalation row is flushed, so the
    escalation and its first page (console rows, SMS outbox rows) commit
    together, with no second write for the paging loop to wait for. The caller
    publishes ``events`` after the commit and then hands ``pages`` to
    ``PagingDispatcher.published`` (unmarked, the dispatcher's sweep publishes
    them again after its grace period). Later steps stay with the dispatcher.
    """
    published = Published()
    if escalation.page_step != -1 or escalation.status not in ("open", "paged"):
        return published  # Paged before: the dispatcher owns the next step.
    if roster is None:
        roster = await load_roster(session, now)
    console = await _page_one(session, escalation, roster, now, policy, cipher, published)
    if console:
        await session.flush()
        published.pages.extend(page.id for page in console)
    return published


async def _page_one(
    session: AsyncSession,
    escalation: Escalation,
    roster: Any,
    now: datetime,
    policy: PagePolicy,
    cipher: Cipher,
    published: Published,
) -> list[Page]:
    # Steps 0-2 are primary, backup, supervisor; 3 and on page everyone on call again.
    step = escalation.page_step + 1
    targets = paging_targets(step, roster)
    while not targets and step < LAST_STEP:
        step += 1  # Nobody in that position now: go straight to the next.
        targets = paging_targets(step, roster)
    console = []
    for counselor in targets:
        page = Page(
            escalation_id=escalation.id,
            counselor_id=counselor.id,
            step=step,
            channel="console",
            sent_at=now,
        )
        session.add(page)
        console.append(page)
        if counselor.page_channel == "sms":
            _page_by_sms(session, escalation, counselor, step, now, cipher, published)
        published.events.append(page_event(escalation, counselor, step))
    escalation.page_step = step
    if targets:
        escalation.status = "paged"
    # Not acknowledged by then: the next step. Nobody on call: try again then.
    escalation.next_page_at = now + policy.timeout(escalation.level)
    return console


def _page_by_sms(
    session: AsyncSession,
    escalation: Escalation,
    counselor: Counselor,
    step: int,
    now: datetime,
    cipher: Cipher,
    published: Published,
) -> None:
    """An outbox row to the counselor's number and its page row, in the step's transaction."""
    if counselor.page_address_enc is None:
        log.warning("counselor %d chose sms pages but has no number", counselor.id)
        return
    item = OutboxItem(
        contact_id=None,
        counselor_id=counselor.id,
        address_enc=counselor.page_address_enc,
        channel="sms",
        payload_enc=cipher.encrypt(
            json.dumps({"text": page_text(counselor.locale or "en", escalation.level)})
        ),
        idempotency_key=page_key(escalation.id, counselor.id, step),
        status="pending",
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )
    session.add(item)
    # The page row points at its outbox row (the unit of work inserts the row first).
    session.add(
        Page(
            escalation_id=escalation.id,
            counselor_id=counselor.id,
            step=step,
            channel="sms",
            sent_at=now,
            outbox=item,
        )
    )
    published.enqueued += 1


async def _get(session: AsyncSession, escalation_id: int) -> Escalation:
    escalation = await session.get(Escalation, escalation_id, with_for_update=True)
    if escalation is None:
        raise EscalationError("no such escalation")
    return escalation


def _audit(
    session: AsyncSession, who: Counselor, action: str, now: datetime, **detail: Any
) -> None:
    session.add(AuditEvent(at=now, actor=f"counselor:{who.id}", action=action, detail=detail))


async def acknowledge(
    session: AsyncSession, escalation_id: int, who: Counselor, now: datetime
) -> Published:
    escalation = await _get(session, escalation_id)
    published = Published()
    if escalation.acknowledged_at is None and escalation.status != "closed":
        escalation.acknowledged_at = now
        escalation.acknowledged_by = who.id
        escalation.status = "acknowledged" if escalation.status != "claimed" else "claimed"
        escalation.next_page_at = None  # Stop re-paging.
        pages = await session.execute(
            select(Page).where(Page.escalation_id == escalation.id, Page.counselor_id == who.id)
        )
        for page in pages.scalars():
            page.acknowledged_at = page.acknowledged_at or now
        _audit(session, who, "escalation.acknowledged", now, escalation_id=escalation.id)
        published.events.append(
            {"type": "escalation.acknowledged", "escalation_id": escalation.id, "by": who.id}
        )
    return published


async def claim(
    session: AsyncSession,
    escalation_id: int,
    who: Counselor,
    now: datetime,
    cipher: Cipher,
    texts: dict[str, str],
) -> Published:
    """Take the conversation: the survivor's messages now go to this counselor."""
    escalation = await _get(session, escalation_id)
    if escalation.status == "closed":
        raise EscalationError("this conversation is closed")
    if escalation.claimed_by not in (None, who.id):
        raise EscalationError("another counselor has this conversation")
    published = await acknowledge(session, escalation_id, who, now)
    if escalation.claimed_by == who.id:
        return published
    escalation.claimed_by = who.id
    escalation.claimed_at = now
    escalation.status = "claimed"
    conversation = await session.get(Conversation, escalation.conversation_id)
    if conversation is not None:
        conversation.handoff_escalation_id = escalation.id
        conversation.state = "handoff"
    await enqueue_for_survivor(
        session, escalation.contact_id, texts["joined"], cipher, now, f"joined:{escalation.id}"
    )
    _audit(session, who, "handoff.started", now, escalation_id=escalation.id)
    published.events.append(
        {"type": "handoff.started", "escalation_id": escalation.id, "by": who.id}
    )
    return published


async def _held_by(session: AsyncSession, escalation_id: int, who: Counselor) -> Escalation:
    escalation = await _get(session, escalation_id)
    if escalation.status == "closed":
        raise EscalationError("this conversation is closed")
    if escalation.claimed_by != who.id and who.role not in ("supervisor", "admin"):
        raise EscalationError("claim this conversation first")
    return escalation


async def enqueue_for_survivor(
    session: AsyncSession,
    contact_id: int,
    text: str,
    cipher: Cipher,
    now: datetime,
    key: str | None = None,
) -> OutboxItem | None:
    """A message the bot starts: stored once per key, delivered by the channel's sender."""
    contact = await session.get(Contact, contact_id)
    if contact is None or contact.stopped:
        return None
    if key is not None:
        text = await neutral_if_watched(session, key, contact, text)
    item = OutboxItem(
        contact_id=contact_id,
        channel=contact.channel,
        payload_enc=cipher.encrypt(json.dumps({"text": text})),
        idempotency_key=key or uuid.uuid4().hex,
        status="pending",
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )
    session.add(item)
    return item


async def neutral_if_watched(session: AsyncSession, key: str, contact: Contact, text: str) -> str:
    """Neutral wording for messages the service starts when the phone may be watched.

    A discreet contact, or a handoff that began with the safe word, gets texts that
    say nothing of the service or why, on every channel (a Telegram notification or
    an SMS preview shows on a locked screen); a counselor's own words pass as written.
    Check-ins choose their wording when they are dispatched (``aftercare.dispatcher``).
    """
    kind, _, rest = key.partition(":")
    if kind not in ("joined", "closed"):
        return text
    careful = contact.discreet
    if not careful and rest.isdigit():
        escalation = await session.get(Escalation, int(rest))
        careful = escalation is not None and escalation.reason == "safe_word"
    return get_texts(contact.locale or "en")(f"discreet.{kind}") if careful else text


async def relay_to_survivor(
    session: AsyncSession,
    escalation_id: int,
    who: Counselor,
    text: str,
    cipher: Cipher,
    now: datetime,
    client_key: str | None = None,
) -> Published:
    escalation = await _held_by(session, escalation_id, who)
    key = f"relay:{escalation.id}:{client_key}" if client_key else None
    if key is not None:
        exists = await session.scalar(
            select(OutboxItem.id).where(OutboxItem.idempotency_key == key)
        )
        if exists is not None:
            return Published()  # A retried send: already queued once.
    await enqueue_for_survivor(session, escalation.contact_id, text, cipher, now, key)
    session.add(
        Message(
            conversation_id=escalation.conversation_id,
            direction="staff",  # Written by a counselor (the bot writes "out").
            text_enc=cipher.encrypt(text),
            risk_level=None,
            created_at=now,
        )
    )
    return Published([{"type": "message", "escalation_id": escalation.id, "from": "counselor"}])


async def add_note(
    session: AsyncSession,
    escalation_id: int,
    who: Counselor,
    text: str,
    cipher: Cipher,
    now: datetime,
) -> None:
    await _get(session, escalation_id)
    session.add(
        Note(
            escalation_id=escalation_id,
            counselor_id=who.id,
            text_enc=cipher.encrypt(text),
            created_at=now,
        )
    )
    _audit(session, who, "note.added", now, escalation_id=escalation_id)


async def transfer(
    session: AsyncSession, escalation_id: int, who: Counselor, to: Counselor, now: datetime
) -> Published:
    escalation = await _held_by(session, escalation_id, who)
    if not to.active:
        raise EscalationError("that counselor is not active")
    escalation.claimed_by = to.id
    _audit(session, who, "handoff.transferred", now, escalation_id=escalation.id, to=to.id)
    return Published([{"type": "handoff.transferred", "escalation_id": escalation.id, "to": to.id}])


async def close(
    session: AsyncSession,
    escalation_id: int,
    who: Counselor,
    disposition: str,
    now: datetime,
    cipher: Cipher,
    texts: dict[str, str],
) -> Published:
    """End the handoff; the bot takes the survivor back to the menu, gently."""
    escalation = await _held_by(session, escalation_id, who)
    escalation.status = "closed"
    escalation.closed_at = now
    escalation.disposition = disposition
    escalation.next_page_at = None
    conversation = await session.get(Conversation, escalation.conversation_id)
    contact = await session.get(Contact, escalation.contact_id)
    if conversation is not None and conversation.handoff_escalation_id == escalation.id:
        conversation.handoff_escalation_id = None
        conversation.state = "menu"
        await enqueue_for_survivor(
            session, escalation.contact_id, texts["closed"], cipher, now, f"closed:{escalation.id}"
        )
        if contact is not None and not contact.consent:
            # Without consent the handoff transcript goes with the handoff.
            for message in (
                await session.execute(
                    select(Message).where(Message.conversation_id == conversation.id)
                )
            ).scalars():
                await session.delete(message)
    _audit(session, who, "handoff.ended", now, escalation_id=escalation.id, disposition=disposition)
    return Published([{"type": "handoff.ended", "escalation_id": escalation.id}])


@dataclass(frozen=True, slots=True)
class QueueItem:
    escalation_id: int
    level: str
    categories: list[str]
    reason: str
    status: str
    created_at: datetime
    claimed_by: int | None
    waiting_seconds: float


async def queue(session: AsyncSession, viewer: Counselor, now: datetime) -> list[QueueItem]:
    """Open work ordered by risk, then by how long the person has waited.

    Counselors see unclaimed items and their own; supervisors and admins see all.
    """
    rows = (
        await session.execute(select(Escalation).where(Escalation.status != "closed"))
    ).scalars()
    items = [
        QueueItem(
            escalation_id=e.id,
            level=e.level,
            categories=list(e.categories),
            reason=e.reason,
            status=e.status,
            created_at=e.created_at,
            claimed_by=e.claimed_by,
            waiting_seconds=(now - e.created_at).total_seconds(),
        )
        for e in rows
        if viewer.role in ("supervisor", "admin") or e.claimed_by in (None, viewer.id)
    ]
    items.sort(key=lambda i: (-ORDER.get(i.level, 0), i.created_at))
    return items
