"""Load the curated cue lexicon (YAML) into compiled, immutable tables.

The YAML layout is documented at the top of ``cues/en.yml``. Several files
merge: lists concatenate, and families or means groups sharing an id merge
their patterns (so English and Spanish share one regex per family).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.types import RiskLevel
from nlu.risk.gates import WRAP, Gate, PatternCache, Scanner, gate_and_scanner
from nlu.risk.normalize import fold_pattern

__all__ = [
    "CATEGORIES",
    "Family",
    "LazyPattern",
    "Lexicon",
    "LexiconError",
    "MeansGroup",
    "Regex",
    "load_lexicon",
]

CATEGORIES = frozenset({"suicide", "self_harm", "danger", "medical", "child"})

# Lists of plain patterns (no level of their own) that modify how cues count.
MODIFIER_LISTS = (
    "negators",
    "negation_glue",
    "hyperbole",
    "info",
    "safety",
    "past_markers",
    "recent_past",
    "present_markers",
    "imminence_strong",
    "imminence_weak",
    "followups",
    "clock",
    "filler",
)

_NEVER = r"(?!x)x"
# libyaml's safe loader when present (several times faster at start-up).
_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class LexiconError(ValueError):
    """The lexicon files are malformed; raised at load time, never per message."""


class LazyPattern:
    """A list's whole alternation, compiled on first use.

    A list with a ``Scanner`` never needs it to screen a message: the scanner
    tries the list's patterns, each compiled at load. It stays for tests that
    check the scanner finds what it finds. Compiling every list's alternation
    at load took about 0.35 s of the NLU's start.
    """

    __slots__ = ("_compiled", "source")

    def __init__(self, source: str) -> None:
        self.source = source
        self._compiled: re.Pattern[str] | None = None

    def compiled(self) -> re.Pattern[str]:
        if self._compiled is None:
            self._compiled = re.compile(self.source)
        return self._compiled

    def finditer(self, text: str) -> Iterator[re.Match[str]]:
        return self.compiled().finditer(text)

    def search(self, text: str) -> re.Match[str] | None:
        return self.compiled().search(text)


# A list's whole alternation: compiled, or (for a list with a scanner) compiled when asked.
Regex = re.Pattern[str] | LazyPattern


@dataclass(frozen=True, slots=True)
class Family:
    id: str
    level: RiskLevel
    categories: tuple[str, ...]
    regex: Regex
    negatable: bool = True
    # A veiled cue ("I want it to end") reads as ideation after a distress turn.
    context_boost: bool = False
    # Marks the writer (or the person talked about) as a minor.
    minor: bool = False
    # The level the cue reaches when the message also names a time ("⚰️ soon",
    # "I want it all to end tonight"); None keeps ``level``.
    timed: RiskLevel | None = None
    # The tokens a match can start with (None: any), and the per-token scan that
    # tries only the patterns that can start there; see nlu.risk.gates.
    gate: Gate | None = None
    scanner: Scanner | None = None


@dataclass(frozen=True, slots=True)
class MeansGroup:
    id: str
    escalates: frozenset[str]
    regex: Regex
    # A bare mention with a time and little else ("rope. tonight.") is a plan.
    bare: bool = False
    gate: Gate | None = None
    scanner: Scanner | None = None


@dataclass(frozen=True, slots=True)
class Lexicon:
    families: tuple[Family, ...]
    means: tuple[MeansGroup, ...]
    emoji: Mapping[str, str]
    modifiers: Mapping[str, Regex]
    gates: Mapping[str, Gate | None] = field(default_factory=dict)
    scanners: Mapping[str, Scanner | None] = field(default_factory=dict)

    def modifier(self, name: str) -> Regex:
        return self.modifiers[name]

    def gate(self, name: str) -> Gate | None:
        return self.gates.get(name)

    def scanner(self, name: str) -> Scanner | None:
        return self.scanners.get(name)


def compile_alternation(
    patterns: Sequence[str],
    emoji: Mapping[str, str],
    scanner: Scanner | None = None,
    folded: Sequence[str] | None = None,
) -> Regex:
    """One regex per list, anchored on token boundaries; lazy when a scanner does the work.

    A list with a scanner had each of its patterns compiled in ``WRAP`` already
    (``gate_and_scanner``): a bad pattern would have left it without one.
    """
    if not patterns:
        return re.compile(_NEVER)
    try:
        if folded is None:
            folded = [fold_pattern(p, emoji) for p in patterns]
        parts = "|".join(f"(?:{p})" for p in folded)
        # The lookahead lets the engine skip spaces and punctuation cheaply.
        source = WRAP.format(parts)
        return LazyPattern(source) if scanner is not None else re.compile(source)
    except (re.error, ValueError) as exc:
        raise LexiconError(f"bad pattern in {list(patterns)[:3]}...: {exc}") from exc


def _compile_negation(lists: Mapping[str, list[str]], emoji: Mapping[str, str]) -> re.Pattern[str]:
    """A negator followed only by glue words up to the end of the window.

    "not going to | hurt myself" is negated; "not ok i | want to die" is not.
    """
    if not lists["negators"]:
        return re.compile(_NEVER)
    neg = "|".join(f"(?:{fold_pattern(p, emoji)})" for p in lists["negators"])
    glue = "|".join(f"(?:{fold_pattern(p, emoji)})" for p in lists["negation_glue"]) or _NEVER
    try:
        return re.compile(rf"(?<![a-z0-9])(?:{neg})(?: (?:{glue}))*$")
    except (re.error, ValueError) as exc:
        raise LexiconError(f"bad negator or glue pattern: {exc}") from exc


def _gate(folded: Sequence[str], cache: PatternCache | None) -> tuple[Gate | None, Scanner | None]:
    if not folded:
        return Gate(frozenset(), ()), None  # an empty list never matches
    return gate_and_scanner(folded, cache)


def _folder(emoji: Mapping[str, str]) -> Callable[[Sequence[str]], list[str]]:
    """``fold_pattern`` over a list, remembering each pattern's fold."""
    seen: dict[str, str] = {}

    def fold(patterns: Sequence[str]) -> list[str]:
        out = []
        for pattern in patterns:
            folded = seen.get(pattern)
            if folded is None:
                folded = seen[pattern] = fold_pattern(pattern, emoji)
            out.append(folded)
        return out

    return fold


