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

import importlib
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["Gate", "gate"]

# The parser behind `re` (private, but stable in CPython 3.11); without it,
# nothing is gated and every scan runs.
try:
    _PARSER: Any = importlib.import_module("re._parser")
    _C: Any = importlib.import_module("re._constants")
except ImportError:  # pragma: no cover - other Pythons
    _PARSER = _C = None

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


def _firsts(pattern: str) -> _Firsts | None:
    if _PARSER is None:
        return None
    try:
        items = list(_PARSER.parse(pattern))
        return _walk(items, 0, "", lambda p: {(p, True)} if p else _stop(p))
    except (_Wild, RecursionError, re.error, TypeError, ValueError, AttributeError):
        return None


def gate(patterns: Iterable[str]) -> Gate | None:
    """The gate of a list of (already folded) patterns; None: always scan."""
    words: set[str] = set()
    prefixes: set[str] = set()
    for pattern in patterns:
        firsts = _firsts(pattern)
        if firsts is None:
            return None
        for text, whole in firsts:
            (words if whole else prefixes).add(text)
    return Gate(frozenset(words), tuple(sorted(prefixes)))
