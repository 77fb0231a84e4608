"""Risk-screen latency (lexicon + classifier) on training-split and dev texts only.

python scripts/risk_dev/latency.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from nlu.risk.examples import load_examples  # noqa: E402
from nlu.risk.model import load_or_train  # noqa: E402
from nlu.risk.screen import RiskScreen  # noqa: E402


def main() -> None:
    screen = RiskScreen.default().with_model(load_or_train(Path("/tmp/risk_dev_cache")))
    texts = [e.text for e in load_examples("train")]
    for text in texts[:200]:
        screen.assess(text)
    times = []
    for _ in range(3):
        for text in texts:
            t0 = time.thread_time()
            screen.assess(text)
            times.append((time.thread_time() - t0) * 1000)
    times.sort()
    p = lambda q: times[min(len(times) - 1, int(q / 100 * len(times)))]  # noqa: E731
    print(f"n={len(times)} p50={p(50):.3f}ms p99={p(99):.3f}ms max={times[-1]:.2f}ms")


if __name__ == "__main__":
    main()
