"""Scoring a run: stored generations → per-item metrics → aggregates, CIs and comparisons.

Reads only the run folder (and the published suites it names), so a run can be re-scored
after a metric or format spec changes without touching an engine. Writes `results.jsonl`
(one row per model × item) and `summary.json`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from evalkit.errors import EvalkitError, IntegrityError, NotFoundError
from evalkit.metrics.builtin import gold_label
from evalkit.metrics.registry import CorpusStatistics, Metric, get_metric
from evalkit.metrics.selection import ScoringConfig
from evalkit.stats import (
    DEFAULT_RESAMPLES,
    Estimate,
    bootstrap_ci,
    mcnemar_exact,
    paired_bootstrap,
)
from evalkit.suite.items import ItemBase
from evalkit.suite.store import SuiteStore, SuiteVersion

RESULTS_FILE = "results.jsonl"
SUMMARY_FILE = "summary.json"
GENERAL_SUITE = "general"


def is_general_suite(name: str) -> bool:
    """`general`, or a suite named `<something>-general`: the forgetting control."""
    return name == GENERAL_SUITE or name.endswith("-" + GENERAL_SUITE)


# Metrics whose per-item values are right/wrong: compared with McNemar's exact test.
BINARY_METRICS = frozenset({"accuracy", "exact_match", "format_adherence", "ll_accuracy"})
# The item-level score that stands for an item when a task's chosen metrics are all
# corpus-level (BLEU, macro F1) and so give no per-item value.
_FALLBACK_ITEM_SCORE = {
    "mcq": "accuracy",
    "classification": "accuracy",
    "extraction": "field_f1",
    "qa": "token_f1",
    "generation": "sentence_chrf",
    "dialogue": "sentence_chrf",
}
# Computed for every item of a task whatever the suite lists: format adherence wherever an
# item has a format spec, the language check for free text, and sentence chrF so that every
# free-text item has a graded value in results.jsonl (BLEU is corpus-level).
_ALWAYS = {
    "mcq": ("format_adherence",),
    "classification": ("format_adherence",),
    "extraction": ("format_adherence",),
    "qa": ("format_adherence", "language_match"),
    "generation": ("sentence_chrf", "format_adherence", "language_match"),
    "dialogue": ("sentence_chrf", "format_adherence", "language_match"),
}


@dataclass(frozen=True)
class TaskMetrics:
    """The metrics one task of one suite is scored with in this run."""

    item: tuple[Metric, ...]
    corpus: tuple[Metric, ...]
    options: dict[str, dict[str, Any]]  # keyword options per metric name

    @property
    def primary(self) -> str:
        """The metric that is an item's single score: the first item-level one."""
        return self.item[0].name


MetricPlan = dict[tuple[str, str], TaskMetrics]  # (suite ref, task) → its metrics


def plan_metrics(versions: dict[str, SuiteVersion], config: ScoringConfig) -> MetricPlan:
    """The metrics of every task of every suite in the run, resolved once."""
    return {
        (ref, task): task_metrics(version, task, config)
        for ref, version in versions.items()
        for task in version.spec.tasks
    }


def task_metrics(version: SuiteVersion, task: str, config: ScoringConfig) -> TaskMetrics:
    """A task's metrics: the run's choice or the suite's, plus the per-item score they need."""
    names = config.metric_names(task, version.spec.tasks[task].metrics)  # type: ignore[index]
    chosen = [get_metric(n) for n in names]
    item = [m for m in chosen if m.kind == "item"]
    extra = [*([] if item else [_FALLBACK_ITEM_SCORE[task]]), *_ALWAYS.get(task, ())]
    item += [get_metric(n) for n in dict.fromkeys(extra) if n not in names]
    return TaskMetrics(
        item=tuple(item),
        corpus=tuple(m for m in chosen if m.kind == "corpus"),
        options={m.name: config.options_for(m.options) for m in chosen + item if m.options},
    )


