"""Leave-one-blind-set-out CV of classifier variants (model alone + full screen).

Fits each named variant on every LOBO fold and caches its scores; run it as:

    .venv/bin/python scripts/risk_dev/lobo.py VARIANT [VARIANT ...]

For each burned blind set K (blind8, blind10..13): train = train.yml minus K's
lines (raw and normalised match) + ordinary_examples(); score K's lines and the
dev control sets (fa_control_*, ordinary_*) with the fold model. Saves per-fold
probabilities and screen verdicts to scripts/risk_dev/out/lobo_cache/.
"""

from __future__ import annotations

import pickle
import sys
import time

import numpy as np
from lobo_common import CACHE, FOLDS, LANGS, Data, get_data, log
from scipy import sparse
from sklearn.linear_model import LogisticRegression

from nlu.risk.model import LEVELS, RiskPrediction
from nlu.textfeatures import Tfidf

URG = 3  # RiskLevel.HIGH


# --------------------------------------------------------------------------- features
class Fold:
    """Training/scoring matrices for one fold, per feature block."""

    def __init__(self, d: Data, fold: str | None):
        self.fold = fold
        ex, tx, _keep = d.fold_train(fold)
        self.y = np.array([int(e.level) for e in ex])
        self.lang = np.array([e.lang for e in ex])
        self.n_ord = len(d.ordinary_train)
        # blind-written lines in this fold's training data (other burned blind sets)
        blind_clean = {
            d.clean(e.text)
            for k in FOLDS
            if k != fold
            for lang in LANGS
            for e in d.blind[(k, lang)]
        }
        self.blindw = np.array([t in blind_clean for t in tx])
        # scoring set: K's lines then the controls
        rows = []
        if fold is not None:
            for lang in LANGS:
                rows += [(fold, lang, e) for e in d.blind[(fold, lang)]]
        for (name, lang), exs in d.control.items():
            rows += [(name, lang, e) for e in exs]
        self.s_set = np.array([r[0] for r in rows])
        self.s_lang = np.array([r[1] for r in rows])
        self.s_level = np.array([int(r[2].level) for r in rows])
        self.s_text = [r[2].text for r in rows]
        self.s_clean = [d.clean(t) for t in self.s_text]
        self.tx = tx
        self.blocks: dict[str, tuple] = {}

    def block(self, name: str):
        """(Xtrain, Xscore) of one feature block, built once."""
        if name not in self.blocks:
            if name in ("word", "char_wb"):
                span = (1, 2) if name == "word" else (2, 5)
                f = Tfidf.fit(self.tx, name, span)
                self.blocks[name] = (f.transform(self.tx), f.transform(self.s_clean))
            else:  # sklearn analyzers, e.g. char36 = analyzer='char', (3, 6)
                from sklearn.feature_extraction.text import TfidfVectorizer

                kind, lo, hi = {
                    "char36": ("char", 3, 6),
                    "char35": ("char", 3, 5),
                    "char36md2": ("char", 3, 6),
                    "char25": ("char", 2, 5),
                    "char_wb26": ("char_wb", 2, 6),
                    "word13": ("word", 1, 3),
                }[name]
                v = TfidfVectorizer(
                    analyzer=kind,
                    ngram_range=(lo, hi),
                    sublinear_tf=True,
                    dtype=np.float64,
                    min_df=2 if name.endswith("md2") else 1,
                )
                a = v.fit_transform(self.tx)
                self.blocks[name] = (a.tocsr(), v.transform(self.s_clean).tocsr())
        return self.blocks[name]

    def X(self, names):
        tr = sparse.hstack([self.block(n)[0] for n in names]).tocsr()
        sc = sparse.hstack([self.block(n)[1] for n in names]).tocsr()
        return tr, sc


_FOLD_CACHE: dict = {}


def get_fold(d: Data, fold):
    if fold in _FOLD_CACHE:
        return _FOLD_CACHE[fold]
    path = CACHE / f"fold_{fold}.pkl"
    if path.exists():
        import __main__

        if not hasattr(__main__, "Fold"):
            __main__.Fold = Fold  # pickled by lobo.py run as __main__
        with path.open("rb") as h:
            f = pickle.load(h)
    else:
        f = Fold(d, fold)
        f.block("word")
        f.block("char_wb")
    _FOLD_CACHE[fold] = f
    return f


