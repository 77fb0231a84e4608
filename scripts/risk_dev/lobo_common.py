"""Leave-one-blind-set-out (LOBO) helpers: data loading, fold training sets, cache paths.

Not run on its own: imported by the scripts/risk_dev/lobo*.py scripts.

Reads only nlu/data/risk/{en,es}/train.yml, scripts/risk_dev/blind{8,10..13}_*.yml,
fa_control_*.yml and ordinary_*.yml (never a held-out split).
"""

from __future__ import annotations

import pickle
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bot.types import RiskLevel  # noqa: E402
from nlu.risk.examples import RiskExample, load_examples  # noqa: E402
from nlu.risk.model import _clip, _default_emoji, ordinary_examples  # noqa: E402
from nlu.risk.normalize import Normalizer  # noqa: E402

DEV = ROOT / "scripts" / "risk_dev"
OUT = DEV / "out"
CACHE = OUT / "lobo_cache"
OUT.mkdir(exist_ok=True)
CACHE.mkdir(exist_ok=True)
FOLDS = ("blind8", "blind10", "blind11", "blind12", "blind13")
LANGS = ("en", "es")


def log(*a):
    print(time.strftime("%H:%M:%S"), *a, flush=True)


def load_dev(name: str, lang: str) -> list[RiskExample]:
    doc = yaml.safe_load((DEV / f"{name}_{lang}.yml").read_text(encoding="utf-8")) or {}
    out = []
    for raw in doc.get("examples") or []:
        out.append(
            RiskExample(
                raw["text"],
                RiskLevel.parse(str(raw.get("level", "none"))),
                tuple(sorted(set(raw.get("categories") or []))),
                lang,
            )
        )
    return out


class Data:
    """Everything, loaded once (pickled to the cache dir)."""

    def __init__(self) -> None:
        self.emoji = _default_emoji()
        norm = Normalizer(self.emoji)
        self.clean = lambda t: _clip(norm(t))
        self.train = load_examples("train")
        self.ordinary_train = ordinary_examples()
        self.train_clean = [self.clean(e.text) for e in self.train]
        self.ord_train_clean = [self.clean(e.text) for e in self.ordinary_train]
        self.blind = {(k, lang): load_dev(k, lang) for k in FOLDS for lang in LANGS}
        self.control = {
            (k, lang): load_dev(k, lang) for k in ("fa_control", "ordinary") for lang in LANGS
        }

    def fold_train(self, fold: str | None):
        """(examples, clean texts) for training without blind `fold` (+ ordinary)."""
        if fold is None:
            keep = list(range(len(self.train)))
        else:
            drop_raw = set()
            drop_clean = set()
            for lang in LANGS:
                for e in self.blind[(fold, lang)]:
                    drop_raw.add((lang, e.text.strip()))
                    drop_clean.add(self.clean(e.text))
            keep = [
                i
                for i, e in enumerate(self.train)
                if (e.lang, e.text.strip()) not in drop_raw
                and self.train_clean[i] not in drop_clean
            ]
        ex = [self.train[i] for i in keep] + self.ordinary_train
        tx = [self.train_clean[i] for i in keep] + self.ord_train_clean
        return ex, tx, keep


def get_data() -> Data:
    path = CACHE / "data.pkl"
    if path.exists():
        with path.open("rb") as h:
            d = pickle.load(h)
        norm = Normalizer(d.emoji)
        d.clean = lambda t: _clip(norm(t))
        return d
    d = Data()
    clean = d.clean
    d.clean = None
    with path.open("wb") as h:
        pickle.dump(d, h)
    d.clean = clean
    return d
