"""Report size and build/load time for a large run: 10 models × N items (default 10,000).

    python bench/bench_report.py [--items 10000] [--models 10] [--browser]

Builds a scored run folder with synthetic outputs on the built-in suites' items (repeated to
N), writes the report, and with --browser opens it in Debian's chromium and times until the
item table is ready and a filter applies.
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1] / "tests"))

from run_folders import write_run_folder

from evalkit.report import write_report
from evalkit.scoring import score_run
from evalkit.suite.draft import SuiteDraft
from evalkit.suite.records import LocatedItem
from evalkit.suite.store import SuiteStore, SuiteVersion

ROOT = Path(__file__).parents[1]


def synthetic_suite(root: Path, n: int) -> SuiteVersion:
    """`n` QA items (EN and ZH) cycled from legal's, under new ids, published unchecked."""
    legal = SuiteStore(ROOT / "suites").load("legal")
    qa = [i for i in legal.items if i.task == "qa"]
    located = []
    for k in range(n):
        source = qa[k % len(qa)]
        split = "dev" if k < 10 else "test"
        item = source.model_copy(update={"id": f"bench-{k:05d}", "split": split})
        located.append(LocatedItem(item=item, where=f"bench:{k + 1}"))
    spec = legal.spec.model_copy(update={"name": "bench", "tasks": {"qa": legal.spec.tasks["qa"]}})
    return SuiteStore(root).publish(
        SuiteDraft(spec=spec, items=tuple(located)), author="bench", changelog="synthetic"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--models", type=int, default=10)
    parser.add_argument("--browser", action="store_true")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp())
    version = synthetic_suite(work / "suites", args.items)
    items = [i for i in version.items if i.split == "test"]
    models = [
        {"name": f"model-{k}", "kind": kind, "stage": kind, "starting_point": None}
        for k, kind in enumerate(["base"] + ["chat"] * (args.models - 1))
    ]
    rng = random.Random(0)
    run = write_run_folder(
        work / "run",
        work / "suites",
        [version],
        models,
        lambda _m, _v, item, _k: (
            item.reference_texts()[0] if rng.random() < 0.6 else "I am not sure."
        ),
    )
    began = time.perf_counter()
    score_run(run, resamples=200)
    scored = time.perf_counter()
    path = write_report(run)
    built = time.perf_counter()
    print(
        f"{len(models)} models x {len(items)} items: score {scored - began:.1f} s, "
        f"report {built - scored:.1f} s, {path.stat().st_size / 1e6:.1f} MB"
    )
    if args.browser:
        from browser import BROWSER_ARGS, CHROMIUM
        from playwright.sync_api import sync_playwright

        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
            page = browser.new_page()
            start = time.perf_counter()
            page.goto(path.as_uri())
            page.wait_for_selector(
                "body[data-items-ready='true']", state="attached", timeout=120_000
            )
            ready = time.perf_counter()
            page.select_option("#filter-task", "qa")
            filtered = time.perf_counter()
            print(f"browser: table ready {ready - start:.1f} s, filter {filtered - ready:.2f} s")
            browser.close()
    shutil.rmtree(work)


if __name__ == "__main__":
    main()
