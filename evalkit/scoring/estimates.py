"""Full-suite estimates of a run limited to an anchor subset (`evalkit run ... subset=FILE`).

The run folder holds the subset it ran (`subset.json`); its models' anchor results give each
an estimated share right on the whole suite (evalkit.analysis.subset), always reported with
the subset's leave-one-model-out error and never in place of a measured score.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from evalkit.scoring.run_folder import RESULTS_FILE, SUBSET_FILE
from evalkit.suite.store import SuiteVersion


def subset_estimates(run_dir: Path, versions: dict[str, SuiteVersion]) -> list[dict[str, Any]]:
    """Per model, the estimated full-suite share right from its scored rows (results.jsonl,
    just written) on the anchors; empty when the run was not limited to a subset."""
    path = run_dir / SUBSET_FILE
    if not path.is_file():
        return []
    import json

    from evalkit.analysis.subset import read_subset

    subset = read_subset(path, setting=str(path))
    if subset.suite not in versions:
        return []
    by_model: dict[str, dict[str, float]] = {}
    lines = (run_dir / RESULTS_FILE).read_text(encoding="utf-8").splitlines()
    for row in (json.loads(line) for line in lines if line.strip()):
        if row["suite"] != subset.suite or row.get("error") or row.get("score") is None:
            continue
        if row["item_id"] in subset.anchors:
            by_model.setdefault(row["model"], {})[row["item_id"]] = float(row["score"] >= 0.5)
    return [
        {
            "model": model,
            "suite": subset.suite,
            "estimate": subset.estimate(responses),
            "anchors_answered": len(responses),
            "k": subset.k,
            "total_items": subset.total_items,
            "mae": subset.mae,
            "random_mae": subset.random_mae,
            "better_than_random": subset.better_than_random,
        }
        for model, responses in by_model.items()
    ]


def estimate_lines(estimates: list[dict[str, Any]]) -> list[str]:
    """The terminal lines: clearly estimates, with their validated error."""
    lines = []
    for e in estimates:
        line = (
            f"{e['model']:<16} {e['suite']:<18} ESTIMATED full-suite share right "
            f"{e['estimate']:.3f} (from {e['anchors_answered']} of {e['total_items']} items; "
            f"leave-one-model-out error {e['mae']:.3f}, {e['k']} random items "
            f"{e['random_mae']:.3f})"
        )
        if not e["better_than_random"]:
            line += "; no better than random items"
        lines.append(line)
    return lines
