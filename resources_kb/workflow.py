"""Review workflow for articles, as pure rules.

    draft --submit--> in_review --publish--> published --retire--> retired
      ^                   |                      |
      +----- edit --------+------- edit ---------+   (an edit makes a new draft version;
                                                      the published one stays live)

The person who publishes a version must not be the one who wrote it.
Rolling back copies an old version as a new one: it goes live at once when
that old version had been published (it was reviewed then), else it is a draft.
"""

from __future__ import annotations

__all__ = ["STATUSES", "WorkflowError", "next_status"]

STATUSES = ("draft", "in_review", "published", "retired")

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


def next_status(status: str, action: str, actor: str, author: str) -> str:
    """The status after `actor` does `action` to a version written by `author`."""
    if action == "edit":
        return "draft"
    target = _MOVES.get((status, action))
    if target is None:
        raise WorkflowError(f"cannot {action} an article that is {status}")
    if action == "publish" and actor.strip().casefold() == author.strip().casefold():
        raise WorkflowError("the author cannot publish their own version; ask another reviewer")
    return target
