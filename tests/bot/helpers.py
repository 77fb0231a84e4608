from __future__ import annotations

import itertools
from datetime import UTC, datetime

from bot.pipeline import TurnResult
from bot.runtime import Runtime
from bot.types import InboundMessage

_ids = itertools.count()


async def say(
    runtime: Runtime,
    text: str,
    address: str = "person-1",
    provider_id: str | None = None,
    channel: str = "web",
) -> TurnResult:
    message = InboundMessage(
        channel=channel,
        address=address,
        text=text,
        provider_id=provider_id or f"m{next(_ids)}",
        received_at=datetime.now(UTC),
    )
    return await runtime.pipeline.handle(message)


def event_types(result: TurnResult) -> list[str]:
    return [e.type for e in result.events]


def joined(result: TurnResult) -> str:
    return "\n".join(r.text for r in result.replies)
