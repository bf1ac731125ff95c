"""Suspected wrong gold answers, by simulation: how many planted errors are found, and how
often an untouched item is flagged.

A published four-choice suite of 60 items, 6 of them with a planted wrong gold; simulated
models of spread ability (a 2PL with a = 1.7: a model that knows an item answers the true
option, otherwise it guesses) answer it, by generation (parsed letters: the agreement rule)
or with option probabilities (log-likelihood scoring: cleanlab's confident learning). The
same functions `evalkit suite analyze` uses rank and flag the items. Printed per method and
number of models: recall (planted items flagged), precision (flagged items that were
planted) and the false-flag rate (untouched items flagged).

Run: python bench/bench_label_errors.py [--replications 50]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1] / "tests"))

from analysis.planted import planted_rates

ITEMS, PLANTED = 60, 6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replications", type=int, default=50)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="bench-labels-"))
    print(f"{ITEMS} items, {PLANTED} planted wrong golds, {args.replications} replications")
    print(f"{'method':<20} {'models':>6} {'recall':>7} {'precision':>9} {'false flags':>11}")
    for loglikelihood, name in ((False, "agreement"), (True, "confident learning")):
        for models in (4, 8, 16):
            recall, precision, false_rate = planted_rates(
                root, models, loglikelihood, args.replications, ITEMS, PLANTED
            )
            print(f"{name:<20} {models:>6} {recall:>7.2f} {precision:>9.2f} {false_rate:>11.3f}")


if __name__ == "__main__":
    main()
