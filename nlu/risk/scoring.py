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
from dataclasses import dataclass, field, replace
from itertools import islice
from typing import Literal

from bot.types import RiskLevel
from nlu.risk.gates import Gate, Scanner, token_starts
from nlu.risk.lexicon import Family, Lexicon, MeansGroup, Regex
from nlu.risk.normalize import Folded

__all__ = ["BARE_WORDS", "CRITICAL", "Analysis", "Hit", "analyse"]

State = Literal["active", "negated", "past"]
# Categories whose high cues imminence/means can push to imminent.
CRITICAL = frozenset({"suicide", "self_harm", "danger", "medical"})
_NEGATION_WINDOW = 6  # tokens before a cue, within its clause
_WINDOW_CHARS = 120  # enough characters for that many tokens
_MAX_MATCHES = 32
_CUE_CHARS = 40
# A bare means-and-time message ("rope. tonight.") has at most this many words.
BARE_WORDS = 8


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
    # The message names a time and the family has a ``timed`` level.
    timed: bool = False

    @property
    def level(self) -> RiskLevel:
        if self.state == "negated":
            return min(self.family.level, RiskLevel.LOW)
        if self.state == "past":
            return min(self.family.level, RiskLevel.MODERATE)
        if self.timed and self.family.timed is not None:
            return self.family.timed
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
    clock: list[Span] = field(default_factory=list)  # "midnight", "at 11"
    # Set only for short messages with a bare-able means: every word is a
    # means, a time or a filler word ("bridge on 5th street, midnight").
    bare: bool = False
    clause_of: dict[int, int] = field(default_factory=dict)
    tokens: int = 0
    words: list[str] = field(default_factory=list)
    # What the lexicon explicitly discounted: hyperbole or information-question
    # spans, cue matches it blocked, and negated cues of a risk category ("I
    # don't want to die"). A trained classifier may not turn these into an
    # escalation on its own. A negated general-distress cue ("I'm not scared
    # anymore", "no tengo miedo") denies no risk, so it vetoes nothing.
    vetoes: list[str] = field(default_factory=list)
    # Ninth pass: the only thing discounted was a figure of speech ("jumping
    # into the pool", "me voy a morir de hambre"): every blocked cue lies inside
    # a hyperbole span, and nothing was an information question or negated.
    joking: bool = False


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


def _all_covered(text: str, spans: list[Span]) -> bool:
    """Every word of ``text`` is a number or lies inside one of ``spans``."""
    for m in re.finditer(r"[a-z0-9]+", text):
        if re.fullmatch(r"[0-9]+(st|nd|rd|th)?", m.group()):
            continue
        if not any(s.start <= m.start() and m.end() <= s.end for s in spans):
            return False
    return True


def _distance(a: Span, b: Span) -> int:
    if a.overlaps(b):
        return 0
    return a.start - b.end if b.end <= a.start else b.start - a.end


def _spans(
    regex: Regex,
    folded: Folded,
    gate: Gate | None,
    scanner: Scanner | None,
    ctx: _Context,
) -> Iterator[Span]:
    if gate is not None and not gate.admits(ctx.tokens):
        # A gate that admits none of the message's tokens: no match is possible.
        # Checked before the scanner too (eighth pass): one set test is cheaper
        # than the scanner's walk over every token, and most lists match nothing.
        return
    if scanner is not None:
        # Its per-token lookups (cached) already skip every token no pattern starts with.
        found = scanner.finditer(folded.text, ctx.starts)
    else:
        found = regex.finditer(folded.text)
    # A few matches per pattern list are plenty; capping keeps pathological
    # input (thousands of repeated cues or emoji) linear.
    for m in islice(found, _MAX_MATCHES):
        yield Span(m.start(), m.end(), folded.shown(m.start(), m.end()))


