"""`make bench` (knowledge base): query latency with 2,000 articles, accuracy.

The 2,000 articles are synthetic variants of the seed articles (other places,
reworded titles and questions) added to the real ones, so the index has the
size and vocabulary spread of a large knowledge base. Latency is wall time per
`KnowledgeBase.ask` (the CPU time of the same calls is shown beside it: on a
busy machine the gap is time spent waiting for a core).

Accuracy is measured on the real articles only: first the leave-one-question-out
cross-validation on the articles' own example questions (what the weights and
threshold were tuned on), then the held-out questions in resources_kb/eval/,
which are never used for tuning.
"""

from __future__ import annotations

import os
import random
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from bench import machine, percentile, write_section  # noqa: E402

from resources_kb.content import Article, load_articles  # noqa: E402
from resources_kb.evaluate import cross_validate, heldout_accuracy, load_heldout  # noqa: E402
from resources_kb.service import CONFIDENCE_THRESHOLD, KnowledgeBase  # noqa: E402

TOTAL = 2000
QUERIES = 2000
_PLACES = ["US-TX", "US-CA", "US-NY", "US-FL", "US-IL", "US-WA", "UK", "CA", "ES", "MX"]
_WORDS = ["local", "county", "city", "regional", "community", "state", "area", "nearby"]


def synthetic(seed: list[Article], total: int, rng: random.Random) -> list[Article]:
    articles = list(seed)
    n = 0
    while len(articles) < total:
        base = seed[n % len(seed)]
        n += 1
        word, place = rng.choice(_WORDS), rng.choice(_PLACES)
        questions = list(base.example_questions)
        rng.shuffle(questions)
        articles.append(
            replace(
                base,
                id=f"{base.id}-syn{n}",
                title=f"{base.title} ({word} {n})",
                jurisdiction=place,
                example_questions=tuple(f"{q} {word}" for q in questions[:4]),
                body=" ".join(rng.sample(base.body.split(), min(120, len(base.body.split())))),
            )
        )
    return articles


def main() -> int:
    rng = random.Random(7)
    seed = [a for a in load_articles() if a.status == "published"]
    articles = synthetic(seed, TOTAL, rng)
    started = time.perf_counter()
    kb = KnowledgeBase(articles)
    for locale in ("en", "es"):
        kb.ask("warm up", locale)
    build_s = time.perf_counter() - started
    questions = [(q, a.locale) for a in seed for q in a.example_questions]
    rng.shuffle(questions)
    latencies, cpu = [], []
    for i in range(QUERIES):
        question, locale = questions[i % len(questions)]
        t0, c0 = time.perf_counter(), time.thread_time()
        kb.ask(question, locale, "US")
        cpu.append((time.thread_time() - c0) * 1000)
        latencies.append((time.perf_counter() - t0) * 1000)
    p50, p99 = percentile(latencies, 50), percentile(latencies, 99)
    cpu50, cpu99 = percentile(cpu, 50), percentile(cpu, 99)

    cv = [cross_validate(seed, locale, CONFIDENCE_THRESHOLD) for locale in ("en", "es")]
    seed_kb = KnowledgeBase(seed)
    accuracy = {}
    for locale in ("en", "es"):
        rows = load_heldout(locale)
        top1, confident_null = heldout_accuracy(seed_kb.ask, locale, rows)
        answerable = sum(1 for _, e in rows if e)
        accuracy[locale] = (top1, answerable, confident_null, len(rows) - answerable)

    lines = [
        "## Knowledge base search",
        "",
        f"Command: `.venv/bin/python scripts/bench_kb.py` · machine: {machine()} · "
        f"load average (1 min) {os.getloadavg()[0]:.1f}",
        "",
        f"- {len(articles)} articles loaded ({len(seed)} real, the rest synthetic variants); "
        f"indexes built in {build_s:.1f} s",
        f"- query latency over {QUERIES} questions: p50 {p50:.2f} ms, p99 {p99:.2f} ms "
        f"(target <= 20 ms p99); CPU time p50 {cpu50:.2f} ms, p99 {cpu99:.2f} ms",
        f"- cross-validation (leave one example question out; tuning data), "
        f"confidence threshold {CONFIDENCE_THRESHOLD:.2f}:",
    ]
    lines.extend(f"  - {score.line()}" for score in cv)
    for locale, (top1, n, null_rate, nulls) in accuracy.items():
        lines.append(
            f"- held-out {locale}: top-1 correct and confident {top1:.3f} on {n} questions "
            f"(target >= 0.90); confident answers on {null_rate:.2f} of {nulls} questions "
            "with no article"
        )
    write_section("kb", lines)
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