def _str_list(value: Any, where: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise LexiconError(f"{where}: expected a list of strings")
    return list(value)


def _categories(raw: Mapping[str, Any], where: str) -> tuple[str, ...]:
    value = raw.get("categories", raw.get("category"))
    cats = [value] if isinstance(value, str) else _str_list(value, where)
    unknown = set(cats) - CATEGORIES
    if unknown:
        raise LexiconError(f"{where}: unknown categories {sorted(unknown)}")
    return tuple(sorted(set(cats)))


@dataclass(slots=True)
class _RawFamily:
    level: RiskLevel
    categories: tuple[str, ...]
    negatable: bool
    context_boost: bool
    minor: bool
    timed: RiskLevel | None
    patterns: list[str]


class _Builder:
    """Accumulates raw YAML documents before compiling once."""

    def __init__(self) -> None:
        self.families: dict[str, _RawFamily] = {}
        self.means: dict[str, tuple[set[str], list[str]]] = {}
        self.bare: set[str] = set()
        self.emoji: dict[str, str] = {}
        self.lists: dict[str, list[str]] = {name: [] for name in MODIFIER_LISTS}

    def add_document(self, doc: Any, source: str) -> None:
        if not isinstance(doc, dict):
            raise LexiconError(f"{source}: top level must be a mapping")
        for key, value in (doc.get("emoji") or {}).items():
            if not isinstance(value, str) or not re.fullmatch(r"[a-z0-9]+", value):
                raise LexiconError(f"{source}: emoji token for {key!r} must be [a-z0-9]+")
            self.emoji[str(key)] = value
        for name in MODIFIER_LISTS:
            self.lists[name].extend(_str_list(doc.get(name), f"{source}:{name}"))
        for raw in doc.get("families") or []:
            self._add_family(raw, source)
        for raw in doc.get("means") or []:
            self._add_means(raw, source)

    def _add_family(self, raw: Any, source: str) -> None:
        if not isinstance(raw, dict) or not isinstance(raw.get("id"), str):
            raise LexiconError(f"{source}: every family needs an id")
        fid: str = raw["id"]
        where = f"{source}:{fid}"
        try:
            level = RiskLevel.parse(str(raw["level"]))
        except (KeyError, AttributeError) as exc:
            raise LexiconError(f"{where}: missing or unknown level") from exc
        timed = None
        if raw.get("timed") is not None:
            try:
                timed = RiskLevel.parse(str(raw["timed"]))
            except (KeyError, AttributeError) as exc:
                raise LexiconError(f"{where}: unknown timed level") from exc
            if timed <= level:
                raise LexiconError(f"{where}: timed must be above level")
        fam = _RawFamily(
            level=level,
            timed=timed,
            categories=_categories(raw, where),
            negatable=bool(raw.get("negatable", True)),
            context_boost=bool(raw.get("context_boost", False)),
            minor=bool(raw.get("minor", False)),
            patterns=_str_list(raw.get("patterns"), where),
        )
        if not fam.patterns:
            raise LexiconError(f"{where}: no patterns")
        known = self.families.get(fid)
        if known is None:
            self.families[fid] = fam
        elif (known.level, known.categories, known.timed) != (fam.level, fam.categories, fam.timed):
            raise LexiconError(f"{where}: level/categories/timed differ from an earlier file")
        else:
            known.patterns.extend(fam.patterns)

    def _add_means(self, raw: Any, source: str) -> None:
        if not isinstance(raw, dict) or not isinstance(raw.get("id"), str):
            raise LexiconError(f"{source}: every means group needs an id")
        where = f"{source}:{raw['id']}"
        escalates = set(_str_list(raw.get("escalates"), where))
        if escalates - CATEGORIES:
            raise LexiconError(f"{where}: unknown categories in escalates")
        if raw.get("bare"):
            self.bare.add(raw["id"])
        known = self.means.setdefault(raw["id"], (set(), []))
        known[0].update(escalates)
        known[1].extend(_str_list(raw.get("patterns"), where))

    def build(self, cache: PatternCache | None = None) -> Lexicon:
        emoji = dict(self.emoji)
        fold = _folder(emoji)  # each pattern is folded once, for its gate and its alternation
        fam_skips = {fid: _gate(fold(f.patterns), cache) for fid, f in self.families.items()}
        means_skips = {mid: _gate(fold(pats), cache) for mid, (_, pats) in self.means.items()}
        list_skips = {name: _gate(fold(pats), cache) for name, pats in self.lists.items()}
        list_skips.pop("negators")  # matched against a window, not scanned
        families = tuple(
            Family(
                id=fid,
                level=f.level,
                categories=f.categories,
                regex=compile_alternation(f.patterns, emoji, fam_skips[fid][1], fold(f.patterns)),
                negatable=f.negatable,
                context_boost=f.context_boost,
                minor=f.minor,
                timed=f.timed,
                gate=fam_skips[fid][0],
                scanner=fam_skips[fid][1],
            )
            for fid, f in self.families.items()
        )
        means = tuple(
            MeansGroup(
                id=mid,
                escalates=frozenset(esc),
                regex=compile_alternation(pats, emoji, means_skips[mid][1], fold(pats)),
                bare=mid in self.bare,
                gate=means_skips[mid][0],
                scanner=means_skips[mid][1],
            )
            for mid, (esc, pats) in self.means.items()
        )
        modifiers: dict[str, Regex] = {
            name: compile_alternation(
                pats, emoji, list_skips.get(name, (None, None))[1], fold(pats)
            )
            for name, pats in self.lists.items()
        }
        modifiers["negators"] = _compile_negation(self.lists, emoji)
        return Lexicon(
            families=families,
            means=means,
            emoji=emoji,
            modifiers=modifiers,
            gates={name: skip[0] for name, skip in list_skips.items()},
            scanners={name: skip[1] for name, skip in list_skips.items()},
        )


def load_lexicon(paths: Iterable[str | Path], cache_file: Path | None = None) -> Lexicon:
    """The lexicon in ``paths``; with ``cache_file``, patterns compiled once are read from
    (and new ones written to) that file instead of being parsed again (``PatternCache``)."""
    cache = None if cache_file is None else PatternCache.load(cache_file)
    lexicon = _load(paths, cache)
    if cache_file is not None and cache is not None and cache.changed:
        cache.save(cache_file)
    return lexicon


def _load(paths: Iterable[str | Path], cache: PatternCache | None) -> Lexicon:
    builder = _Builder()
    for path in paths:
        p = Path(path)
        try:
            doc = yaml.load(p.read_text(encoding="utf-8"), Loader=_LOADER)  # noqa: S506 - safe loaders
        except yaml.YAMLError as exc:
            raise LexiconError(f"{p}: invalid YAML: {exc}") from exc
        builder.add_document(doc, p.name)
    return builder.build(cache)
