"""Word gates: skip a pattern list that cannot match a message, without running it.

Every lexicon pattern matches at a token start, so a match begins with a token
the pattern allows first: "(want|wanna) to die" can only start at "want" or
"wanna". ``gate(patterns)`` works out those first tokens (or their prefixes,
"kil+" -> "ki...") by walking Python's parse of each pattern. A message whose
tokens offer none of them cannot match, and the scan is skipped. Gates only
ever skip a scan that would find nothing; a pattern whose first token cannot be
worked out (it starts with "[a-z]+", say) gives no gate, and the list is always
scanned. A test checks that gated and ungated scans agree on every labelled
message.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib
import json
import os
import re
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# The wrapper every lexicon list is compiled in: a match starts and ends on token edges.
WRAP = "(?=[a-z0-9])(?<![a-z0-9])(?:{})(?![a-z0-9])"
_RUN = re.compile(r"[a-z0-9]+")
_MAX_CACHED_TOKENS = 50_000  # per list; cleared when full (a flood of random words)

__all__ = ["Gate", "PatternCache", "Scanner", "gate", "gate_and_scanner", "token_starts"]

# The parser and compiler behind `re` (private, but stable in CPython 3.11);
# without them, nothing is gated and every scan runs.
try:
    _PARSER: Any = importlib.import_module("re._parser")
    _C: Any = importlib.import_module("re._constants")
    _COMPILER: Any = importlib.import_module("re._compiler")
    _SRE: Any = importlib.import_module("_sre")
except ImportError:  # pragma: no cover - other Pythons
    _PARSER = _C = _COMPILER = _SRE = None

_TOKEN_CHAR = re.compile(r"[a-z0-9]")
_MAX_WORDS = 400  # more alternatives than this: keep only the shared prefix
_MAX_CLASS = 12  # a character class wider than this ends the known prefix


class _Wild(Exception):
    """The first token cannot be bounded."""


@dataclass(frozen=True, slots=True)
class Gate:
    """A match starts with one of ``words``, or with a token starting with a prefix."""

    words: frozenset[str]
    prefixes: tuple[str, ...]

    def admits(self, tokens: frozenset[str]) -> bool:
        if not self.words.isdisjoint(tokens):
            return True
        return bool(self.prefixes) and any(t.startswith(self.prefixes) for t in tokens)


_Firsts = set[tuple[str, bool]]  # (text, True: the whole first token | False: a prefix)
_Match = Callable[[str, int], "re.Match[str] | None"]
_Next = Callable[[str], _Firsts]


def _stop(prefix: str) -> _Firsts:
    if not prefix:
        raise _Wild
    return {(prefix, False)}


def _walk(items: Sequence[Any], i: int, prefix: str, then: _Next) -> _Firsts:
    """First tokens of ``items[i:]`` after ``prefix``; ``then`` continues past the items."""
    if i == len(items):
        return then(prefix)
    op, av = items[i]
    rest: _Next = lambda p: _walk(items, i + 1, p, then)  # noqa: E731
    if op is _C.LITERAL:
        char = chr(av)
        if char == " ":
            if not prefix:
                raise _Wild
            return {(prefix, True)}
        if not _TOKEN_CHAR.fullmatch(char):
            return _stop(prefix)
        return rest(prefix + char)
    if op in (_C.AT, _C.ASSERT, _C.ASSERT_NOT):  # zero-width
        return rest(prefix)
    if op is _C.SUBPATTERN:
        return _walk(list(av[-1]), 0, prefix, rest)
    if op is _C.BRANCH:
        out: _Firsts = set()
        for branch in av[1]:
            out |= _walk(list(branch), 0, prefix, rest)
            if len(out) > _MAX_WORDS:
                return _stop(prefix)
        return out
    if op is _C.IN:
        chars = _class_chars(av)
        if chars is None:
            return _stop(prefix)
        out = set()
        for char in sorted(chars):
            out |= rest(prefix + char)
        return out
    if op in (_C.MAX_REPEAT, _C.MIN_REPEAT):
        low, high, sub = av
        once = _walk(list(sub), 0, prefix, rest if high == 1 else _stop)
        if low == 0:
            return rest(prefix) | once
        return once
    return _stop(prefix)


def _class_chars(av: Iterable[tuple[Any, Any]]) -> set[str] | None:
    chars: set[str] = set()
    for kind, value in av:
        if kind is _C.LITERAL:
            chars.add(chr(value))
        elif kind is _C.RANGE:
            chars.update(chr(c) for c in range(value[0], value[1] + 1))
        else:
            return None
    if len(chars) > _MAX_CLASS or not all(_TOKEN_CHAR.fullmatch(c) for c in chars):
        return None
    return chars


# What ``re`` compiles a pattern to: flags, program, groups, group names by name and by index.
_Program = tuple[int, list[int], int, dict[str, int], list[str | None]]
# A pattern's first tokens and program; None: no gate (see ``_walk``) or no compile.
_Analysis = tuple[_Firsts, _Program] | None


def _analyse(pattern: str) -> _Analysis:
    """The first tokens of ``pattern`` in ``WRAP``, and its program, from one parse.

    Parsing is most of what ``re.compile`` costs; the gate needs the parse
    anyway, so the compiler gets the same tree (as ``re._compiler.compile`` does).
    """
    if _PARSER is None or _SRE is None:
        return None
    try:
        tree = _PARSER.parse(WRAP.format(pattern))
        firsts = _walk(list(tree), 0, "", lambda p: {(p, True)} if p else _stop(p))
        state = tree.state
        indexgroup: list[str | None] = [None] * state.groups
        for name, index in state.groupdict.items():
            indexgroup[index] = name
        code = list(_COMPILER._code(tree, 0))
        return firsts, (state.flags, code, state.groups - 1, dict(state.groupdict), indexgroup)
    except (_Wild, RecursionError, re.error, TypeError, ValueError, AttributeError):
        return None


def _regex(pattern: str, program: _Program) -> re.Pattern[str]:
    """The compiled pattern from its program; ``_sre`` checks the program (RuntimeError)."""
    flags, code, groups, groupindex, indexgroup = program
    compiled: re.Pattern[str] = _SRE.compile(
        WRAP.format(pattern), flags, code, groups, groupindex, tuple(indexgroup)
    )
    return compiled


def _firsts_and_regex(pattern: str) -> tuple[_Firsts, re.Pattern[str]] | None:
    """The pattern's first tokens, and the pattern compiled in ``WRAP``.

    None: no gate (see ``_walk``), or a pattern that does not compile (the
    caller's whole-list compile reports it).
    """
    found = _analyse(pattern)
    return None if found is None else (found[0], _regex(pattern, found[1]))


@functools.cache  # read once per process, not on every load and save
def _module_digest() -> str:
    try:
        return hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:16]
    except OSError:  # pragma: no cover - no source on disk
        return ""


class PatternCache:
    """Each pattern's first tokens and compiled program, kept in a file across processes.

    Parsing and compiling the lexicon's 3,500 patterns was most of a screen's
    load (0.7 s of 0.8). Both depend only on the pattern's text, this module's
    code and the Python build, so they are saved by pattern text in a file
    stamped with the last two: a file from another build or module version is
    ignored, a pattern not in it is parsed, and a program ``_sre`` rejects is
    parsed again. ``changed`` says the file is worth writing back (``save``).
    """

    FORMAT = 1

    def __init__(self, entries: dict[str, Any] | None = None) -> None:
        self._stored = entries or {}
        self._used: dict[str, Any] = {}
        self.parsed = 0  # patterns that were not in the file (or were bad there)

    @staticmethod
    def _stamp() -> dict[str, Any]:
        return {"format": PatternCache.FORMAT, "python": sys.version, "module": _module_digest()}

    @classmethod
    def load(cls, path: Path) -> PatternCache:
        """The cache in ``path``; an empty one when it is missing, unreadable or stale."""
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return cls()
        if not isinstance(doc, dict) or doc.get("stamp") != cls._stamp():
            return cls()
        entries = doc.get("patterns")
        return cls(entries if isinstance(entries, dict) else None)

    @property
    def changed(self) -> bool:
        return self.parsed > 0 or len(self._used) != len(self._stored)

    def save(self, path: Path) -> None:
        """Write the patterns used since loading (atomically: workers may race)."""
        doc = {"stamp": self._stamp(), "patterns": self._used}
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_text(json.dumps(doc, separators=(",", ":")), encoding="utf-8")
            os.replace(tmp, path)
        except OSError:  # a read-only cache dir: parse again next time
            with contextlib.suppress(OSError):
                tmp.unlink(missing_ok=True)

    def firsts_and_regex(self, pattern: str) -> tuple[_Firsts, re.Pattern[str]] | None:
        stored = self._stored.get(pattern, _MISSING)
        if stored is not _MISSING:
            try:
                found = _from_json(pattern, stored)
            except (RuntimeError, TypeError, ValueError, OverflowError):
                pass  # a program _sre rejects, or a malformed entry: parse it again
            else:
                self._used[pattern] = stored
                return found
        self.parsed += 1
        analysis = _analyse(pattern)
        self._used[pattern] = _to_json(analysis)
        return None if analysis is None else (analysis[0], _regex(pattern, analysis[1]))


_MISSING = object()


def _to_json(analysis: _Analysis) -> Any:
    if analysis is None:
        return None
    firsts, program = analysis
    return [sorted([text, whole] for text, whole in firsts), list(program)]


def _from_json(pattern: str, stored: Any) -> tuple[_Firsts, re.Pattern[str]] | None:
    if stored is None:
        return None
    raw_firsts, raw_program = stored
    firsts = {(str(text), bool(whole)) for text, whole in raw_firsts}
    flags, code, groups, groupindex, indexgroup = raw_program
    program: _Program = (int(flags), list(code), int(groups), dict(groupindex), list(indexgroup))
    return firsts, _regex(pattern, program)


def gate(patterns: Iterable[str]) -> Gate | None:
    """The gate of a list of (already folded) patterns; None: always scan."""
    return gate_and_scanner(patterns)[0]


def gate_and_scanner(
    patterns: Iterable[str], cache: PatternCache | None = None
) -> tuple[Gate | None, Scanner | None]:
    """Both ways of skipping work for one list, from one parse of its patterns (or ``cache``)."""
    analyse = _firsts_and_regex if cache is None else cache.firsts_and_regex
    firsts: list[_Firsts] = []
    compiled: list[re.Pattern[str]] = []
    for pattern in patterns:
        found = analyse(pattern)
        if found is None:
            return None, None
        firsts.append(found[0])
        compiled.append(found[1])
    words = {text for f in firsts for text, whole in f if whole}
    prefixes = {text for f in firsts for text, whole in f if not whole}
    return Gate(frozenset(words), tuple(sorted(prefixes))), Scanner(compiled, firsts)


def token_starts(text: str) -> list[tuple[int, str]]:
    """(offset, token) of every run of letters and digits: where a match can start."""
    return [(m.start(), m.group()) for m in _RUN.finditer(text)]


class Scanner:
    """A pattern list's matches, trying at each token only the patterns that can start there.

    One alternation over hundreds of patterns makes ``re`` try every pattern at
    every token ("i", "a", "do" open dozens of them). Here each pattern's first
    tokens (as for ``Gate``) pick, per token of the message, the patterns worth
    trying; those are tried in their list order with ``match`` at that token,
    and the first that matches wins. The result equals ``regex.finditer`` over
    the whole list's alternation: the same leftmost-first choice among the same
    candidate patterns, the same non-overlapping left-to-right walk.

    Each pattern is compiled once, at load, in ``WRAP``. (Compiling one
    alternation per token's set of candidates instead, on first sight of the
    token, made a message with new words wait 5 to 20 ms for ``re.compile``.)
    """

    __slots__ = ("_by_prefix", "_by_word", "_for_token", "_patterns", "_widest")

    def __init__(self, compiled: Sequence[re.Pattern[str]], firsts: Sequence[_Firsts]) -> None:
        self._patterns = tuple(compiled)
        self._by_word: dict[str, list[int]] = {}
        self._by_prefix: dict[str, list[int]] = {}
        for i, starts in enumerate(firsts):
            for text, whole in starts:
                (self._by_word if whole else self._by_prefix).setdefault(text, []).append(i)
        self._widest = max(map(len, self._by_prefix), default=0)
        # Per token: the bound ``match`` of each candidate, in list order.
        self._for_token: dict[str, tuple[_Match, ...]] = {}

    def finditer(self, text: str, starts: Sequence[tuple[int, str]]) -> Iterator[re.Match[str]]:
        end = 0
        cached = self._for_token
        for offset, token in starts:
            if offset < end:  # inside the previous match: finditer would not look here
                continue
            candidates = cached.get(token)
            if candidates is None:
                candidates = self._candidates(token)
            for match in candidates:
                m = match(text, offset)
                if m is not None:
                    end = m.end()
                    yield m
                    break

    def _candidates(self, token: str) -> tuple[_Match, ...]:
        chosen = set(self._by_word.get(token, ()))
        for k in range(1, min(len(token), self._widest) + 1):
            chosen.update(self._by_prefix.get(token[:k], ()))
        if len(self._for_token) >= _MAX_CACHED_TOKENS:
            self._for_token.clear()
        found = self._for_token[token] = tuple(self._patterns[i].match for i in sorted(chosen))
        return found
