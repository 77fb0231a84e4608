"""The database working copy: small async functions over one session.

Articles and service listings both keep every version (`kb_article_versions`,
`kb_service_versions`) and move through the same review workflow
(`resources_kb.workflow`). Every change writes an `audit_events` row (who,
when, what: the item, the version, the fields that changed) in the same
transaction, and every change to what survivors see bumps `kb_revision`.
The caller owns the transaction (``async with session.begin(): ...``).

Saving with `expect_version` guards against two people editing at once: the
number of the version the editor started from (0 for something new); when
another version was saved meanwhile, `Conflict` is raised and nothing changes.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import AuditEvent
from resources_kb.content import Article, article_from_dict, article_to_dict
from resources_kb.models import (
    KbArticle,
    KbArticleVersion,
    KbRevision,
    KbService,
    KbServiceVersion,
)
from resources_kb.validate import STALE_DAYS, stale_articles, stale_services
from resources_kb.workflow import WorkflowError, changed_fields, next_status

__all__ = [
    "Conflict",
    "ImportSummary",
    "Stale",
    "article_count",
    "article_locales",
    "article_row",
    "article_version",
    "audit_log",
    "bump_revision",
    "find_article",
    "find_service",
    "history",
    "import_articles",
    "import_services",
    "list_articles",
    "list_services",
    "live_articles",
    "live_services",
    "publish",
    "publish_service",
    "reject",
    "reject_service",
    "retire",
    "retire_service",
    "revision",
    "rollback",
    "rollback_service",
    "save_draft",
    "save_service",
    "service_count",
    "service_history",
    "service_row",
    "service_version",
    "stale",
    "submit",
    "submit_service",
    "working_articles",
]


class ImportSummary(dict[str, int]):
    pass


class Conflict(WorkflowError):
    """Someone saved another version while this one was being edited (or the id is taken)."""


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


async def find_article(
    session: AsyncSession, slug: str, locale: str, *, lock: bool = False
) -> KbArticle | None:
    """The article's row; `lock` holds it until commit (changes to one article queue)."""
    query = select(KbArticle).where(KbArticle.slug == slug, KbArticle.locale == locale)
    return await session.scalar(query.with_for_update() if lock else query)


async def _row(session: AsyncSession, slug: str, locale: str) -> KbArticle:
    row = await find_article(session, slug, locale, lock=True)
    if row is None:
        raise WorkflowError(f"no article {slug} ({locale})")
    return row


article_row = _row


async def _version(session: AsyncSession, row: KbArticle, number: int) -> KbArticleVersion:
    version = await session.scalar(
        select(KbArticleVersion).where(
            KbArticleVersion.article_id == row.id, KbArticleVersion.number == number
        )
    )
    if version is None:
        raise WorkflowError(f"{row.slug} ({row.locale}) has no version {number}")
    return version


article_version = _version


async def save_draft(
    session: AsyncSession,
    article: Article,
    actor: str,
    now: datetime,
    note: str = "",
    expect_version: int | None = None,
) -> int | None:
    """Store `article` as a new draft version; None when its content is unchanged."""
    snapshot = article_to_dict(article) | {"status": "draft"}
    row = await find_article(session, article.id, article.locale, lock=True)
    _check_expected(row.version if row else None, expect_version, "an article with this id")
    before: dict[str, Any] | None = None
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
        before = latest.snapshot
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
        changed=changed_fields(before, snapshot),
    )
    await session.flush()
    return row.version


def _check_expected(current: int | None, expected: int | None, what: str) -> None:
    if expected is None or current == expected or (current is None and expected == 0):
        return
    if current is None:
        raise WorkflowError(f"{what} does not exist")
    if expected == 0:
        raise Conflict(f"{what} already exists; open it and edit it instead")
    raise Conflict(
        f"someone saved version {current} while you were editing version {expected}; "
        "your text is still in the form: compare with the newest version, then save again"
    )


async def _move(
    session: AsyncSession,
    slug: str,
    locale: str,
    action: str,
    actor: str,
    now: datetime,
    reviewed_on: date | None = None,
) -> KbArticle:
    row = await _row(session, slug, locale)
    version = await _version(session, row, row.version)
    row.status = next_status(row.status, action, actor, version.author)
    row.updated_at, row.updated_by = now, actor
    stamp: dict[str, Any] = {"status": row.status}
    if action == "publish" and reviewed_on is not None:
        # Publishing is the review: the article says when, and by whom.
        stamp |= {"last_reviewed": reviewed_on.isoformat(), "reviewer": actor}
    version.snapshot = version.snapshot | stamp
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


