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
import tempfile
from pathlib import Path
from typing import Any

from evalkit.errors import UsageError
from evalkit.judging.expert import ExpertRatings, load_ratings
from evalkit.memory import collector_paused
from evalkit.scoring.config import ScoringConfig
from evalkit.scoring.estimates import subset_estimates
from evalkit.scoring.gate import check_gate, regressions
from evalkit.scoring.items import MetricPlan, Units, plan_metrics
from evalkit.scoring.model_scores import ModelScores, score_model
from evalkit.scoring.run_folder import (
    RESULTS_FILE,
    SUMMARY_FILE,
    join_atomically,
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
    "check_settings",
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


def check_settings(
    models: list[dict[str, Any]],
    versions: dict[str, SuiteVersion],
    config: ScoringConfig,
    baseline: str | None,
) -> dict[str, str]:
    """Check the settings that depend on the run's models and suites (baseline, starting
    models, cluster key) and return each suite's resampling unit. `evalkit run` calls this
    before generating anything, so a bad setting costs no engine time."""
    choose_baseline(models, baseline)
    resolve_starting_models(models, config.starting_model)
    return resolve_clustering(versions, config.cluster_by)


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


def _score_model(task: tuple[str, Path]) -> ModelScores:
    model, results = task
    versions, plan, units, config, resamples, seed, ratings = _SHARED["arguments"]
    return score_model(
        _SHARED["run_dir"], model, versions, plan, units, config, resamples, seed, results, ratings
    )


def score_models(
    run_dir: Path,
    models: list[str],
    versions: dict[str, SuiteVersion],
    plan: MetricPlan,
    units: Units,
    config: ScoringConfig,
    resamples: int,
    seed: int,
    work_dir: Path,
    ratings: ExpertRatings | None = None,
) -> list[ModelScores]:
    """Score each model, in parallel processes where the platform can fork; each writes its
    rows into `work_dir`."""
    import multiprocessing
    import os

    _SHARED.update(
        run_dir=run_dir, arguments=(versions, plan, units, config, resamples, seed, ratings)
    )
    tasks = [(model, work_dir / f"{k}.jsonl") for k, model in enumerate(models)]
    workers = min(len(models), os.cpu_count() or 1)
    if workers > 1 and "fork" in multiprocessing.get_all_start_methods():
        from concurrent.futures import ProcessPoolExecutor

        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            return list(pool.map(_score_model, tasks))
    return [_score_model(task) for task in tasks]


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
    with collector_paused():  # rows and records hold no cycles (see evalkit.memory)
        return _score_run(run_dir, suites_dir, baseline, resamples, seed, config)


def _score_run(
    run_dir: Path,
    suites_dir: Path | None,
    baseline: str | None,
    resamples: int,
    seed: int,
    config: ScoringConfig | None,
) -> dict[str, Any]:
    manifest, versions = load_run(run_dir, suites_dir)
    config = config or ScoringConfig(**recorded_scoring(manifest))
    clustering = check_settings(manifest["models"], versions, config, baseline)
    ratings = load_ratings(config.ratings, manifest, versions) if config.ratings else None
    names = [m["name"] for m in manifest["models"]]
    plan = plan_metrics(versions, config)
    with tempfile.TemporaryDirectory(prefix=".scoring-", dir=run_dir) as work:
        parts = score_models(
            run_dir,
            names,
            versions,
            plan,
            Units(clustering),
            config,
            resamples,
            seed,
            Path(work),
            ratings,
        )
        notes = _cluster_notes(versions, clustering)
        dev = sum(part.dev_rows for part in parts)
        if dev:
            notes.append(f"{dev} generations of dev (few-shot) items were left out of scoring")
        summary = summarize(
            parts,
            manifest,
            versions=versions,
            ratings=ratings,
            baseline=baseline,
            resamples=resamples,
            seed=seed,
            config=config,
            clustering=clustering,
            notes=notes,
        )
        join_atomically(run_dir / RESULTS_FILE, [part.results for part in parts])
    estimates = subset_estimates(run_dir, versions)
    if estimates:
        summary["estimates"] = estimates
        summary["notes"].append(
            f"{estimates[0]['suite']}: run on {estimates[0]['k']} anchor items of "
            f"{estimates[0]['total_items']}; its scores are of those items only (see the "
            "estimated full-suite scores)"
        )
    write_atomically(
        run_dir / SUMMARY_FILE, iter([json.dumps(summary, ensure_ascii=False, indent=2)])
    )
    return summary
