"""5-fold cross-validation of lexicon + classifier on the TRAINING split only.

    python scripts/risk_dev/cv.py LABEL

Writes scripts/risk_dev/out/cv_LABEL.json (aggregates and train-split misses).
Never reads a held-out split.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from nlu.risk.evaluate import _folds, report  # noqa: E402
from nlu.risk.examples import load_examples  # noqa: E402
from nlu.risk.model import RiskModel, ordinary_examples  # noqa: E402
from nlu.risk.screen import RiskScreen  # noqa: E402


def main() -> None:
    label = sys.argv[1] if len(sys.argv) > 1 else "run"
    examples = load_examples("train")
    extra = ordinary_examples()
    base = RiskScreen.default()
    started = time.time()
    pairs = []
    for held in _folds(examples, 5, 0):
        held_set = set(held)
        part = [e for i, e in enumerate(examples) if i not in held_set]
        screen = base.with_model(RiskModel.train(part + extra))
        pairs.extend((examples[i], screen.assess(examples[i].text)) for i in held)
    result = report(pairs)
    # The same figures on the lines of an older training split only (its path as
    # the second argument): comparable across passes that add lines.
    if len(sys.argv) > 2:
        import yaml

        old = set()
        for lang in ("en", "es"):
            doc = yaml.safe_load(Path(sys.argv[2], lang, "train.yml").read_text(encoding="utf-8"))
            old.update((lang, e["text"]) for e in doc["examples"])
        sub = report([(e, a) for e, a in pairs if (e.lang, e.text) in old])
        for lang, sec in sub["languages"].items():
            print(lang, "old-lines recall", sec["urgent_recall"], "FA", sec["false_alarm_rate"])
        misses = [
            (e.lang, e.level.label, a.level.label, e.text)
            for e, a in pairs
            if (e.level >= 3) != (a.level >= 3)
        ]
        (ROOT / "scripts" / "risk_dev" / "out").mkdir(exist_ok=True)
        (ROOT / "scripts" / "risk_dev" / "out" / f"cv_{label}_all_errors.json").write_text(
            json.dumps(misses, indent=0, ensure_ascii=False)
        )
    out = {"seconds": round(time.time() - started)}
    for lang, s in result["languages"].items():
        out[lang] = {
            k: s[k]
            for k in (
                "examples",
                "urgent_recall",
                "urgent_support",
                "false_alarm_rate",
                "none_support",
                "accuracy",
                "category_recall_urgent",
            )
        }
        out[lang]["errors"] = s["errors"]
    path = ROOT / "scripts" / "risk_dev" / "out"
    path.mkdir(exist_ok=True)
    (path / f"cv_{label}.json").write_text(json.dumps(out, indent=1, ensure_ascii=False))
    for lang in result["languages"]:
        d = out[lang]
        print(
            lang,
            "recall",
            d["urgent_recall"],
            "n",
            d["urgent_support"],
            "FA",
            d["false_alarm_rate"],
            "n",
            d["none_support"],
            "acc",
            d["accuracy"],
        )


if __name__ == "__main__":
    main()
