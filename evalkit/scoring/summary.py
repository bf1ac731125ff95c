"""`summary.json`: everything a scored run says, and its short text form for the terminal."""

from __future__ import annotations

from typing import Any

from evalkit.errors import UsageError
from evalkit.scoring.aggregate import aggregate
from evalkit.scoring.breakdowns import answer_report, field_report, label_report, unreadable_share
from evalkit.scoring.comparisons import compare_models, comparison_pairs, family_record
from evalkit.scoring.config import ScoringConfig
from evalkit.scoring.starting_points import resolve_starting_models, starting_point_view
from evalkit.scoring.table import build_tables
from evalkit.suite.store import SuiteVersion


def choose_baseline(models: list[dict[str, Any]], requested: str | None) -> str:
    """The requested baseline, else the first base model, else the first model."""
    names = [m["name"] for m in models]
    if requested is not None:
        if requested not in names:
            raise UsageError(
                f"baseline {requested!r} is not a model of this run ({', '.join(names)})"
            )
        return requested
    return next((m["name"] for m in models if m["kind"] == "base"), names[0])


def summarize(
    rows: list[dict[str, Any]],
    manifest: dict[str, Any],
    versions: dict[str, SuiteVersion],
    corpus: list[dict[str, Any]],
    *,
    baseline: str | None,
    resamples: int,
    seed: int,
    config: ScoringConfig,
    clustering: dict[str, str],
    notes: list[str],
) -> dict[str, Any]:
    """The summary of scored rows; `baseline` and starting models are checked first."""
    models = manifest["models"]
    base = choose_baseline(models, baseline)
    starting, starting_notes = resolve_starting_models(models, config.starting_model)
    tables = build_tables(rows)
    comparisons = compare_models(tables, comparison_pairs(models, base, starting), config)
    answers = answer_report(rows)

    def by(key: str | None) -> list[dict[str, Any]]:
        return aggregate(tables, key, config.headline, resamples, seed, config.alpha)

    return {
        "run_id": manifest["run_id"],
        "baseline": base,
        "resamples": resamples,
        "seed": seed,
        "headline": config.headline,
        "clustering": clustering,
        "family": family_record(comparisons, config),
        "notes": notes + starting_notes,
        "models": [
            {
                k: m.get(k)
                for k in ("name", "kind", "stage", "starting_point", "path", "fingerprint")
            }
            | {"starting_model": starting.get(m["name"])}
            for m in models
        ],
        "suites": manifest["suites"],
        "by_suite": by(None),
        "by_task": by("task"),
        "by_tag": by("tag"),
        "by_language": by("language"),
        "scoring": config.model_dump(),
        "corpus": corpus,
        "labels": label_report(rows, versions),
        "fields": field_report(rows, versions),
        "answers": answers,
        "unreadable": unreadable_share(answers),
        "comparisons": comparisons,
        "starting_points": starting_point_view(models, starting, comparisons),
    }


def summary_lines(summary: dict[str, Any]) -> list[str]:
    """One line per model × suite: the score with its CI and its change against the baseline
    (raw and adjusted p, MDE, verdict); then unreadable answers and notes."""
    family = summary["family"]
    lines = [
        f"score: {summary['headline']} average; {family['comparisons']} comparisons, "
        f"{family['correction']}-corrected at alpha {family['alpha']}"
    ]
    deltas = {
        (c["candidate"], c["suite"]): c
        for c in summary["comparisons"]
        if c["metric"] == "score" and c["baseline"] == summary["baseline"]
    }
    for row in sorted(summary["by_suite"], key=lambda r: r["suite"]):
        s = row["metrics"]["score"]
        ci = f"[{s['low']:.3f}, {s['high']:.3f}]"
        line = f"{row['model']:<16} {row['suite']:<18} score {s['value']:.3f} {ci} n={s['n']}"
        c = deltas.get((row["model"], row["suite"]))
        if c:
            line += (
                f"  {c['difference']:+.3f} vs {summary['baseline']} "
                f"(p={c['p_value']:.3g}, adj. {c['p_adjusted']:.3g}, MDE {c['mde']:.3f}: "
                f"{c['verdict']})"
            )
        lines.append(line)
    for model, u in summary["unreadable"].items():
        if u["unreadable"]:
            lines.append(
                f"{model}: no answer could be read from {u['unreadable']} of {u['n']} "
                f"choice outputs ({u['share']:.1%}); scored as wrong"
            )
    lines += [f"note: {note}" for note in summary["notes"]]
    return lines
