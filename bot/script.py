"""Scripted chats: one user line at a time through the full pipeline.

Used by `harborline chat --script`. Lines starting with `::` act on the world
around the survivor instead of being sent, so whole flows can be played:

    ::oncall [NAME]             a counselor comes on call (console paging)
    ::counselor ack             the paged counselor acknowledges
    ::counselor claim           ... takes the conversation (warm handoff)
    ::counselor say TEXT        ... writes to the survivor through the bot
    ::counselor close [REASON]  ... ends the handoff
    ::advance DURATION          time passes: 90s, 5m, 2h, 1d

After every line, due check-ins are sent (and misses recorded), due pages are
sent and messages the service started are delivered; all show up in that
line's replies and events.
"""

from __future__ import annotations

import re
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from aftercare.dispatcher import from_runtime as checkin_dispatcher
from bot.outbox import take_for_contact
from bot.runtime import Runtime
from bot.storage.models import Escalation
from bot.types import InboundMessage
from dialogs.texts import get_texts
from escalation import service
from escalation.models import Counselor

__all__ = ["ScriptClock", "ScriptedChat", "TurnRecord"]

_INTERNAL = {"contact_id", "lateness_seconds"}
_DURATION = re.compile(r"^(\d+)\s*([smhd])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


class ScriptClock:
    """Real time plus whatever the script has advanced."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset


@dataclass
class TurnRecord:
    user: str
    replies: list[str] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)


class ScriptedChat:
    def __init__(self, runtime: Runtime, clock: ScriptClock, channel: str = "cli") -> None:
        self.runtime = runtime
        self.clock = clock
        self.channel = channel
        self.address = uuid.uuid4().hex
        self.counselor: Counselor | None = None
        self.locale = "en"
        self._number = 0
        self.checkins = checkin_dispatcher(runtime)

    async def play(self, line: str) -> TurnRecord:
        self._number += 1
        record = TurnRecord(line)
        if line.startswith("::"):
            await self._directive(line[2:].strip(), record)
        else:
            await self._say(line, record)
        for event in await self.checkins.run_once():  # Due check-ins, misses.
            record.events.append({k: v for k, v in event.items() if k not in _INTERNAL})
        for page in await self.runtime.paging.run_once():
            record.events.append({"type": "escalation.paged", **_without_type(page)})
        who = self.runtime.pipeline.identity(self.channel, self.address)
        delivered = await take_for_contact(
            self.runtime.db, self.runtime.pipeline.cipher, who, self.clock()
        )
        record.replies.extend(delivered)
        return record

    async def _say(self, text: str, record: TurnRecord) -> None:
        message = InboundMessage(
            channel=self.channel,
            address=self.address,
            text=text,
            provider_id=f"line-{self._number}",
            received_at=self.clock(),
        )
        result = await self.runtime.pipeline.handle(message)
        self.locale = result.locale
        record.replies.extend(_render(r.text, [c.label for c in r.choices]) for r in result.replies)
        record.events.extend(e.as_dict() for e in result.events)

    async def _directive(self, command: str, record: TurnRecord) -> None:
        verb, _, rest = command.partition(" ")
        if verb == "oncall":
            await self._on_call(rest.strip() or "counselor", record)
        elif verb == "advance":
            match = _DURATION.match(rest.strip())
            if match is None:
                record.events.append({"type": "script.error", "detail": "advance 90s|5m|2h|1d"})
                return
            self.clock.offset += timedelta(**{_UNITS[match[2]]: int(match[1])})
            record.events.append({"type": "time.advanced", "to": self.clock().isoformat()})
        elif verb == "counselor":
            await self._counselor(rest.strip(), record)
        else:
            record.events.append({"type": "script.error", "detail": f"unknown directive {verb!r}"})

    async def _on_call(self, name: str, record: TurnRecord) -> None:
        async with self.runtime.db.sessions() as session, session.begin():
            counselor = Counselor(
                name=f"{name}-{secrets.token_hex(3)}",
                password_hash="!",  # noqa: S106 - no hash matches "!": it can't log in.
                role="counselor",
                active=True,
                on_call=True,
                page_channel="console",
                failed_logins=0,
                created_at=self.clock(),
            )
            session.add(counselor)
        self.counselor = counselor
        record.events.append({"type": "counselor.on_call", "counselor_id": counselor.id})

    async def _counselor(self, command: str, record: TurnRecord) -> None:
        action, _, text = command.partition(" ")
        if self.counselor is None:
            record.events.append({"type": "script.error", "detail": "no counselor: ::oncall"})
            return
        texts = get_texts(self.locale)
        handoff_texts = {"joined": texts("handoff.joined"), "closed": texts("handoff.closed")}
        cipher, now = self.runtime.pipeline.cipher, self.clock()
        try:
            async with self.runtime.db.sessions() as session, session.begin():
                escalation_id = await session.scalar(
                    select(Escalation.id)
                    .where(Escalation.status != "closed")
                    .order_by(Escalation.id.desc())
                )
                if escalation_id is None:
                    record.events.append({"type": "script.error", "detail": "no open escalation"})
                    return
                if action == "ack":
                    done = await service.acknowledge(session, escalation_id, self.counselor, now)
                elif action == "claim":
                    done = await service.claim(
                        session, escalation_id, self.counselor, now, cipher, handoff_texts
                    )
                elif action == "say":
                    done = await service.relay_to_survivor(
                        session, escalation_id, self.counselor, text, cipher, now
                    )
                elif action == "close":
                    done = await service.close(
                        session, escalation_id, self.counselor, text or "resolved", now, cipher,
                        handoff_texts,
                    )  # fmt: skip
                else:
                    record.events.append({"type": "script.error", "detail": f"{action!r}?"})
                    return
        except service.EscalationError as exc:
            record.events.append({"type": "script.error", "detail": str(exc)})
            return
        record.events.extend(e for e in done.events if e["type"] != "message")


def _without_type(event: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in event.items() if k != "type"}


def _render(text: str, labels: list[str]) -> str:
    if not labels:
        return text
    numbered = "\n".join(f"{i}. {label}" for i, label in enumerate(labels, 1))
    return f"{text}\n{numbered}"
