"""Articles and service listings as files: Markdown with YAML front matter."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import yaml

__all__ = ["CONTENT_DIR", "Article", "load_articles", "parse_article"]

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
