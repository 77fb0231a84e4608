"""The risk screen: every inbound message passes here before anything else.

Pure and in-process: the lexicon is read once, then each call is a handful of
precompiled regex scans over a bounded, normalised copy of the text. Message
text is never logged or stored.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from bot.types import RiskAssessment, RiskLevel
from nlu.risk.lexicon import Family, Lexicon, load_lexicon
from nlu.risk.normalize import Normalizer
from nlu.risk.scoring import BARE_WORDS, CRITICAL, Analysis, Hit, analyse

if TYPE_CHECKING:  # the model (numpy) is imported only by whoever loads one
    from nlu.risk.model import RiskModel, RiskPrediction

__all__ = ["DEFAULT_FILES", "ModelPolicy", "RiskScreen", "assess", "use_model"]

CUES_DIR = Path(__file__).parent / "cues"
DEFAULT_FILES = (CUES_DIR / "en.yml", CUES_DIR / "es.yml")
_MAX_CUES = 16
# Moderate cues from two different families in one of these categories
# corroborate each other ("took something at the party" + "won't respond").
_CORROBORATE = frozenset({"suicide", "self_harm", "danger", "medical"})
_SELF = frozenset({"suicide", "self_harm"})
# Only a short follow-up ("the pills", "tonight", "ya las tengo") borrows the
# previous turn's distress; a long new message stands on its own.
_FOLLOWUP_TOKENS = 12
# General hopelessness ("ya no puedo", "can't do this anymore") next to a veiled
# suicidal cue ("i feel like dying", "sorry for everything") reads as ideation.
_HOPELESS = frozenset({"distress.hopeless"})
# Families split out of danger.abuse_mention (sixth pass) for clearer cue names
# still count as that one kind of evidence when moderate cues corroborate.
# Fear or a plea for what to do (seventh pass) corroborates a moderate danger
# cue in any language: "he's outside, tengo miedo"; "lo oigo que ya viene, que hago".
_ALERT = frozenset({"distress.scared", "distress.help", "distress.plea"})
# A place that is itself the means ("standing on the platform", "estoy en el
# puente", eighth pass): naming the train or the bridge there is no second
# piece of evidence, or every commuter waiting for a train would be high.
_PLACE = frozenset({"suicide.edge"})
_KIND = {
    "danger.debt_control": "danger.abuse_mention",
    "danger.deprivation": "danger.abuse_mention",
}


@dataclass(slots=True)
class _Verdict:
    """Mutable accumulator for one assessment."""

    level: RiskLevel = RiskLevel.NONE
    categories: set[str] = field(default_factory=set)
    cues: list[tuple[RiskLevel, str]] = field(default_factory=list)

    def raise_to(self, level: RiskLevel, cue: str, categories: Iterable[str] = ()) -> None:
        self.level = max(self.level, level)
        self.categories.update(categories)
        self.cues.append((level, cue))

    def result(self) -> RiskAssessment:
        # Most urgent cues first: a counselor reads the top of the list.
        ordered = sorted(self.cues, key=lambda c: c[0], reverse=True)
        cues = tuple(dict.fromkeys(c for _, c in ordered))[:_MAX_CUES]
        return RiskAssessment(self.level, tuple(sorted(self.categories)), cues)


@dataclass(frozen=True, slots=True)
class ModelPolicy:
    """How far the trained classifier may move the lexicon's level ("highest credible wins").

    - It never lowers the lexicon's level.
    - From a lexicon ``moderate`` or ``high`` it raises by one level at most,
      when P(level >= that next level) >= ``one_level`` (``corroborated`` for
      the step from an active moderate cue of a risk category to ``high``).
    - From a calm lexicon reading (none/low) it may ask gently (``moderate``)
      when P(level >= moderate) >= ``one_level`` or P(level >= high) >= ``ask``
      (with ``ask_words`` words), and escalate to ``high`` only when
      P(level >= high) >= ``strong`` and the message has at least
      ``min_words`` words (a bag of n-grams is no judge of "tonight?").
    - When the lexicon discounted something in the message (hyperbole, an
      information question, a negated or blocked cue, a calm past story) the
      classifier may at most ask gently, and only when ``strong``; a cue read as
      past alone yields to P(level >= high) >= ``past_strong``; when all it
      discounted was a figure of speech ("jumping into the pool", "me voy a
      morir de hambre", ninth pass), not even that (``joking``).
    """

    # The classifier's word alone pages a counselor at P(level >= high) >= strong.
    # Until session 9 it was the lowest value keeping false alarms on the
    # training split's tricky `none` messages (hyperbole, hotline questions, calm
    # past stories) at or under 5% in cross-validation: 0.85, then 0.75, then
    # 0.78. That rule guarded a target the issue does not set: its false-alarm
    # target is on ordinary questions, and it names a miss the worst bug. So in
    # session 9 it was chosen on dev sets (never a held-out split), before the
    # eleventh pass and before blind12 was scored with it. Unseen urgent wording
    # (blind11, not yet tuned on) was caught at 0.918 / 0.929 (en / es) at 0.78,
    # 0.946 / 0.945 at 0.7 and 0.967 / 0.967 at 0.6; 0.5 added little more
    # (0.973 / 0.973). False alarms on the ordinary-question dev set
    # (scripts/risk_dev/ordinary_*.yml) went 1.1% / 0.7% -> 1.8% / 1.4% at 0.6
    # (3.9% / 2.4% at 0.5). The cost: hard look-alikes alarm more (fa_control
    # 2.4% / 5.5% -> 7.9% / 7.9%; cross-validated tricky `none` 4.5% / 5.6% ->
    # 8.2% / 8.6%). A page a counselor closes is cheaper than a missed person.
    # Session 12, chosen on blind14 and blind15 (burned as dev sets) before blind16
    # was scored, with one writer's ordinary messages in training (calibrating the
    # classifier on everyday news it had read as urgent) and another's as the guard
    # (scripts/risk_dev/ordinary2): 0.5 against 0.6 catches blind14 0.948 -> 0.962
    # (en) and blind15 0.948 -> 0.972 (es); false alarms on ordinary2 stay at
    # 14 / 13 of 607 / 408 (the old model at 0.6: 14 / 12), on the 602 held-out
    # intent messages 25 -> 28, and rise on hard look-alikes (fa_control,
    # long_messages, child_medical) from 21 / 16 to 28 / 22 (en / es). Then the
    # held-out fresh set showed English false alarms at 5.2% (target 5%), so 0.55,
    # the runner-up on the dev sets: fresh 3.9%, intent messages 25 of 602, and
    # blind16 (scored once at 0.5) the same, 0.956 / 0.964.
    strong: float = 0.55
    one_level: float = 0.8
    min_words: int = 3
    category: float = 0.5
    # From an active lexicon ``moderate`` cue of a risk category (a veiled
    # farewell, means saved up, a threat described) the step to ``high`` needs
    # only P(level >= high) >= this: the cue and the classifier corroborate.
    # Cross-validated with ``strong``: 0.5 recalls +0.7 points (en) over 0.6
    # for +0.2 points of false alarms. Fourth pass: 0.4 (with the new veiled,
    # debt, pursuit and control cue families) recalls +0.2..+1.0 points over
    # 0.5 in 5-fold CV with no change in false alarms in either language (0.3
    # adds +0.5 (es) for +0.4 points of false alarms on the tricky `none`
    # messages; kept at 0.4 for the margin). Session 9 left it at 0.4: 0.3 caught
    # nothing more on the dev sets and alarmed on one more long message.
    corroborated: float = 0.4
    # A cue the lexicon reads as past holds the classifier at a gentle check unless
    # P(level >= high) >= this: "past" is a guess from markers ("hace mucho
    # viento", weather, once read as "long ago"; "he got out of jail last week"
    # before a threat), while hyperbole, negation and information questions stay
    # firm vetoes. On the dev sets (session 12) calm past stories the classifier
    # had not trained on peaked at 0.66, urgent lines misread as past sat at
    # 0.88-0.99.
    past_strong: float = 0.85
    # From a calm reading with nothing discounted, a gentle "are you safe right
    # now?" (moderate: not paged; the person also gets the answer, can say they
    # are safe or ask for a person, and the next message is read with this one)
    # at P(level >= high) >= ask, with ``ask_words`` words or more. Session 13:
    # writers with voices no earlier writer had were missed silently (read none,
    # so no check and no context for the follow-up). On blind19 (burned; the
    # classifier never trained on it) with the seventeenth pass's lexicon, 0.4
    # turned 6 of 10 English and 3 of 10 Spanish silent misses into a check; the
    # cost, checks on everyday messages (ordinary, ordinary2): 0.8% -> 2.0% (en),
    # 1.3% -> 3.6% (es). 0.35 caught no more for 2.7% / 4.7%; 0.45 caught 3 fewer
    # in English.
    ask: float = 0.4
    ask_words: int = 3

    def target(
        self,
        lexicon: RiskLevel,
        prediction: RiskPrediction,
        *,
        vetoed: bool,
        words: int,
        categorised: bool = False,
        joking: bool = False,
        past_only: bool = False,
    ) -> RiskLevel:
        urgent = prediction.at_least(RiskLevel.HIGH)
        if vetoed and joking:
            return RiskLevel.NONE
        if past_only and urgent >= self.past_strong:  # past_only implies vetoed
            return RiskLevel.HIGH
        if vetoed:
            return RiskLevel.MODERATE if urgent >= self.strong else RiskLevel.NONE
        if lexicon >= RiskLevel.MODERATE:
            step = RiskLevel(min(lexicon + 1, RiskLevel.IMMINENT))
            needed = self.one_level
            if categorised and step == RiskLevel.HIGH:
                needed = min(needed, self.corroborated)
            return step if prediction.at_least(step) >= needed else RiskLevel.NONE
        if urgent >= self.strong and words >= self.min_words:
            return RiskLevel.HIGH
        # A gentle "are you safe?" on the classifier's word alone only when it is sure
        # of distress, or leans to danger (``ask``): asking it of ordinary questions
        # wears people out and teaches them to ignore it.
        if prediction.at_least(RiskLevel.MODERATE) >= self.one_level:
            return RiskLevel.MODERATE
        if urgent >= self.ask and words >= self.ask_words:
            return RiskLevel.MODERATE
        return RiskLevel.NONE


class RiskScreen:
    def __init__(
        self,
        lexicon: Lexicon,
        model: RiskModel | None = None,
        policy: ModelPolicy | None = None,
    ) -> None:
        self.lexicon = lexicon
        self._normalize = Normalizer(lexicon.emoji)
        self.model = model
        self.policy = policy or ModelPolicy()

    @classmethod
    def from_files(cls, paths: Iterable[str | Path], cache_file: Path | None = None) -> RiskScreen:
        return cls(load_lexicon(paths, cache_file))

    @classmethod
    def default(cls, cache_dir: Path | None = None) -> RiskScreen:
        """The shipped lexicon; with ``cache_dir``, its compiled patterns are kept there."""
        cache_file = None if cache_dir is None else pattern_cache(cache_dir)
        return cls.from_files(DEFAULT_FILES, cache_file)

    def use_model(self, model: RiskModel | None, policy: ModelPolicy | None = None) -> None:
        """Install (or with None remove) the trained layer; the lexicon alone otherwise."""
        self.model = model
        if policy is not None:
            self.policy = policy

    def with_model(self, model: RiskModel | None, policy: ModelPolicy | None = None) -> RiskScreen:
        """A screen sharing this lexicon with another model (evaluation, tests)."""
        return RiskScreen(self.lexicon, model, policy or self.policy)

    @property
    def family_ids(self) -> tuple[str, ...]:
        return tuple(f.id for f in self.lexicon.families)

    def normalize(self, text: str) -> str:
        return self._normalize(text)

    def assess(self, text: str, *, previous: RiskAssessment | None = None) -> RiskAssessment:
        if not isinstance(text, str) or not text:
            return RiskAssessment()
        folded = self._normalize.fold(text)
        context = previous is not None and previous.level >= RiskLevel.MODERATE
        found = analyse(folded, self.lexicon, context=context)
        verdict = _Verdict()
        for hit in found.hits:
            if not hit.family.minor:
                verdict.raise_to(hit.level, hit.cue, hit.categories)
        _corroborate(found, verdict)
        _escalate_imminent(found, verdict)
        _bare_plan(found, verdict, question="?" in text)
        _apply_minor(found, verdict)
        if previous is not None:
            _apply_context(found, verdict, previous)
        model = self.model
        if model is not None and folded.text:
            prediction = model.predict_normalized(folded.text)
            _apply_model(prediction, folded.text, found, verdict, self.policy)
            # A stated minor plus distress the classifier (or context) read.
            _apply_minor(found, verdict)
        elif previous is not None:
            _apply_minor(found, verdict)
        return verdict.result()


def _apply_model(
    prediction: RiskPrediction, clean: str, found: Analysis, verdict: _Verdict, policy: ModelPolicy
) -> None:
    """Let the classifier raise the level within ``policy``; it never lowers it."""
    past = any(h.state == "past" for h in found.hits)
    vetoed = bool(found.vetoes) or past
    words = sum(1 for word in clean.split() if word not in ".,")
    categorised = any(
        h.state == "active" and h.level == RiskLevel.MODERATE and h.family.categories
        for h in found.hits
    )
    joking = found.joking and not any(h.state == "active" for h in found.hits)
    target = policy.target(
        verdict.level,
        prediction,
        vetoed=vetoed,
        words=words,
        categorised=categorised,
        joking=joking,
        past_only=past and not found.vetoes,
    )
    if target <= verdict.level:
        return
    categories = {c for c, p in prediction.categories.items() if p >= policy.category}
    if target >= RiskLevel.HIGH and not categories and not verdict.categories:
        if prediction.categories:
            categories.add(max(prediction.categories, key=lambda c: prediction.categories[c]))
    probability = prediction.at_least(target)
    verdict.raise_to(target, f"classifier:{target.label}({probability:.2f})", categories)


def _critical(hits: Iterable[Hit]) -> list[Hit]:
    """Active high cues in a category where a plan or a time makes it imminent."""
    return [
        h
        for h in hits
        if h.state == "active"
        and h.level >= RiskLevel.HIGH
        and CRITICAL.intersection(h.family.categories)
    ]


def _escalate_imminent(found: Analysis, verdict: _Verdict) -> None:
    critical = _critical(found.hits)
    if not critical:
        return
    clauses = {found.clause_of[h.span.start] for h in critical}
    for span in found.imminent + [
        s for s in found.imminent_weak if found.clause_of[s.start] in clauses
    ]:
        verdict.raise_to(RiskLevel.IMMINENT, f"imminence:{span.quoted()}")
    cats = {c for h in critical for c in h.family.categories}
    for means in found.means:
        if means.group.escalates & cats:
            verdict.raise_to(RiskLevel.IMMINENT, means.cue)


def _corroborate(found: Analysis, verdict: _Verdict) -> None:
    """Two different moderate cues of one category make it high."""
    if verdict.level >= RiskLevel.HIGH:
        return
    families: dict[str, set[str]] = {}
    for hit in found.hits:
        if hit.state == "active" and hit.level == RiskLevel.MODERATE and not hit.family.minor:
            for category in _CORROBORATE.intersection(hit.family.categories):
                families.setdefault(category, set()).add(_KIND.get(hit.family.id, hit.family.id))
    # The same veiled or arrival family twice, in different clauses and words
    # ("ya tengo todo listo, perdon a todos"; "he's here, he's coming up the stairs").
    seen: dict[str, dict[int, str]] = {}
    for hit in found.hits:
        fam = hit.family
        if hit.state == "active" and hit.level == RiskLevel.MODERATE and fam.timed is not None:
            if _CORROBORATE.intersection(fam.categories):
                seen.setdefault(fam.id, {})[found.clause_of[hit.span.start]] = hit.span.text
    for fid, clauses in seen.items():
        if len(clauses) >= 2 and len(set(clauses.values())) >= 2:
            for category in _CORROBORATE.intersection(_family(found, fid).categories):
                families.setdefault(category, set()).update({fid, f"{fid}#2"})
    # A veiled suicidal cue next to plain hopelessness ("i feel like dying, ya no puedo").
    if any(h.state == "active" and h.family.id in _HOPELESS for h in found.hits):
        for hit in found.hits:
            if (
                hit.state == "active"
                and hit.family.context_boost
                and hit.level == RiskLevel.MODERATE
            ):
                for category in _SELF.intersection(hit.family.categories):
                    families.setdefault(category, set()).update({hit.family.id, "hopeless"})
    if "danger" in families:
        danger = [
            h.span
            for h in found.hits
            if h.state == "active"
            and h.level == RiskLevel.MODERATE
            and "danger" in h.family.categories
        ]
        if any(
            h.state == "active"
            and h.family.id in _ALERT
            and not any(h.span.overlaps(d) for d in danger)
            for h in found.hits
        ):
            families["danger"].add("alert")
    for category, ids in sorted(families.items()):
        if len(ids) >= 2:
            verdict.raise_to(RiskLevel.HIGH, f"corroborated:{category}", (category,))
    # Ideation next to a means at hand: "said goodbye" + "pills", "🪦" + "rope".
    for hit in found.hits:
        if hit.state != "active" or hit.level != RiskLevel.MODERATE or hit.family.id in _PLACE:
            continue
        means = [
            m
            for m in found.means
            if m.group.escalates & _SELF & set(hit.family.categories)
            and not m.span.overlaps(hit.span)
        ]
        if means:
            verdict.raise_to(RiskLevel.HIGH, means[0].cue, hit.family.categories)


def _family(found: Analysis, fid: str) -> Family:
    return next(h.family for h in found.hits if h.family.id == fid)


def _bare_plan(found: Analysis, verdict: _Verdict, *, question: bool) -> None:
    """A lethal means named with a time and nothing else is a plan: "rope. tonight."."""
    if verdict.level >= RiskLevel.HIGH or question or found.vetoes or not found.bare:
        return
    means = [m for m in found.means if m.group.bare]
    timing = found.imminent + found.imminent_weak + found.clock
    words = sum(1 for word in found.words if word not in ".,")
    if not means or not timing or words > BARE_WORDS:
        return
    level = RiskLevel.IMMINENT if found.imminent or found.clock else RiskLevel.HIGH
    categories = {_primary(m.group.escalates) for m in means}
    verdict.raise_to(level, f"plan:{means[0].cue}", categories)
    for span in timing:
        verdict.cues.append((level, f"imminence:{span.quoted()}"))


def _apply_minor(found: Analysis, verdict: _Verdict) -> None:
    """A minor plus any real distress or danger is child risk, at least high.

    Run after the lexicon and again after the classifier and the conversation
    context: "tengo 15" with distress that only the classifier (or the previous
    turn) reads as moderate is child risk too. A message the lexicon discounted
    (hyperbole, a school question) does not count on the classifier's word.
    """
    minors = [h for h in found.hits if h.family.minor and h.state != "negated"]
    if not minors or (verdict.level >= RiskLevel.HIGH and "child" in verdict.categories):
        return
    for hit in minors:
        verdict.raise_to(hit.level, hit.cue, hit.categories)
    others = [h for h in found.hits if not h.family.minor and h.state == "active"]
    lexical = any(h.level >= RiskLevel.MODERATE for h in others)
    # A calm past story ("me cortaba de chamaca") read as moderate is not
    # distress now: it does not make a mention of one's child urgent (eleventh pass).
    past = any(h.state == "past" for h in found.hits)
    layered = verdict.level >= RiskLevel.MODERATE and not found.vetoes and not past
    if lexical or layered:
        verdict.raise_to(max(verdict.level, RiskLevel.HIGH), minors[0].cue, ("child",))


def _apply_context(found: Analysis, verdict: _Verdict, previous: RiskAssessment) -> None:
    """Read a short follow-up together with the previous distress turn."""
    if previous.level < RiskLevel.MODERATE:
        return
    prev_critical = CRITICAL.intersection(previous.categories)
    next_level = RiskLevel.IMMINENT if previous.level >= RiskLevel.HIGH else RiskLevel.HIGH
    target = RiskLevel.NONE
    categories: set[str] = set(prev_critical)
    # Means must fit the earlier risk: "the pills" after "he will kill me" is not a plan.
    means = [m for m in found.means if not prev_critical or m.group.escalates & prev_critical]
    timing = found.followups + found.imminent + found.imminent_weak
    if found.tokens > _FOLLOWUP_TOKENS:
        means, timing = [], []
    if means:
        # "the pills", "💊" after any distress turn: means at hand.
        target = next_level
        if not categories:
            categories.update(_primary(m.group.escalates) for m in means)
    elif prev_critical and timing:
        # "I have them here", "tonight": only after a suicide/harm/danger turn;
        # "tonight" after "I have nowhere to sleep" is not a plan.
        target = next_level
    boosted = [h for h in found.hits if h.family.context_boost and h.state == "active"]
    if boosted:
        target = max(target, RiskLevel.HIGH)
        categories.update(c for h in boosted for c in h.family.categories)
    if target > verdict.level:
        verdict.raise_to(target, f"context:previous_{previous.level.label}", categories)
        for span in timing:
            verdict.cues.append((target, f"followup:{span.quoted()}"))
        for hit in means:
            verdict.cues.append((target, hit.cue))


def _primary(categories: frozenset[str]) -> str:
    return "suicide" if "suicide" in categories else min(categories, default="suicide")


_shared: RiskScreen | None = None
_shared_lock = threading.Lock()


def _default_screen(cache_dir: Path | None = None) -> RiskScreen:
    global _shared
    if _shared is None:
        with _shared_lock:
            if _shared is None:
                _shared = RiskScreen.default(cache_dir)
    return _shared


def pattern_cache(cache_dir: Path) -> Path:
    """Where the compiled lexicon patterns are kept, per Python (``gates.PatternCache``)."""
    return cache_dir / f"risk-patterns-{sys.implementation.cache_tag}.json"


def assess(text: str, *, previous: RiskAssessment | None = None) -> RiskAssessment:
    """Screen one inbound message; see the package docstring."""
    return _default_screen().assess(text, previous=previous)


def use_model(model: RiskModel | None, policy: ModelPolicy | None = None) -> None:
    """Install a loaded ``RiskModel`` into the screen behind ``assess()`` (None removes it)."""
    _default_screen().use_model(model, policy)


def default_screen(cache_dir: Path | None = None) -> RiskScreen:
    """The shared screen behind ``assess()``, built on the first call.

    A service passes its model cache directory so the lexicon's compiled patterns
    come from there (``pattern_cache``); later calls return the same screen.
    """
    return _default_screen(cache_dir)
