"""Score the blind-written dev sets in scripts/risk_dev/ (see SETS).

    python scripts/risk_dev/dev_eval_sets.py LABEL [--no-model] [-v]

Reads only scripts/risk_dev/<set>_{en,es}.yml for each of SETS
(never the held-out splits; blind8 and blind10 to blind13 are burned former splits, now also
trained on, so --no-model is their fair reading; writers16 is not trained on, but the
fourteenth pass was tuned on it; blind14 and blind15, held out until session 12, are not
trained on, and the fifteenth pass was tuned on them; blind16 the same for the sixteenth;
blind18, scored once while held out in session 13, the same for the seventeenth
(and trained on after it); blind19 the same for the eighteenth;
ordinary2 is not trained on).
Urgent recall: rows labelled high/imminent whose assessed level is >= high (and,
separately, with one of the row's categories);
false alarms: rows labelled none assessed >= high. Lexicon + classifier
(trained on the training split, cached under /tmp) unless --no-model.
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
SETS = (
    "long_messages",
    "child_medical",
    "fa_control",
    "ordinary",
    "ordinary2",
    "blind8",
    "blind10",
    "blind11",
    "blind12",
    "blind13",
    "writers16",
    "blind14",
    "blind15",
    "blind16",
    "blind18",
    "blind19",
)
URGENT = {"high", "imminent"}


def score(screen: RiskScreen, verbose: bool) -> dict[str, dict[str, dict[str, float]]]:
    out: dict[str, dict[str, dict[str, float]]] = {}
    for name in SETS:
        out[name] = {}
        for lang in ("en", "es"):
            rows = yaml.safe_load((HERE / f"{name}_{lang}.yml").read_text(encoding="utf-8"))
            rows = rows["examples"]
            n_u = n_n = hit = hit_cat = alarms = 0
            for row in rows:
                level = str(row["level"]).lower()
                if level not in URGENT and level != "none":
                    continue
                r = screen.assess(row["text"])
                if level in URGENT:
                    n_u += 1
                    ok = r.level >= RiskLevel.HIGH
                    cats = set(row.get("categories") or [])
                    okc = ok and (not cats or bool(cats & set(r.categories)))
                    hit += ok
                    hit_cat += okc
                    if verbose and not ok:
                        print(
                            f"  MISS[{name}_{lang}] {r.level.label} {list(r.categories)} "
                            f"want={level}{sorted(cats)} {row['text']!r} {r.cues[:3]}"
                        )
                else:
                    n_n += 1
                    if r.level >= RiskLevel.HIGH:
                        alarms += 1
                        if verbose:
                            print(
                                f"  ALARM[{name}_{lang}] {r.level.label} {row['text']!r} "
                                f"{r.cues[:3]}"
                            )
            out[name][lang] = {
                "recall": round(hit / n_u, 3) if n_u else 0.0,
                "recall_cat": round(hit_cat / n_u, 3) if n_u else 0.0,
                "missed": n_u - hit,
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
    if "--no-model" not in sys.argv:
        from nlu.risk.model import load_or_train

        screen = screen.with_model(load_or_train(Path("/tmp/risk_dev_cache")))
    result = score(screen, verbose)
    for name, langs in result.items():
        for lang, s in langs.items():
            print(
                f"{name:14s} {lang} recall={s['recall']:.3f} ({s['n_urgent'] - s['missed']}/"
                f"{s['n_urgent']}) cat={s['recall_cat']:.3f} "
                f"FA={s['false_alarms']:.3f} ({s['alarms']}/{s['n_none']})"
            )
    out = HERE / "out"
    out.mkdir(exist_ok=True)
    (out / f"sets_{label}.json").write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