class _Context:
    """Per-message state the filters share."""

    def __init__(self, folded: Folded, lex: Lexicon) -> None:
        self.folded = folded
        self.clean = clean = folded.text
        self.lex = lex
        self.seg = _Segments(clean)
        self.tokens = frozenset(clean.split())
        self.starts = token_starts(clean)
        # Hyperbole and information questions veto the classifier even when no
        # cue matched, so they are always read; the rest only once a cue needs it.
        self.figurative = [(name, s) for name in ("hyperbole", "info") for s in self.scan(name)]
        self._loaded = False
        self._blockers: list[Span] = []
        self.past_marks: list[Span] = []
        self.present_marks: list[Span] = []
        self.story = False
        # The last sentence a story dated only by a recent time covers (None: all).
        self.story_until: int | None = None

    def scan(self, name: str) -> Iterator[Span]:
        """Spans of one modifier list (skipped when its gate rules a match out)."""
        lex = self.lex
        return _spans(lex.modifier(name), self.folded, lex.gate(name), lex.scanner(name), self)

    @property
    def blockers(self) -> list[Span]:
        self._load()
        return self._blockers

    def _load(self) -> None:
        """Safety statements and past and present time markers, read once."""
        if self._loaded:
            return
        self._loaded = True
        safety = list(self.scan("safety"))
        self._blockers = safety + [s for _, s in self.figurative]
        self.past_marks = list(self.scan("past_markers"))
        # "Years ago ... I got out and I'm safe now": with a safety statement the
        # whole story is past, except sentences that say something happens now.
        # A recent time ("last month", "el mes pasado", ninth pass) dates a story
        # only together with its end ("I got out", "ya sali"): alone, "he hit me
        # last week" stays active.
        self.story = bool(safety) and bool(self.past_marks)
        if safety and not self.past_marks and any(True for _ in self.scan("recent_past")):
            # Only what is told up to the escape is over: "I got away last month.
            # He calls 50 times a day" keeps the calls.
            self.story = True
            self.story_until = max(self.seg.sentence(s.start) for s in safety)
        if self.past_marks or self.story:
            self.present_marks = [
                s for s in self.scan("present_markers") if not any(s.overlaps(b) for b in safety)
            ]

    def blocked(self, span: Span) -> bool:
        return any(span.overlaps(b) for b in self.blockers)

    def negated(self, span: Span) -> bool:
        lo = max(self.seg.clause_start(span.start), span.start - _WINDOW_CHARS)
        window = " ".join(self.clean[lo : span.start].split()[-_NEGATION_WINDOW:])
        return bool(window) and self.lex.modifier("negators").search(window) is not None

    def in_past(self, span: Span) -> bool:
        self._load()
        """A cue is past when the time marker nearest to it says so.

        Markers in the cue's own clause count first, then its sentence: in
        "when I was little my uncle hurt me, now I'm an adult" the hurt is
        past; in "years ago he locked me in and now he follows me again" the
        following is not. A tie goes to the present (the safer reading).
        """
        if not self.past_marks and not self.story:
            return False
        sentence = self.seg.sentence(span.start)
        past = [m for m in self.past_marks if self.seg.sentence(m.start) == sentence]
        present = [m for m in self.present_marks if self.seg.sentence(m.start) == sentence]
        if not past:
            if self.story_until is not None and sentence > self.story_until:
                return False
            return self.story and not present
        if not present:
            return True
        marks = [(m, False) for m in present] + [(m, True) for m in past]
        clause = self.seg.clause(span.start)
        near = [c for c in marks if self.seg.clause(c[0].start) == clause] or marks
        return min(near, key=lambda c: _distance(span, c[0]))[1]

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
        return [s for s in self.scan(name) if self.state(s) == "active"]


def analyse(folded: Folded, lex: Lexicon, *, context: bool = False) -> Analysis:
    """Cue hits of one message; ``context``: the previous turn showed distress.

    Imminence, follow-up and clock markers matter only next to a cue, a means
    or a distress turn before; without any of these they are not read.
    """
    ctx = _Context(folded, lex)
    words = folded.text.split()
    out = Analysis(tokens=len(words), words=words)
    out.vetoes.extend(f"{name}:{span.quoted()}" for name, span in ctx.figurative)
    blocked_spans: list[Span] = []
    for fam in lex.families:
        for span in _spans(fam.regex, folded, fam.gate, fam.scanner, ctx):
            state = ctx.state(span, fam.negatable)
            if state is None:
                out.vetoes.append(f"blocked:{fam.id}:{span.quoted()}")
                blocked_spans.append(span)
            else:
                out.hits.append(Hit(fam, span, state))
                if state == "negated" and fam.categories:
                    out.vetoes.append(f"negated:{fam.id}:{span.quoted()}")
    hyperbole = [span for name, span in ctx.figurative if name == "hyperbole"]
    if hyperbole and len(hyperbole) == len(ctx.figurative):
        blocked = [s for s in blocked_spans if not any(s.overlaps(h) for h in hyperbole)]
        out.joking = not blocked and not any(v.startswith("negated:") for v in out.vetoes)
    for group in lex.means:
        out.means.extend(
            MeansHit(group, s)
            for s in _spans(group.regex, folded, group.gate, group.scanner, ctx)
            if ctx.state(s) == "active"
        )
    if not (out.hits or out.means or context):
        return out
    out.imminent = ctx.live("imminence_strong")
    out.imminent_weak = ctx.live("imminence_weak")
    out.followups = ctx.live("followups")
    out.clock = ctx.live("clock")
    if len(words) <= BARE_WORDS * 2 and any(m.group.bare for m in out.means):
        out.bare = _all_covered(
            folded.text,
            [m.span for m in out.means if m.group.bare]
            + out.imminent
            + out.imminent_weak
            + out.clock
            + list(ctx.scan("filler")),
        )
    for span in [h.span for h in out.hits] + out.imminent_weak:
        out.clause_of[span.start] = ctx.seg.clause(span.start)
    if any(h.family.timed is not None for h in out.hits):
        # "⚰️ soon", "I want it all to end tonight": a strong time or a clock time
        # in the same sentence, or a weak one ("now") in the same clause.
        weak = {out.clause_of[s.start] for s in out.imminent_weak}
        strong = {ctx.seg.sentence(s.start) for s in out.imminent + out.clock}
        out.hits = [
            replace(h, timed=True)
            if h.family.timed is not None
            and h.state == "active"
            and (ctx.seg.sentence(h.span.start) in strong or out.clause_of[h.span.start] in weak)
            else h
            for h in out.hits
        ]
    return out