def save_fold(f: Fold):
    with (CACHE / f"fold_{f.fold}.pkl").open("wb") as h:
        pickle.dump(f, h)


# --------------------------------------------------------------------------- heads
def lr(C=10.0, cw="balanced", tol=1e-4):
    return LogisticRegression(
        C=C, class_weight=cw, solver="lbfgs", tol=tol, max_iter=20000, random_state=0
    )


def mn_head(Xtr, y, Xsc, C=10.0, w=None):
    h = lr(C).fit(Xtr, y, sample_weight=w)
    p = np.zeros((Xsc.shape[0], len(LEVELS)))
    p[:, h.classes_] = h.predict_proba(Xsc)
    return p


def bin_head(Xtr, y, Xsc, C=10.0, w=None):
    h = lr(C).fit(Xtr, (y >= URG).astype(int), sample_weight=w)
    return h.predict_proba(Xsc)[:, 1]


def nb_ratio(Xtr, t, alpha=1.0):
    p = alpha + np.asarray(Xtr[t == 1].sum(0)).ravel()
    q = alpha + np.asarray(Xtr[t == 0].sum(0)).ravel()
    return np.log((p / p.sum()) / (q / q.sum()))


def nbsvm_head(Xtr, y, Xsc, C=10.0, binarize=False):
    t = (y >= URG).astype(int)
    A, B = Xtr, Xsc
    if binarize:
        A = (A > 0).astype(np.float64)
        B = (B > 0).astype(np.float64)
    r = nb_ratio(A, t)
    R = sparse.diags(r)
    h = lr(C).fit(A @ R, t)
    return h.predict_proba(B @ R)[:, 1]


def sgd_mh_head(Xtr, y, Xsc, alpha=1e-5):
    from sklearn.linear_model import SGDClassifier

    t = (y >= URG).astype(int)
    h = SGDClassifier(
        loss="modified_huber",
        alpha=alpha,
        class_weight="balanced",
        max_iter=200,
        tol=1e-5,
        random_state=0,
        average=True,
    ).fit(Xtr, t)
    return h.predict_proba(Xsc)[:, 1]


def svc_cal_head(Xtr, y, Xsc, C=0.5):
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.svm import LinearSVC

    t = (y >= URG).astype(int)
    h = CalibratedClassifierCV(
        LinearSVC(C=C, class_weight="balanced", random_state=0), cv=3, method="sigmoid"
    )
    h.fit(Xtr, t)
    return h.predict_proba(Xsc)[:, 1]


BASE = ("word", "char_wb")


