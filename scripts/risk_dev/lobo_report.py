"""Table of LOBO results: model alone at t=0.6 and at matched control FA, and full screen.

Reads lobo.py's cached results and writes out/lobo_results.md; run it as (variants default
to `base`; `--screen-matched[=V1,V2]` also scores the full screen at the matched threshold):

    .venv/bin/python scripts/risk_dev/lobo_report.py [--screen-matched[=V1,V2]] VARIANT ...

Control FA = `none` lines of fa_control_* + ordinary_*, scored by each of the 5
fold models, averaged (equivalently pooled: the same lines in every fold).
"""

from __future__ import annotations

import pickle
import sys

import numpy as np
from lobo import COMBOS, FOLDS, LANGS, get_fold, load_result, result_path, screen_levels
from lobo_common import CACHE, OUT, get_data, log

GRID = np.round(np.arange(0.05, 0.995, 0.0025), 4)


def have(name):
    if name in COMBOS:
        return all(have(p) for p in COMBOS[name][0])
    return all(result_path(name, k).exists() for k in FOLDS)


def meta(d):
    out = {}
    for k in FOLDS:
        f = get_fold(d, k)
        out[k] = (f.s_set, f.s_lang, f.s_level)
    return out


def pooled(M, name, lang, score_fn, sel):
    """sum over folds of hits / lines where sel(set, level) and lang."""
    hit = n = 0
    for k in FOLDS:
        s_set, s_lang, s_level = M[k]
        m = sel(k, s_set, s_level) & np.isin(s_lang, [lang] if isinstance(lang, str) else lang)
        v = score_fn(k)[m]
        hit += v.sum()
        n += m.sum()
    return hit / max(n, 1), n


def urgent_blind(k, s, lv):
    return (s == k) & (lv >= 3)


def none_blind(k, s, lv):
    return (s == k) & (lv == 0)


def none_ctrl(k, s, lv):
    return np.isin(s, ["fa_control", "ordinary"]) & (lv == 0)


def none_fac(k, s, lv):
    return (s == "fa_control") & (lv == 0)


def none_ord(k, s, lv):
    return (s == "ordinary") & (lv == 0)


def none_all(k, s, lv):
    return none_ctrl(k, s, lv) | none_blind(k, s, lv)


def curves(M, res, lang, sel):
    """rate at each GRID threshold (pooled over folds)."""
    tot = np.zeros(len(GRID))
    n = 0
    for k in FOLDS:
        s_set, s_lang, s_level = M[k]
        m = sel(k, s_set, s_level) & np.isin(s_lang, [lang] if isinstance(lang, str) else lang)
        p = res[k]["pu"][m]
        tot += (p[None, :] >= GRID[:, None]).sum(1)
        n += m.sum()
    return tot / n


def matched_t(M, res, lang, target, sel=none_ctrl):
    fa = curves(M, res, lang, sel)
    ok = np.where(fa <= target + 1e-12)[0]
    return float(GRID[ok[0]]) if len(ok) else 0.99


