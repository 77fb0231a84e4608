"""Recall at fixed false-alarm levels (en+es pooled, one threshold), for a few variants.

Reads lobo.py's cached results and appends a table to out/lobo_results.md; run it as:

    .venv/bin/python scripts/risk_dev/lobo_curve.py VARIANT ...

FA measured two ways: control `none` (fa_control+ordinary, 5 fold models averaged)
and blind `none` lines of the held-out fold.
"""

import sys

from lobo_boot import GRID, arrays, matched, rate_curve
from lobo_common import OUT, get_data


def main() -> None:
    d = get_data()
    names = sys.argv[1:]
    out = [
        "",
        "## Recall (en+es, one threshold) at fixed FA levels",
        "",
        "| variant | "
        + " | ".join(f"ctrlFA={x:.0%}" for x in (0.03, 0.04, 0.05, 0.06, 0.08))
        + " | "
        + " | ".join(f"blindFA={x:.0%}" for x in (0.05, 0.07, 0.09, 0.11, 0.13))
        + " |",
        "|---|" + "---|" * 10,
    ]
    for name in names:
        U, B, C = arrays(d, name, ["en", "es"])
        ru = rate_curve(U)
        rc = rate_curve(C)
        rb = rate_curve(B)
        cells = [
            f"{ru[matched(rc, x)]:.3f} ({GRID[matched(rc, x)]:.2f})"
            for x in (0.03, 0.04, 0.05, 0.06, 0.08)
        ]
        cells += [
            f"{ru[matched(rb, x)]:.3f} ({GRID[matched(rb, x)]:.2f})"
            for x in (0.05, 0.07, 0.09, 0.11, 0.13)
        ]
        out.append(f"| {name} | " + " | ".join(cells) + " |")
    print("\n".join(out))
    with (OUT / "lobo_results.md").open("a") as h:
        h.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
