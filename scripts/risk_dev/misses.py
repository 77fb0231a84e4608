"""Print misses and false alarms of lexicon + classifier on the dev sets (not held-out).

python scripts/risk_dev/misses.py [SUFFIX ...]   # "", 2, 3 (default: all)
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bot.types import RiskLevel  # noqa: E402
from nlu.risk.model import load_or_train  # noqa: E402
from nlu.risk.screen import RiskScreen  # noqa: E402

HERE = Path(__file__).parent


def main() -> None:
    suffixes = sys.argv[1:] or ["", "2", "3"]
    suffixes = ["" if s == "1" else s for s in suffixes]
    screen = RiskScreen.default().with_model(load_or_train(Path("/tmp/risk_dev_cache")))
    for suffix in suffixes:
        for lang in ("en", "es"):
            data = yaml.safe_load((HERE / f"{lang}{suffix}.yml").read_text(encoding="utf-8"))
            for row in data["urgent"]:
                r = screen.assess(row["text"])
                if r.level < RiskLevel.HIGH or row["cat"] not in r.categories:
                    found = f"{r.level.label} {list(r.categories)}"
                    print(f"MISS {lang}{suffix} {found} {row['text']!r} {r.cues[:3]}")
            for text in data["negative"]:
                r = screen.assess(text)
                if r.level >= RiskLevel.HIGH:
                    print(f"ALARM {lang}{suffix} {r.level.label} {text!r} {r.cues[:3]}")


if __name__ == "__main__":
    main()
