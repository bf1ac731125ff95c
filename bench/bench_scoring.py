"""Benchmark scoring: 100,000 items of mixed task types (two models × the built-in suites,
repeated), from stored generations to results.jsonl and summary.json.

Run: python bench/bench_scoring.py [--items 100000] [--resamples 1000]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1] / "tests"))

from run_folders import write_run_folder

from evalkit.scoring import score_run
from evalkit.suite.draft import SuiteDraft
from evalkit.suite.items import ItemBase
from evalkit.suite.records import LocatedItem
from evalkit.suite.store import SuiteStore, SuiteVersion

REPO = Path(__file__).parents[1]


def build(root: Path, n_items: int) -> Path:
    """A suite of `n_items / 2` test items (copies of legal's, new ids) and a 2-model run."""
    legal = SuiteStore(REPO / "suites").load("legal")
    tests = [i for i in legal.items if i.split == "test"]
    dev = [i for i in legal.items if i.split == "dev"]
    per_model = n_items // 2
    copies = [
        tests[k % len(tests)].model_copy(update={"id": f"{tests[k % len(tests)].id}-{k}"})
        for k in range(per_model)
    ]
    draft = SuiteDraft(legal.spec, tuple(LocatedItem(i, "-") for i in [*dev, *copies]))
    version = SuiteStore(root / "suites").publish(draft, author="bench", changelog="bench")
    models = [
        {"name": "base", "kind": "base", "stage": "base", "starting_point": None},
        {"name": "sft", "kind": "sft", "stage": "base→sft", "starting_point": "base"},
    ]
    share = {"base": 3, "sft": 2}

    def output(model: str, _version: SuiteVersion, item: ItemBase, k: int) -> str:
        text = item.reference_texts()[0] if k % share[model] else "not sure"
        if item.task in ("generation", "dialogue", "qa"):
            text += f" ({model} {k})"  # every output unique: no cache can profit from copies
        return text

    return write_run_folder(root / "run", root / "suites", [version], models, output)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--resamples", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        run = build(Path(tmp), args.items)
        began = time.perf_counter()
        score_run(run, resamples=args.resamples)
        seconds = time.perf_counter() - began
        size = (run / "results.jsonl").stat().st_size + (run / "summary.json").stat().st_size
    print(
        f"scoring benchmark: {args.items} model x item rows (mixed task types), "
        f"{args.resamples} bootstrap resamples"
    )
    print(f"  score_run wall time {seconds:8.2f} s  ({args.items / seconds:,.0f} rows/s)")
    print(f"  files written       {size / 1e6:8.1f} MB")


if __name__ == "__main__":
    main()
