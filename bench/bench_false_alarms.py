"""False alarms and power of evalkit's verdicts, by simulation.

Simulated runs of 6 models (base, chat and four SFT checkpoints, two from each) × 4 suites,
each suite with multiple-choice items (accuracy, format adherence) and QA items (token F1,
exact match, format adherence), go through the same code that `evalkit score` uses for its
verdicts (`build_tables` → `compare_models` → `regressions`). Item difficulty is shared by
all models, so their answers are correlated as real models' are.

- Null: all six models are the same model (each answer drawn from the same per-item
  probability). Printed: the share of runs with at least one significant comparison and the
  share whose regression gate (`fail_on_regression=0`) fails, with correction on and off.
- Power: one SFT checkpoint truly drops 5 points of score on one suite; printed: how often
  that drop is found (significant after correction), at 200 and 1,000 items per suite.

Run: python bench/bench_false_alarms.py [--runs 200] [--seed 0]
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import numpy as np

from evalkit.scoring.comparisons import compare_models, comparison_pairs, family_record
from evalkit.scoring.config import ScoringConfig
from evalkit.scoring.gate import regressions
from evalkit.scoring.table import build_tables

MODELS = [
    {"name": "base", "kind": "base"},
    {"name": "chat", "kind": "chat"},
    {"name": "base-sft", "kind": "sft", "starting_model": "base"},
    {"name": "base-sft2", "kind": "sft", "starting_model": "base"},
    {"name": "chat-sft", "kind": "sft", "starting_model": "chat"},
    {"name": "chat-sft2", "kind": "sft", "starting_model": "chat"},
]
SUITES = ["legal", "medical", "finance", "general"]
STARTING = {m["name"]: m["starting_model"] for m in MODELS if "starting_model" in m}
BASE_ACCURACY = 0.6


def _logit(p: float) -> float:
    return float(np.log(p / (1 - p)))


def simulate_rows(
    rng: np.random.Generator, items: int, drop: tuple[str, str, float] | None = None
) -> list[dict[str, Any]]:
    """One run's scored rows. `drop` = (model, suite, points): that model is worse there.
    Base accuracy is 0.6 on average over items of varied difficulty."""
    rows = []
    for suite in SUITES:
        difficulty = rng.normal(0.0, 1.5, items)  # shared by all models: correlated answers
        tasks = np.where(np.arange(items) < items // 2, "mcq", "qa")
        p = 1 / (1 + np.exp(-(_logit(BASE_ACCURACY) + difficulty)))
        for model in MODELS:
            right = rng.random(items) < p
            formatted = rng.random(items) < 0.9
            f1 = np.clip(p + rng.normal(0, 0.15, items), 0, 1) * right
            if drop and (model["name"], suite) == drop[:2]:
                # lose a share of what it got right: `points` less accuracy and mean F1
                right &= rng.random(items) >= drop[2] / right.mean()
                f1 *= rng.random(items) >= drop[2] / f1.mean()
            for k in range(items):
                if tasks[k] == "mcq":
                    metrics = {"accuracy": float(right[k]), "format_adherence": float(formatted[k])}
                    score = metrics["accuracy"]
                else:
                    metrics = {
                        "token_f1": float(f1[k]),
                        "exact_match": float(f1[k] > 0.8),
                        "format_adherence": float(formatted[k]),
                    }
                    score = metrics["token_f1"]
                rows.append(
                    {
                        "model": model["name"],
                        "suite": suite,
                        "item_id": f"{suite}-{k}",
                        "task": str(tasks[k]),
                        "language": "en",
                        "tags": [],
                        "metrics": metrics,
                        "score": score,
                    }
                )
    return rows


def verdicts(
    rows: list[dict[str, Any]], correction: str, compare: tuple[str, ...] = ()
) -> tuple[list[dict[str, Any]], bool]:
    """The run's comparisons and whether its gate (any significant score drop) fails."""
    config = ScoringConfig(correction=correction, compare_metrics=list(compare))
    comparisons = compare_models(
        build_tables(rows), comparison_pairs(MODELS, "base", STARTING), config
    )
    summary = {
        "baseline": "base",
        "comparisons": comparisons,
        "family": family_record(comparisons, config),
    }
    return comparisons, bool(regressions(summary, 0.0))


def null_rates(runs: int, items: int, seed: int) -> dict[str, tuple[float, float, float]]:
    """Per correction: share of runs with ≥1 significant comparison, with a failing gate,
    and the mean number of significant comparisons per run."""
    out = {}
    for correction in ("none", "holm", "bh"):
        rng = np.random.default_rng(seed)
        any_sig = gate = total = 0
        for _ in range(runs):
            comparisons, failed = verdicts(simulate_rows(rng, items), correction)
            significant = sum(c["significant"] for c in comparisons)
            any_sig += significant > 0
            gate += failed
            total += significant
        out[correction] = (any_sig / runs, gate / runs, total / runs)
    return out


# (correction, compared metrics): the default family, none, and a family of scores only
POWER_SETTINGS = (("none", ()), ("holm", ()), ("holm", ("score",)))


def power(runs: int, items: int, seed: int, points: float = 0.05) -> dict[str, tuple[float, ...]]:
    """Per setting: how often a true drop of `points` on one suite is found, its mean MDE and
    the mean observed drop."""
    out = {}
    for correction, compare in POWER_SETTINGS:
        rng = np.random.default_rng(seed)
        found, mdes, true_drop = 0, [], []
        for _ in range(runs):
            rows = simulate_rows(rng, items, drop=("base-sft", "legal", points))
            comparisons, _ = verdicts(rows, correction, compare)
            c = next(
                c
                for c in comparisons
                if (c["baseline"], c["candidate"], c["suite"], c["metric"])
                == ("base", "base-sft", "legal", "score")
            )
            found += c["significant"] and c["difference"] < 0
            mdes.append(c["mde"])
            true_drop.append(c["difference"])
        family = len(comparisons)
        name = f"{correction} ({family} comparisons)"
        out[name] = (found / runs, float(np.mean(mdes)), float(np.mean(true_drop)))
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--items", type=int, default=200, help="items per suite (null runs)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    began = time.perf_counter()
    rows = simulate_rows(np.random.default_rng(args.seed), args.items)
    n_comparisons = len(verdicts(rows, "holm")[0])
    print(
        f"false alarms: {args.runs} simulated runs of 6 identical models x 4 suites, "
        f"{args.items} items per suite, {n_comparisons} comparisons per run, alpha 0.05"
    )
    print(
        "| correction | runs with >=1 significant | runs failing the gate | significant per run |"
    )
    print("|---|---|---|---|")
    for correction, (any_sig, gate, mean) in null_rates(args.runs, args.items, args.seed).items():
        print(f"| {correction} | {any_sig:.1%} | {gate:.1%} | {mean:.2f} |")
    print()
    print("power: one SFT checkpoint truly 5 points worse on one suite's score (all its items)")
    print("| items per suite | correction (family) | detected | mean MDE | mean observed drop |")
    print("|---|---|---|---|---|")
    for items in (200, 1000):
        for correction, (found, mde, drop) in power(args.runs, items, args.seed).items():
            print(f"| {items} | {correction} | {found:.1%} | {mde:.3f} | {drop:+.3f} |")
    print(f"\n({time.perf_counter() - began:.0f} s)")


if __name__ == "__main__":
    main()
