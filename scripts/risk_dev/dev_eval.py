"""Score the sixth-pass dev sets (scripts/risk_dev/{en,es}.yml) only.

    python scripts/risk_dev/dev_eval.py LABEL [--no-model] [--set2|--set3] [-v]

Urgent recall: level >= high with the row's category (and plain level >= high);
false alarms: negatives reaching high or above. Lexicon alone and lexicon +
classifier (trained on the training split, cached under /tmp).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bot.types import RiskLevel  # noqa: E402
from nlu.risk.model import load_or_train  # noqa: E402
from nlu.risk.screen import RiskScreen  # noqa: E402

HERE = Path(__file__).parent


def score(screen: RiskScreen, verbose: bool, suffix: str = "") -> dict[str, dict[str, float]]:
    out = {}
    for lang in ("en", "es"):
        data = yaml.safe_load((HERE / f"{lang}{suffix}.yml").read_text(encoding="utf-8"))
        hit = hit_cat = 0
        for row in data["urgent"]:
            r = screen.assess(row["text"])
            ok = r.level >= RiskLevel.HIGH
            hit += ok
            okc = ok and row["cat"] in r.categories
            hit_cat += okc
            if verbose and not okc:
                cats = list(r.categories)
                print(f"  MISS[{lang}] {r.level.label} {cats} {row['text']!r} {r.cues[:3]}")
        alarms = 0
        for text in data["negative"]:
            r = screen.assess(text)
            if r.level >= RiskLevel.HIGH:
                alarms += 1
                if verbose:
                    print(f"  ALARM[{lang}] {r.level.label} {text!r} {r.cues[:3]}")
        n_u, n_n = len(data["urgent"]), len(data["negative"])
        out[lang] = {
            "recall": round(hit / n_u, 3),
            "recall_cat": round(hit_cat / n_u, 3),
            "false_alarms": round(alarms / n_n, 3),
            "n_urgent": n_u,
            "n_negative": n_n,
        }
    return out


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("-")]
    label = args[0] if args else "run"
    verbose = "-v" in sys.argv
    suffix = "3" if "--set3" in sys.argv else "2" if "--set2" in sys.argv else ""
    lexicon = RiskScreen.default()
    result = {"lexicon": score(lexicon, verbose, suffix)}
    print("lexicon", result["lexicon"])
    if "--no-model" not in sys.argv:
        model = load_or_train(Path("/tmp/risk_dev_cache"))
        result["model"] = score(lexicon.with_model(model), verbose, suffix)
        print("model", result["model"])
    out = HERE / "out"
    out.mkdir(exist_ok=True)
    (out / f"dev_{label}.json").write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