async def publish(
    session: AsyncSession,
    slug: str,
    locale: str,
    actor: str,
    now: datetime,
    *,
    reviewed_on: date | None = None,
) -> None:
    """Make the version in review live; with `reviewed_on`, stamp it reviewed by `actor`."""
    await _move(session, slug, locale, "publish", actor, now, reviewed_on)


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


async def list_articles(session: AsyncSession) -> list[KbArticle]:
    result = await session.scalars(select(KbArticle).order_by(KbArticle.slug, KbArticle.locale))
    return list(result)


async def article_locales(session: AsyncSession, slug: str, *, retired: bool = False) -> set[str]:
    """The locales `slug` exists in (in any state but retired, unless `retired`)."""
    query = select(KbArticle.locale).where(KbArticle.slug == slug)
    if not retired:
        query = query.where(KbArticle.status != "retired")
    return set(await session.scalars(query))


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
    """Files -> database. A listing that changed becomes a new version, live at once.

    The files are reviewed where they are kept; a listing whose newest version
    already holds the same data is left as it is (a retired one stays retired).
    """
    summary = ImportSummary(changed=0, unchanged=0)
    changed = False
    for listing in listings:
        row = await find_service(session, str(listing["id"]), lock=True)
        if row is not None and row.data == listing:
            summary["unchanged"] += 1
            continue
        number = await _new_service_version(session, row, listing, actor, now, "import")
        row = await service_row(session, str(listing["id"]))
        version = await service_version(session, row, number)
        row.status = "published"
        row.live_version = number
        version.published_by, version.published_at = actor, now
        summary["changed"] += 1
        changed = True
    if changed:
        await bump_revision(session, now)
    await session.flush()
    return summary


async def live_services(session: AsyncSession) -> list[dict[str, Any]]:
    """What survivors see: the live version of every listing not retired."""
    result = await session.scalars(
        select(KbServiceVersion.data)
        .join(KbService, KbService.id == KbServiceVersion.service_id)
        .where(KbServiceVersion.number == KbService.live_version)
        .order_by(KbService.id)
    )
    return list(result)


# ---- service listings, versioned like articles -------------------------------------


async def service_count(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(KbService)) or 0)


async def list_services(session: AsyncSession) -> list[KbService]:
    result = await session.scalars(select(KbService).order_by(KbService.slug))
    return list(result)


async def find_service(session: AsyncSession, slug: str, *, lock: bool = False) -> KbService | None:
    """The listing's row; `lock` holds it until commit (changes to one listing queue)."""
    query = select(KbService).where(KbService.slug == slug)
    return await session.scalar(query.with_for_update() if lock else query)


async def service_row(session: AsyncSession, slug: str) -> KbService:
    row = await find_service(session, slug, lock=True)
    if row is None:
        raise WorkflowError(f"no service {slug}")
    return row


async def service_version(session: AsyncSession, row: KbService, number: int) -> KbServiceVersion:
    version = await session.scalar(
        select(KbServiceVersion).where(
            KbServiceVersion.service_id == row.id, KbServiceVersion.number == number
        )
    )
    if version is None:
        raise WorkflowError(f"service {row.slug} has no version {number}")
    return version


async def service_history(session: AsyncSession, slug: str) -> list[KbServiceVersion]:
    row = await service_row(session, slug)
    result = await session.scalars(
        select(KbServiceVersion)
        .where(KbServiceVersion.service_id == row.id)
        .order_by(KbServiceVersion.number)
    )
    return list(result)


async def _new_service_version(
    session: AsyncSession,
    row: KbService | None,
    listing: dict[str, Any],
    actor: str,
    now: datetime,
    note: str,
    author: str | None = None,
) -> int:
    slug = str(listing["id"])
    before = row.data if row is not None else None
    if row is None:
        row = KbService(slug=slug, status="draft", version=0, live_version=None, data=listing)
        session.add(row)
    row.version += 1
    row.status = next_status(row.status, "edit", actor, actor)
    row.kind = str(listing.get("kind", ""))[:32]
    row.jurisdiction = str(listing.get("jurisdiction", "any"))[:16]
    row.data = listing
    row.updated_at, row.updated_by = now, actor
    await session.flush()
    session.add(
        KbServiceVersion(
            service_id=row.id,
            number=row.version,
            data=listing,
            author=author or actor,
            note=note[:300],
            created_at=now,
        )
    )
    await _audit(
        session,
        now,
        actor,
        "kb.service.import" if note == "import" else "kb.service.edit",
        service=slug,
        version=row.version,
        note=note[:300],
        changed=changed_fields(before, listing),
    )
    await session.flush()
    return row.version


