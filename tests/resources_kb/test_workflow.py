"""Review workflow: rules as a table; the repository on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from bot.storage.db import Database
from bot.storage.migrate import upgrade
from bot.storage.models import AuditEvent
from resources_kb import repository
from resources_kb.content import load_articles
from resources_kb.service import KnowledgeBase
from resources_kb.workflow import WorkflowError, next_status

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("status", "action", "actor", "author", "expected"),
    [
        ("draft", "submit", "ana", "ana", "in_review"),
        ("in_review", "publish", "ben", "ana", "published"),
        ("in_review", "publish", "ana", "ana", WorkflowError),
        ("in_review", "publish", "Ana ", "ana", WorkflowError),
        ("draft", "publish", "ben", "ana", WorkflowError),
        ("in_review", "reject", "ben", "ana", "draft"),
        ("published", "retire", "ben", "ana", "retired"),
        ("retired", "submit", "ben", "ana", WorkflowError),
        ("published", "edit", "ana", "ana", "draft"),
        ("retired", "edit", "ana", "ana", "draft"),
    ],
)
def test_moves(status: str, action: str, actor: str, author: str, expected: object) -> None:
    if expected is WorkflowError:
        with pytest.raises(WorkflowError):
            next_status(status, action, actor, author)
    else:
        assert next_status(status, action, actor, author) == expected


@pytest.fixture
async def db(backend: tuple[str, str]) -> AsyncIterator[Database]:
    url, _ = backend
    await upgrade(url)
    database = Database(url)
    try:
        yield database
    finally:
        await database.close()


async def test_review_publish_rollback_and_audit(db: Database) -> None:
    article = next(a for a in load_articles() if a.id == "shelter-housing" and a.locale == "en")
    async with db.sessions() as s, s.begin():
        assert await repository.save_draft(s, article, "ana", NOW) == 1
        assert await repository.save_draft(s, article, "ana", NOW) is None  # unchanged
        await repository.submit(s, "shelter-housing", "en", "ana", NOW)
        with pytest.raises(WorkflowError):
            await repository.publish(s, "shelter-housing", "en", "ana", NOW)
    async with db.sessions() as s, s.begin():
        assert await repository.live_articles(s) == []
        await repository.publish(s, "shelter-housing", "en", "ben", NOW)
        assert await repository.revision(s) == 1
        edited = replace(article, short_answer="A new short answer.")
        assert await repository.save_draft(s, edited, "cy", NOW) == 2
        # The published version stays live while the edit waits for review.
        (live,) = await repository.live_articles(s)
        assert live.short_answer == article.short_answer
        await repository.submit(s, "shelter-housing", "en", "cy", NOW)
        await repository.publish(s, "shelter-housing", "en", "ana", NOW)
        (live,) = await repository.live_articles(s)
        assert live.short_answer == "A new short answer."
        assert await repository.rollback(s, "shelter-housing", "en", 1, "ben", NOW) == 3
        (live,) = await repository.live_articles(s)
        assert live.short_answer == article.short_answer
        versions = await repository.history(s, "shelter-housing", "en")
        assert [(v.number, v.author, v.published_by) for v in versions] == [
            (1, "ana", "ben"),
            (2, "cy", "ana"),
            (3, "ana", "ben"),
        ]
        await repository.retire(s, "shelter-housing", "en", "ben", NOW)
        assert await repository.live_articles(s) == []
        assert await repository.revision(s) == 4
        audit = (await s.scalars(select(AuditEvent).order_by(AuditEvent.id))).all()
    assert [(e.actor, e.action, e.detail.get("version")) for e in audit] == [
        ("ana", "kb.article.edit", 1),
        ("ana", "kb.article.submit", 1),
        ("ben", "kb.article.publish", 1),
        ("cy", "kb.article.edit", 2),
        ("cy", "kb.article.submit", 2),
        ("ana", "kb.article.publish", 2),
        ("ben", "kb.article.rollback", 3),
        ("ben", "kb.article.retire", 3),
    ]
    assert all(e.at == NOW for e in audit)


async def test_a_publish_reaches_the_bot_without_restart(db: Database) -> None:
    ticks = [0.0]
    kb = KnowledgeBase.from_files()
    kb = KnowledgeBase(kb.articles, check_seconds=5, monotonic=lambda: ticks[0])
    assert await kb.refresh(db) is False  # empty database: the files stay
    assert kb.source == "files" and len(kb) == 90
    articles = load_articles()
    async with db.sessions() as s, s.begin():
        await repository.import_articles(s, articles, "importer", NOW)
    ticks[0] = 1.0
    assert await kb.refresh(db) is False  # checked at most every 5 seconds
    ticks[0] = 6.0
    assert await kb.refresh(db) is True
    assert kb.source == "db" and len(kb) == 90
    assert kb.ask("i need a lawyer").best is not None
    async with db.sessions() as s, s.begin():
        await repository.retire(s, "finding-legal-aid", "en", "ben", NOW)
    ticks[0] = 12.0
    assert await kb.refresh(db) is True
    assert kb.article("finding-legal-aid", "en") is None
    best = kb.ask("i need a lawyer").best
    assert best is None or best.article.id != "finding-legal-aid"
