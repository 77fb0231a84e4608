"""One inbound message, end to end, the same for every channel.

    risk screen (pure, first) -> rate limit -> inbox (persist + de-duplicate)
    -> per-conversation lock -> contact and state -> risk in context
    -> language -> command or intent -> dialog step (pure) -> effects
    -> transcript (only with consent) -> result stored for retries

The crisis reply depends on nothing after the risk screen: if the database
or Redis fails, the caller still gets the crisis text back.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from redis.exceptions import RedisError
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from bot.crypto import Cipher, address_hash
from bot.settings import Settings
from bot.state import SharedState
from bot.storage.db import AsyncSession, Database
from bot.storage.models import Contact, Conversation, Escalation, InboxItem, Message
from bot.types import Choice, Event, InboundMessage, Intent, Reply, RiskAssessment, RiskLevel
from dialogs import flow
from dialogs.commands import match_command
from dialogs.normalize import clean_inbound
from dialogs.texts import get_texts, lines_for
from nlu.engine import NluEngine
from nlu.language import detect_language
from nlu.risk import assess
from resources_kb.service import KnowledgeBase

__all__ = ["Pipeline", "TurnResult"]

log = logging.getLogger("harborline.pipeline")

STORAGE_ERRORS = (SQLAlchemyError, RedisError, OSError, TimeoutError)


@dataclass(slots=True)
class TurnResult:
    replies: list[Reply] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    # ok | duplicate | rate_limited | degraded | unavailable
    status: str = "ok"
    locale: str = "en"

    def to_json(self) -> str:
        return json.dumps(
            {
                "replies": [
                    {"text": r.text, "choices": [[c.label, c.value] for c in r.choices]}
                    for r in self.replies
                ],
                "events": [e.as_dict() for e in self.events],
                "locale": self.locale,
            }
        )

    @classmethod
    def from_json(cls, raw: str, status: str) -> TurnResult:
        data = json.loads(raw)
        replies = [
            Reply(r["text"], tuple(Choice(label, value) for label, value in r["choices"]))
            for r in data["replies"]
        ]
        events = [Event(e.pop("type"), e) for e in data["events"]]
        return cls(replies, events, status, data.get("locale", "en"))


def _utcnow() -> datetime:
    return datetime.now(UTC)


class Pipeline:
    def __init__(
        self,
        settings: Settings,
        db: Database,
        state: SharedState,
        kb: KnowledgeBase,
        nlu: NluEngine,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self.settings = settings
        self.db = db
        self.state = state
        self.kb = kb
        self.nlu = nlu
        self.clock = clock
        self.cipher = Cipher(settings.fernet_keys)

    def identity(self, channel: str, address: str) -> str:
        return address_hash(self.settings.address_hash_key, channel, address)

    async def handle(self, message: InboundMessage) -> TurnResult:
        text = clean_inbound(message.text)
        risk = assess(text)  # Always first; pure, needs nothing else to work.
        who = self.identity(message.channel, message.address)
        try:
            if not await self._allowed(who, risk):
                return self._rate_limited(message)
            inbox_id, earlier = await self._persist_inbound(message, text)
            if earlier is not None:
                return earlier
            async with self.state.lock(who):
                return await self._process(inbox_id, message, text, who, risk)
        except STORAGE_ERRORS as exc:
            log.error("turn failed, storage: %s", type(exc).__name__)
            return self._degraded(message, risk)
        except Exception as exc:
            # A bug must not cost the survivor an answer. The stored message stays
            # pending, so a retry or the recovery job finishes the turn.
            log.exception("turn failed, unexpected: %s", type(exc).__name__)
            return self._degraded(message, risk)

    async def _allowed(self, who: str, risk: RiskAssessment) -> bool:
        allowed = await self.state.allow(who, self.settings.rate_limit_per_minute)
        # A message with any sign of distress is never held back by the limit.
        return allowed or risk.level >= RiskLevel.MODERATE

    def _rate_limited(self, message: InboundMessage) -> TurnResult:
        texts = get_texts(message.locale_hint or "en")
        return TurnResult([Reply(texts("errors.rate_limited"))], [], "rate_limited", texts.locale)

    def _degraded(self, message: InboundMessage, risk: RiskAssessment) -> TurnResult:
        texts = get_texts(message.locale_hint or "en")
        if risk.level >= RiskLevel.MODERATE:
            lines = lines_for(self.settings.default_country, texts.locale)
            reply = texts("crisis.degraded", **lines)
            return TurnResult([Reply(reply)], [], "degraded", texts.locale)
        return TurnResult([Reply(texts("errors.unavailable"))], [], "unavailable", texts.locale)

    async def _persist_inbound(
        self, message: InboundMessage, text: str
    ) -> tuple[int, TurnResult | None]:
        """Store the message before anything else may fail; spot provider retries."""
        payload = json.dumps({"address": message.address, "text": text})
        async with self.db.sessions() as session:
            item = InboxItem(
                channel=message.channel,
                provider_id=message.provider_id[:128],
                payload_enc=self.cipher.encrypt(payload),
                received_at=message.received_at,
            )
            session.add(item)
            try:
                await session.commit()
                return item.id, None
            except IntegrityError:
                await session.rollback()
            existing = await session.scalar(
                select(InboxItem).where(
                    InboxItem.channel == message.channel,
                    InboxItem.provider_id == message.provider_id[:128],
                )
            )
        if existing is None:  # Purged between insert and read: treat as new.
            raise IntegrityError("inbox row vanished", None, Exception())
        if existing.status == "done":
            return existing.id, self._stored_result(existing)
        return existing.id, None  # Still pending: a crash left it; process it now.

    def _stored_result(self, item: InboxItem) -> TurnResult:
        if item.result_enc is None:
            return TurnResult(status="duplicate")
        return TurnResult.from_json(self.cipher.decrypt(item.result_enc), "duplicate")

    async def _process(
        self, inbox_id: int, message: InboundMessage, text: str, who: str, risk: RiskAssessment
    ) -> TurnResult:
        async with self.db.sessions() as session, session.begin():
            item = await session.get(InboxItem, inbox_id, with_for_update=True)
            if item is None or item.status == "done":
                return self._stored_result(item) if item else TurnResult(status="duplicate")
            turn = _TurnContext(self, session, message, text, who, risk)
            result = await turn.run()
            item.status = "done"
            item.payload_enc = None  # The message text lives on only with consent.
            item.processed_at = self.clock()
            item.result_enc = self.cipher.encrypt(result.to_json())
            return result


class _TurnContext:
    """The work of one turn inside one transaction."""

    def __init__(
        self,
        pipeline: Pipeline,
        session: AsyncSession,
        message: InboundMessage,
        text: str,
        who: str,
        risk: RiskAssessment,
    ) -> None:
        self.p = pipeline
        self.session = session
        self.message = message
        self.text = text
        self.who = who
        self.risk = risk
        self.now = pipeline.clock()
        self.events: list[Event] = []
        self.replies: list[Reply] = []
        self.erased = False

    async def run(self) -> TurnResult:
        contact, conversation, is_new = await self._load()
        self.risk = self._risk_in_context(conversation)
        limit = self.p.settings.max_message_chars
        text = self.text[:limit]
        command = match_command(text)
        locale = self._locale(contact, text, command, is_new)
        intent = await self._intent(text, command)
        turn = flow.Turn(
            text=text,
            state=conversation.state,
            contact=flow.ContactView(
                locale=locale,
                country=contact.country,
                consent=contact.consent,
                stopped=contact.stopped,
                is_new=is_new,
                retention_days=self.p.settings.retention_days,
            ),
            risk=self.risk,
            intent=intent,
            command=command,
            too_long=len(self.text) > limit,
            data=dict(conversation.data or {}),
        )
        decision = flow.step(turn)
        self.replies.extend(decision.replies)
        self.events.extend(decision.events)
        if self.risk.level >= RiskLevel.MODERATE:
            self.events.insert(0, Event("risk.detected", self._risk_summary()))
        data = dict(conversation.data or {})
        await self._apply(decision.effects, contact, conversation, data, locale)
        if not self.erased:
            conversation.state = decision.state
            conversation.data = data
            conversation.last_risk = {"level": self.risk.level.label, "cats": self.risk.categories}
            conversation.updated_at = self.now
            contact.last_seen_at = self.now
            if contact.consent:
                self._keep_transcript(conversation)
        final_locale = contact.locale or locale if not self.erased else locale
        return TurnResult(self.replies, self.events, "ok", final_locale)

    def _risk_summary(self) -> dict[str, Any]:
        return {"level": self.risk.level.label, "categories": list(self.risk.categories)}

    async def _load(self) -> tuple[Contact, Conversation, bool]:
        """The contact and its conversation in one query, created on first contact."""
        row = (
            await self.session.execute(
                select(Contact, Conversation)
                .outerjoin(Conversation, Conversation.contact_id == Contact.id)
                .where(Contact.address_hash == self.who)
            )
        ).first()
        if row is not None and row[1] is not None:
            return row[0], row[1], False
        contact = row[0] if row is not None else self._new_contact()
        if row is None:
            self.session.add(contact)
            await self.session.flush()
        conversation = Conversation(
            contact_id=contact.id, state="new", data={}, last_risk={}, updated_at=self.now
        )
        self.session.add(conversation)
        await self.session.flush()
        return contact, conversation, row is None

    def _new_contact(self) -> Contact:
        return Contact(
            address_hash=self.who,
            channel=self.message.channel,
            address_enc=self.p.cipher.encrypt(self.message.address),
            country=self.p.settings.default_country,
            locale_chosen=False,
            discreet=False,
            stopped=False,
            created_at=self.now,
            last_seen_at=self.now,
        )

    def _risk_in_context(self, conversation: Conversation) -> RiskAssessment:
        previous = conversation.last_risk or {}
        level = previous.get("level")
        if not level or RiskLevel.parse(level) < RiskLevel.MODERATE:
            return self.risk
        before = RiskAssessment(RiskLevel.parse(level), tuple(previous.get("cats") or ()))
        in_context = assess(self.text, previous=before)
        return max(in_context, self.risk, key=lambda r: r.level)

    def _locale(self, contact: Contact, text: str, command: Any, is_new: bool) -> str:
        current = contact.locale or self.message.locale_hint or "en"
        if contact.locale_chosen:
            return current
        detected = command.locale if command is not None else detect_language(text)
        locale = detected or current
        if contact.locale != locale:
            if contact.locale is not None and not is_new:
                self.events.append(
                    Event("language.changed", {"from": contact.locale, "to": locale})
                )
            contact.locale = locale
        return locale

    async def _intent(self, text: str, command: Any) -> Intent:
        if command is not None:
            return Intent(f"command.{command.name}", 1.0)
        return await self.p.nlu.parse(text)

    async def _apply(
        self,
        effects: list[flow.Effect],
        contact: Contact,
        conversation: Conversation,
        data: dict[str, Any],
        locale: str,
    ) -> None:
        for effect in effects:
            match effect:
                case flow.SetLocale(locale=new):
                    contact.locale = new
                    contact.locale_chosen = True
                case flow.SetConsent(value=value):
                    contact.consent = value
                    contact.consent_at = self.now
                case flow.SetStopped(value=value):
                    contact.stopped = value
                case flow.Escalate(reason=reason):
                    await self._escalate(contact, conversation, reason)
                case flow.Answer(query=query):
                    self._answer(query, contact.locale or locale, contact.country, data)
                case flow.ShowMore(article_id=article_id):
                    self._more(article_id, contact.locale or locale)
                case flow.Erase():
                    await self.session.execute(delete(Contact).where(Contact.id == contact.id))
                    self.erased = True
                    return

    async def _escalate(self, contact: Contact, conversation: Conversation, reason: str) -> None:
        # Kept even without consent: the counselor needs what raised the alarm.
        escalation = Escalation(
            contact_id=contact.id,
            conversation_id=conversation.id,
            reason=reason,
            level=self.risk.level.label,
            categories=list(self.risk.categories),
            # Cue ids only in the clear; the words that matched stay in the encrypted excerpt.
            cues=[cue.split(":", 1)[0] for cue in self.risk.cues],
            excerpt_enc=self.p.cipher.encrypt(self.text[:1000]),
            status="open",
            created_at=self.now,
        )
        self.session.add(escalation)
        await self.session.flush()
        self.events.append(
            Event(
                "escalation.created",
                {"escalation_id": escalation.id, "reason": reason, **self._risk_summary()},
            )
        )

    def _answer(self, query: str, locale: str, country: str, data: dict[str, Any]) -> None:
        texts = get_texts(locale)
        best = self.p.kb.ask(query, locale, country).best
        if best is None:
            self.events.append(Event("kb.no_answer"))
            self.replies.append(
                Reply(
                    texts("answers.unknown"),
                    (
                        Choice(texts("menu.choices.ask"), "/ask"),
                        Choice(texts("menu.choices.person"), "/person"),
                    ),
                )
            )
            return
        article = best.article
        data["last_article"] = article.id
        self.events.append(
            Event("kb.answered", {"article_id": article.id, "score": round(best.score, 3)})
        )
        reviewed = article.last_reviewed.isoformat() if article.last_reviewed else ""
        text = article.short_answer
        if reviewed:
            text = f"{text}\n{texts('answers.reviewed', date=reviewed)}"
        self.replies.append(Reply(text, (Choice(texts("answers.more"), "/more"),)))

    def _more(self, article_id: str, locale: str) -> None:
        article = self.p.kb.article(article_id, locale) or self.p.kb.article(article_id, "en")
        if article is None:
            return
        self.events.append(Event("kb.more", {"article_id": article.id}))
        for part in _split_paragraphs(article.body):
            self.replies.append(Reply(part))

    def _keep_transcript(self, conversation: Conversation) -> None:
        rows = [("in", self.text)] + [("out", r.text) for r in self.replies]
        for direction, body in rows:
            self.session.add(
                Message(
                    conversation_id=conversation.id,
                    direction=direction,
                    text_enc=self.p.cipher.encrypt(body),
                    risk_level=self.risk.level.label if direction == "in" else None,
                    created_at=self.now,
                )
            )


def _split_paragraphs(body: str, limit: int = 700) -> list[str]:
    """Group Markdown paragraphs into messages of at most ``limit`` characters."""
    parts: list[str] = []
    current = ""
    for paragraph in (p.strip() for p in body.split("\n\n")):
        if not paragraph:
            continue
        if current and len(current) + len(paragraph) + 2 > limit:
            parts.append(current)
            current = paragraph
        else:
            current = f"{current}\n\n{paragraph}" if current else paragraph
    if current:
        parts.append(current)
    return parts