def score_item(item: ItemBase, generation: dict[str, Any], metrics: TaskMetrics) -> dict[str, Any]:
    """Every item-level metric of the item's task for one model's output."""
    values: dict[str, float | None] = {}
    if "output" in generation:
        for m in metrics.item:
            values[m.name] = m.fn(item, generation["output"], **metrics.options.get(m.name, {}))
    options = generation.get("option_logprobs")
    if options:
        best = max(options, key=lambda o: options[o]["logprob"])
        values["ll_accuracy"] = float(best == gold_label(item))
    primary = metrics.primary if "output" in generation else "ll_accuracy"
    return {"metrics": values, "score": values.get(primary), "score_metric": primary}


def recorded_scoring(manifest: dict[str, Any]) -> dict[str, Any]:
    """The scoring keys a run was configured with (none in runs older than them)."""
    return {k: manifest["config"][k] for k in ScoringConfig.model_fields if k in manifest["config"]}


def read_manifest(run_dir: Path) -> dict[str, Any]:
    path = run_dir / "manifest.json"
    if not path.is_file():
        raise NotFoundError(f"{run_dir}: not a run folder (no manifest.json)")
    return json.loads(path.read_text(encoding="utf-8"))


def load_run(
    run_dir: Path, suites_dir: Path | None
) -> tuple[dict[str, Any], dict[str, SuiteVersion]]:
    manifest = read_manifest(run_dir)
    store = SuiteStore(suites_dir or manifest["config"]["suites_dir"])
    versions = {}
    for s in manifest["suites"]:
        version = store.load(f"{s['name']}@{s['version']}")
        if version.manifest.content_hash != s["content_hash"]:
            raise IntegrityError(
                f"{version.ref} in {store.root} is not the version this run used "
                f"(hash {version.manifest.content_hash[:19]}..., run {s['content_hash'][:19]}...)"
            )
        versions[version.ref] = version
    return manifest, versions


def score_model_rows(
    run_dir: Path, model: str, versions: dict[str, SuiteVersion], plan: MetricPlan
) -> list[dict[str, Any]]:
    """Every item metric of one model's outputs on every suite of the run."""
    from evalkit.runner.run import generations_path

    rows = []
    for ref, version in versions.items():
        path = generations_path(run_dir, model, ref)
        if not path.is_file():
            raise NotFoundError(f"{path}: generations missing from the run folder")
        for line in path.read_text(encoding="utf-8").splitlines():
            generation = json.loads(line)
            item = version.by_id.get(generation["item_id"])
            if item is None:
                raise IntegrityError(f"{path}: item {generation['item_id']!r} is not in {ref}")
            rows.append(
                {
                    "model": model,
                    "suite": ref,
                    "item_id": item.id,
                    "task": item.task,
                    "language": item.language,
                    "tags": list(item.tags),
                    "output": generation.get("output"),
                    **score_item(item, generation, plan[ref, item.task]),
                }
            )
    return rows


# Set in the parent before forking workers, so that children share the loaded suites.
_SHARED: dict[str, Any] = {}