def main(argv):
    sm = [a for a in argv if a.startswith("--screen-matched")]
    sm_names = set(sm[0].split("=", 1)[1].split(",")) if sm and "=" in sm[0] else None
    screen_matched = bool(sm)
    names = [a for a in argv if not a.startswith("--")] or ["base"]
    names = [n for n in names if have(n)]
    d = get_data()
    M = meta(d)
    base = {k: load_result("base", k) for k in FOLDS}
    lines = []
    rows = {}
    # reproduction check
    repro = {}
    if all((CACHE / f"repro_{k}.pkl").exists() for k in FOLDS):
        for k in FOLDS:
            with (CACHE / f"repro_{k}.pkl").open("rb") as h:
                repro[k] = pickle.load(h)
        diffs = np.concatenate([np.abs(repro[k]["pu"] - base[k]["pu"]) for k in FOLDS])
        flips = sum(((repro[k]["pu"] >= 0.6) != (base[k]["pu"] >= 0.6)).sum() for k in FOLDS)
        sflips = sum(
            ((repro[k]["screen60"] >= 3) != (base[k]["screen60"] >= 3)).sum() for k in FOLDS
        )
        lines.append(
            f"Reproduction: RiskModel.train vs sklearn re-fit of `base` on the same folds: "
            f"max |dP(urgent)| = {diffs.max():.4f}, mean {diffs.mean():.5f}; "
            f"model verdict flips at 0.6: {flips}; full-screen HIGH flips: {sflips} "
            f"(of {len(diffs)} scored lines)."
        )
    targets = {}

    def base_at60(k):
        return base[k]["pu"] >= 0.6

    for lang in LANGS:
        targets[lang] = pooled(M, "base", lang, base_at60, none_ctrl)[0]
        targets[lang + "_all"] = pooled(M, "base", lang, base_at60, none_all)[0]
    targets["both"] = pooled(M, "base", list(LANGS), base_at60, none_ctrl)[0]
    for name in names:
        res = {k: load_result(name, k) for k in FOLDS}
        if name in COMBOS and "screen60" not in res["blind8"]:
            for k in FOLDS:
                res[k]["screen60"] = screen_levels(get_fold(d, k), res[k], 0.6)
                with result_path(name, k).open("wb") as h:
                    pickle.dump(res[k], h)
        row = {}
        tp = matched_t(M, res, list(LANGS), targets["both"])
        row["tp"] = tp
        for lang in LANGS:
            r = {}

            def at(t, res=res):
                return lambda fold: res[fold]["pu"] >= t

            r["recp"] = pooled(M, name, lang, at(tp), urgent_blind)[0]
            r["bfap"] = pooled(M, name, lang, at(tp), none_blind)[0]
            r["cfap"] = pooled(M, name, lang, at(tp), none_ctrl)[0]
            r["rec60"], r["n_urg"] = pooled(M, name, lang, at(0.6), urgent_blind)
            r["bfa60"], r["n_bnone"] = pooled(M, name, lang, at(0.6), none_blind)
            r["cfa60"], r["n_cnone"] = pooled(M, name, lang, at(0.6), none_ctrl)
            r["fac60"] = pooled(M, name, lang, at(0.6), none_fac)[0]
            r["ord60"] = pooled(M, name, lang, at(0.6), none_ord)[0]
            t = matched_t(M, res, lang, targets[lang])
            r["tm"] = t
            r["recm"] = pooled(M, name, lang, at(t), urgent_blind)[0]
            r["bfam"] = pooled(M, name, lang, at(t), none_blind)[0]
            r["cfam"] = pooled(M, name, lang, at(t), none_ctrl)[0]
            t2 = matched_t(M, res, lang, targets[lang + "_all"], none_all)
            r["tm2"] = t2
            r["recm2"] = pooled(M, name, lang, at(t2), urgent_blind)[0]
            # per-fold matched recall (for paired comparison)
            r["fold_recm"] = [
                pooled({k: M[k]}, name, lang, at(t), urgent_blind)[0] if False else None
                for k in FOLDS
            ]
            pf = []
            for k in FOLDS:
                s_set, s_lang, s_level = M[k]
                m = urgent_blind(k, s_set, s_level) & (s_lang == lang)
                pf.append(float((res[k]["pu"][m] >= t).mean()))
            r["fold_recm"] = pf
            # full screen at strong=0.6
            if "screen60" in res["blind8"]:
                sc = lambda k, res=res: res[k]["screen60"] >= 3  # noqa: E731
                r["s_rec"] = pooled(M, name, lang, sc, urgent_blind)[0]
                r["s_bfa"] = pooled(M, name, lang, sc, none_blind)[0]
                r["s_cfa"] = pooled(M, name, lang, sc, none_ctrl)[0]
            row[lang] = r
        if screen_matched and (sm_names is None or name in sm_names):
            for k in FOLDS:
                key = f"screen_m_{tp:.4f}"
                path = result_path(name, k)
                stored = {}
                if path.exists():
                    with path.open("rb") as h:
                        stored = pickle.load(h)
                if key not in stored:
                    f = get_fold(d, k)
                    lv = screen_levels(f, res[k], tp)
                    stored[key] = lv
                    if name in COMBOS:
                        stored.setdefault("levels", res[k]["levels"])
                        stored.setdefault("pu", res[k]["pu"])
                    with path.open("wb") as h:
                        pickle.dump(stored, h)
                res[k]["screen_m"] = stored[key]
            for lang in LANGS:
                sc = lambda k, res=res: res[k]["screen_m"] >= 3  # noqa: E731
                row[lang]["sm_rec"] = pooled(M, name, lang, sc, urgent_blind)[0]
                row[lang]["sm_bfa"] = pooled(M, name, lang, sc, none_blind)[0]
                row[lang]["sm_cfa"] = pooled(M, name, lang, sc, none_ctrl)[0]
        rows[name] = row
        log("done", name)
    # lexicon alone
    if repro:
        lex = {}
        for lang in LANGS:
            sc = lambda k: repro[k]["lexicon"] >= 3  # noqa: E731
            lex[lang] = (
                pooled(M, "lex", lang, sc, urgent_blind)[0],
                pooled(M, "lex", lang, sc, none_blind)[0],
                pooled(M, "lex", lang, sc, none_ctrl)[0],
            )
            sc = lambda k: repro[k]["screen60"] >= 3  # noqa: E731
            lex[lang + "_real"] = (
                pooled(M, "lex", lang, sc, urgent_blind)[0],
                pooled(M, "lex", lang, sc, none_blind)[0],
                pooled(M, "lex", lang, sc, none_ctrl)[0],
            )
    n = rows["base"]["en"] if "base" in rows else None
    out = ["# LOBO results (leave-one-burned-blind-set-out: blind8, blind10-13)", ""]
    out += [*lines, ""]
    if n:
        es = rows["base"]["es"]
        out.append(
            "Lines per language (pooled over the 5 folds): "
            f"urgent en {n['n_urg']:d} / es {es['n_urg']:d}; "
            f"blind `none` en {n['n_bnone']:d} / es {es['n_bnone']:d}; "
            "control `none` (fa_control+ordinary) "
            f"en {n['n_cnone'] // 5:d} / es {es['n_cnone'] // 5:d}, "
            "scored by each fold model (rates averaged over the 5)."
        )
        out.append(
            "Matched FA target = base's control FA at 0.6: "
            f"en {targets['en']:.4f}, es {targets['es']:.4f}. "
            "t_m = lowest threshold (0.0025 grid) whose control FA <= target. "
            "rec@m2 = recall when matched on control+blind `none` lines together."
        )
    out.append("")
    hdr = (
        "| variant | lang | rec@0.6 | blindFA@0.6 | ctrlFA@0.6 (fa_ctrl/ord) "
        "| t_m | rec@t_m | blindFA@t_m | ctrlFA@t_m "
        "| folds rec@t_m | rec@m2 (t) | screen rec@0.6 | screen blindFA | screen ctrlFA |"
    )
    out.append(hdr)
    out.append("|" + "---|" * (hdr.count("|") - 1))
    for name, row in rows.items():
        for lang in LANGS:
            r = row[lang]
            s = (
                f"| {name} | {lang} | {r['rec60']:.3f} | {r['bfa60']:.3f} "
                f"| {r['cfa60']:.3f} ({r['fac60']:.3f}/{r['ord60']:.3f}) "
                f"| {r['tm']:.3f} | **{r['recm']:.3f}** | {r['bfam']:.3f} | {r['cfam']:.3f} "
                f"| {' '.join(f'{x:.2f}' for x in r['fold_recm'])} "
                f"| {r['recm2']:.3f} ({r['tm2']:.3f}) "
                f"| {r.get('s_rec', float('nan')):.3f} | {r.get('s_bfa', float('nan')):.3f} "
                f"| {r.get('s_cfa', float('nan')):.3f} |"
            )
            out.append(s)
    out += [
        "",
        "## One threshold for both languages (as production): t_p matched on en+es control FA",
        "",
        f"Target (base control FA at 0.6, en+es): {targets['both']:.4f}",
        "",
        "| variant | t_p | lang | model rec@t_p | blindFA@t_p | ctrlFA@t_p "
        "| screen rec@t_p | screen blindFA@t_p | screen ctrlFA@t_p |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, row in rows.items():
        for lang in LANGS:
            r = row[lang]
            out.append(
                f"| {name} | {row['tp']:.3f} | {lang} | **{r['recp']:.3f}** "
                f"| {r['bfap']:.3f} | {r['cfap']:.3f} | "
                f"{r.get('sm_rec', float('nan')):.3f} | {r.get('sm_bfa', float('nan')):.3f} "
                f"| {r.get('sm_cfa', float('nan')):.3f} |"
            )
    if repro:
        out += [
            "",
            "| screen | lang | urgent recall | blind FA | control FA |",
            "|---|---|---|---|---|",
        ]
        for lang in LANGS:
            a, b, c = lex[lang]
            out.append(f"| lexicon alone | {lang} | {a:.3f} | {b:.3f} | {c:.3f} |")
            a, b, c = lex[lang + "_real"]
            out.append(
                "| lexicon + real RiskModel.train (categories incl.) "
                f"| {lang} | {a:.3f} | {b:.3f} | {c:.3f} |"
            )
    text = "\n".join(out) + "\n"
    (OUT / "lobo_results.md").write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main(sys.argv[1:])
