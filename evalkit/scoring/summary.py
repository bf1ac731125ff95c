"""`summary.json`: everything a scored run says, and its short text form for the terminal."""

from __future__ import annotations

from typing import Any

from evalkit.errors import UsageError
from evalkit.judging.calibration import calibrate
from evalkit.judging.expert import ExpertRatings, pair_win_rates, rater_agreement
from evalkit.scoring.aggregate import AGGREGATES, sort_aggregates
from evalkit.scoring.breakdowns import unreadable_share
from evalkit.scoring.comparisons import compare_models, comparison_pairs, family_record
from evalkit.scoring.config import ScoringConfig
from evalkit.scoring.estimates import estimate_lines
from evalkit.scoring.model_scores import ModelScores
from evalkit.scoring.starting_points import resolve_starting_models, starting_point_view
from evalkit.scoring.sweeps import sweep_lines, sweep_view
from evalkit.scoring.table import SuiteScores, merge_tables
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
    parts: list[ModelScores],
    manifest: dict[str, Any],
    *,
    versions: dict[str, SuiteVersion] | None = None,
    ratings: ExpertRatings | None = None,
    baseline: str | None,
    resamples: int,
    seed: int,
    config: ScoringConfig,
    clustering: dict[str, str],
    notes: list[str],
) -> dict[str, Any]:
    """The summary of every model's scores, with the comparisons between models."""
    models = manifest["models"]
    base = choose_baseline(models, baseline)
    starting, starting_notes = resolve_starting_models(models, config.starting_model)
    tables = merge_tables([part.tables for part in parts])
    comparisons = compare_models(tables, comparison_pairs(models, base, starting), config)
    answers = [a for part in parts for a in part.answers]
    starting_view = starting_point_view(models, starting, comparisons)

    def joined(name: str) -> list[dict[str, Any]]:
        records = [r for part in parts for r in part.aggregates[name]]
        return sort_aggregates(records, AGGREGATES[name])

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
        **{name: joined(name) for name in AGGREGATES},
        "scoring": config.model_dump(),
        "corpus": [c for part in parts for c in part.corpus],
        "labels": [r for part in parts for r in part.labels],
        "fields": [r for part in parts for r in part.fields],
        "answers": answers,
        "item_errors": [e for part in parts for e in part.errors],
        "unreadable": unreadable_share(answers),
        "comparisons": comparisons,
        "starting_points": starting_view,
        "sweeps": sweep_view(models, joined("by_suite"), starting_view),
        **_judging(parts, tables, manifest, versions, ratings, config, resamples, seed),
    }


def _judging(
    parts: list[ModelScores],
    tables: dict[str, SuiteScores],
    manifest: dict[str, Any],
    versions: dict[str, SuiteVersion] | None,
    ratings: ExpertRatings | None,
    config: ScoringConfig,
    resamples: int,
    seed: int,
) -> dict[str, Any]:
    """What the judge and the experts said: unreadable judgements, rater agreement, expert
    pairwise preferences, and the judge's calibration against the experts."""
    out: dict[str, Any] = {}
    judged = [j for part in parts for j in part.judged]
    if "judge" in manifest or judged:
        record = manifest.get("judge", {})
        out["judge"] = {
            "model": record.get("model", {}).get("name"),
            "mode": record.get("settings", {}).get("mode"),
            "reference": record.get("reference"),
            "templates": record.get("templates"),
            "judged": judged,
        }
    if ratings is not None and versions is not None:
        out["experts"] = {
            "files": ratings.files,
            "ratings": len(ratings.points) + len(ratings.pairs),
            "agreement": rater_agreement(ratings),
            "pairs": pair_win_rates(ratings, resamples, seed),
        }
        out["calibration"] = calibrate(
            tables,
            versions,
            config.judge_min_items,
            config.judge_min_agreement,
            resamples,
            seed,
        )
    return out


def _judging_lines(summary: dict[str, Any]) -> list[str]:
    """The judge's unreadable verdicts, and its calibration against the experts."""
    lines = []
    for j in summary.get("judge", {}).get("judged", []):
        if j["unparseable"]:
            lines.append(
                f"judge on {j['model']} × {j['suite']}: {j['criterion']} unreadable in "
                f"{j['unparseable']} of {j['n']} judgements (left out, not guessed)"
            )
    for c in summary.get("calibration", []):
        alpha = "-" if c["alpha"] is None else f"{c['alpha']:.2f}"
        verdict = "validated" if c["validated"] else "NOT VALIDATED"
        lines.append(
            f"judge vs experts on {c['suite']} {c['criterion']}: alpha {alpha}, bias "
            f"{c['bias']:+.2f}, {c['n']} answers: {verdict}"
        )
    return lines


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
    for e in summary.get("item_errors", []):
        why = ", ".join(f"{reason} ({n})" for reason, n in e["reasons"].items())
        lines.append(
            f"{e['model']} on {e['suite']}: {e['n']} items not answered and not scored: {why}"
        )
    lines += estimate_lines(summary.get("estimates", []))
    lines += sweep_lines(summary.get("sweeps", []))
    lines += _judging_lines(summary)
    lines += [f"note: {note}" for note in summary["notes"]]
    return lines
