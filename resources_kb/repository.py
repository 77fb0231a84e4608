"""The database working copy: small async functions over one session.

Every change writes an `audit_events` row (who, when, what) in the same
transaction, and every change to what survivors see bumps `kb_revision`.
The caller owns the transaction (``async with session.begin(): ...``).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import AuditEvent
from resources_kb.content import Article, article_from_dict, article_to_dict
from resources_kb.models import KbArticle, KbArticleVersion, KbRevision, KbService
from resources_kb.workflow import WorkflowError, next_status

__all__ = [
    "ImportSummary",
    "article_count",
    "bump_revision",
    "history",
    "import_articles",
    "import_services",
    "live_articles",
    "live_services",
    "publish",
    "reject",
    "retire",
    "revision",
    "rollback",
    "save_draft",
    "submit",
    "working_articles",
]


class ImportSummary(dict[str, int]):
    pass


def _content(snapshot: dict[str, Any]) -> dict[str, Any]:
    # Review state is not content: an unchanged text must not make a new version.
    return {k: v for k, v in snapshot.items() if k != "status"}


async def _audit(
    session: AsyncSession, now: datetime, actor: str, action: str, **detail: Any
) -> None:
    session.add(AuditEvent(at=now, actor=actor[:64], action=action, detail=detail))


async def revision(session: AsyncSession) -> int:
    value = await session.scalar(select(KbRevision.revision).where(KbRevision.id == 1))
    return int(value or 0)


async def bump_revision(session: AsyncSession, now: datetime) -> int:
    row = await session.get(KbRevision, 1, with_for_update=True)
    if row is None:
        row = KbRevision(id=1, revision=0, updated_at=now)
        session.add(row)
    row.revision += 1
    row.updated_at = now
    await session.flush()
    return row.revision


async def _row(session: AsyncSession, slug: str, locale: str) -> KbArticle:
    row = await session.scalar(
        select(KbArticle).where(KbArticle.slug == slug, KbArticle.locale == locale)
    )
    if row is None:
        raise WorkflowError(f"no article {slug} ({locale})")
    return row


async def _version(session: AsyncSession, row: KbArticle, number: int) -> KbArticleVersion:
    version = await session.scalar(
        select(KbArticleVersion).where(
            KbArticleVersion.article_id == row.id, KbArticleVersion.number == number
        )
    )
    if version is None:
        raise WorkflowError(f"{row.slug} ({row.locale}) has no version {number}")
    return version


async def save_draft(
    session: AsyncSession, article: Article, actor: str, now: datetime, note: str = ""
) -> int | None:
    """Store `article` as a new draft version; None when its content is unchanged."""
    snapshot = article_to_dict(article) | {"status": "draft"}
    row = await session.scalar(
        select(KbArticle).where(KbArticle.slug == article.id, KbArticle.locale == article.locale)
    )
    if row is None:
        row = KbArticle(
            slug=article.id,
            locale=article.locale,
            jurisdiction=article.jurisdiction,
            title=article.title[:300],
            status="draft",
            version=0,
            live_version=None,
            updated_at=now,
            updated_by=actor,
        )
        session.add(row)
        await session.flush()
    else:
        latest = await _version(session, row, row.version)
        if _content(latest.snapshot) == _content(snapshot):
            return None
    row.version += 1
    row.status = next_status(row.status, "edit", actor, actor)
    row.title = article.title[:300]
    row.jurisdiction = article.jurisdiction
    row.updated_at, row.updated_by = now, actor
    session.add(
        KbArticleVersion(
            article_id=row.id,
            number=row.version,
            snapshot=snapshot,
            author=actor,
            note=note[:300],
            created_at=now,
        )
    )
    await _audit(
        session,
        now,
        actor,
        "kb.article.edit",
        article=row.slug,
        locale=row.locale,
        version=row.version,
        note=note[:300],
    )
    await session.flush()
    return row.version


async def _move(
    session: AsyncSession, slug: str, locale: str, action: str, actor: str, now: datetime
) -> KbArticle:
    row = await _row(session, slug, locale)
    version = await _version(session, row, row.version)
    row.status = next_status(row.status, action, actor, version.author)
    row.updated_at, row.updated_by = now, actor
    version.snapshot = version.snapshot | {"status": row.status}
    if action == "submit":
        version.submitted_by = actor
    if action == "publish":
        version.published_by, version.published_at = actor, now
        row.live_version = row.version
    if action == "retire":
        row.live_version = None
    await _audit(
        session,
        now,
        actor,
        f"kb.article.{action}",
        article=slug,
        locale=locale,
        version=row.version,
    )
    if action in ("publish", "retire"):
        await bump_revision(session, now)
    await session.flush()
    return row


async def submit(session: AsyncSession, slug: str, locale: str, actor: str, now: datetime) -> None:
    await _move(session, slug, locale, "submit", actor, now)


async def reject(session: AsyncSession, slug: str, locale: str, actor: str, now: datetime) -> None:
    await _move(session, slug, locale, "reject", actor, now)


async def publish(session: AsyncSession, slug: str, locale: str, actor: str, now: datetime) -> None:
    await _move(session, slug, locale, "publish", actor, now)


async def retire(session: AsyncSession, slug: str, locale: str, actor: str, now: datetime) -> None:
    await _move(session, slug, locale, "retire", actor, now)


async def rollback(
    session: AsyncSession, slug: str, locale: str, number: int, actor: str, now: datetime
) -> int:
    """Copy version `number` as a new version; live at once if it had been published."""
    row = await _row(session, slug, locale)
    old = await _version(session, row, number)
    row.version += 1
    live = old.published_at is not None
    row.status = "published" if live else "draft"
    row.title = str(old.snapshot.get("title", row.title))[:300]
    row.jurisdiction = str(old.snapshot.get("jurisdiction", row.jurisdiction))
    row.updated_at, row.updated_by = now, actor
    session.add(
        KbArticleVersion(
            article_id=row.id,
            number=row.version,
            snapshot=old.snapshot | {"status": row.status},
            author=old.author,
            note=f"rollback to version {number}",
            created_at=now,
            submitted_by=old.submitted_by if live else None,
            published_by=actor if live else None,
            published_at=now if live else None,
        )
    )
    if live:
        row.live_version = row.version
        await bump_revision(session, now)
    await _audit(
        session,
        now,
        actor,
        "kb.article.rollback",
        article=slug,
        locale=locale,
        version=row.version,
        to=number,
        live=live,
    )
    await session.flush()
    return row.version


async def history(session: AsyncSession, slug: str, locale: str) -> list[KbArticleVersion]:
    row = await _row(session, slug, locale)
    result = await session.scalars(
        select(KbArticleVersion)
        .where(KbArticleVersion.article_id == row.id)
        .order_by(KbArticleVersion.number)
    )
    return list(result)


async def article_count(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(KbArticle)) or 0)


async def live_articles(session: AsyncSession) -> list[Article]:
    """What survivors see: the live version of every article not retired."""
    result = await session.execute(
        select(KbArticleVersion.snapshot)
        .join(KbArticle, KbArticle.id == KbArticleVersion.article_id)
        .where(KbArticleVersion.number == KbArticle.live_version)
        .order_by(KbArticle.locale, KbArticle.slug)
    )
    return [article_from_dict(s | {"status": "published"}) for (s,) in result]


async def working_articles(session: AsyncSession) -> list[Article]:
    """The newest version of every article, with its review state (for export)."""
    result = await session.execute(
        select(KbArticleVersion.snapshot, KbArticle.status)
        .join(KbArticle, KbArticle.id == KbArticleVersion.article_id)
        .where(KbArticleVersion.number == KbArticle.version)
        .order_by(KbArticle.locale, KbArticle.slug)
    )
    return [article_from_dict(s | {"status": status}) for s, status in result]


async def import_articles(
    session: AsyncSession, articles: Iterable[Article], actor: str, now: datetime
) -> ImportSummary:
    """Files -> database. A new version only when the content changed.

    A file marked `published` was reviewed outside the database: its version is
    published in the name of the file's `reviewer` (the workflow still refuses
    when that is the importing person).
    """
    summary = ImportSummary(new_versions=0, unchanged=0, published=0, retired=0)
    for article in articles:
        number = await save_draft(session, article, actor, now, note="import")
        summary["new_versions" if number else "unchanged"] += 1
        row = await _row(session, article.id, article.locale)
        if article.status == row.status or (number is None and article.status == "draft"):
            continue
        reviewer = article.reviewer or "files"
        if article.status in ("published", "in_review") and row.status == "draft":
            await _move(session, article.id, article.locale, "submit", actor, now)
        if article.status == "published" and row.status == "in_review":
            await _move(session, article.id, article.locale, "publish", reviewer, now)
            summary["published"] += 1
        if article.status == "retired":
            await _move(session, article.id, article.locale, "retire", actor, now)
            summary["retired"] += 1
    return summary


async def import_services(
    session: AsyncSession, listings: Iterable[dict[str, Any]], actor: str, now: datetime
) -> ImportSummary:
    summary = ImportSummary(changed=0, unchanged=0)
    changed = False
    for listing in listings:
        slug = str(listing["id"])
        row = await session.scalar(select(KbService).where(KbService.slug == slug))
        if row is not None and row.data == listing:
            summary["unchanged"] += 1
            continue
        before = row.data if row is not None else None
        if row is None:
            row = KbService(slug=slug, status="published", updated_at=now, updated_by=actor)
            session.add(row)
        row.kind = str(listing.get("kind", ""))
        row.jurisdiction = str(listing.get("jurisdiction", "any"))
        row.data = listing
        row.updated_at, row.updated_by = now, actor
        # The previous listing is kept in the audit row, so a change can be undone.
        await _audit(session, now, actor, "kb.service.edit", service=slug, before=before)
        summary["changed"] += 1
        changed = True
    if changed:
        await bump_revision(session, now)
    await session.flush()
    return summary


async def live_services(session: AsyncSession) -> list[dict[str, Any]]:
    result = await session.scalars(
        select(KbService.data).where(KbService.status == "published").order_by(KbService.id)
    )
    return list(result)
