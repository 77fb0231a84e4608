"""Threshold sweep (strong) for a few variants: model alone and full screen, per language.

Reads lobo.py's cached results (caching extra screen verdicts next to them) and writes
out/lobo_sweep.md; run it as:

    .venv/bin/python scripts/risk_dev/lobo_sweep.py VARIANT ...
"""

import pickle
import sys

import numpy as np
from lobo import FOLDS, LANGS, get_fold, load_result, result_path, screen_levels
from lobo_common import OUT, get_data, log


def main() -> None:
    d = get_data()
    names = sys.argv[1:]
    ts = (0.5, 0.55, 0.57, 0.6, 0.65)
    out = [
        "",
        "## Threshold sweep (one `strong` for both languages): model alone / full screen",
        "",
        "| variant | strong | lang | model rec | model blindFA | model ctrlFA "
        "| screen rec | screen blindFA | screen ctrlFA |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name in names:
        res = {k: load_result(name, k) for k in FOLDS}
        for t in ts:
            key = f"screen_m_{t:.4f}"
            agg = {}
            for k in FOLDS:
                f = get_fold(d, k)
                path = result_path(name, k)
                stored = {}
                if path.exists():
                    with path.open("rb") as h:
                        stored = pickle.load(h)
                if key not in stored:
                    stored[key] = screen_levels(f, res[k], t)
                    with path.open("wb") as h:
                        pickle.dump(stored, h)
                sc = stored[key] >= 3
                mo = res[k]["pu"] >= t
                for lang in LANGS:
                    lm = f.s_lang == lang
                    sels = {
                        "u": (f.s_set == k) & (f.s_level >= 3) & lm,
                        "b": (f.s_set == k) & (f.s_level == 0) & lm,
                        "c": np.isin(f.s_set, ["fa_control", "ordinary"]) & (f.s_level == 0) & lm,
                    }
                    for s, m in sels.items():
                        a = agg.setdefault((lang, s), [0, 0, 0])
                        a[0] += mo[m].sum()
                        a[1] += sc[m].sum()
                        a[2] += m.sum()
            for lang in LANGS:

                def g(s, i, agg=agg, lang=lang):
                    return agg[(lang, s)][i] / agg[(lang, s)][2]

                out.append(
                    f"| {name} | {t} | {lang} "
                    f"| {g('u', 0):.3f} | {g('b', 0):.3f} | {g('c', 0):.3f} "
                    f"| {g('u', 1):.3f} | {g('b', 1):.3f} | {g('c', 1):.3f} |"
                )
            log(name, t)
    print("\n".join(out))
    with (OUT / "lobo_sweep.md").open("w") as h:
        h.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
