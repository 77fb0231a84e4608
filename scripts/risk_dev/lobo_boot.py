"""Paired bootstrap of (variant - base) urgent recall at matched false alarms.

Reads lobo.py's cached results and appends a table to out/lobo_results.md; run it as:

    .venv/bin/python scripts/risk_dev/lobo_boot.py VARIANT ...

Lines are resampled (urgent blind lines, blind `none` lines, control `none`
lines; a control line keeps its 5 fold-model scores). In each resample the
target FA is base's at 0.6 and the variant's threshold is re-matched.
Two matchings: on control `none` (fa_control+ordinary) and on all `none`
(control + blind). 'all' pools both languages with one threshold.
"""

from __future__ import annotations

import sys

import numpy as np
from lobo import FOLDS, get_fold, load_result
from lobo_common import OUT, get_data

GRID = np.round(np.arange(0.05, 0.995, 0.0025), 4)
R = 1000


def arrays(d, name, langs):
    res = {k: load_result(name, k) for k in FOLDS}
    U, B, C = [], [], []
    for k in FOLDS:
        f = get_fold(d, k)
        lm = np.isin(f.s_lang, langs)
        U.append(res[k]["pu"][(f.s_set == k) & (f.s_level >= 3) & lm])
        B.append(res[k]["pu"][(f.s_set == k) & (f.s_level == 0) & lm])
        ctrl_none = np.isin(f.s_set, ["fa_control", "ordinary"]) & (f.s_level == 0)
        C.append(res[k]["pu"][ctrl_none & lm])
    return np.concatenate(U), np.concatenate(B), np.vstack(C).T  # C: lines x folds


def rate_curve(p):
    """share of p >= each GRID value."""
    s = np.sort(p.ravel())
    return 1 - np.searchsorted(s, GRID, side="left") / len(s)


def matched(curve_fa, target):
    ok = np.where(curve_fa <= target + 1e-12)[0]
    return ok[0] if len(ok) else len(GRID) - 1


def stats(Ub, Bb, Cb, Uv, Bv, Cv, iu, ib, ic):
    rb = (Ub[iu] >= 0.6).mean()
    out = []
    # control matching
    tgt = (Cb[ic] >= 0.6).mean()
    j = matched(rate_curve(Cv[ic]), tgt)
    out.append(rate_curve(Uv[iu])[j] - rb)
    # all-none matching
    allb = np.concatenate([Bb[ib], Cb[ic].ravel()])
    # weight control lines as one line each (mean over folds) by repeating blind lines 5x
    allb = np.concatenate([np.repeat(Bb[ib], Cb.shape[1]), Cb[ic].ravel()])
    allv = np.concatenate([np.repeat(Bv[ib], Cv.shape[1]), Cv[ic].ravel()])
    tgt = (allb >= 0.6).mean()
    j = matched(rate_curve(allv), tgt)
    out.append(rate_curve(Uv[iu])[j] - rb)
    return out


def main(names):
    d = get_data()
    rng = np.random.default_rng(0)
    lines = [
        "",
        "## Paired bootstrap vs base (1000 resamples of lines): recall gain at matched FA",
        "",
        "| variant | langs | gain (ctrl-matched) mean [5%, 95%] P(>0) "
        "| gain (all-none-matched) mean [5%, 95%] P(>0) |",
        "|---|---|---|---|",
    ]
    for name in names:
        for langs in (["en"], ["es"], ["en", "es"]):
            Ub, Bb, Cb = arrays(d, "base", langs)
            Uv, Bv, Cv = arrays(d, name, langs)
            point = stats(
                Ub, Bb, Cb, Uv, Bv, Cv, np.arange(len(Ub)), np.arange(len(Bb)), np.arange(len(Cb))
            )
            boots = np.array(
                [
                    stats(
                        Ub,
                        Bb,
                        Cb,
                        Uv,
                        Bv,
                        Cv,
                        rng.integers(0, len(Ub), len(Ub)),
                        rng.integers(0, len(Bb), len(Bb)),
                        rng.integers(0, len(Cb), len(Cb)),
                    )
                    for _ in range(R)
                ]
            )
            cells = []
            for c in range(2):
                b = boots[:, c]
                cells.append(
                    f"{point[c]:+.3f} [{np.quantile(b, 0.05):+.3f}, {np.quantile(b, 0.95):+.3f}] "
                    f"{np.mean(b > 0):.2f}"
                )
            lines.append(f"| {name} | {'+'.join(langs)} | {cells[0]} | {cells[1]} |")
            print(lines[-1], flush=True)
    with (OUT / "lobo_results.md").open("a", encoding="utf-8") as h:
        h.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
