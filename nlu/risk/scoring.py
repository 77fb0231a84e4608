"""Turn a normalised message into scored cue hits.

A hit is a family match that survived the filters below, in one of three
states: ``active`` (counts fully), ``negated`` ("I don't want to die": at most
low, no category) or ``past`` (calm talk about long ago: at most moderate).
Hyperbole, information questions and safety statements drop the hits they
overlap ("this form is killing me", "suicide hotline number").
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import islice
from typing import Literal

from bot.types import RiskLevel
from nlu.risk.lexicon import Family, Lexicon, MeansGroup
from nlu.risk.normalize import Folded

__all__ = ["CRITICAL", "Analysis", "Hit", "analyse"]

State = Literal["active", "negated", "past"]
# Categories whose high cues imminence/means can push to imminent.
CRITICAL = frozenset({"suicide", "self_harm", "danger", "medical"})
_NEGATION_WINDOW = 6  # tokens before a cue, within its clause
_WINDOW_CHARS = 120  # enough characters for that many tokens
_MAX_MATCHES = 32
_CUE_CHARS = 40


@dataclass(frozen=True, slots=True)
class Span:
    start: int
    end: int
    text: str

    def overlaps(self, other: Span) -> bool:
        return self.start < other.end and other.start < self.end

    def quoted(self) -> str:
        text = self.text if len(self.text) <= _CUE_CHARS else self.text[:_CUE_CHARS] + "…"
        return f'"{text}"'


@dataclass(frozen=True, slots=True)
class Hit:
    family: Family
    span: Span
    state: State

    @property
    def level(self) -> RiskLevel:
        if self.state == "negated":
            return min(self.family.level, RiskLevel.LOW)
        if self.state == "past":
            return min(self.family.level, RiskLevel.MODERATE)
        return self.family.level

    @property
    def categories(self) -> tuple[str, ...]:
        return () if self.state == "negated" else self.family.categories

    @property
    def cue(self) -> str:
        prefix = "" if self.state == "active" else f"{self.state}:"
        return f"{prefix}{self.family.id}:{self.span.quoted()}"


@dataclass(frozen=True, slots=True)
class MeansHit:
    group: MeansGroup
    span: Span

    @property
    def cue(self) -> str:
        return f"{self.group.id}:{self.span.quoted()}"


@dataclass(slots=True)
class Analysis:
    hits: list[Hit] = field(default_factory=list)
    means: list[MeansHit] = field(default_factory=list)
    imminent: list[Span] = field(default_factory=list)  # strong anywhere
    imminent_weak: list[Span] = field(default_factory=list)  # same clause only
    followups: list[Span] = field(default_factory=list)
    clause_of: dict[int, int] = field(default_factory=dict)
    tokens: int = 0
    # What the lexicon explicitly discounted: hyperbole or information-question
    # spans, and cue matches it blocked or negated. A trained classifier may
    # not turn these into an escalation on its own.
    vetoes: list[str] = field(default_factory=list)


class _Segments:
    """Sentence ('.') and clause ('.' or ',') indices of character offsets."""

    def __init__(self, clean: str) -> None:
        self.stops = [m.start() for m in re.finditer(r"\.", clean)]
        self.breaks = [m.start() for m in re.finditer(r"[.,]", clean)]

    def sentence(self, pos: int) -> int:
        return bisect_right(self.stops, pos)

    def clause(self, pos: int) -> int:
        return bisect_right(self.breaks, pos)

    def clause_start(self, pos: int) -> int:
        i = bisect_right(self.breaks, pos)
        return self.breaks[i - 1] + 1 if i else 0


def _spans(regex: re.Pattern[str], folded: Folded) -> Iterator[Span]:
    # A few matches per pattern list are plenty; capping keeps pathological
    # input (thousands of repeated cues or emoji) linear.
    for m in islice(regex.finditer(folded.text), _MAX_MATCHES):
        yield Span(m.start(), m.end(), folded.shown(m.start(), m.end()))


class _Context:
    """Per-message state the filters share."""

    def __init__(self, folded: Folded, lex: Lexicon) -> None:
        self.folded = folded
        self.clean = clean = folded.text
        self.lex = lex
        self.seg = _Segments(clean)
        safety = list(_spans(lex.modifier("safety"), folded))
        self.figurative = [
            (name, s) for name in ("hyperbole", "info") for s in _spans(lex.modifier(name), folded)
        ]
        self.blockers = safety + [s for _, s in self.figurative]
        self.past = self._past_sentences(safety)

    def _past_sentences(self, safety: list[Span]) -> frozenset[int]:
        past = {
            self.seg.sentence(s.start)
            for s in _spans(self.lex.modifier("past_markers"), self.folded)
        }
        if not past:
            return frozenset()
        present = {
            self.seg.sentence(s.start)
            for s in _spans(self.lex.modifier("present_markers"), self.folded)
            if not any(s.overlaps(b) for b in safety)
        }
        if safety:
            # "Years ago ... I got out and I'm safe now": the whole story is past,
            # except sentences that say something is happening now.
            past |= set(range(len(self.seg.stops) + 1))
        return frozenset(past - present)

    def blocked(self, span: Span) -> bool:
        return any(span.overlaps(b) for b in self.blockers)

    def negated(self, span: Span) -> bool:
        lo = max(self.seg.clause_start(span.start), span.start - _WINDOW_CHARS)
        window = " ".join(self.clean[lo : span.start].split()[-_NEGATION_WINDOW:])
        return bool(window) and self.lex.modifier("negators").search(window) is not None

    def in_past(self, span: Span) -> bool:
        return self.seg.sentence(span.start) in self.past

    def state(self, span: Span, negatable: bool = True) -> State | None:
        """None means the span does not count at all."""
        if self.blocked(span):
            return None
        if negatable and self.negated(span):
            return "negated"
        if self.in_past(span):
            return "past"
        return "active"

    def live(self, name: str) -> list[Span]:
        """Modifier spans that count: not blocked, negated or in the past."""
        return [
            s for s in _spans(self.lex.modifier(name), self.folded) if self.state(s) == "active"
        ]


def analyse(folded: Folded, lex: Lexicon) -> Analysis:
    ctx = _Context(folded, lex)
    out = Analysis(tokens=folded.text.count(" ") + 1 if folded.text else 0)
    out.vetoes.extend(f"{name}:{span.quoted()}" for name, span in ctx.figurative)
    for fam in lex.families:
        for span in _spans(fam.regex, folded):
            state = ctx.state(span, fam.negatable)
            if state is None:
                out.vetoes.append(f"blocked:{fam.id}:{span.quoted()}")
            else:
                out.hits.append(Hit(fam, span, state))
                if state == "negated":
                    out.vetoes.append(f"negated:{fam.id}:{span.quoted()}")
    for group in lex.means:
        out.means.extend(
            MeansHit(group, s) for s in _spans(group.regex, folded) if ctx.state(s) == "active"
        )
    out.imminent = ctx.live("imminence_strong")
    out.imminent_weak = ctx.live("imminence_weak")
    out.followups = ctx.live("followups")
    for span in [h.span for h in out.hits] + out.imminent_weak:
        out.clause_of[span.start] = ctx.seg.clause(span.start)
    return out