def run_variant(name: str, f: Fold):
    """Returns (levels[n,5] or None, p_urgent[n]) on f's scoring set."""
    y = f.y

    def mn(feats=BASE, C=10.0, w=None):
        Xtr, Xsc = f.X(feats)
        return mn_head(Xtr, y, Xsc, C, w)

    def pu(p):
        return p[:, URG:].sum(1)

    if name == "base":
        p = mn()
        return p, pu(p)
    if name == "C3":
        p = mn(C=3.0)
        return p, pu(p)
    if name == "C30":
        p = mn(C=30.0)
        return p, pu(p)
    if name in ("bin", "bin_C3", "bin_C30", "bin_C1"):
        C = {"bin": 10.0, "bin_C3": 3.0, "bin_C30": 30.0, "bin_C1": 1.0}[name]
        Xtr, Xsc = f.X(BASE)
        return None, bin_head(Xtr, y, Xsc, C)
    if name == "char36":
        p = mn(("word", "char36"))
        return p, pu(p)
    if name == "char36_plus":
        p = mn(("word", "char_wb", "char36"))
        return p, pu(p)
    if name == "bin_char36_plus":
        Xtr, Xsc = f.X(("word", "char_wb", "char36"))
        return None, bin_head(Xtr, y, Xsc)
    if name == "nbsvm":
        Xtr, Xsc = f.X(BASE)
        return None, nbsvm_head(Xtr, y, Xsc)
    if name == "nbsvm_C1":
        Xtr, Xsc = f.X(BASE)
        return None, nbsvm_head(Xtr, y, Xsc, C=1.0)
    if name == "nbsvm_bin":
        Xtr, Xsc = f.X(BASE)
        return None, nbsvm_head(Xtr, y, Xsc, binarize=True)
    if name.startswith("w_blind"):  # w_blind2, w_blind3
        w = np.where(f.blindw, float(name[-1]), 1.0)
        p = mn(w=w)
        return p, pu(p)
    if name.startswith("w_urg"):  # w_urg15, w_urg2
        k = {"w_urg15": 1.5, "w_urg2": 2.0}[name]
        w = np.where(y >= URG, k, 1.0)
        p = mn(w=w)
        return p, pu(p)
    if name == "bin_wblind2":
        Xtr, Xsc = f.X(BASE)
        return None, bin_head(Xtr, y, Xsc, 10.0, np.where(f.blindw, 2.0, 1.0))
    if name == "bin_modhalf":  # low/moderate lines count half as negatives
        Xtr, Xsc = f.X(BASE)
        return None, bin_head(Xtr, y, Xsc, 10.0, np.where((y == 1) | (y == 2), 0.5, 1.0))
    if name == "bin_nomod":  # low/moderate lines left out of the urgent head
        Xtr, Xsc = f.X(BASE)
        keep = (y == 0) | (y >= URG)
        return None, bin_head(Xtr[keep], y[keep], Xsc, 10.0)
    if name == "bin_char36":
        Xtr, Xsc = f.X(("word", "char36"))
        return None, bin_head(Xtr, y, Xsc)
    if name in ("bin_char35", "bin_char25", "bin_char36md2"):
        Xtr, Xsc = f.X(("word", name[4:]))
        return None, bin_head(Xtr, y, Xsc)
    if name == "bin_char36_C30":
        Xtr, Xsc = f.X(("word", "char36"))
        return None, bin_head(Xtr, y, Xsc, 30.0)
    if name == "bin_char36_C3":
        Xtr, Xsc = f.X(("word", "char36"))
        return None, bin_head(Xtr, y, Xsc, 3.0)
    if name == "bin_char36_modhalf":
        Xtr, Xsc = f.X(("word", "char36"))
        return None, bin_head(Xtr, y, Xsc, 10.0, np.where((y == 1) | (y == 2), 0.5, 1.0))
    if name == "nbsvm_char36":
        Xtr, Xsc = f.X(("word", "char36"))
        return None, nbsvm_head(Xtr, y, Xsc)
    if name == "sgd_mh":
        Xtr, Xsc = f.X(BASE)
        return None, sgd_mh_head(Xtr, y, Xsc)
    if name == "svc_cal":
        Xtr, Xsc = f.X(BASE)
        return None, svc_cal_head(Xtr, y, Xsc)
    raise ValueError(name)


# combinations computed from stored runs (no fit): name -> (parts, how)
COMBOS = {
    "avg_base_bin": (("base", "bin"), "mean"),
    "avg_base_char36plus": (("base", "char36_plus"), "mean"),
    "avg_base_nbsvm": (("base", "nbsvm"), "mean"),
    "avg_base_C3": (("base", "C3"), "mean"),
    "avg_base_bin_nbsvm": (("base", "bin", "nbsvm"), "mean"),
    "max_base_bin": (("base", "bin"), "max"),
    "avg_base_binC3": (("base", "bin_C3"), "mean"),
    "avg_base_binC30": (("base", "bin_C30"), "mean"),
    "avg_c36p_binc36p": (("char36_plus", "bin_char36_plus"), "mean"),
    "avg_base_bin_c36p_binc36p": (("base", "bin", "char36_plus", "bin_char36_plus"), "mean"),
    "avg_base_bin_binc36p": (("base", "bin", "bin_char36_plus"), "mean"),
    "avg_base_binmodhalf": (("base", "bin_modhalf"), "mean"),
    "avg_base_binwblind2": (("base", "bin_wblind2"), "mean"),
    "avg_base_binchar36": (("base", "bin_char36"), "mean"),
    "avg_char36_binchar36": (("char36", "bin_char36"), "mean"),
    "avg_binchar36_binchar36C30": (("bin_char36", "bin_char36_C30"), "mean"),
    "avg_binchar36_binchar35": (("bin_char36", "bin_char35"), "mean"),
    "avg_base_binchar35": (("base", "bin_char35"), "mean"),
    "avg_base_binchar36C30": (("base", "bin_char36_C30"), "mean"),
    "avg_base_bin_binchar36": (("base", "bin", "bin_char36"), "mean"),
    "avg_bin_binchar36": (("bin", "bin_char36"), "mean"),
    "avg_base_nbsvmchar36": (("base", "nbsvm_char36"), "mean"),
    "avg_binchar36_nbsvmchar36": (("bin_char36", "nbsvm_char36"), "mean"),
}


