"""Scoring a run: stored generations → per-item metrics → aggregates, CIs and comparisons.

Reads only the run folder (and the published suites it names), so a run can be re-scored
after a metric or format spec changes without touching an engine. Writes `results.jsonl`
(one row per model × item) and `summary.json`, both only when scoring succeeded.

The package, one idea per module: `config` (the scoring keys), `run_folder` (reading a run),
`items` (per-item metrics), `corpus` (BLEU, chrF, F1 over a task), `table` (rows as arrays),
`aggregate` (means and intervals, the headline), `comparisons` (paired tests, the corrected
family, power), `power` (a suite's MDE before running), `starting_points` (SFT gain and
forgetting), `breakdowns` (labels, fields, unreadable answers), `gate`, `summary`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from evalkit.errors import UsageError
from evalkit.scoring.config import ScoringConfig
from evalkit.scoring.corpus import corpus_metrics
from evalkit.scoring.gate import check_gate, regressions
from evalkit.scoring.items import MetricPlan, Units, plan_metrics, score_model_rows
from evalkit.scoring.run_folder import (
    RESULTS_FILE,
    SUMMARY_FILE,
    load_run,
    read_manifest,
    recorded_scoring,
    write_atomically,
)
from evalkit.scoring.starting_points import is_general_suite, resolve_starting_models
from evalkit.scoring.summary import choose_baseline, summarize, summary_lines
from evalkit.stats import DEFAULT_RESAMPLES
from evalkit.suite.store import SuiteVersion

__all__ = [
    "RESULTS_FILE",
    "SUMMARY_FILE",
    "ScoringConfig",
    "check_gate",
    "is_general_suite",
    "load_run",
    "read_manifest",
    "recorded_scoring",
    "regressions",
    "score_run",
    "summary_lines",
]

MIN_UNITS = 10  # fewer clusters than this: a cluster-robust interval is unreliable


def resolve_clustering(versions: dict[str, SuiteVersion], cluster_by: str) -> dict[str, str]:
    """Suite ref → its resampling unit (item, group or source), checked against the items."""
    key = {"group": lambda i: i.group, "source": lambda i: i.provenance.source}
    has = {
        name: {ref: any(f(i) for i in v.items if i.split == "test") for ref, v in versions.items()}
        for name, f in key.items()
    }
    if cluster_by in key and not any(has[cluster_by].values()):
        field = "group" if cluster_by == "group" else "provenance.source"
        raise UsageError(
            f"cluster_by={cluster_by}: no test item of {', '.join(versions)} has a {field}"
        )
    if cluster_by == "auto":
        return {ref: "group" if has["group"][ref] else "item" for ref in versions}
    return {
        ref: cluster_by if cluster_by == "item" or has[cluster_by][ref] else "item"
        for ref in versions
    }


def _cluster_notes(versions: dict[str, SuiteVersion], clustering: dict[str, str]) -> list[str]:
    units = Units(clustering)
    notes = []
    for ref, mode in clustering.items():
        if mode == "item":
            continue
        count = len({units.unit(ref, i) for i in versions[ref].items if i.split == "test"})
        notes.append(f"{ref}: items resampled in {count} clusters ({mode})")
        if count < MIN_UNITS:
            notes.append(f"{ref}: only {count} clusters; its intervals and tests are unreliable")
    return notes


# Set in the parent before forking workers, so that children share the loaded suites.
_SHARED: dict[str, Any] = {}


def _score_model(model: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]], int]:
    """Item rows, corpus metrics and the dev-row count of one model."""
    run_dir, versions, plan, units, resamples, seed, alpha = (
        _SHARED[k] for k in ("run_dir", "versions", "plan", "units", "resamples", "seed", "alpha")
    )
    rows, dev = score_model_rows(run_dir, model, versions, plan, units)
    return rows, corpus_metrics(rows, versions, plan, resamples, seed, alpha), dev


def score_models(
    run_dir: Path,
    models: list[str],
    versions: dict[str, SuiteVersion],
    plan: MetricPlan,
    units: Units,
    resamples: int,
    seed: int,
    alpha: float,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], int]:
    """Score each model, in parallel processes where the platform can fork."""
    import multiprocessing
    import os

    _SHARED.update(
        run_dir=run_dir,
        versions=versions,
        plan=plan,
        units=units,
        resamples=resamples,
        seed=seed,
        alpha=alpha,
    )
    workers = min(len(models), os.cpu_count() or 1)
    if workers > 1 and "fork" in multiprocessing.get_all_start_methods():
        from concurrent.futures import ProcessPoolExecutor

        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            parts = list(pool.map(_score_model, models))
    else:
        parts = [_score_model(model) for model in models]
    rows = [r for part in parts for r in part[0]]
    corpus = [c for part in parts for c in part[1]]
    return rows, corpus, sum(part[2] for part in parts)


def score_run(
    run_dir: Path,
    suites_dir: Path | None = None,
    baseline: str | None = None,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = 0,
    config: ScoringConfig | None = None,
) -> dict[str, Any]:
    """Score a run folder and write results.jsonl and summary.json into it.

    Without `config`, the run is scored with the scoring keys it recorded. Every setting is
    checked against the run before any scoring, and nothing is written unless all succeeds.
    """
    manifest, versions = load_run(run_dir, suites_dir)
    config = config or ScoringConfig(**recorded_scoring(manifest))
    choose_baseline(manifest["models"], baseline)
    resolve_starting_models(manifest["models"], config.starting_model)
    clustering = resolve_clustering(versions, config.cluster_by)
    names = [m["name"] for m in manifest["models"]]
    plan = plan_metrics(versions, config)
    rows, corpus, dev = score_models(
        run_dir, names, versions, plan, Units(clustering), resamples, seed, config.alpha
    )
    notes = _cluster_notes(versions, clustering)
    if dev:
        notes.append(f"{dev} generations of dev (few-shot) items were left out of scoring")
    summary = summarize(
        rows,
        manifest,
        versions,
        corpus,
        baseline=baseline,
        resamples=resamples,
        seed=seed,
        config=config,
        clustering=clustering,
        notes=notes,
    )
    write_atomically(
        run_dir / RESULTS_FILE, (json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
    )
    write_atomically(
        run_dir / SUMMARY_FILE, iter([json.dumps(summary, ensure_ascii=False, indent=2)])
    )
    return summary
