"""What the report shows, computed from a scored run: results.jsonl, summary.json, manifest.

Everything here is plain data (dicts and lists of str/float); the template and the page's
script only lay it out. Item text and model output stay raw strings: escaping is the
template's job (Jinja autoescape) and the page's (text nodes only).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from evalkit.metrics.answers import format_failure
from evalkit.report.item_health import item_health
from evalkit.report.judging import (
    expert_scores,
    item_verdicts,
    score_distributions,
    unvalidated,
)
from evalkit.report.tokenizers import tokenizer_tables
from evalkit.scoring.run_folder import load_run, read_results
from evalkit.sensitivity.scores import read_sensitivity
from evalkit.suite.store import SuiteVersion

# An item counts as right when its score reaches this (binary metrics are 0/1; F1-like
# scores are right when mostly right).
RIGHT = 0.5
EXAMPLES_PER_FAILURE = 3


def summary_table(summary: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per model × suite: every aggregate metric with its interval, and the change in
    score against the run's baseline with its test."""
    baseline = summary["baseline"]
    deltas = {
        (c["candidate"], c["suite"], c["metric"]): c
        for c in summary["comparisons"]
        if c["baseline"] == baseline
    }
    corpus: dict[tuple[str, str], dict[str, Any]] = defaultdict(dict)
    for c in summary["corpus"]:
        corpus[c["model"], c["suite"]][f"{c['metric']} ({c['task']})"] = c
    table = []
    for row in summary["by_suite"]:
        key = (row["model"], row["suite"])
        metrics = {**row["metrics"], **corpus.get(key, {})}
        table.append(
            {
                "model": row["model"],
                "suite": row["suite"],
                "metrics": metrics,
                "delta": {
                    name: deltas[(row["model"], row["suite"], name)]
                    for name in row["metrics"]
                    if (row["model"], row["suite"], name) in deltas
                },
            }
        )
    order = {m["name"]: k for k, m in enumerate(summary["models"])}
    table.sort(key=lambda r: (r["suite"], order.get(r["model"], 0)))
    return table


def metric_columns(table: list[dict[str, Any]]) -> list[str]:
    """Metric names in a stable order: the score first, item metrics, then corpus metrics."""
    names = {name for row in table for name in row["metrics"]}
    item = sorted(n for n in names if "(" not in n and n != "score")
    return ["score", *item, *sorted(n for n in names if "(" in n)]


