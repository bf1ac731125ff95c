"""Judge verdicts and expert ratings in a run's scores: metrics with intervals, the comparison
family, rater agreement, the judge's calibration, and ratings files that do not belong."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner
from run_folders import write_run_folder

from drafts import snapshot
from evalkit.cli import cli
from evalkit.judging.ratings import PairRating, PointRating, write_ratings
from evalkit.judging.scores import judgments_path
from evalkit.scoring import score_run
from evalkit.scoring.config import ScoringConfig
from evalkit.suite.draft import SuiteDraft
from evalkit.suite.items import ITEM_ADAPTER
from evalkit.suite.records import LocatedItem
from evalkit.suite.spec import SuiteSpec
from evalkit.suite.store import SuiteStore, SuiteVersion

N = 40
MODELS = [
    {"name": "base", "kind": "base", "stage": "base", "starting_point": None},
    {"name": "chat", "kind": "chat", "stage": "chat", "starting_point": None},
]
SPEC = {
    "name": "writing",
    "description": "d",
    "guidelines": "g",
    "goals": [{"capability": "c", "description": "d"}],
    "tasks": {
        "generation": {
            "instruction": "i",
            "prompt": "{{ prompt }}",
            "target": " {{ references[0] }}",
            "chat": "{{ prompt }}",
            "metrics": ["chrf"],
        }
    },
}


def publish(root: Path) -> SuiteVersion:
    items = [
        ITEM_ADAPTER.validate_python(
            {
                "id": f"g{k}",
                "task": "generation",
                "language": "zh" if k % 2 else "en",
                "provenance": {"author": "t"},
                "prompt": f"Explain rule {k}.",
                "references": [f"Rule {k} says the seller delivers."],
            }
        )
        for k in range(N)
    ]
    draft = SuiteDraft(SuiteSpec.model_validate(SPEC), tuple(LocatedItem(i, "-") for i in items))
    return SuiteStore(root).publish(draft, author="t", changelog="c")


def judge_score(model: str, k: int) -> int:
    """The 'judge': chat is better than base, and items vary."""
    return 1 + (k % 4) + (1 if model == "chat" else 0)


@pytest.fixture
def run(tmp_path: Path) -> tuple[Path, SuiteVersion]:
    version = publish(tmp_path / "suites")
    run = write_run_folder(
        tmp_path / "run",
        tmp_path / "suites",
        [version],
        MODELS,
        lambda model, _v, item, k: f"{model} answer {k}",
    )
    for m in ("base", "chat"):
        path = judgments_path(run, m, version.ref)
        path.parent.mkdir(parents=True, exist_ok=True)
        rows = []
        for k in range(N):
            score = judge_score(m, k)
            scores: dict[str, Any] = {
                "accuracy": {"score": score, "reason": "ok", "problem": None},
                "fluency": {"score": None, "reason": None, "problem": "no score"}
                if k % 10 == 0
                else {"score": 4, "reason": "fine", "problem": None},
                "relevance": {"score": 5, "reason": "on topic", "problem": None},
            }
            row: dict[str, Any] = {"item_id": f"g{k}", "rubric": {"output": "{}", "scores": scores}}
            if m == "chat":
                outcome = ["win", "win", "tie", "inconsistent", "loss"][k % 5]
                row["pairwise"] = {"reference": "base", "outcome": outcome}
            rows.append(row)
        path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return run, version


def ratings_file(tmp: Path, run: Path, version: SuiteVersion, **change: Any) -> Path:
    now = datetime.now(timezone.utc)
    common = {
        "run_id": run.name,
        "suite": version.ref,
        "content_hash": version.manifest.content_hash,
        "rated_at": now,
    }
    ratings: list[PointRating | PairRating] = []
    rng = np.random.default_rng(0)
    for m in ("base", "chat"):
        for k in range(N):
            for rater in ("li.na", "wang.fang"):
                noise = int(rng.integers(-1, 2)) if rater == "wang.fang" else 0
                score = min(5, max(1, judge_score(m, k) + noise))
                ratings.append(
                    PointRating(
                        **{**common, **change},
                        item_id=f"g{k}",
                        rater=rater,
                        model=m,
                        criterion="accuracy",
                        score=score,
                        scale=(1, 5),
                    )
                )
    for k in range(10):
        ratings.append(
            PairRating(
                **common,
                item_id=f"g{k}",
                rater="li.na",
                model_a="chat",
                model_b="base",
                winner="a" if k < 7 else "tie",
            )
        )
    path = tmp / "ratings.jsonl"
    write_ratings(path, ratings)
    return path


def test_judge_scores_are_metrics_with_intervals_and_comparisons(
    run: tuple[Path, SuiteVersion],
) -> None:
    folder, _ = run
    summary = score_run(folder, resamples=200)
    by_suite = {r["model"]: r["metrics"] for r in summary["by_suite"]}
    chat, base = by_suite["chat"], by_suite["base"]
    expected = np.mean([(judge_score("chat", k) - 1) / 4 for k in range(N)])
    assert chat["judge_accuracy"]["value"] == pytest.approx(expected)
    assert chat["judge_accuracy"]["low"] < expected < chat["judge_accuracy"]["high"]
    assert chat["judge_fluency"]["n"] == N - 4  # the unreadable scores are left out
    wins = [1.0, 1.0, 0.5, 0.5, 0.0]
    assert chat["judge_win"]["value"] == pytest.approx(np.mean([wins[k % 5] for k in range(N)]))
    assert "judge_win" not in base  # the reference is not compared with itself
    compared = {c["metric"] for c in summary["comparisons"]}
    assert {"judge_accuracy", "judge_fluency", "judge_relevance"} <= compared
    judged = {(j["model"], j["criterion"]): j for j in summary["judge"]["judged"]}
    assert judged["base", "fluency"]["unparseable"] == 4
    pairs = judged["chat", "(pairwise)"]
    assert pairs["outcomes"] == {"win": 16, "tie": 8, "inconsistent": 8, "loss": 8}
    assert pairs["inconsistent_share"] == pytest.approx(8 / 40)
    rows = [json.loads(x) for x in (folder / "results.jsonl").read_text().splitlines()]
    assert any(r.get("judge_problems") == {"fluency": "no score"} for r in rows)


def test_expert_ratings_agreement_and_calibration(
    run: tuple[Path, SuiteVersion], tmp_path: Path
) -> None:
    import krippendorff

    folder, version = run
    path = ratings_file(tmp_path, folder, version)
    summary = score_run(folder, resamples=200, config=ScoringConfig(ratings=[str(path)]))
    chat = next(r for r in summary["by_suite"] if r["model"] == "chat")["metrics"]
    assert 0 < chat["expert_accuracy"]["value"] < 1
    (agreement,) = [a for a in summary["experts"]["agreement"] if a["criterion"] == "accuracy"]
    lines = [json.loads(x) for x in path.read_text().splitlines()]
    points = [x for x in lines if x["kind"] == "point"]
    raters = sorted({x["rater"] for x in points})
    units = sorted({(x["model"], x["item_id"]) for x in points})
    table = {(x["rater"], x["model"], x["item_id"]): x["score"] for x in points}
    matrix = np.array([[table[(r, *u)] for u in units] for r in raters], dtype=float)
    expected = krippendorff.alpha(reliability_data=matrix, level_of_measurement="ordinal")
    assert agreement["alpha"] == pytest.approx(expected)
    (pair,) = summary["experts"]["pairs"]
    assert (pair["model_a"], pair["model_b"]) == ("base", "chat")
    assert pair["win_rate_a"] == pytest.approx(1 - (7 + 3 * 0.5) / 10)
    (calibration,) = [c for c in summary["calibration"] if c["criterion"] == "accuracy"]
    assert calibration["n"] == 2 * N and calibration["validated"]
    assert calibration["alpha"] > 0.8 and calibration["spearman"] > 0.8
    assert calibration["alpha_ci"][0] < calibration["alpha"] < calibration["alpha_ci"][1]
    assert abs(calibration["bias"]) < 0.3
    assert len(calibration["disagreements"]) == 5
    strict = score_run(
        folder, resamples=200, config=ScoringConfig(ratings=[str(path)], judge_min_items=100)
    )
    assert not next(c for c in strict["calibration"] if c["criterion"] == "accuracy")["validated"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"run_id": "another-run"}, "run_id: rates run 'another-run', not this run"),
        ({"content_hash": "sha256:" + "0" * 64}, "content_hash: rates other content of"),
        ({"suite": "writing@v9"}, "suite: 'writing@v9' is not a suite version of this run"),
    ],
)
def test_ratings_of_another_run_or_version_are_refused(
    run: tuple[Path, SuiteVersion], tmp_path: Path, change: dict[str, Any], message: str
) -> None:
    folder, version = run
    path = ratings_file(tmp_path, folder, version, **change)
    before = snapshot(folder)
    result = CliRunner().invoke(cli, ["score", str(folder), f"ratings=[{path}]"])
    assert result.exit_code == 1, result.output
    assert f"{path}:1: {message}" in result.stderr and "Traceback" not in result.output
    assert snapshot(folder) == before


def test_a_rating_outside_the_scale_is_located(
    run: tuple[Path, SuiteVersion], tmp_path: Path
) -> None:
    folder, version = run
    path = ratings_file(tmp_path, folder, version)
    lines = path.read_text().splitlines()
    bad = json.loads(lines[2])
    bad["score"] = 9
    lines[2] = json.dumps(bad)
    path.write_text("\n".join(lines) + "\n")
    result = CliRunner().invoke(cli, ["score", str(folder), f"ratings=[{path}]"])
    assert result.exit_code == 1 and f"{path}:3: score: 9 is outside accuracy's scale 1..5" in (
        result.stderr
    )
