"""The built-in intent engine: data format, held-out accuracy, speed of loading."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from dialogs.normalize import fold
from nlu.evaluation import evaluate_intents
from nlu.intents import IntentClassifier
from nlu.rasa_data import load_examples, strip_markup

REQUIRED = {
    "greeting", "goodbye", "thanks", "ask_rights", "ask_services", "ask_shelter", "ask_legal",
    "ask_health", "ask_work", "ask_documents", "ask_immigration", "ask_privacy",
    "talk_to_person", "schedule_checkin", "cancel_checkin", "forget_me", "stop",
    "change_language", "affirm", "deny", "out_of_scope",
}  # fmt: skip


def test_rasa_markup_is_stripped_into_entities() -> None:
    text, entities = strip_markup("is there a shelter in [Texas](location) [tomorrow](time)")
    assert text == "is there a shelter in Texas tomorrow"
    assert entities == (("location", "Texas"), ("time", "tomorrow"))


def test_every_required_intent_in_both_languages_and_splits() -> None:
    for split in ("nlu", "test"):
        examples = load_examples(split)
        for language in ("en", "es"):
            present = {e.intent for e in examples if e.language == language}
            assert REQUIRED <= present, (split, language, REQUIRED - present)


def test_held_out_examples_are_never_training_examples() -> None:
    train = {(e.language, fold(e.text)) for e in load_examples("nlu")}
    overlap = [e.text for e in load_examples("test") if (e.language, fold(e.text)) in train]
    assert overlap == []


def test_held_out_accuracy_meets_the_target(intents: IntentClassifier | None) -> None:
    assert intents is not None
    report = evaluate_intents(intents, load_examples("test"))
    for language in ("en", "es"):
        assert report[language]["accuracy"] >= 0.90, (language, report[language]["accuracy"])


def test_saved_model_loads_and_predicts_the_same(
    intents: IntentClassifier | None, tmp_path: Path
) -> None:
    assert intents is not None
    path = tmp_path / "m.npz"
    intents.save(path)
    loaded = IntentClassifier.load(path)  # Load time is in docs/benchmarks.md (bench_nlu).
    for text in ("where can i sleep", "necesito un abogado", "", "🙂"):
        assert loaded.classify(text) == intents.classify(text)


def test_model_matches_sklearn_predictions(intents: IntentClassifier | None) -> None:
    """Our numpy scoring equals scikit-learn's own on the same fitted numbers."""
    import numpy as np
    from scipy import sparse
    from sklearn.linear_model import LogisticRegression

    assert intents is not None
    examples = load_examples("nlu")[:400]
    texts = [fold(e.text) for e in examples]
    model = LogisticRegression(max_iter=2000)
    features = intents.features
    matrix = sparse.hstack([f.transform(texts) for f in features]).tocsr()
    model.fit(matrix, [e.intent for e in examples])
    ours = IntentClassifier(features, model.coef_.T, model.intercept_, list(model.classes_), "t")
    for text in texts[:50]:
        probe = sparse.hstack([f.transform([text]) for f in features]).tocsr()
        assert np.allclose(ours.probabilities(text), model.predict_proba(probe)[0])


def test_classify_cli_contract() -> None:
    harborline = Path(sys.executable).parent / "harborline"
    done = subprocess.run(
        [str(harborline), "nlu", "classify", "--json"],
        input="I have the pills in my hand\nis there a shelter in Texas\n",
        capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    first, second = (json.loads(line) for line in done.stdout.splitlines())
    assert set(first) == {"text", "language", "intent", "confidence", "entities", "risk"}
    assert first["risk"]["level"] == "imminent"
    assert set(first["risk"]) == {"level", "categories", "cues"}
    assert second["intent"] == "ask_shelter"
    assert second["entities"][0]["value"] == "US-TX"