async def save_service(
    session: AsyncSession,
    listing: dict[str, Any],
    actor: str,
    now: datetime,
    note: str = "",
    expect_version: int | None = None,
) -> int | None:
    """Store `listing` as a new draft version; None when it is unchanged."""
    row = await find_service(session, str(listing["id"]), lock=True)
    _check_expected(row.version if row else None, expect_version, "a service with this id")
    if row is not None and row.data == listing:
        return None
    return await _new_service_version(session, row, listing, actor, now, note)


async def _service_move(
    session: AsyncSession, slug: str, action: str, actor: str, now: datetime
) -> KbService:
    row = await service_row(session, slug)
    version = await service_version(session, row, row.version)
    row.status = next_status(row.status, action, actor, version.author)
    row.updated_at, row.updated_by = now, actor
    if action == "submit":
        version.submitted_by = actor
    if action == "publish":
        version.published_by, version.published_at = actor, now
        row.live_version = row.version
    if action == "retire":
        row.live_version = None
    await _audit(session, now, actor, f"kb.service.{action}", service=slug, version=row.version)
    if action in ("publish", "retire"):
        await bump_revision(session, now)
    await session.flush()
    return row


async def submit_service(session: AsyncSession, slug: str, actor: str, now: datetime) -> None:
    await _service_move(session, slug, "submit", actor, now)


async def reject_service(session: AsyncSession, slug: str, actor: str, now: datetime) -> None:
    await _service_move(session, slug, "reject", actor, now)


async def publish_service(session: AsyncSession, slug: str, actor: str, now: datetime) -> None:
    await _service_move(session, slug, "publish", actor, now)


async def retire_service(session: AsyncSession, slug: str, actor: str, now: datetime) -> None:
    await _service_move(session, slug, "retire", actor, now)


async def rollback_service(
    session: AsyncSession, slug: str, number: int, actor: str, now: datetime
) -> int:
    """Copy version `number` as a new version; live at once if it had been published."""
    row = await service_row(session, slug)
    old = await service_version(session, row, number)
    live = old.published_at is not None
    row.version += 1
    row.status = "published" if live else "draft"
    row.kind = str(old.data.get("kind", row.kind))[:32]
    row.jurisdiction = str(old.data.get("jurisdiction", row.jurisdiction))[:16]
    row.data = old.data
    row.updated_at, row.updated_by = now, actor
    session.add(
        KbServiceVersion(
            service_id=row.id,
            number=row.version,
            data=old.data,
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
        "kb.service.rollback",
        service=slug,
        version=row.version,
        to=number,
        live=live,
    )
    await session.flush()
    return row.version


# ---- review reports ------------------------------------------------------------------


class Stale(dict[str, Any]):
    """{"articles": [Article, ...], "services": [(listing, last_verified), ...]}."""


async def stale(session: AsyncSession, today: date, stale_days: int = STALE_DAYS) -> Stale:
    """What survivors see now and is due for review: articles by last review, listings
    by last verification, each older than `stale_days` (or never done)."""
    return Stale(
        articles=stale_articles(await live_articles(session), today, stale_days),
        services=stale_services(await live_services(session), today, stale_days),
    )


async def audit_log(
    session: AsyncSession,
    *,
    limit: int = 100,
    before: int | None = None,
    article: tuple[str, str] | None = None,
    service: str | None = None,
) -> list[AuditEvent]:
    """Knowledge-base changes, newest first; optionally of one article or listing."""
    query = select(AuditEvent).order_by(AuditEvent.id.desc())
    if article is not None:
        query = query.where(AuditEvent.action.like("kb.article.%"))
    elif service is not None:
        query = query.where(AuditEvent.action.like("kb.service.%"))
    else:
        query = query.where(AuditEvent.action.like("kb.%"))
    if before is not None:
        query = query.where(AuditEvent.id < before)
    if article is None and service is None:
        return list(await session.scalars(query.limit(limit)))
    # The item is in the JSON detail: filtered here, the same on every database.
    found: list[AuditEvent] = []
    for event in await session.scalars(query):
        detail = event.detail or {}
        mine = (
            (detail.get("article"), detail.get("locale")) == article
            if article is not None
            else detail.get("service") == service
        )
        if mine:
            found.append(event)
            if len(found) >= limit:
                break
    return found