def item_regressions(summary: dict[str, Any], rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per candidate × suite × task: items the baseline got right and the candidate got wrong
    (and the reverse, for balance), significant suite-level drops first."""
    baseline = summary["baseline"]
    score = {(r["model"], r["suite"], r["item_id"]): r["score"] for r in rows}
    tests = {
        (c["candidate"], c["suite"]): c
        for c in summary["comparisons"]
        if c["baseline"] == baseline and c["metric"] == "score"
    }
    groups: dict[tuple[str, str, str], dict[str, Any]] = {}
    for r in rows:
        if r["model"] == baseline or r["score"] is None:
            continue
        before = score.get((baseline, r["suite"], r["item_id"]))
        if before is None:
            continue
        group = groups.setdefault(
            (r["model"], r["suite"], r["task"]),
            {"lost": [], "gained": 0, "n": 0, "tags": Counter()},
        )
        group["n"] += 1
        if before >= RIGHT > r["score"]:
            group["lost"].append(r["item_id"])
            group["tags"].update(r["tags"])  # an item's tags, the same in every model's row
        elif r["score"] >= RIGHT > before:
            group["gained"] += 1
    out = []
    for (model, suite, task), g in groups.items():
        test = tests.get((model, suite), {})
        out.append(
            {
                "model": model,
                "suite": suite,
                "task": task,
                "lost": g["lost"],
                "gained": g["gained"],
                "n": g["n"],
                "tags": [t for t, _ in g["tags"].most_common(5)],
                "suite_difference": test.get("difference"),
                "suite_p_value": test.get("p_value"),
                "significant_drop": bool(test.get("significant")) and test["difference"] < 0,
            }
        )
    out.sort(key=lambda g: (not g["significant_drop"], -len(g["lost"]), g["model"], g["suite"]))
    return [g for g in out if g["lost"] or g["gained"]]


def format_section(
    rows: list[dict[str, Any]], versions: dict[str, SuiteVersion]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Failure rate per model × task, and a few examples of each kind of failure."""
    counts: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    examples: dict[tuple[str, str, str], list[dict[str, Any]]] = defaultdict(list)
    kinds: dict[tuple[str, str, str], int] = Counter()
    for r in rows:
        ok = r["metrics"].get("format_adherence")
        if ok is None or r["output"] is None:
            continue
        counts[r["model"], r["task"]][0] += 1
        if ok < 1:
            counts[r["model"], r["task"]][1] += 1
            item = versions[r["suite"]].by_id[r["item_id"]]
            kind = format_failure(item, r["output"]) or "format not met"
            kinds[r["model"], r["task"], kind] += 1
            bucket = examples[r["model"], r["task"], kind]
            if len(bucket) < EXAMPLES_PER_FAILURE:
                bucket.append({"suite": r["suite"], "item_id": r["item_id"], "output": r["output"]})
    rates = [
        {"model": m, "task": t, "n": n, "failures": f, "rate": f / n if n else 0.0}
        for (m, t), (n, f) in sorted(counts.items())
    ]
    failures = [
        {"model": m, "task": t, "kind": k, "count": c, "examples": examples[m, t, k]}
        for (m, t, k), c in sorted(kinds.items(), key=lambda kv: (kv[0][0], kv[0][1], -kv[1]))
    ]
    return rates, failures


def item_table(
    summary: dict[str, Any],
    rows: list[dict[str, Any]],
    versions: dict[str, SuiteVersion],
    verdicts: dict[tuple[str, str], list[dict[str, Any] | None]] | None = None,
) -> dict[str, Any]:
    """The drill-down: one record per suite item, models' outputs and scores as parallel lists.

    Column-oriented lists keep the embedded JSON small for runs of many models × items.
    """
    models = [m["name"] for m in summary["models"]]
    column = {name: k for k, name in enumerate(models)}
    records: dict[tuple[str, str], dict[str, Any]] = {}
    for r in rows:
        key = (r["suite"], r["item_id"])
        record = records.get(key)
        if record is None:
            item = versions[r["suite"]].by_id[r["item_id"]]
            record = records[key] = {
                "suite": r["suite"],
                "id": r["item_id"],
                "task": r["task"],
                "language": r["language"],
                "tags": r["tags"],
                "input": item.input_text(),
                "reference": item.reference_texts(),
                "score": [None] * len(models),
                "format": [None] * len(models),
                "output": [None] * len(models),
            }
            if verdicts and key in verdicts:  # the judge's scores and reasons, per model
                record["judge"] = verdicts[key]
        k = column[r["model"]]
        record["score"][k] = r["score"]
        record["format"][k] = r["metrics"].get("format_adherence")
        record["output"][k] = r["output"]
        experts = expert_scores(r)
        if experts:
            record.setdefault("expert", [None] * len(models))[k] = experts
    # `right`: the score from which an item counts as right, for the page's marks and filters.
    return {"models": models, "items": list(records.values()), "right": RIGHT}


def build_report_data(run_dir: Path, suites_dir: Path | None = None) -> dict[str, Any]:
    """Everything the report shows, from the run folder (and the suites it recorded)."""
    manifest, versions = load_run(run_dir, suites_dir)
    summary, rows = read_results(run_dir, versions)  # every row checked for what is read
    table = summary_table(summary)
    rates, failures = format_section(rows, versions)
    models = [m["name"] for m in summary["models"]]
    verdicts = item_verdicts(run_dir, models, versions) if "judge" in summary else None
    return {
        "manifest": manifest,
        "summary": summary,
        "table": table,
        "columns": metric_columns(table),
        "regressions": item_regressions(summary, rows),
        "format_rates": rates,
        "format_failures": failures,
        "items": item_table(summary, rows, versions, verdicts),
        "unvalidated": unvalidated(summary),
        "judge_scores": score_distributions(rows, versions) if verdicts else {},
        "item_health": item_health(run_dir, versions, rows),
        "tokenizers": tokenizer_tables(manifest, versions, run_dir),
        "sensitivity": read_sensitivity(run_dir),
    }
