"""Articles and service listings as files: Markdown with YAML front matter."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import yaml

__all__ = [
    "CONTENT_DIR",
    "Article",
    "ContentError",
    "article_from_dict",
    "article_to_dict",
    "load_articles",
    "load_services",
    "parse_article",
    "render_article",
    "render_services",
]

CONTENT_DIR = Path(__file__).resolve().parent / "content"


@dataclass(frozen=True, slots=True)
class Article:
    id: str
    locale: str
    title: str
    short_answer: str
    body: str
    jurisdiction: str = "any"
    topics: tuple[str, ...] = ()
    example_questions: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    last_reviewed: date | None = None
    reviewer: str = ""
    status: str = "draft"
    extra: dict[str, Any] = field(default_factory=dict)


class ContentError(ValueError):
    pass


def parse_article(text: str, origin: str = "<string>") -> Article:
    if not text.startswith("---"):
        raise ContentError(f"{origin}: missing front matter")
    try:
        _, front, body = text.split("---", 2)
        meta = yaml.safe_load(front) or {}
    except (ValueError, yaml.YAMLError) as exc:
        raise ContentError(f"{origin}: unreadable front matter") from exc
    missing = [k for k in ("id", "locale", "title", "short_answer") if not meta.get(k)]
    if missing:
        raise ContentError(f"{origin}: missing {', '.join(missing)}")
    reviewed = meta.get("last_reviewed")
    return Article(
        id=str(meta["id"]),
        locale=str(meta["locale"]),
        title=str(meta["title"]).strip(),
        short_answer=" ".join(str(meta["short_answer"]).split()),
        body=body.strip(),
        jurisdiction=str(meta.get("jurisdiction", "any")),
        topics=tuple(str(t) for t in meta.get("topics") or ()),
        example_questions=tuple(str(q) for q in meta.get("example_questions") or ()),
        sources=tuple(str(s) for s in meta.get("sources") or ()),
        last_reviewed=reviewed if isinstance(reviewed, date) else None,
        reviewer=str(meta.get("reviewer", "")),
        status=str(meta.get("status", "draft")),
    )


def load_articles(root: Path | None = None) -> list[Article]:
    base = (root or CONTENT_DIR) / "articles"
    return [
        parse_article(path.read_text(encoding="utf-8"), str(path))
        for path in sorted(base.glob("*/*.md"))
    ]


_FIELDS = (
    "id",
    "locale",
    "title",
    "short_answer",
    "jurisdiction",
    "topics",
    "example_questions",
    "sources",
    "last_reviewed",
    "reviewer",
    "status",
)


def article_to_dict(article: Article) -> dict[str, Any]:
    """The article as plain JSON values (a version snapshot)."""
    return {
        "id": article.id,
        "locale": article.locale,
        "title": article.title,
        "short_answer": article.short_answer,
        "body": article.body,
        "jurisdiction": article.jurisdiction,
        "topics": list(article.topics),
        "example_questions": list(article.example_questions),
        "sources": list(article.sources),
        "last_reviewed": article.last_reviewed.isoformat() if article.last_reviewed else None,
        "reviewer": article.reviewer,
        "status": article.status,
    }


def article_from_dict(data: dict[str, Any]) -> Article:
    reviewed = data.get("last_reviewed")
    return Article(
        id=str(data["id"]),
        locale=str(data["locale"]),
        title=str(data["title"]),
        short_answer=str(data["short_answer"]),
        body=str(data.get("body", "")),
        jurisdiction=str(data.get("jurisdiction", "any")),
        topics=tuple(data.get("topics") or ()),
        example_questions=tuple(data.get("example_questions") or ()),
        sources=tuple(data.get("sources") or ()),
        last_reviewed=date.fromisoformat(reviewed) if reviewed else None,
        reviewer=str(data.get("reviewer", "")),
        status=str(data.get("status", "draft")),
    )


def render_article(article: Article) -> str:
    """Markdown with YAML front matter; `parse_article` reads it back unchanged."""
    data = article_to_dict(article)
    front = {k: data[k] for k in _FIELDS}
    front["last_reviewed"] = article.last_reviewed
    text = yaml.safe_dump(front, allow_unicode=True, sort_keys=False, width=100)
    return f"---\n{text}---\n{article.body}\n"


def load_services(root: Path | None = None) -> list[dict[str, Any]]:
    """Service listings from every `services/*.yml` (each a list of objects)."""
    base = (root or CONTENT_DIR) / "services"
    listings: list[dict[str, Any]] = []
    for path in sorted(base.glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or []
        if not isinstance(data, list):
            raise ContentError(f"{path}: expected a list of services")
        listings.extend(_plain(item) for item in data)
    return listings


def render_services(listings: list[dict[str, Any]]) -> str:
    return yaml.safe_dump(listings, allow_unicode=True, sort_keys=False, width=100)


def _plain(value: Any) -> Any:
    """YAML dates become ISO strings, so listings are JSON-ready."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, date):
        return value.isoformat()
    return value
