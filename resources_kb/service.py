"""The knowledge base as the dialogs see it: one interface for answers."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from resources_kb.content import Article, load_articles
from resources_kb.search import Hit, SearchIndex

__all__ = ["KbAnswer", "KnowledgeBase"]

CONFIDENCE_THRESHOLD = 0.30


@dataclass(frozen=True, slots=True)
class KbAnswer:
    hits: list[Hit]
    confident: bool

    @property
    def best(self) -> Hit | None:
        return self.hits[0] if self.confident and self.hits else None


class KnowledgeBase:
    """Published articles, indexed per (locale, jurisdiction)."""

    def __init__(self, articles: Iterable[Article], threshold: float = CONFIDENCE_THRESHOLD):
        self.threshold = threshold
        published = [a for a in articles if a.status == "published"]
        self._by_id = {(a.locale, a.id): a for a in published}
        self._indexes: dict[tuple[str, str], SearchIndex] = {}
        self._published = published

    @classmethod
    def from_files(cls) -> KnowledgeBase:
        return cls(load_articles())

    def __len__(self) -> int:
        return len(self._published)

    def article(self, article_id: str, locale: str) -> Article | None:
        return self._by_id.get((locale, article_id))

    def _index(self, locale: str, jurisdiction: str) -> SearchIndex:
        key = (locale, jurisdiction)
        if key not in self._indexes:
            country = jurisdiction.split("-", 1)[0]
            allowed = {"any", jurisdiction, country}
            subset = [
                a for a in self._published if a.locale == locale and a.jurisdiction in allowed
            ]
            self._indexes[key] = SearchIndex(subset)
        return self._indexes[key]

    def ask(self, question: str, locale: str = "en", jurisdiction: str = "US") -> KbAnswer:
        hits = self._index(locale, jurisdiction).search(question)
        confident = bool(hits) and hits[0].score >= self.threshold
        return KbAnswer(hits, confident)
