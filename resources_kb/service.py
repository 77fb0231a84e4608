"""The knowledge base as the dialogs see it: one interface for answers and services.

Sources: the database working copy (live versions) when it holds any article,
otherwise the files under `resources_kb/content/` (a fresh machine works with
nothing imported). `refresh(db)` reloads when the `kb_revision` counter has
moved; it reads the counter at most every `check_seconds`, so a publish
reaches every worker within seconds, without a restart.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

import yaml
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dialogs.normalize import fold
from resources_kb.content import Article, load_articles, load_services
from resources_kb.lexicon import find_place, find_service_kind
from resources_kb.search import Hit, SearchIndex, applies

__all__ = ["CONFIDENCE_THRESHOLD", "KbAnswer", "KnowledgeBase", "format_service"]

log = logging.getLogger("harborline.kb")

# Chosen by leave-one-question-out cross-validation on the articles' own example
# questions and our own out-of-scope questions (resources_kb/evaluate.py).
CONFIDENCE_THRESHOLD = 0.13
CHECK_SECONDS = 5.0


class _HasSessions(Protocol):
    sessions: async_sessionmaker[AsyncSession]


@dataclass(frozen=True, slots=True)
class KbAnswer:
    hits: list[Hit]
    confident: bool

    @property
    def best(self) -> Hit | None:
        return self.hits[0] if self.confident and self.hits else None


class _Contents:
    """One loaded generation: articles, services and their lazily built indexes."""

    def __init__(self, articles: Iterable[Article], services: Sequence[dict[str, Any]]) -> None:
        self.published = [a for a in articles if a.status == "published"]
        self.by_id = {(a.locale, a.id): a for a in self.published}
        self.services = list(services)
        self.indexes: dict[str, SearchIndex] = {}

    def index(self, locale: str) -> SearchIndex:
        if locale not in self.indexes:
            self.indexes[locale] = SearchIndex([a for a in self.published if a.locale == locale])
        return self.indexes[locale]

    def build(self) -> _Contents:
        for locale in sorted({a.locale for a in self.published}):
            self.index(locale)
        return self


class KnowledgeBase:
    """Published articles (searched per locale) and service listings."""

    def __init__(
        self,
        articles: Iterable[Article],
        threshold: float = CONFIDENCE_THRESHOLD,
        services: Sequence[dict[str, Any]] | None = None,
        *,
        check_seconds: float = CHECK_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.threshold = threshold
        self._files = _Contents(articles, services if services is not None else [])
        self._contents = self._files
        self.source = "files"
        self.revision: int | None = None
        self.check_seconds = check_seconds
        self._monotonic = monotonic
        self._checked_at: float | None = None
        self._lock = asyncio.Lock()

    @classmethod
    def from_files(cls, root: Path | None = None) -> KnowledgeBase:
        return cls(load_articles(root), services=load_services(root))

    def __len__(self) -> int:
        return len(self._contents.published)

    @property
    def articles(self) -> list[Article]:
        return list(self._contents.published)

    def article(self, article_id: str, locale: str) -> Article | None:
        return self._contents.by_id.get((locale, article_id))

    def warm(self) -> None:
        """Build every locale's index now; otherwise the first question pays for it."""
        self._contents.build()

    def ask(self, question: str, locale: str = "en", jurisdiction: str = "US") -> KbAnswer:
        hits = self._contents.index(locale).search(question, jurisdiction)
        confident = bool(hits) and hits[0].score >= self.threshold
        return KbAnswer(hits, confident)

    # ---- services -------------------------------------------------------------

    def services(self, kind: str | None, jurisdiction: str) -> list[dict[str, Any]]:
        """Listings of `kind` for a place, nearest first; national lines when none match.

        "US-TX" finds Texas listings, then US-wide ones. With no listing of that
        kind, the country's hotlines (and, for crisis, its crisis lines).
        """
        listings = self._contents.services
        country = jurisdiction.split("-", 1)[0]

        def fits(s: dict[str, Any]) -> bool:
            return applies(str(s.get("jurisdiction", "any")), jurisdiction)

        exact = [s for s in listings if s.get("kind") == kind and fits(s)]
        if exact:
            # The place's own listings before the country-wide ones.
            return sorted(exact, key=lambda s: s.get("jurisdiction") != jurisdiction)
        national = [
            s for s in listings if s.get("kind") == "hotline" and s.get("jurisdiction") == country
        ]
        return national

    def service_request(self, question: str, jurisdiction: str) -> tuple[str, str] | None:
        """(kind, place) when the question asks for a kind of service, else None."""
        kind = find_service_kind(question)
        if kind is None:
            return None
        return kind, find_place(question) or jurisdiction

    def service_texts(
        self, question: str, locale: str, jurisdiction: str, answer: str = ""
    ) -> list[str]:
        """Messages naming services when `question` asks for one (else none).

        Listings whose number `answer` already gives are left out.
        """
        request = self.service_request(question, jurisdiction)
        if request is None:
            return []
        kind, place = request
        listings = [s for s in self.services(kind, place)[:2] if not mentions(answer, s)]
        if not listings:
            return []
        labels = _labels().get(locale) or _labels()["en"]
        exact = any(s.get("kind") == kind for s in listings)
        intro = labels["intro"] if exact else labels["none_here"]
        return [intro, *(format_service(s, locale) for s in listings)]

    # ---- reloading ------------------------------------------------------------

    async def refresh(self, db: _HasSessions) -> bool:
        """Reload from the database if `kb_revision` moved. True when reloaded.

        Cheap when called on every answer: the counter is read at most every
        `check_seconds`. A failure keeps what is loaded (and is logged by type).
        """
        now = self._monotonic()
        if self._checked_at is not None and now - self._checked_at < self.check_seconds:
            return False
        if self._lock.locked():
            return False
        async with self._lock:
            self._checked_at = now
            try:
                return await self._reload(db)
            except (SQLAlchemyError, OSError) as exc:
                log.warning("knowledge base reload failed: %s", type(exc).__name__)
                return False

    async def _reload(self, db: _HasSessions) -> bool:
        from resources_kb import repository

        async with db.sessions() as session:
            current = await repository.revision(session)
            if current == self.revision:
                return False
            if await repository.article_count(session) == 0:
                self.revision, self._contents, self.source = current, self._files, "files"
                return False
            articles = await repository.live_articles(session)
            services = await repository.live_services(session)
            if not services and not await repository.service_count(session):
                # Listings never imported: the files. Imported but all retired: none.
                services = self._files.services
        # Indexing thousands of articles takes a moment: off the event loop.
        contents = await asyncio.to_thread(_Contents(articles, services).build)
        self._contents, self.revision, self.source = contents, current, "db"
        log.info(
            "knowledge base reloaded: revision %d, %d articles", current, len(contents.published)
        )
        return True


