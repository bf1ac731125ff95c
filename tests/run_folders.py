"""A run folder as `evalkit run` leaves it, written without an engine.

For the scoring and report tests and the benchmarks: `manifest.json` with the suites and
models, and per model and suite the generations of every test item.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from evalkit.runner.run import generations_path
from evalkit.suite.items import ItemBase
from evalkit.suite.store import SuiteVersion

# output(model name, suite version, test item, its index among the suite's test items)
OutputFor = Callable[[str, SuiteVersion, ItemBase, int], str]


def write_run_folder(
    run: Path,
    suites_dir: Path,
    versions: Sequence[SuiteVersion],
    models: Sequence[dict[str, Any]],
    output: OutputFor,
    *,
    content_hash: str | None = None,
    environment: dict[str, Any] | None = None,
) -> Path:
    """Write the run; `models` are manifest records (name, kind, stage, starting_point...).

    `content_hash` replaces every suite's recorded hash (to test a changed suite).
    """
    manifest: dict[str, Any] = {
        "run_id": run.name,
        "config": {"suites_dir": str(suites_dir)},
        "suites": [
            {
                "name": v.name,
                "version": v.version,
                "content_hash": content_hash or v.manifest.content_hash,
            }
            for v in versions
        ],
        "models": [
            {"baseline": None, "path": f"/models/{m['name']}", "fingerprint": "sha256:x", **m}
            for m in models
        ],
    }
    if environment is not None:
        manifest["environment"] = environment
    run.mkdir(parents=True)
    (run / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    for m in models:
        for version in versions:
            path = generations_path(run, m["name"], version.ref)
            path.parent.mkdir(parents=True, exist_ok=True)
            tests = [i for i in version.items if i.split == "test"]
            with path.open("w", encoding="utf-8") as f:
                for k, item in enumerate(tests):
                    text = output(m["name"], version, item, k)
                    row = {"item_id": item.id, "task": item.task, "output": text}
                    f.write(json.dumps(row, ensure_ascii=False) + "\n")
    return run
