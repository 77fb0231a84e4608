"""Background jobs: retention purge and recovery of interrupted turns.

Both are safe to run in every worker at once: the purge is a set of DELETEs
by age, and recovery goes through the same inbox de-duplication and
per-conversation lock as a live message.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update

from bot.channels import sms_store
from bot.pipeline import Pipeline
from bot.state import storage_errors
from bot.storage.db import Database
from bot.storage.models import Contact, Escalation, InboxItem, Message
from bot.types import InboundMessage

__all__ = ["PurgeCounts", "purge", "recover_pending", "run_maintenance"]

log = logging.getLogger("harborline.maintenance")

# A retried request within this time gets the stored replies instead of a new turn.
RESULT_TTL = timedelta(minutes=10)
# Provider ids are remembered this long to catch late provider retries.
DEDUP_TTL = timedelta(days=2)


@dataclass(frozen=True, slots=True)
class PurgeCounts:
    messages: int
    contacts: int
    escalations: int
    inbox: int


async def purge(db: Database, now: datetime, retention_days: int) -> PurgeCounts:
    cutoff = now - timedelta(days=retention_days)
    async with db.sessions() as session, session.begin():
        messages = await session.execute(delete(Message).where(Message.created_at < cutoff))
        # Contacts quiet for the whole retention period go, with all linked rows.
        contacts = await session.execute(delete(Contact).where(Contact.last_seen_at < cutoff))
        escalations = await session.execute(
            update(Escalation)
            .where(Escalation.created_at < cutoff, Escalation.excerpt_enc.is_not(None))
            .values(excerpt_enc=None)
        )
        await session.execute(
            update(InboxItem)
            .where(InboxItem.processed_at < now - RESULT_TTL, InboxItem.result_enc.is_not(None))
            .values(result_enc=None)
        )
        inbox = await session.execute(
            delete(InboxItem).where(
                InboxItem.status == "done", InboxItem.received_at < now - DEDUP_TTL
            )
        )
        # Finished SMS sends (their parts hold only ids and keyed hashes) go too.
        await sms_store.purge_finished(session, cutoff)
    counts = PurgeCounts(
        messages=messages.rowcount or 0,  # type: ignore[attr-defined]
        contacts=contacts.rowcount or 0,  # type: ignore[attr-defined]
        escalations=escalations.rowcount or 0,  # type: ignore[attr-defined]
        inbox=inbox.rowcount or 0,  # type: ignore[attr-defined]
    )
    log.info("purge done: %s", counts)
    return counts


async def recover_pending(pipeline: Pipeline, older_than: timedelta = timedelta(seconds=30)) -> int:
    """Finish turns that a crash interrupted after the message was stored."""
    cutoff = pipeline.clock() - older_than
    async with pipeline.db.sessions() as session:
        rows = (
            (
                await session.execute(
                    select(InboxItem).where(
                        InboxItem.status == "pending", InboxItem.received_at < cutoff
                    )
                )
            )
            .scalars()
            .all()
        )
    done = 0
    for item in rows:
        if item.payload_enc is None:
            continue
        payload = json.loads(pipeline.cipher.decrypt(item.payload_enc))
        message = InboundMessage(
            channel=item.channel,
            address=payload["address"],
            text=payload["text"],
            provider_id=item.provider_id,
            received_at=item.received_at,
        )
        await pipeline.handle(message)
        done += 1
    if done:
        log.info("recovered %d interrupted turns", done)
    return done


async def run_maintenance(pipeline: Pipeline, interval_seconds: float = 300.0) -> None:
    """Loop forever: recover, purge, sleep. Errors are logged and retried next round."""
    # Let start-up finish (and live traffic begin) before the first round.
    await asyncio.sleep(min(interval_seconds, 5.0))
    while True:
        try:
            await recover_pending(pipeline)
            await purge(pipeline.db, pipeline.clock(), pipeline.settings.retention_days)
        except storage_errors() as exc:
            log.error("maintenance round failed: %s", type(exc).__name__)
        await asyncio.sleep(interval_seconds)
