"""Review workflow for articles and service listings, as pure rules.

    draft --submit--> in_review --publish--> published --retire--> retired
      ^                   |                      |
      +----- edit --------+------- edit ---------+   (an edit makes a new draft version;
                                                      the published one stays live)

The person who publishes a version must not be the one who wrote it.
Rolling back copies an old version as a new one: it goes live at once when
that old version had been published (it was reviewed then), else it is a draft.

Also here, pure as well: who may use the admin (`EDITOR_ROLES`), which moves
a person may make now (`allowed_actions`), and how two versions differ
(`changed_fields`, `diff`), for the admin pages and the audit log.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "ACTIONS",
    "EDITOR_ROLES",
    "STATUSES",
    "DiffLine",
    "WorkflowError",
    "allowed_actions",
    "as_lines",
    "changed_fields",
    "diff",
    "next_status",
]

STATUSES = ("draft", "in_review", "published", "retired")
ACTIONS = ("submit", "publish", "reject", "retire")
# Staff roles that may use the knowledge-base admin; any of them may publish
# another person's version.
EDITOR_ROLES = ("reviewer", "admin")

_MOVES = {
    ("draft", "submit"): "in_review",
    ("in_review", "publish"): "published",
    ("in_review", "reject"): "draft",
    ("draft", "retire"): "retired",
    ("in_review", "retire"): "retired",
    ("published", "retire"): "retired",
}


class WorkflowError(ValueError):
    """A move the workflow does not allow; the message says why, for the admin."""


def same_person(a: str, b: str) -> bool:
    return a.strip().casefold() == b.strip().casefold()


def next_status(status: str, action: str, actor: str, author: str) -> str:
    """The status after `actor` does `action` to a version written by `author`."""
    if action == "edit":
        return "draft"
    target = _MOVES.get((status, action))
    if target is None:
        state = status.replace("_", " ")
        raise WorkflowError(f"cannot {action} a version that is {state}")
    if action == "publish" and same_person(actor, author):
        raise WorkflowError("the author cannot publish their own version; ask another reviewer")
    return target


def allowed_actions(status: str, actor: str, author: str) -> list[str]:
    """The moves `actor` may make now on a newest version written by `author`."""
    allowed = []
    for action in ACTIONS:
        try:
            next_status(status, action, actor, author)
        except WorkflowError:
            continue
        allowed.append(action)
    return allowed


# ---- differences between versions ------------------------------------------------

# Fields first in this order (the rest sorted); review state is not content.
_ORDER = (
    "id",
    "locale",
    "name",
    "name_es",
    "title",
    "kind",
    "jurisdiction",
    "area",
    "short_answer",
    "body",
    "contact",
    "hours",
    "languages",
    "eligibility",
    "topics",
    "example_questions",
    "sources",
    "last_reviewed",
    "reviewer",
    "last_verified",
)
_NOT_CONTENT = frozenset({"status"})


def _keys(data: Mapping[str, Any]) -> list[str]:
    keys = [k for k in data if k not in _NOT_CONTENT]
    return sorted(keys, key=lambda k: (_ORDER.index(k) if k in _ORDER else len(_ORDER), k))


def as_lines(data: Mapping[str, Any], prefix: str = "") -> list[str]:
    """A version as stable text lines, one value per line, for diffs."""
    lines: list[str] = []
    for key in _keys(data):
        value = data[key]
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            lines.extend(as_lines(value, f"{name}."))
        elif isinstance(value, list | tuple):
            lines.append(f"{name}:")
            lines.extend(f"  - {item}" for item in value)
        elif isinstance(value, str) and "\n" in value:
            lines.append(f"{name}:")
            lines.extend(f"  {line}" for line in value.splitlines())
        else:
            lines.append(f"{name}: {'' if value is None else value}")
    return lines


def changed_fields(old: Mapping[str, Any] | None, new: Mapping[str, Any]) -> list[str]:
    """Top-level fields whose value differs (all of them when there is no old one)."""
    before = old or {}
    keys = {k for k in (*before, *new) if k not in _NOT_CONTENT}
    return sorted(k for k in keys if before.get(k) != new.get(k))


@dataclass(frozen=True, slots=True)
class DiffLine:
    kind: str  # "same" | "add" | "del" | "gap"
    text: str

    @property
    def mark(self) -> str:
        return {"add": "+", "del": "-", "gap": "…"}.get(self.kind, " ")


def diff(old: Mapping[str, Any], new: Mapping[str, Any], context: int = 3) -> list[DiffLine]:
    """Line differences from `old` to `new`, with `context` unchanged lines around each."""
    out: list[DiffLine] = []
    lines = difflib.unified_diff(as_lines(old), as_lines(new), lineterm="", n=context)
    for index, line in enumerate(lines):
        if index < 2:  # the "---" and "+++" header
            continue
        if line.startswith("@@"):
            out.append(DiffLine("gap", line))
        elif line.startswith("+"):
            out.append(DiffLine("add", line[1:]))
        elif line.startswith("-"):
            out.append(DiffLine("del", line[1:]))
        else:
            out.append(DiffLine("same", line[1:]))
    return out