def result_path(name, fold):
    return CACHE / f"res_{name}_{fold}.pkl"


def load_result(name, fold):
    if name in COMBOS:
        parts, how = COMBOS[name]
        rs = [load_result(p, fold) for p in parts]
        pus = np.vstack([r["pu"] for r in rs])
        pu = pus.mean(0) if how == "mean" else pus.max(0)
        lv = next((r["levels"] for r in rs if r["levels"] is not None), None)
        out = {"levels": lv, "pu": pu}
        path = result_path(name, fold)
        if path.exists():  # screen verdicts stored for the combination
            with path.open("rb") as h:
                out.update({k: v for k, v in pickle.load(h).items() if k.startswith("screen")})
        return out
    with result_path(name, fold).open("rb") as h:
        return pickle.load(h)


# --------------------------------------------------------------------------- screen
class LookupModel:
    """Stands in for RiskModel in RiskScreen: precomputed predictions by clean text."""

    def __init__(self, clean, levels, pu):
        self.table = {}
        for i, c in enumerate(clean):
            lv = levels[i] if levels is not None else np.array([0.2] * 5)
            lv = np.asarray(lv, dtype=float)
            lo, hi = lv[:URG].sum(), lv[URG:].sum()
            out = np.concatenate(
                [
                    lv[:URG] * ((1 - pu[i]) / lo if lo > 0 else 0),
                    lv[URG:] * (pu[i] / hi if hi > 0 else 0),
                ]
            )
            self.table[c] = RiskPrediction(tuple(float(x) for x in out), {"suicide": 0.9})

    def predict_normalized(self, clean):
        from nlu.risk.model import _clip

        return self.table[_clip(clean)]


_LEX = None


def screen_levels(f: Fold, res, strong=0.6):
    """Full screen (lexicon + model) verdict levels on f's scoring set."""
    global _LEX
    from nlu.risk.screen import ModelPolicy, RiskScreen

    if _LEX is None:
        _LEX = RiskScreen.default()
    model = LookupModel(f.s_clean, res["levels"], res["pu"])
    screen = _LEX.with_model(model, ModelPolicy(strong=strong))
    return np.array([int(screen.assess(t).level) for t in f.s_text])


def lexicon_levels(f: Fold):
    global _LEX
    from nlu.risk.screen import RiskScreen

    if _LEX is None:
        _LEX = RiskScreen.default()
    return np.array([int(_LEX.assess(t).level) for t in f.s_text])


def main(names):
    d = get_data()
    for fold in FOLDS:
        t = time.time()
        f = get_fold(d, fold)
        if not (CACHE / f"fold_{fold}.pkl").exists():
            save_fold(f)
        log("fold", fold, "features ready", round(time.time() - t, 1))
    for name in names:
        for fold in FOLDS:
            path = result_path(name, fold)
            if path.exists():
                continue
            f = get_fold(d, fold)
            t = time.time()
            levels, pu = run_variant(name, f)
            res = {"levels": levels, "pu": pu}
            t_fit = time.time() - t
            res["screen60"] = screen_levels(f, res, 0.6)
            with path.open("wb") as h:
                pickle.dump(res, h)
            log(name, fold, f"fit {t_fit:.1f}s total {time.time() - t:.1f}s")


if __name__ == "__main__":
    main(sys.argv[1:])
