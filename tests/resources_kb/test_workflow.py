"""Review workflow: rules as a table; the repository on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import select
from sqlalchemy.ext.asyncio import create_async_engine

from bot.storage.db import Database
from bot.storage.migrate import upgrade
from bot.storage.models import AuditEvent
from resources_kb import repository
from resources_kb.content import load_articles, load_services
from resources_kb.repository import Conflict
from resources_kb.service import KnowledgeBase
from resources_kb.workflow import (
    WorkflowError,
    allowed_actions,
    as_lines,
    changed_fields,
    diff,
    next_status,
)

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


@pytest.mark.parametrize(
    ("status", "actor", "author", "expected"),
    [
        ("draft", "ana", "ana", ["submit", "retire"]),
        ("in_review", "ana", "ana", ["reject", "retire"]),
        ("in_review", "ben", "ana", ["publish", "reject", "retire"]),
        ("in_review", "ANA", "ana", ["reject", "retire"]),
        ("published", "ben", "ana", ["retire"]),
        ("retired", "ben", "ana", []),
    ],
)
def test_allowed_actions(status: str, actor: str, author: str, expected: list[str]) -> None:
    assert allowed_actions(status, actor, author) == expected


def test_diff_shows_changed_lines_with_context() -> None:
    old = {"title": "A", "short_answer": "Old answer.", "sources": ["x", "y"], "status": "draft"}
    new = old | {"short_answer": "New answer.", "sources": ["x", "z"], "status": "published"}
    lines = diff(old, new)
    assert [(d.kind, d.text) for d in lines if d.kind in ("add", "del")] == [
        ("del", "short_answer: Old answer."),
        ("add", "short_answer: New answer."),
        ("del", "  - y"),
        ("add", "  - z"),
    ]
    assert ("same", "title: A") in [(d.kind, d.text) for d in lines]
    assert [d.mark for d in lines if d.kind != "same"][:3] == ["…", "-", "+"]
    # Review state is not content.
    assert diff(old, old | {"status": "retired"}) == []
    assert changed_fields(old, new) == ["short_answer", "sources"]
    assert changed_fields(None, {"title": "A", "status": "draft"}) == ["title"]


def test_as_lines_is_stable_and_flattens_mappings() -> None:
    listing = {
        "last_verified": "2026-11-21",
        "id": "s",
        "contact": {"phone": "+18883737888", "web": "https://a.org"},
        "body": "one\ntwo",
        "zzz": None,
    }
    assert as_lines(listing) == [
        "id: s",
        "body:",
        "  one",
        "  two",
        "contact.phone: +18883737888",
        "contact.web: https://a.org",
        "last_verified: 2026-11-21",
        "zzz: ",
    ]


async def test_publishing_stamps_the_review_and_edits_are_guarded(db: Database) -> None:
    article = next(a for a in load_articles() if a.id == "shelter-housing" and a.locale == "en")
    reviewed = date(2026, 11, 21)
    async with db.sessions() as s, s.begin():
        assert await repository.save_draft(s, article, "ana", NOW, expect_version=0) == 1
        with pytest.raises(Conflict, match="already exists"):
            await repository.save_draft(
                s, replace(article, title="X"), "ben", NOW, expect_version=0
            )
        await repository.submit(s, "shelter-housing", "en", "ana", NOW)
        await repository.publish(s, "shelter-housing", "en", "ben", NOW, reviewed_on=reviewed)
        (live,) = await repository.live_articles(s)
        assert (live.reviewer, live.last_reviewed) == ("ben", reviewed)
        assert await repository.save_draft(s, replace(article, title="B"), "cy", NOW, "", 1) == 2
        # Someone else saved version 2 meanwhile: nothing changes.
        with pytest.raises(Conflict, match="someone saved version 2"):
            await repository.save_draft(s, replace(article, title="C"), "dee", NOW, "", 1)
        assert [v.number for v in await repository.history(s, "shelter-housing", "en")] == [1, 2]
        edit = await s.scalar(
            select(AuditEvent)
            .where(AuditEvent.action == "kb.article.edit")
            .order_by(AuditEvent.id.desc())
        )
    # The file's reviewer differs from the one publishing stamped: both are changes.
    assert edit is not None and edit.detail["changed"] == ["reviewer", "title"]


async def test_service_versions_review_rollback_and_import(db: Database) -> None:
    listing = next(s for s in load_services() if s["id"] == "us-nhth")
    async with db.sessions() as s, s.begin():
        summary = await repository.import_services(s, load_services(), "importer", NOW)
        assert summary == {"changed": len(load_services()), "unchanged": 0}
        assert await repository.revision(s) == 1
        assert listing in await repository.live_services(s)

        changed = listing | {"hours": "24/7/365"}
        assert await repository.save_service(s, changed, "ana", NOW, "hours", 1) == 2
        assert await repository.save_service(s, changed, "ana", NOW) is None  # unchanged
        with pytest.raises(Conflict):
            await repository.save_service(s, listing | {"hours": "x"}, "ben", NOW, "", 1)
        assert listing in await repository.live_services(s)  # the draft waits
        await repository.submit_service(s, "us-nhth", "ana", NOW)
        with pytest.raises(WorkflowError):
            await repository.publish_service(s, "us-nhth", "ana", NOW)
        await repository.publish_service(s, "us-nhth", "ben", NOW)
        assert changed in await repository.live_services(s)
        assert await repository.rollback_service(s, "us-nhth", 1, "ben", NOW) == 3
        assert listing in await repository.live_services(s)
        await repository.retire_service(s, "us-nhth", "ben", NOW)
        assert all(x["id"] != "us-nhth" for x in await repository.live_services(s))
        # The same files again: nothing changes, and the retired listing stays retired.
        again = await repository.import_services(s, load_services(), "importer", NOW)
        assert again == {"changed": 0, "unchanged": len(load_services())}
        assert all(x["id"] != "us-nhth" for x in await repository.live_services(s))
        history = await repository.service_history(s, "us-nhth")
        actions = [
            (e.actor, e.action, e.detail.get("version"))
            for e in await repository.audit_log(s, service="us-nhth")
        ]
    assert [(v.number, v.author, v.published_by) for v in history] == [
        (1, "importer", "importer"),
        (2, "ana", "ben"),
        (3, "importer", "ben"),
    ]
    assert actions == [
        ("ben", "kb.service.retire", 3),
        ("ben", "kb.service.rollback", 3),
        ("ben", "kb.service.publish", 2),
        ("ana", "kb.service.submit", 2),
        ("ana", "kb.service.edit", 2),
        ("importer", "kb.service.import", 1),
    ]


async def _downgrade(url: str, revision: str) -> None:
    from alembic import command

    from bot.storage.migrate import alembic_config

    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:

            def run(sync_conn: object) -> None:
                config = alembic_config(url)
                config.attributes["connection"] = sync_conn
                command.downgrade(config, revision)

            await conn.run_sync(run)
    finally:
        await engine.dispose()


async def test_migration_0070_keeps_every_listing_both_ways(backend: tuple[str, str]) -> None:
    url, _ = backend
    await upgrade(url, "0060")
    services = sa.table(
        "kb_services",
        sa.column("slug", sa.String()),
        sa.column("kind", sa.String()),
        sa.column("jurisdiction", sa.String()),
        sa.column("status", sa.String()),
        sa.column("data", sa.JSON()),
        sa.column("updated_at", sa.DateTime(timezone=True)),
        sa.column("updated_by", sa.String()),
    )
    live = {"id": "a", "kind": "hotline", "jurisdiction": "US", "name": "A line"}
    gone = {"id": "b", "kind": "shelter", "jurisdiction": "US", "name": "B house"}
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        for listing, status in ((live, "published"), (gone, "retired")):
            await conn.execute(
                services.insert().values(
                    slug=listing["id"],
                    kind=listing["kind"],
                    jurisdiction="US",
                    status=status,
                    data=listing,
                    updated_at=NOW,
                    updated_by="files",
                )
            )
    await engine.dispose()

    await upgrade(url)
    database = Database(url)
    try:
        async with database.sessions() as s, s.begin():
            assert await repository.live_services(s) == [live]
            (first,) = await repository.service_history(s, "a")
            assert (first.number, first.author, first.published_by) == (1, "files", "files")
            assert (await repository.service_row(s, "b")).live_version is None
            renamed = live | {"name": "A line, renamed", "kind": "crisis"}
            await repository.save_service(s, renamed, "ana", NOW, "", 1)
            await repository.submit_service(s, "a", "ana", NOW)
            await repository.publish_service(s, "a", "ben", NOW)
            await repository.save_service(s, renamed | {"name": "A draft"}, "ana", NOW)
    finally:
        await database.close()

    # Back: each row holds what survivors saw (the live version), drafts aside.
    await _downgrade(url, "0060")
    engine = create_async_engine(url)
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                sa.select(
                    services.c.slug, services.c.kind, services.c.status, services.c.data
                ).order_by(services.c.slug)
            )
        ).all()
        columns = await conn.run_sync(
            lambda sync: [c["name"] for c in sa.inspect(sync).get_columns("kb_services")]
        )
        tables = await conn.run_sync(lambda sync: sa.inspect(sync).get_table_names())
    await engine.dispose()
    assert [tuple(r) for r in rows] == [
        ("a", "crisis", "published", renamed),
        ("b", "shelter", "retired", gone),
    ]
    assert "version" not in columns and "live_version" not in columns
    assert "kb_service_versions" not in tables
    await upgrade(url)  # and up again


def test_kb_stale_reads_the_database_with_db(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    harborline = str(Path(sys.executable).with_name("harborline"))
    env = os.environ | {
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/kb.db",
        "HARBORLINE_VAR_DIR": str(tmp_path),
        "LOG_LEVEL": "WARNING",
    }

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [harborline, "kb", *args], capture_output=True, text=True, env=env, timeout=300
        )

    nothing = run("stale", "--db")
    assert nothing.returncode == 1 and "nothing imported" in nothing.stderr
    assert run("import", "--actor", "importer").returncode == 0
    # Every shipped item was reviewed or verified before today.
    due = run("stale", "--db", "--days", "0").stdout.splitlines()
    assert "en/shelter-housing\tlast reviewed 2026-11-21" in due
    assert "service/us-nhth\tlast verified 2026-11-21" in due
    assert len(due) == len(load_articles()) + len(load_services())
    assert run("stale", "--db", "--days", "3650").stdout == ""
