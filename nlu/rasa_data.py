"""Read NLU training data written in Rasa's YAML format (nlu/data/<lang>/*.yml)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

__all__ = ["DATA_DIR", "Example", "load_examples", "strip_markup"]

DATA_DIR = Path(__file__).resolve().parent / "data"
# [text](entity) or [text]{"entity": "x", ...}
_ENTITY = re.compile(r"\[(?P<text>[^\]]+)\](?:\((?P<name>[^)]+)\)|\{[^}]*\})")


@dataclass(frozen=True, slots=True)
class Example:
    text: str
    intent: str
    language: str
    entities: tuple[tuple[str, str], ...] = ()


def strip_markup(example: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    entities = tuple((m["name"] or "", m["text"]) for m in _ENTITY.finditer(example))
    return _ENTITY.sub(lambda m: m["text"], example), entities


def _examples_block(block: str) -> list[str]:
    lines = (line.strip() for line in block.splitlines())
    return [line[2:].strip() for line in lines if line.startswith("- ")]


def load_examples(split: str = "nlu", root: Path = DATA_DIR) -> list[Example]:
    """All examples of one split ("nlu" trains, "test" is held out) in every language."""
    out: list[Example] = []
    for path in sorted(root.glob(f"*/{split}.yml")):
        language = path.parent.name
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for item in doc.get("nlu") or []:
            if "intent" not in item:
                continue
            for raw in _examples_block(str(item.get("examples", ""))):
                text, entities = strip_markup(raw)
                out.append(Example(text, str(item["intent"]), language, entities))
    return out
