"""What the report shows of the judge and the experts: per-item verdicts with their reasons,
the distribution of judge scores per model, and which judge metrics are not validated."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

from evalkit.judging.scores import (
    EXPERT_PREFIX,
    JUDGE_PREFIX,
    JUDGE_WIN,
    judgments_path,
    read_judgments,
)
from evalkit.suite.store import SuiteVersion


def unvalidated(summary: dict[str, Any]) -> list[str]:
    """Judge metrics not backed by enough agreeing expert ratings (or by none): every place
    that shows one says so."""
    judged = {
        f"{JUDGE_PREFIX}{j['criterion']}"
        for j in summary.get("judge", {}).get("judged", [])
        if j["criterion"] != "(pairwise)"
    }
    if summary.get("judge", {}).get("mode") in ("pairwise", "both"):
        judged.add(JUDGE_WIN)
    validated = {
        f"{JUDGE_PREFIX}{c['criterion']}" for c in summary.get("calibration", []) if c["validated"]
    }
    return sorted(judged - validated)


def item_verdicts(
    run_dir: Path, models: list[str], versions: dict[str, SuiteVersion]
) -> dict[tuple[str, str], list[dict[str, Any] | None]]:
    """(suite, item) → per model: the judge's score and reason per criterion, and the
    pairwise outcome; None for a model the judge did not rate on that item."""
    out: dict[tuple[str, str], list[dict[str, Any] | None]] = defaultdict(
        lambda: [None] * len(models)
    )
    for k, model in enumerate(models):
        for ref in versions:
            for j in read_judgments(judgments_path(run_dir, model, ref)):
                scores = (j.get("rubric") or {}).get("scores") or {}
                out[ref, j["item_id"]][k] = {
                    "scores": {
                        name: [s.get("score"), s.get("reason") or s.get("problem")]
                        for name, s in scores.items()
                        if isinstance(s, dict)
                    },
                    "outcome": (j.get("pairwise") or {}).get("outcome"),
                }
    return out


def expert_scores(row: dict[str, Any]) -> dict[str, float]:
    """The experts' mean scores of one answer (0..1), by criterion."""
    return {
        name[len(EXPERT_PREFIX) :]: value
        for name, value in row["metrics"].items()
        if name.startswith(EXPERT_PREFIX) and value is not None
    }


def score_distributions(
    rows: list[dict[str, Any]], versions: dict[str, SuiteVersion]
) -> dict[str, dict[str, dict[int, int]]]:
    """criterion → model → judge score → how many answers got it."""
    out: dict[str, dict[str, dict[int, int]]] = defaultdict(lambda: defaultdict(dict))
    for r in rows:
        rubric = versions[r["suite"]].spec.effective_rubric
        for name, value in r["metrics"].items():
            if not name.startswith(JUDGE_PREFIX) or name == JUDGE_WIN or value is None:
                continue
            criterion = rubric.get(name[len(JUDGE_PREFIX) :])
            if criterion is None:
                continue
            low, high = criterion.scale
            score = round(low + value * (high - low))
            counts = out[criterion.name][r["model"]]
            counts[score] = counts.get(score, 0) + 1
    return {c: dict(by_model) for c, by_model in out.items()}
