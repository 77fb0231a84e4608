"""One inbound message, end to end, the same for every channel.

    risk screen (pure, first) -> rate limit + first try at the conversation's lock
    (one step) -> inbox (persist + de-duplicate) -> the lock (waits only now)
    -> contact and state -> risk in context
    -> language -> command or intent -> dialog step (pure) -> effects
    -> transcript (only with consent) -> result stored for retries

The crisis reply depends on nothing after the risk screen: if the database
or Redis fails, the caller still gets the crisis text back.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, insert, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm.attributes import set_committed_value

from aftercare import service as aftercare
from bot.crypto import Cipher, address_hash
from bot.settings import Settings
from bot.state import SharedState, storage_errors
from bot.storage.db import AsyncSession, Database
from bot.storage.models import Contact, Conversation, Escalation, InboxItem, Message
from bot.types import Choice, Event, InboundMessage, Intent, Reply, RiskAssessment, RiskLevel
from dialogs import checkins, flow
from dialogs.commands import match_command
from dialogs.normalize import clean_inbound, fold
from dialogs.texts import get_texts, lines_for
from escalation.bus import Bus, LocalBus
from escalation.roster import load_roster
from escalation.service import LAST_STEP, PagePolicy, Published, page_at_once, paging_targets
from nlu.engine import NluEngine
from nlu.language import detect_language
from nlu.risk import assess
from resources_kb.service import KnowledgeBase

__all__ = ["Pipeline", "TurnResult"]

log = logging.getLogger("harborline.pipeline")

LAST_SEEN_PRECISION = timedelta(minutes=10)
# The Core table: a bulk insert through it keeps rows with None columns in one statement.
MESSAGES = cast(Table, Message.__table__)
# Hot-path statements, built once: through the Core table they skip the ORM's bulk
# machinery, and a reused statement keeps its compiled form and cache key.
INBOX = cast(Table, InboxItem.__table__)
STORE_INBOUND = insert(INBOX).returning(INBOX.c.id)
STORE_TRANSCRIPT = insert(MESSAGES)
SAVED_CONVERSATION_COLUMNS = ("state", "data", "last_risk", "updated_at")
CONVERSATIONS = cast(Table, Conversation.__table__)
# Built once: building a statement costs more than running it on SQLite.
SAVE_CONVERSATION = (
    update(CONVERSATIONS)
    .where(CONVERSATIONS.c.id == bindparam("conversation_id"))
    .values({name: bindparam(f"new_{name}") for name in SAVED_CONVERSATION_COLUMNS})
)
MARK_DONE = (
    update(INBOX)
    .where(INBOX.c.id == bindparam("inbox_id"), INBOX.c.status == "pending")
    .values(
        status="done",
        payload_enc=None,  # The message text lives on only with consent.
        processed_at=bindparam("processed_at"),
        result_enc=bindparam("result_enc"),
    )
)
LOAD_CONTACT = (
    select(Contact, Conversation)
    .outerjoin(Conversation, Conversation.contact_id == Contact.id)
    .where(Contact.address_hash == bindparam("who"))
)
OPEN_ESCALATION = select(Escalation).where(
    Escalation.conversation_id == bindparam("conversation_id"), Escalation.status != "closed"
)


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
        bus: Bus | None = None,
    ) -> None:
        self.settings = settings
        self.db = db
        self.state = state
        self.kb = kb
        self.nlu = nlu
        self.clock = clock
        self.cipher = Cipher(settings.fernet_keys)
        self.bus: Bus = bus or LocalBus()
        # A new escalation's first page is written in the turn's own transaction.
        self.page_policy = PagePolicy(
            settings.page_timeout_imminent_seconds, settings.page_timeout_high_seconds
        )
        # Set by the runtime. ``wake_paging`` nudges the paging dispatcher (a raised
        # level fell due now); ``first_paged`` hands it the first pages published
        # after the commit, to be marked delivered, and wakes the SMS outbox.
        self.wake_paging: Callable[[], None] = lambda: None
        self.first_paged: Callable[[Published], None] = lambda published: None

    def identity(self, channel: str, address: str) -> str:
        return address_hash(self.settings.address_hash_key, channel, address)

    async def handle(self, message: InboundMessage) -> TurnResult:
        text = clean_inbound(message.text)
        risk = assess(text)  # Always first; pure, needs nothing else to work.
        who = self.identity(message.channel, message.address)
        # A message with any sign of distress is never held back by the limit.
        exempt = risk.level >= RiskLevel.MODERATE
        limit = self.settings.rate_limit_per_minute
        try:
            # Counted and the conversation's lock tried in one step; stored before
            # any wait for the lock, so a message is never left unstored.
            async with self.state.admit(who, limit, exempt=exempt) as admission:
                if not admission.allowed:
                    return self._rate_limited(message)
                inbox_id, fresh, earlier = await self._persist_inbound_once_more(message, text)
                if earlier is not None:
                    return earlier
                await admission.hold()
                return await self._process(inbox_id, fresh, message, text, who, risk)
        except storage_errors() as exc:
            log.error("turn failed, storage: %s", type(exc).__name__)
            return self._degraded(message, risk)
        except Exception as exc:
            # A bug must not cost the survivor an answer. The stored message stays
            # pending, so a retry or the recovery job finishes the turn.
            log.exception("turn failed, unexpected: %s", type(exc).__name__)
            return self._degraded(message, risk)

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

    async def _persist_inbound_once_more(
        self, message: InboundMessage, text: str
    ) -> tuple[int, bool, TurnResult | None]:
        """``_persist_inbound``, again on a fresh connection if the pooled one was dead.

        A database restart leaves the pool holding closed connections; the first
        use reports a disconnect and invalidates them all. The message must not
        be lost to that: store it once more before giving up.
        """
        try:
            return await self._persist_inbound(message, text)
        except DBAPIError as exc:
            if not exc.connection_invalidated:
                raise
            log.warning("inbound store hit a closed connection; storing again")
            return await self._persist_inbound(message, text)

    async def _persist_inbound(
        self, message: InboundMessage, text: str
    ) -> tuple[int, bool, TurnResult | None]:
        """Store the message before anything else may fail; spot provider retries.

        Returns the inbox id, whether this call stored it (a fresh message), and
        the stored result when the message was already answered.
        """
        payload = json.dumps({"address": message.address, "text": text})
        provider_id = message.provider_id[:128]
        # A plain connection, not an ORM session: this runs on every message. One
        # statement, so on a server database it runs in autocommit (no BEGIN and
        # COMMIT round trips).
        async with self.db.writing(), self.db.connect_single() as connection:
            try:
                inbox_id = await connection.scalar(
                    STORE_INBOUND,
                    {
                        "channel": message.channel,
                        "provider_id": provider_id,
                        "status": "pending",
                        "payload_enc": self.cipher.encrypt(payload),
                        "received_at": message.received_at,
                    },
                )
                await connection.commit()
                return int(inbox_id or 0), True, None
            except IntegrityError:
                await connection.rollback()
            existing = (
                await connection.execute(
                    select(INBOX.c.id, INBOX.c.status, INBOX.c.result_enc).where(
                        INBOX.c.channel == message.channel,
                        INBOX.c.provider_id == provider_id,
                    )
                )
            ).first()
        if existing is None:  # Purged between insert and read: treat as new.
            raise IntegrityError("inbox row vanished", None, Exception())
        if existing.status == "done":
            return existing.id, False, self._stored_result(existing.result_enc)
        return existing.id, False, None  # Still pending: a crash left it; process it now.

    def _stored_result(self, result_enc: bytes | None) -> TurnResult:
        if result_enc is None:
            return TurnResult(status="duplicate")
        return TurnResult.from_json(self.cipher.decrypt(result_enc), "duplicate")

    async def _process(
        self,
        inbox_id: int,
        fresh: bool,
        message: InboundMessage,
        text: str,
        who: str,
        risk: RiskAssessment,
    ) -> TurnResult:
        # Command and intent need no storage: work them out before taking the writer.
        command = match_command(text[: self.settings.max_message_chars])
        intent = await self._intent(text[: self.settings.max_message_chars], command)
        # Published knowledge-base changes (checked at most every few seconds), read
        # before the turn takes SQLite's writer.
        await self.kb.refresh(self.db)
        try:
            # Ahead of new messages waiting to be stored: under load, a stored message
            # would otherwise wait in line a second time, behind all that came after it.
            async with (
                self.db.writing(ahead=True),
                self.db.write_sessions() as session,
                session.begin(),
            ):
                if not fresh:  # Left pending by a crash, or a retry racing the first try.
                    status = await session.scalar(
                        select(InboxItem.status).where(InboxItem.id == inbox_id).with_for_update()
                    )
                    if status != "pending":
                        raise _AlreadyDone
                turn = _TurnContext(self, session, message, text, who, risk, command, intent)
                result = await turn.run()
                done = await session.execute(
                    MARK_DONE,
                    {
                        "inbox_id": inbox_id,
                        "processed_at": self.clock(),
                        "result_enc": self.cipher.encrypt(result.to_json()),
                    },
                )
                if done.rowcount != 1:  # type: ignore[attr-defined]
                    raise _AlreadyDone  # Another worker finished it first: undo ours.
        except _AlreadyDone:
            return await self._result_of(inbox_id)
        await self._after_commit(turn.console_events, turn.page_now, turn.first_pages)
        return result

    async def _intent(self, text: str, command: Any) -> Intent:
        if command is not None:
            return Intent(f"command.{command.name}", 1.0)
        return await self.nlu.parse(text)

    async def _result_of(self, inbox_id: int) -> TurnResult:
        async with self.db.sessions() as session:
            result_enc = await session.scalar(
                select(InboxItem.result_enc).where(InboxItem.id == inbox_id)
            )
        return self._stored_result(result_enc)

    async def rehearse(self, texts: list[str], locale: str = "en") -> None:
        """Play ``texts`` as one throwaway conversation, then roll all of it back.

        A serving process does this once before it takes traffic. The first turn
        of each kind otherwise pays for lazily built parts (statements compiled
        for this database, cue patterns compiled for new words, texts loaded, the
        language detector built): 10 to 40 ms each, which a burst of survivors
        would wait behind. Everything happens in one transaction that is rolled
        back: no contact, transcript, escalation or check-in stays, and nothing
        is published or paged (that happens only after a commit).
        """
        now = self.clock()
        message = InboundMessage(
            channel="rehearsal",
            address="rehearsal",
            text="",
            provider_id="rehearsal",
            received_at=now,
            locale_hint=locale,
        )
        who = self.identity("rehearsal", f"rehearsal:{now.timestamp()}")
        payload = {"channel": "rehearsal", "provider_id": "rehearsal", "status": "pending"}
        try:
            async with self.db.writing(), self.db.write_sessions() as session, session.begin():
                inbox_id = await session.scalar(
                    STORE_INBOUND, {**payload, "payload_enc": b"", "received_at": now}
                )
                for text in texts:
                    command = match_command(text)
                    intent = await self._intent(text, command)
                    turn = _TurnContext(
                        self, session, message, text, who, assess(text), command, intent
                    )
                    result = await turn.run()
                    await session.execute(
                        MARK_DONE,
                        {
                            "inbox_id": inbox_id,
                            "processed_at": now,
                            "result_enc": self.cipher.encrypt(result.to_json()),
                        },
                    )
                raise _Rehearsed
        except _Rehearsed:
            pass

    async def _after_commit(
        self, console_events: list[dict[str, Any]], page_now: bool, first: Published
    ) -> None:
        try:
            for event in console_events:
                await self.bus.publish(event)
            for event in first.events:
                await self.bus.publish(event)
        except storage_errors() as exc:
            # The rows are committed; consoles still see them on their next refresh,
            # and the dispatcher's sweep publishes the unmarked pages again.
            log.warning("console publish failed: %s", type(exc).__name__)
        else:
            if first.events or first.enqueued:
                self.first_paged(first)
        if page_now:
            self.wake_paging()


class _Rehearsed(Exception):
    """Ends a rehearsal: its transaction rolls back and leaves nothing behind."""


class _AlreadyDone(Exception):
    """The inbox row was answered by another attempt; this one must change nothing."""


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
        command: Any,
        intent: Intent,
    ) -> None:
        self.p = pipeline
        self.session = session
        self.message = message
        self.text = text
        self.who = who
        self.risk = risk
        self.command = command
        self.intent = intent
        self.now = pipeline.clock()
        self.events: list[Event] = []
        self.replies: list[Reply] = []
        # For the console bus, published after the transaction commits.
        self.console_events: list[dict[str, Any]] = []
        # A raised alarm fell due for paging this turn: wake the pager after commit.
        # (A repeat alarm at the same level changes nothing the pager would do.)
        self.page_now = False
        # A new escalation's first page, written in this transaction, published after.
        self.first_pages = Published()
        self._roster: Any = None
        self.erased = False

    async def run(self) -> TurnResult:
        contact, conversation, is_new = await self._load()
        self.risk = self._risk_in_context(conversation)
        screened = self.risk  # Read in context by the next message; the safe word is not.
        safe_word = self._is_safe_word(contact)
        if safe_word:  # Silent: a high-risk escalation, a plain visible reply.
            level = max(self.risk.level, RiskLevel.HIGH)
            self.risk = RiskAssessment(level, (*self.risk.categories, "safe_word"), self.risk.cues)
        limit = self.p.settings.max_message_chars
        text = self.text[:limit]
        command, intent = self.command, self.intent
        locale = self._locale(contact, text, command, is_new)
        in_handoff = conversation.handoff_escalation_id is not None
        might_escalate = self.risk.escalates or intent.name in ("command.person", "talk_to_person")
        available = might_escalate and not in_handoff and await self._counselor_available()
        turn = flow.Turn(
            text=text,
            state="handoff"
            if in_handoff and conversation.state != "confirm_forget"
            else conversation.state,
            contact=flow.ContactView(
                locale=locale,
                country=contact.country,
                consent=contact.consent,
                stopped=contact.stopped,
                is_new=is_new,
                retention_days=self.p.settings.retention_days,
                counselor_available=available,
            ),
            risk=self.risk,
            intent=intent,
            command=command,
            too_long=len(self.text) > limit,
            safe_word=safe_word,
            resume_on_any_message=self.message.resume_on_any_message,
            data={
                **(conversation.data or {}),
                "aftercare": await aftercare.facts(
                    self.session, contact, self.now, new=is_new, data=conversation.data
                ),
            },
        )
        decision = flow.step(turn)
        self.replies.extend(decision.replies)
        self.events.extend(decision.events)
        if self.risk.level >= RiskLevel.MODERATE:
            self.events.insert(0, Event("risk.detected", self._risk_summary()))
        data = dict(conversation.data or {})
        await self._apply(decision.effects, contact, conversation, data, locale)
        if not self.erased:
            still_in_handoff = conversation.handoff_escalation_id is not None
            state = "handoff" if still_in_handoff and decision.state == "menu" else decision.state
            last_risk = {"level": screened.level.label, "cats": list(screened.categories)}
            # Write only what changed: every UPDATE costs a round trip on the hot path.
            values = {"state": state, "data": data, "last_risk": last_risk}
            if any(getattr(conversation, name) != value for name, value in values.items()):
                await self._save_conversation(conversation, {**values, "updated_at": self.now})
            if self.now - contact.last_seen_at > LAST_SEEN_PRECISION:
                # Retention counts days; minute-level precision is enough and saves a write.
                contact.last_seen_at = self.now
            if contact.consent:
                await self._keep_transcript(conversation)
        final_locale = contact.locale or locale if not self.erased else locale
        return TurnResult(self.replies, self.events, "ok", final_locale)

    def _safe_word_hash(self, word: str) -> str:
        # Keyed and per contact: equal words of two people never look alike.
        key = self.p.settings.address_hash_key
        return address_hash(key, "safe_word", f"{self.who}:{fold(word)}")

    def _is_safe_word(self, contact: Contact) -> bool:
        stored = contact.safe_word_hash
        return stored is not None and hmac.compare_digest(stored, self._safe_word_hash(self.text))

    async def _counselor_available(self) -> bool:
        roster = await self._load_roster()
        return any(paging_targets(step, roster) for step in range(LAST_STEP + 1))

    async def _load_roster(self) -> Any:
        if self._roster is None:
            self._roster = await load_roster(self.session, self.now)
        return self._roster

    def _risk_summary(self) -> dict[str, Any]:
        return {"level": self.risk.level.label, "categories": list(self.risk.categories)}

    async def _load(self) -> tuple[Contact, Conversation, bool]:
        """The contact and its conversation in one query, created on first contact."""
        row = (await self.session.execute(LOAD_CONTACT, {"who": self.who})).first()
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
                case flow.SetDiscreet(value=value):
                    contact.discreet = value
                case flow.SetSafeWord(word=word):
                    contact.safe_word_hash = self._safe_word_hash(word) if word else None
                case flow.Escalate(reason=reason):
                    await self._escalate(contact, conversation, reason)
                case flow.Answer(query=query):
                    await self._answer(query, contact.locale or locale, contact.country, data)
                case flow.ShowMore(article_id=article_id):
                    self._more(article_id, contact.locale or locale)
                case flow.Relay():
                    await self._relay(conversation)
                case flow.EndHandoff(reason=reason):
                    await self._end_handoff(conversation, reason)
                case checkins.CheckinEffect():
                    done = await aftercare.apply_effect(
                        self.session, effect, contact, data, self.now
                    )
                    self.events.extend(Event(e.pop("type"), e) for e in done)
                case flow.Erase():
                    await self.session.execute(delete(Contact).where(Contact.id == contact.id))
                    self.erased = True
                    return

    async def _escalate(self, contact: Contact, conversation: Conversation, reason: str) -> None:
        open_one = await self.session.scalar(OPEN_ESCALATION, {"conversation_id": conversation.id})
        if open_one is not None:
            self._raise_open_escalation(open_one)
            return
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
            page_step=-1,
            next_page_at=self.now,  # Page at once.
        )
        self.session.add(escalation)
        await self.session.flush()
        # The first page commits with the escalation: no second write to wait for,
        # and no moment where the alarm exists but nobody has been paged.
        self.first_pages = await page_at_once(
            self.session,
            escalation,
            self.now,
            self.p.page_policy,
            self.p.cipher,
            roster=await self._load_roster(),
        )
        self.events.append(
            Event(
                "escalation.created",
                {"escalation_id": escalation.id, "reason": reason, **self._risk_summary()},
            )
        )
        self.console_events.append(
            {
                "type": "escalation.created",
                "escalation_id": escalation.id,
                "level": escalation.level,
            }
        )

    def _raise_open_escalation(self, escalation: Escalation) -> None:
        """A new alarm in a conversation already waiting: raise it, don't duplicate it."""
        if RiskLevel.parse(escalation.level) < self.risk.level:
            escalation.level = self.risk.level.label
            escalation.next_page_at = escalation.next_page_at and min(
                escalation.next_page_at, self.now
            )
            self.page_now = escalation.next_page_at is not None
        escalation.categories = sorted({*escalation.categories, *self.risk.categories})
        cues = [cue.split(":", 1)[0] for cue in self.risk.cues]
        escalation.cues = list(dict.fromkeys([*escalation.cues, *cues]))
        self.events.append(
            Event("escalation.updated", {"escalation_id": escalation.id, **self._risk_summary()})
        )
        self.console_events.append(
            {"type": "risk", "escalation_id": escalation.id, "level": self.risk.level.label}
        )

    async def _relay(self, conversation: Conversation) -> None:
        """Pass the survivor's message to the counselor holding the handoff."""
        self.session.add(
            Message(
                conversation_id=conversation.id,
                direction="in",
                text_enc=self.p.cipher.encrypt(self.text),
                risk_level=self.risk.level.label,
                created_at=self.now,
            )
        )
        escalation_id = conversation.handoff_escalation_id
        self.console_events.append(
            {"type": "message", "escalation_id": escalation_id, "from": "survivor"}
        )
        if self.risk.level >= RiskLevel.MODERATE:
            # The screen keeps running in a handoff; new cues go to the counselor.
            escalation = await self.session.get(Escalation, escalation_id)
            if escalation is not None:
                self._raise_open_escalation(escalation)

    async def _end_handoff(self, conversation: Conversation, reason: str) -> None:
        escalation_id = conversation.handoff_escalation_id
        conversation.handoff_escalation_id = None
        escalation = await self.session.get(Escalation, escalation_id) if escalation_id else None
        if escalation is not None and escalation.status != "closed":
            escalation.status = "closed"
            escalation.closed_at = self.now
            escalation.disposition = reason
            escalation.next_page_at = None
            self.events.append(Event("handoff.ended", {"escalation_id": escalation.id}))
            self.console_events.append({"type": "handoff.ended", "escalation_id": escalation.id})

    async def _answer(self, query: str, locale: str, country: str, data: dict[str, Any]) -> None:
        texts = get_texts(locale)
        best = self.p.kb.ask(query, locale, country).best
        answer = best.article.short_answer if best else ""
        services = [Reply(t) for t in self.p.kb.service_texts(query, locale, country, answer)]
        if best is None:
            self.events.append(Event("kb.no_answer"))
            self.replies.extend(services)
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
        self.replies.extend(services)

    def _more(self, article_id: str, locale: str) -> None:
        article = self.p.kb.article(article_id, locale) or self.p.kb.article(article_id, "en")
        if article is None:
            return
        self.events.append(Event("kb.more", {"article_id": article.id}))
        for part in _split_paragraphs(article.body):
            self.replies.append(Reply(part))

    async def _save_conversation(self, conversation: Conversation, values: dict[str, Any]) -> None:
        """Write the conversation's new state, as a plain UPDATE when the row has no other change.

        The ORM's unit of work costs about three times a Core statement, and this
        runs on nearly every turn. With other changes pending (a handoff, say),
        the ORM writes them all together as before.
        """
        if conversation in self.session.dirty:
            for name, value in values.items():
                setattr(conversation, name, value)
            return
        connection = await self.session.connection()
        params = {f"new_{name}": value for name, value in values.items()}
        await connection.execute(SAVE_CONVERSATION, {**params, "conversation_id": conversation.id})
        for name, value in values.items():  # What the row now holds; nothing left to flush.
            set_committed_value(conversation, name, value)

    async def _keep_transcript(self, conversation: Conversation) -> None:
        rows = [("in", self.text)] + [("out", r.text) for r in self.replies]
        # One statement for the whole turn: a round trip per row is what made turns slow.
        await self.session.execute(
            STORE_TRANSCRIPT,
            [
                {
                    "conversation_id": conversation.id,
                    "direction": direction,
                    "text_enc": self.p.cipher.encrypt(body),
                    "risk_level": self.risk.level.label if direction == "in" else None,
                    "created_at": self.now,
                }
                for direction, body in rows
            ],
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