def _score_model(model: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Item rows and corpus metrics of one model: the part of scoring that grows with items."""
    run_dir, versions, plan, resamples, seed = (
        _SHARED["run_dir"],
        _SHARED["versions"],
        _SHARED["plan"],
        _SHARED["resamples"],
        _SHARED["seed"],
    )
    rows = score_model_rows(run_dir, model, versions, plan)
    return rows, _corpus(rows, versions, plan, resamples, seed)


def score_models(
    run_dir: Path,
    models: list[str],
    versions: dict[str, SuiteVersion],
    plan: MetricPlan,
    resamples: int,
    seed: int,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Score each model, in parallel processes where the platform can fork."""
    import multiprocessing
    import os

    _SHARED.update(run_dir=run_dir, versions=versions, plan=plan, resamples=resamples, seed=seed)
    workers = min(len(models), os.cpu_count() or 1)
    if workers > 1 and "fork" in multiprocessing.get_all_start_methods():
        from concurrent.futures import ProcessPoolExecutor

        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            parts = list(pool.map(_score_model, models))
    else:
        parts = [_score_model(model) for model in models]
    return [r for rows, _ in parts for r in rows], [c for _, corpus in parts for c in corpus]


def _estimate(e: Estimate) -> dict[str, float | int]:
    return {"value": e.value, "low": e.low, "high": e.high, "n": e.n}


def _aggregate(
    rows: list[dict[str, Any]], keys: tuple[str, ...], resamples: int, seed: int
) -> list[dict[str, Any]]:
    """Mean and CI of every item metric, and of the item score, per group of `keys`."""
    groups: dict[tuple[Any, ...], dict[str, list[float]]] = {}
    for row in rows:
        tag_values = row["tags"] if "tag" in keys else [None]
        for tag in tag_values:
            key = tuple(tag if k == "tag" else row[k] for k in keys)
            bucket = groups.setdefault(key, {})
            for name, value in [*row["metrics"].items(), ("score", row["score"])]:
                bucket.setdefault(name, []).append(np.nan if value is None else value)
    out = []
    for key, metrics in sorted(groups.items(), key=lambda kv: tuple(str(k) for k in kv[0])):
        out.append(
            {
                **dict(zip(keys, key, strict=True)),
                "metrics": {  # a metric that applies to none of the group's items is left out
                    name: _estimate(bootstrap_ci(np.array(v), resamples, seed))
                    for name, v in metrics.items()
                    if not np.isnan(v).all()
                },
            }
        )
    return out


def label_report(
    rows: list[dict[str, Any]], versions: dict[str, SuiteVersion]
) -> list[dict[str, Any]]:
    """Per-label precision, recall, F1 and support (scikit-learn) for choice tasks, then the
    micro and macro averages over the gold labels as labels "(micro)" and "(macro)"."""
    from sklearn.metrics import precision_recall_fscore_support

    from evalkit.metrics.builtin import predicted_label

    groups: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for r in rows:
        if r["task"] in ("mcq", "classification") and r["output"] is not None:
            groups.setdefault((r["model"], r["suite"], r["task"]), []).append(r)
    out = []
    for (model, suite, task), members in sorted(groups.items()):
        items = [versions[suite].by_id[r["item_id"]] for r in members]
        gold = [gold_label(i) for i in items]
        predicted = [
            predicted_label(i, r["output"]) or "<none>" for i, r in zip(items, members, strict=True)
        ]
        labels = sorted(set(gold))
        p, rec, f1, support = precision_recall_fscore_support(
            gold, predicted, labels=labels, zero_division=0
        )
        rows_out = [(label, p[k], rec[k], f1[k], support[k]) for k, label in enumerate(labels)]
        for average in ("micro", "macro"):
            p_avg, rec_avg, f1_avg, _ = precision_recall_fscore_support(
                gold, predicted, labels=labels, average=average, zero_division=0
            )
            rows_out.append((f"({average})", p_avg, rec_avg, f1_avg, len(gold)))
        out += [
            {
                "model": model,
                "suite": suite,
                "task": task,
                "label": label,
                "precision": float(precision),
                "recall": float(recall),
                "f1": float(f1_value),
                "support": int(n),
            }
            for label, precision, recall, f1_value, n in rows_out
        ]
    return out


def field_report(
    rows: list[dict[str, Any]], versions: dict[str, SuiteVersion]
) -> list[dict[str, Any]]:
    """Per-field precision, recall and F1 for extraction, over all items that have the field,
    then field "(micro)": all fields of all items, unrequested predicted fields included."""
    from evalkit.metrics.builtin import (
        f1_from_counts,
        field_counts,
        field_outcomes,
        predicted_fields,
    )

    counts: dict[tuple[str, str, str], list[int]] = {}

    def add(key: tuple[str, str, str], outcome: tuple[int, int, int]) -> None:
        totals = counts.setdefault(key, [0, 0, 0])
        for k in range(3):
            totals[k] += outcome[k]

    for r in rows:
        if r["task"] != "extraction" or r["output"] is None:
            continue
        item = versions[r["suite"]].by_id[r["item_id"]]
        predicted = predicted_fields(r["output"])  # parsed once for both counts
        for name, outcome in field_outcomes(item, predicted).items():  # type: ignore[arg-type]
            add((r["model"], r["suite"], name), outcome)
        add((r["model"], r["suite"], "(micro)"), field_counts(item, predicted))  # type: ignore[arg-type]
    out = []
    for (model, suite, name), (tp, fp, fn) in sorted(counts.items()):
        out.append(
            {
                "model": model,
                "suite": suite,
                "field": name,
                "precision": tp / (tp + fp) if tp + fp else 0.0,
                "recall": tp / (tp + fn) if tp + fn else 0.0,
                "f1": f1_from_counts(tp, fp, fn),
                "support": tp + fn,
            }
        )
    return out


def corpus_ci(statistics: CorpusStatistics, resamples: int, seed: int) -> tuple[float, float]:
    """Percentile interval of a corpus metric: each resample sums resampled items' statistics."""
    n = len(statistics.stats)
    rng = np.random.default_rng(seed)
    scores = []
    for start in range(0, resamples, 200):
        counts = rng.multinomial(n, np.full(n, 1 / n), size=min(200, resamples - start))
        scores.extend(statistics.reduce(summed) for summed in counts @ statistics.stats)
    low, high = np.quantile(scores, [0.025, 0.975])
    return float(low), float(high)


def _corpus(
    rows: list[dict[str, Any]],
    versions: dict[str, SuiteVersion],
    plan: MetricPlan,
    resamples: int,
    seed: int,
) -> list[dict[str, Any]]:
    """Corpus-level metrics (BLEU, chrF, macro F1) per model × suite × task, with CIs."""
    groups: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for row in rows:
        if row["output"] is not None:
            groups.setdefault((row["model"], row["suite"], row["task"]), []).append(row)
    out = []
    for (model, suite, task), members in sorted(groups.items()):
        version = versions[suite]
        items = [version.by_id[r["item_id"]] for r in members]
        outputs = [r["output"] for r in members]
        metrics = plan[suite, task]
        for m in metrics.corpus:
            name = m.name
            statistics = m.fn(items, outputs, **metrics.options.get(name, {}))
            low, high = corpus_ci(statistics, resamples, seed)
            out.append(
                {
                    "model": model,
                    "suite": suite,
                    "task": task,
                    "metric": name,
                    "value": statistics.value,
                    "signature": statistics.signature,
                    "low": float(low),
                    "high": float(high),
                    "n": len(items),
                }
            )
    return out


def _paired(
    index: dict[tuple[str, str], list[dict[str, Any]]],
    base: str,
    cand: str,
    suite: str,
    metric: str,
    resamples: int,
    seed: int,
) -> dict[str, Any] | None:
    def values(model: str) -> dict[str, float]:
        out = {}
        for r in index.get((model, suite), []):
            v = r["score"] if metric == "score" else r["metrics"].get(metric)
            if v is not None:
                out[r["item_id"]] = v
        return out

    a, b = values(base), values(cand)
    common = sorted(a.keys() & b.keys())
    if not common:
        return None
    va, vb = np.array([a[i] for i in common]), np.array([b[i] for i in common])
    cmp = paired_bootstrap(va, vb, resamples, seed)
    result = {
        "baseline": base,
        "candidate": cand,
        "suite": suite,
        "metric": metric,
        "difference": cmp.difference,
        "low": cmp.low,
        "high": cmp.high,
        "n": cmp.n,
        "p_value": cmp.p_value,
        "test": cmp.test,
    }
    if metric in BINARY_METRICS:
        result["p_value"] = mcnemar_exact(va > 0.5, vb > 0.5)
        result["test"] = "McNemar exact"
    result["significant"] = result["p_value"] < 0.05
    return result


def choose_baseline(models: list[dict[str, Any]], requested: str | None) -> str:
    names = [m["name"] for m in models]
    if requested is not None:
        if requested not in names:
            raise EvalkitError(
                f"baseline {requested!r} is not a model of this run ({', '.join(names)})"
            )
        return requested
    return next((m["name"] for m in models if m["kind"] == "base"), names[0])


def _metric_names(rows: Iterable[dict[str, Any]]) -> list[str]:
    return sorted({name for r in rows for name in r["metrics"]} | {"score"})


def _starting_points(
    models: list[dict[str, Any]], comparisons: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """For each SFT checkpoint: gain over its starting model on domain suites, change on general."""
    by_stage: dict[str, list[str]] = {}
    for m in models:
        by_stage.setdefault(m["stage"], []).append(m["name"])
    out = []
    for m in models:
        if m["kind"] != "sft":
            continue
        start = m.get("baseline") or (by_stage.get(m["starting_point"]) or [None])[0]
        if start is None:
            continue
        for c in comparisons:
            if c["baseline"] == start and c["candidate"] == m["name"] and c["metric"] == "score":
                general = is_general_suite(c["suite"].split("@")[0])
                out.append(
                    {
                        "model": m["name"],
                        "stage": m["stage"],
                        "starting_model": start,
                        "suite": c["suite"],
                        "role": "general" if general else "domain",
                        **{
                            k: c[k] for k in ("difference", "low", "high", "p_value", "significant")
                        },
                    }
                )
    return out


def summarize(
    rows: list[dict[str, Any]],
    manifest: dict[str, Any],
    versions: dict[str, SuiteVersion],
    baseline: str | None,
    resamples: int,
    seed: int,
    corpus: list[dict[str, Any]],
    config: ScoringConfig,
) -> dict[str, Any]:
    models = manifest["models"]
    base = choose_baseline(models, baseline)
    comparisons = []
    pairs = {(base, m["name"]) for m in models if m["name"] != base}
    names = {m["name"] for m in models}
    pairs |= {(m["baseline"], m["name"]) for m in models if m.get("baseline") in names}
    for m in models:  # each SFT checkpoint against its starting model
        if m["kind"] == "sft":
            pairs |= {(s["name"], m["name"]) for s in models if s["stage"] == m["starting_point"]}
    index: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in rows:
        index.setdefault((r["model"], r["suite"]), []).append(r)
    for a, b in sorted(pairs):
        for suite in versions:
            suite_rows = index.get((a, suite), []) + index.get((b, suite), [])
            for metric in _metric_names(suite_rows):
                result = _paired(index, a, b, suite, metric, resamples, seed)
                if result is not None:
                    comparisons.append(result)
    return {
        "run_id": manifest["run_id"],
        "baseline": base,
        "resamples": resamples,
        "seed": seed,
        "models": [
            {
                k: m.get(k)
                for k in ("name", "kind", "stage", "starting_point", "path", "fingerprint")
            }
            for m in models
        ],
        "suites": manifest["suites"],
        "by_task": _aggregate(rows, ("model", "suite", "task"), resamples, seed),
        "by_suite": _aggregate(rows, ("model", "suite"), resamples, seed),
        "by_tag": _aggregate(rows, ("model", "suite", "tag"), resamples, seed),
        "by_language": _aggregate(rows, ("model", "suite", "language"), resamples, seed),
        "scoring": config.scoring_only().model_dump(),
        "corpus": corpus,
        "labels": label_report(rows, versions),
        "fields": field_report(rows, versions),
        "comparisons": comparisons,
        "starting_points": _starting_points(models, comparisons),
    }


def regressions(summary: dict[str, Any], threshold: float) -> list[str]:
    """Candidates significantly worse than the run's baseline by more than `threshold`."""
    found = []
    for c in summary["comparisons"]:
        if (
            c["metric"] == "score"
            and c["baseline"] == summary["baseline"]
            and c["significant"]
            and c["difference"] < -threshold
        ):
            found.append(
                f"{c['candidate']} on {c['suite']}: {c['difference']:+.3f} vs {c['baseline']} "
                f"(95% CI {c['low']:+.3f}..{c['high']:+.3f}, p={c['p_value']:.3g})"
            )
    return found


def score_run(
    run_dir: Path,
    suites_dir: Path | None = None,
    baseline: str | None = None,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = 0,
    config: ScoringConfig | None = None,
) -> dict[str, Any]:
    """Score a run folder and write results.jsonl and summary.json into it.

    Without `config`, the run is scored with the metric choices it recorded.
    """
    manifest, versions = load_run(run_dir, suites_dir)
    config = config or ScoringConfig(**recorded_scoring(manifest))
    names = [m["name"] for m in manifest["models"]]
    plan = plan_metrics(versions, config)
    rows, corpus = score_models(run_dir, names, versions, plan, resamples, seed)
    with (run_dir / RESULTS_FILE).open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    summary = summarize(rows, manifest, versions, baseline, resamples, seed, corpus, config)
    (run_dir / SUMMARY_FILE).write_text(
        json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8"
    )
    return summary
