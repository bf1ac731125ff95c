"""Anchor subsets, by simulation: how close the estimate from K anchors comes to the full-suite
score of a model left out, against K random items.

A published four-choice suite of 100 items; simulated models of spread ability (a 2PL with
a = 1.7; a model that does not know an item guesses) answer it. `choose_subset`, the function
behind `evalkit suite subset`, picks K anchors and validates them by leaving each model out
in turn. Printed per number of models and K, over replications: the mean absolute error of
the anchor estimate, that of K random items, and in how many replications the anchors did
better. Also the blend's parts alone (stratified only, p-IRT only), to show what each adds.

Run: python bench/bench_subset.py [--replications 10]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from unittest import mock

import numpy as np

sys.path.insert(0, str(Path(__file__).parents[1] / "tests"))

from analysis.planted import planted_suite, simulate

from evalkit.analysis import subset as subset_module
from evalkit.analysis.subset import choose_subset

ITEMS = 100


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replications", type=int, default=10)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="bench-subset-"))
    print(f"{ITEMS} items, {args.replications} replications; mean absolute error of the estimate")
    print(
        f"{'models':>6} {'k':>4} {'anchors':>8} {'random':>7} {'better':>7} "
        f"{'stratified':>10} {'p-IRT':>6} {'seconds':>8}"
    )
    for models in (8, 12, 20):
        for k in (10, 20, 30):
            errors: dict[str, list[float]] = {"blend": [], "random": [], "strat": [], "pirt": []}
            better = 0
            started = time.perf_counter()
            for r in range(args.replications):
                suite = planted_suite(root / f"{models}-{k}-{r}", ITEMS, 0, seed=r)
                matrix = simulate(suite, models, seed=1000 + r)
                parts = (("blend", subset_module.BLEND), ("strat", 1.0), ("pirt", 0.0))
                for name, blend in parts:
                    with mock.patch.object(subset_module, "BLEND", blend):
                        chosen = choose_subset(matrix, k, seed=r)
                    errors[name].append(chosen.mae)
                    if name == "blend":
                        errors["random"].append(chosen.random_mae)
                        better += chosen.better_than_random
            seconds = (time.perf_counter() - started) / (3 * args.replications)
            mean = {name: float(np.mean(v)) for name, v in errors.items()}
            print(
                f"{models:>6} {k:>4} {mean['blend']:>8.3f} {mean['random']:>7.3f} "
                f"{better:>4}/{args.replications:<2} {mean['strat']:>10.3f} {mean['pirt']:>6.3f} "
                f"{seconds:>8.1f}"
            )


if __name__ == "__main__":
    main()
