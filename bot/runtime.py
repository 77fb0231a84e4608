"""Builds the running system from settings: pick each implementation once."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from bot.outbox import OutboxDispatcher
from bot.pipeline import Pipeline, _utcnow
from bot.settings import Settings
from bot.state import SharedState, make_state
from bot.storage.db import Database
from bot.storage.migrate import upgrade
from escalation.bus import Bus, make_bus
from escalation.dispatcher import PagingDispatcher
from escalation.service import Published
from nlu.engine import NluEngine, RasaClient, install_risk_model
from nlu.intents import IntentClassifier
from resources_kb.service import KnowledgeBase

__all__ = ["Runtime", "build_runtime"]

log = logging.getLogger("harborline.runtime")


@dataclass
class Runtime:
    settings: Settings
    db: Database
    state: SharedState
    kb: KnowledgeBase
    nlu: NluEngine
    pipeline: Pipeline
    bus: Bus
    paging: PagingDispatcher
    outbox: OutboxDispatcher

    async def close(self) -> None:
        await self.nlu.close()
        await self.bus.close()
        await self.state.close()
        await self.db.close()


async def build_runtime(
    settings: Settings,
    *,
    migrate: bool = True,
    clock: Callable[[], datetime] = _utcnow,
    kb: KnowledgeBase | None = None,
    intents: IntentClassifier | None = None,
    load_risk_model: bool = True,
) -> Runtime:
    url = settings.effective_database_url
    if migrate:
        await upgrade(url)
    db = Database(url, settings.database_pool_size, settings.database_max_overflow)
    state = make_state(settings.redis_url, settings.redis_prefix)
    kb = kb or KnowledgeBase.from_files()
    if intents is None:
        intents = IntentClassifier.load_or_train(settings.var_dir / "models", in_subprocess=True)
    if load_risk_model:
        install_risk_model(settings.var_dir / "models")
    log.info("runtime ready: %d articles, intents=%s", len(kb), intents and intents.version)
    rasa = None
    if settings.nlu_backend == "rasa":
        rasa = RasaClient(settings.rasa_url, settings.rasa_timeout_seconds)
    nlu = NluEngine(intents, rasa, clock)
    bus = make_bus(settings.redis_url, settings.redis_prefix)
    pipeline = Pipeline(settings, db, state, kb, nlu, clock, bus)
    paging = PagingDispatcher(db, bus, clock, pipeline.page_policy, pipeline.cipher)
    pipeline.wake_paging = paging.wake
    # Channels with push delivery (Telegram, SMS) add their senders when they start.
    outbox = OutboxDispatcher(db, pipeline.cipher, {}, clock)
    paging.on_enqueued = outbox.wake  # SMS pages leave at once.

    def first_paged(published: Published) -> None:
        # Pages the turn wrote and published: marked delivered in the dispatcher's
        # next write; SMS pages leave at once.
        paging.published(published.pages)
        if published.enqueued:
            outbox.wake()

    pipeline.first_paged = first_paged
    return Runtime(settings, db, state, kb, nlu, pipeline, bus, paging, outbox)