# ---- how a listing reads in a reply ------------------------------------------------


@lru_cache(maxsize=1)
def _labels() -> dict[str, dict[str, str]]:
    path = Path(__file__).resolve().parent / "content" / "labels.yml"
    data: dict[str, dict[str, str]] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return data


def format_service(listing: dict[str, Any], locale: str) -> str:
    """One listing as a short message: name, how to reach it, hours."""
    labels = _labels().get(locale) or _labels()["en"]
    name = listing.get("name_es") if locale == "es" and listing.get("name_es") else listing["name"]
    contact = listing.get("contact") or {}
    parts = [f"{name}."]
    if contact.get("phone"):
        parts.append(labels["call"].format(phone=contact.get("phone_display") or contact["phone"]))
    if contact.get("text"):
        keyword = contact.get("text_keyword")
        template = labels["text_keyword"] if keyword else labels["text"]
        parts.append(template.format(keyword=keyword, number=contact["text"]))
    if contact.get("whatsapp"):
        parts.append(
            labels["whatsapp"].format(number=contact.get("whatsapp_display") or contact["whatsapp"])
        )
    if contact.get("web") and not contact.get("phone"):
        parts.append(labels["web"].format(web=contact["web"]))
    hours = str(listing.get("hours") or "")
    if hours.startswith("24/7"):
        parts.append(labels["always_open"])
    return " ".join(parts)


def mentions(text: str, listing: dict[str, Any]) -> bool:
    """Whether `text` already gives this listing's phone number."""
    contact = listing.get("contact") or {}
    number = str(contact.get("phone_display") or contact.get("phone") or "")
    return bool(number) and fold(number) in fold(text)
