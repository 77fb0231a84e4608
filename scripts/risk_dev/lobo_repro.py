"""Reproduce the current model with RiskModel.train itself on each LOBO fold.

Run it with no arguments (folds already cached are skipped):

    .venv/bin/python scripts/risk_dev/lobo_repro.py

Saves p_urgent and real full-screen levels (real category heads) to
out/lobo_cache/repro_<fold>.pkl for comparison with lobo.py's 'base'.
"""

import pickle
import time

import numpy as np
from lobo import Fold
from lobo_common import CACHE, FOLDS, get_data, log

from bot.types import RiskLevel
from nlu.risk.model import RiskModel
from nlu.risk.screen import RiskScreen

d = get_data()
lex = RiskScreen.default()
for fold in FOLDS:
    path = CACHE / f"repro_{fold}.pkl"
    if path.exists():
        continue
    t = time.time()
    f = Fold(d, fold)
    ex, tx, keep = d.fold_train(fold)
    m = RiskModel.train(ex, emoji=d.emoji)
    pu = np.array([m.predict(x).at_least(RiskLevel.HIGH) for x in f.s_text])
    screen = lex.with_model(m)
    sc = np.array([int(screen.assess(x).level) for x in f.s_text])
    lexl = np.array([int(lex.assess(x).level) for x in f.s_text])
    with path.open("wb") as h:
        pickle.dump({"pu": pu, "screen60": sc, "lexicon": lexl}, h)
    log("repro", fold, round(time.time() - t, 1))
