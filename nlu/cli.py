"""`harborline nlu train | eval | classify`."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

__all__ = ["register"]


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    nlu = sub.add_parser("nlu", help="language understanding: train, eval, classify")
    actions = nlu.add_subparsers(metavar="ACTION")
    train = actions.add_parser("train", help="train the models from nlu/data (cached by hash)")
    train.set_defaults(handler=_train)
    evaluate = actions.add_parser("eval", help="scores on the held-out split")
    evaluate.add_argument("--json", action="store_true", help="print the full report as JSON")
    evaluate.add_argument(
        "--misses", action="store_true", help="also list the risk screen's misses and false alarms"
    )
    evaluate.set_defaults(handler=_eval)
    classify = actions.add_parser("classify", help="one message per stdin line -> JSON lines")
    classify.add_argument("--json", action="store_true", help="JSON lines (the only format)")
    classify.set_defaults(handler=_classify)


def _cache_dir() -> Path:
    from bot.settings import get_settings

    return get_settings().var_dir / "models"


def _train(args: argparse.Namespace) -> int:
    from nlu.intents import IntentClassifier, model_path

    path = model_path(_cache_dir())
    existed = path.exists()
    model = IntentClassifier.load_or_train(_cache_dir())
    if model is None:
        print("no training data under nlu/data", file=sys.stderr)
        return 1
    state = "up to date" if existed else "trained"
    print(f"intents: {state} ({len(model.classes)} intents, version {model.version}) -> {path}")
    from nlu.risk import default_screen
    from nlu.risk import model as risk_model

    default_screen(_cache_dir())  # compiles the lexicon's patterns once, for every later start
    risk_path = risk_model.model_path(_cache_dir())
    risk_existed = risk_path.exists()
    if risk_model.load_or_train(_cache_dir()) is None:
        print("risk: no training data under nlu/data/risk; the lexicon works alone")
    else:
        print(f"risk: {'up to date' if risk_existed else 'trained'} -> {risk_path}")
    return 0


def _eval(args: argparse.Namespace) -> int:
    from nlu.evaluation import evaluate_intents
    from nlu.intents import IntentClassifier
    from nlu.rasa_data import load_examples

    model = IntentClassifier.load_or_train(_cache_dir())
    if model is None:
        print("no training data under nlu/data", file=sys.stderr)
        return 1
    report: dict[str, Any] = {"intents": evaluate_intents(model, load_examples("test"))}
    # "risk" stays the test split (a stable key); the other held-out sets follow
    # as "risk_fresh" and "risk_blind".
    for split, section in _risk_reports().items():
        report[_RISK_KEYS.get(split, f"risk_{split}")] = section
    if args.json:
        print(json.dumps(report, indent=2, ensure_ascii=False))
        return 0
    for language, scores in report["intents"].items():
        print(f"intents [{language}] accuracy {scores['accuracy']:.3f} on {scores['examples']}")
        for name, row in scores["per_intent"].items():
            print(
                f"  {name:18} P {row['precision']:.2f}  R {row['recall']:.2f}  "
                f"F1 {row['f1']:.2f}  n={row['support']}"
            )
        mistakes = [
            (truth, guess, n)
            for truth, row in scores["confusion"].items()
            for guess, n in row.items()
            if guess != truth
        ]
        for truth, guess, n in sorted(mistakes, key=lambda m: -m[2])[:10]:
            print(f"  confused: {truth} -> {guess} x{n}")
    from nlu.risk.evaluate import format_report
    from nlu.risk.examples import HELD_OUT

    for split, name in HELD_OUT.items():
        print(f"== risk screen on the {name} (nlu/data/risk/*/{split}.yml, never trained on) ==")
        print(format_report(report[_RISK_KEYS.get(split, f"risk_{split}")], errors=args.misses))
    return 0


_RISK_KEYS = {"test": "risk"}


def _risk_reports() -> dict[str, dict[str, Any]]:
    """Risk recall/precision per level and language on each held-out risk set."""
    from nlu.risk import default_screen, use_model
    from nlu.risk import model as risk_model
    from nlu.risk.evaluate import evaluate
    from nlu.risk.examples import HELD_OUT
    from nlu.risk.examples import load_examples as load_risk_examples

    use_model(risk_model.load_or_train(_cache_dir()))
    return {split: evaluate(load_risk_examples(split), default_screen()) for split in HELD_OUT}


def _classify(args: argparse.Namespace) -> int:
    from nlu.engine import NluEngine, install_risk_model
    from nlu.intents import IntentClassifier
    from nlu.language import detect_language
    from nlu.risk import assess

    engine = NluEngine(IntentClassifier.load_or_train(_cache_dir(), in_subprocess=True))
    install_risk_model(_cache_dir())
    for line in sys.stdin:
        text = line.rstrip("\n")
        intent = engine.parse_builtin(text)
        record = {
            "text": text,
            "language": detect_language(text),
            "intent": intent.name,
            "confidence": round(intent.confidence, 4),
            "entities": list(intent.entities),
            "risk": assess(text).as_dict(),
        }
        sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
        sys.stdout.flush()
    return 0


def _now() -> datetime:
    return datetime.now(UTC)
