"""Score the burned blind8 set (a dev set since the ninth pass) and list its errors.

    python scripts/risk_dev/blind8.py LABEL [--no-model] [-v]

Reads only scripts/risk_dev/blind8_{en,es}.yml, a copy of the former held-out
blind8 split (now also in the training split): never a held-out split.
Urgent recall: rows labelled high/imminent assessed >= high; false alarms: rows
labelled none assessed >= high. Lexicon + classifier unless --no-model.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bot.types import RiskLevel  # noqa: E402
from nlu.risk.screen import RiskScreen  # noqa: E402

HERE = Path(__file__).parent
URGENT = {"high", "imminent"}


def score(screen: RiskScreen, verbose: bool) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for lang in ("en", "es"):
        path = HERE / f"blind8_{lang}.yml"
        rows = yaml.safe_load(path.read_text(encoding="utf-8"))["examples"]
        n_u = n_n = hit = alarms = 0
        for row in rows:
            level = str(row["level"]).lower()
            r = screen.assess(row["text"])
            if level in URGENT:
                n_u += 1
                ok = r.level >= RiskLevel.HIGH
                hit += ok
                if verbose and not ok:
                    print(
                        f"  MISS[{lang}] {r.level.label} want={level} {row['text']!r} {r.cues[:3]}"
                    )
            elif level == "none":
                n_n += 1
                if r.level >= RiskLevel.HIGH:
                    alarms += 1
                    if verbose:
                        print(f"  ALARM[{lang}] {r.level.label} {row['text']!r} {r.cues[:3]}")
        out[lang] = {
            "recall": round(hit / n_u, 3) if n_u else 0.0,
            "n_urgent": n_u,
            "false_alarms": round(alarms / n_n, 3) if n_n else 0.0,
            "alarms": alarms,
            "n_none": n_n,
        }
    return out


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("-")]
    label = args[0] if args else "run"
    verbose = "-v" in sys.argv
    screen = RiskScreen.default()
    result = {"lexicon": score(screen, verbose and "--no-model" in sys.argv)}
    if "--no-model" not in sys.argv:
        from nlu.risk.model import load_or_train

        result["model"] = score(
            screen.with_model(load_or_train(Path("/tmp/risk_dev_cache"))), verbose
        )
    for name, langs in result.items():
        for lang, s in langs.items():
            print(
                f"{name:7s} {lang} recall={s['recall']:.3f} (n={s['n_urgent']}) "
                f"FA={s['false_alarms']:.3f} ({s['alarms']}/{s['n_none']})"
            )
    out = HERE / "out"
    out.mkdir(exist_ok=True)
    (out / f"blind8_{label}.json").write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
