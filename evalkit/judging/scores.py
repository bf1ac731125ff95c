"""Judge and expert ratings as item metrics, so they get intervals, comparisons and the
multiple-comparison family like every other metric.

- `judge_<criterion>`: the judge's score on a criterion, scaled to 0..1 (None when the judge's
  answer gave no readable score for it; the problem is kept in the row);
- `judge_win`: the pairwise outcome against the reference model, from the candidate's side
  (win 1, tie or order-inconsistent 0.5, loss 0; None when unparseable);
- `expert_<criterion>`: the mean of the experts' scores on a criterion, scaled to 0..1.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from evalkit.suite.store import SuiteVersion

JUDGE_PREFIX = "judge_"
EXPERT_PREFIX = "expert_"
JUDGE_WIN = "judge_win"
JUDGMENTS_DIR = "judgments"


def judgments_path(run_dir: Path, model: str, suite_ref: str) -> Path:
    """Where a run keeps the judge's verdicts on one model's answers to one suite version."""
    return run_dir / JUDGMENTS_DIR / model / f"{suite_ref}.jsonl"


def read_judgments(path: Path) -> Iterator[dict[str, Any]]:
    """The judged items of one model on one suite (nothing when the run was not judged)."""
    if not path.is_file():
        return
    from evalkit.files import read_jsonl

    for line in read_jsonl(path, "judgments file"):
        if isinstance(line.value, dict) and isinstance(line.value.get("item_id"), str):
            yield line.value


def judge_metrics(
    judgment: dict[str, Any], version: SuiteVersion
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(metrics, problems) of one judged item: scores scaled to 0..1, and why a score is
    missing (per criterion, or the pairwise outcome)."""
    metrics: dict[str, float | None] = {}
    problems: dict[str, str] = {}
    rubric = version.spec.effective_rubric
    graded = judgment.get("rubric") or {}
    for name, score in (graded.get("scores") or {}).items():
        criterion = rubric.get(name)
        value = score.get("score") if isinstance(score, dict) else None
        if criterion is None:
            continue
        if isinstance(value, int) and criterion.scale[0] <= value <= criterion.scale[1]:
            metrics[JUDGE_PREFIX + name] = criterion.normalised(value)
        else:
            metrics[JUDGE_PREFIX + name] = None
            problems[name] = (score or {}).get("problem") or "no score"
    if graded.get("error"):
        problems["rubric"] = graded["error"]
    pair = judgment.get("pairwise")
    if pair is not None:
        from evalkit.judging.pairwise import OUTCOMES, outcome_score

        outcome = pair.get("outcome")
        metrics[JUDGE_WIN] = outcome_score(outcome) if outcome in OUTCOMES else None
        if metrics[JUDGE_WIN] is None:
            problems["pairwise"] = pair.get("error") or "unparseable"
    return metrics, problems


def judgment_summary(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per model × suite × criterion: judged items and how many gave no readable score; per
    model × suite the pairwise outcomes and the share of order-inconsistent pairs."""
    counts: dict[tuple[str, str, str], list[int]] = {}
    outcomes: dict[tuple[str, str], dict[str, int]] = {}
    for r in rows:
        for name in r["metrics"]:
            if name.startswith(JUDGE_PREFIX) and name != JUDGE_WIN:
                c = counts.setdefault((r["model"], r["suite"], name[len(JUDGE_PREFIX) :]), [0, 0])
                c[0] += 1
                c[1] += r["metrics"][name] is None
        if r.get("judge_outcome"):
            tally = outcomes.setdefault((r["model"], r["suite"]), {})
            tally[r["judge_outcome"]] = tally.get(r["judge_outcome"], 0) + 1
    out: list[dict[str, Any]] = [
        {
            "model": m,
            "suite": s,
            "criterion": c,
            "n": n,
            "unparseable": u,
            "share": u / n if n else 0.0,
        }
        for (m, s, c), (n, u) in sorted(counts.items())
    ]
    for (m, s), tally in sorted(outcomes.items()):
        parseable = sum(v for k, v in tally.items() if k != "unparseable")
        out.append(
            {
                "model": m,
                "suite": s,
                "criterion": "(pairwise)",
                "n": sum(tally.values()),
                "unparseable": tally.get("unparseable", 0),
                "outcomes": tally,
                "inconsistent_share": tally.get("inconsistent", 0) / parseable
                if parseable
                else 0.0,
            }
        )
    return out
