"""Knowledge-base tables: the working copy of articles and services, with history.

- `kb_articles`: one row per (slug, locale): the state of its newest version
  and which version survivors see (`live_version`, NULL when none).
- `kb_article_versions`: every version as a full snapshot (the article as a
  JSON object), who wrote it, who sent it for review and who published it.
- `kb_services`: one row per service listing: the state and data of its newest
  version and which version survivors see (`live_version`, NULL when none).
- `kb_service_versions`: every version of a listing (the YAML object as JSON),
  with the same who-did-what columns as article versions (migration 0070).
- `kb_revision`: one row; its counter goes up whenever what survivors see
  changes, so every worker knows to reload.

Who did what and when is also written to `audit_events`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.models import Base

__all__ = ["KbArticle", "KbArticleVersion", "KbRevision", "KbService", "KbServiceVersion"]


class KbArticle(Base):
    __tablename__ = "kb_articles"
    __table_args__ = (UniqueConstraint("slug", "locale", name="uq_kb_articles_slug_locale"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(128))
    locale: Mapped[str] = mapped_column(String(8))
    jurisdiction: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(300))
    # State of the newest version: draft | in_review | published | retired.
    status: Mapped[str] = mapped_column(String(16))
    version: Mapped[int] = mapped_column(Integer)
    live_version: Mapped[int | None] = mapped_column(Integer)
    updated_at: Mapped[datetime]
    updated_by: Mapped[str] = mapped_column(String(64))


class KbArticleVersion(Base):
    __tablename__ = "kb_article_versions"
    __table_args__ = (
        UniqueConstraint("article_id", "number", name="uq_kb_article_versions_number"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("kb_articles.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    snapshot: Mapped[dict[str, Any]]
    author: Mapped[str] = mapped_column(String(64))
    note: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime]
    submitted_by: Mapped[str | None] = mapped_column(String(64))
    published_by: Mapped[str | None] = mapped_column(String(64))
    published_at: Mapped[datetime | None]


class KbService(Base):
    __tablename__ = "kb_services"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(128), unique=True)
    # Kind, place and data of the newest version (what the admin edits).
    kind: Mapped[str] = mapped_column(String(32))
    jurisdiction: Mapped[str] = mapped_column(String(16))
    # State of the newest version: draft | in_review | published | retired.
    status: Mapped[str] = mapped_column(String(16))
    data: Mapped[dict[str, Any]]
    version: Mapped[int] = mapped_column(Integer, server_default="0")
    live_version: Mapped[int | None] = mapped_column(Integer)
    updated_at: Mapped[datetime]
    updated_by: Mapped[str] = mapped_column(String(64))


class KbServiceVersion(Base):
    __tablename__ = "kb_service_versions"
    __table_args__ = (
        UniqueConstraint("service_id", "number", name="uq_kb_service_versions_number"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("kb_services.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    data: Mapped[dict[str, Any]]
    author: Mapped[str] = mapped_column(String(64))
    note: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime]
    submitted_by: Mapped[str | None] = mapped_column(String(64))
    published_by: Mapped[str | None] = mapped_column(String(64))
    published_at: Mapped[datetime | None]


class KbRevision(Base):
    __tablename__ = "kb_revision"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    revision: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime]
