"""Verdicts: the corrected family, the MDE and "inconclusive", clusters, the headline."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from statsmodels.stats.multitest import multipletests

from evalkit.scoring import score_run
from evalkit.scoring.config import ScoringConfig

from .synthetic import model, run_with_answers, synthetic_suite

MODELS = [model("base"), model("chat", "chat"), model("other", "chat")]


def _right(shares: dict[str, float]):
    """Model answers right on a seeded random share of items (different items per model)."""

    def right(name: str, _version: Any, item: Any, k: int) -> bool:
        rng = np.random.default_rng([sum(map(ord, name)), k, ord(item.task[0])])
        return bool(rng.random() < shares[name])

    return right


@pytest.fixture(scope="module")
def versions(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Any]:
    root = tmp_path_factory.mktemp("suites")
    return (
        synthetic_suite(root, mcq=60, qa=30, name="domain"),
        synthetic_suite(root, mcq=40, qa=20, group_size=4, name="grouped"),
    )


def _score(tmp_path: Path, versions: Any, shares: dict[str, float], **config: Any):
    run = run_with_answers(tmp_path / "run", versions, MODELS, _right(shares))
    return score_run(run, resamples=200, config=ScoringConfig(**config))


@pytest.mark.parametrize(("correction", "method"), [("holm", "holm"), ("bh", "fdr_bh")])
def test_adjusted_p_values_are_statsmodels_over_the_whole_family(
    tmp_path: Path, versions: Any, correction: str, method: str
) -> None:
    summary = _score(
        tmp_path, versions, {"base": 0.5, "chat": 0.8, "other": 0.55}, correction=correction
    )
    comparisons = summary["comparisons"]
    raw = [c["p_value"] for c in comparisons]
    expected = multipletests(raw, alpha=0.05, method=method)[1]
    assert [c["p_adjusted"] for c in comparisons] == pytest.approx(list(expected))
    assert all(c["significant"] == (c["p_adjusted"] < 0.05) for c in comparisons)
    family = summary["family"]
    assert family["comparisons"] == len(comparisons) and family["correction"] == correction
    # models x suites x metrics: 2 pairs x 2 suites x (score, accuracy, token_f1, exact_match,
    # language_match)
    assert len(comparisons) >= 2 * 2 * 4


def test_without_correction_adjusted_equals_raw(tmp_path: Path, versions: Any) -> None:
    summary = _score(
        tmp_path, versions, {"base": 0.5, "chat": 0.6, "other": 0.5}, correction="none"
    )
    assert all(c["p_adjusted"] == c["p_value"] for c in summary["comparisons"])


def test_interval_and_raw_p_come_from_one_test(tmp_path: Path, versions: Any) -> None:
    summary = _score(tmp_path, versions, {"base": 0.5, "chat": 0.62, "other": 0.45})
    for c in summary["comparisons"]:
        if c["identical"] or np.isnan(c["low"]):
            continue
        excludes_zero = c["low"] > 0 or c["high"] < 0
        assert excludes_zero == (c["p_value"] < 0.05), c


def test_a_difference_below_the_mde_is_inconclusive_not_no_change(
    tmp_path: Path, versions: Any
) -> None:
    summary = _score(tmp_path, versions, {"base": 0.5, "chat": 0.53, "other": 0.5})
    verdicts = {c["verdict"] for c in summary["comparisons"]}
    assert "inconclusive" in verdicts and "no change" not in verdicts
    for c in summary["comparisons"]:
        assert c["mde"] > 0
        if c["verdict"] == "inconclusive":
            assert not c["significant"] and abs(c["difference"]) < c["mde"]


def test_a_large_difference_is_found_after_correction(tmp_path: Path, versions: Any) -> None:
    summary = _score(tmp_path, versions, {"base": 0.3, "chat": 0.95, "other": 0.3})
    score = next(
        c
        for c in summary["comparisons"]
        if (c["candidate"], c["suite"], c["metric"]) == ("chat", "domain@v1", "score")
    )
    assert score["verdict"] == "improved" and score["difference"] > score["mde"]


def test_groups_are_the_resampling_units(tmp_path: Path, versions: Any) -> None:
    summary = _score(tmp_path, versions, {"base": 0.5, "chat": 0.7, "other": 0.5})
    assert summary["clustering"] == {"domain@v1": "item", "grouped@v1": "group"}
    by_suite = {
        (c["suite"], c["candidate"]): c for c in summary["comparisons"] if c["metric"] == "score"
    }
    grouped, plain = by_suite["grouped@v1", "chat"], by_suite["domain@v1", "chat"]
    assert (grouped["n"], grouped["units"]) == (60, 15)  # 60 test items in groups of 4
    assert plain["units"] == plain["n"] == 90
    score = next(
        r for r in summary["by_suite"] if (r["model"], r["suite"]) == ("chat", "grouped@v1")
    )
    assert score["metrics"]["score"]["units"] == 15
    unclustered = _score(
        tmp_path / "again", versions, {"base": 0.5, "chat": 0.7, "other": 0.5}, cluster_by="item"
    )
    assert unclustered["clustering"]["grouped@v1"] == "item"
    assert (
        next(
            c
            for c in unclustered["comparisons"]
            if (c["suite"], c["candidate"], c["metric"]) == ("grouped@v1", "chat", "score")
        )["units"]
        == 60
    )


def test_macro_headline_weighs_every_task_the_same(tmp_path: Path, versions: Any) -> None:
    shares = {"base": 0.5, "chat": 0.7, "other": 0.5}
    micro = _score(tmp_path, versions, shares)
    macro = _score(tmp_path / "macro", versions, shares, headline="macro")
    assert macro["headline"] == "macro" and micro["headline"] == "micro"
    for summary, expected in ((micro, "micro"), (macro, "macro")):
        tasks = {
            (r["model"], r["task"]): r["metrics"]["score"]
            for r in summary["by_task"]
            if r["suite"] == "domain@v1"
        }
        suite = next(
            r for r in summary["by_suite"] if (r["model"], r["suite"]) == ("chat", "domain@v1")
        )["metrics"]["score"]
        mcq, qa = tasks["chat", "mcq"], tasks["chat", "qa"]
        if expected == "macro":
            assert suite["value"] == pytest.approx((mcq["value"] + qa["value"]) / 2)
        else:
            assert suite["value"] == pytest.approx(
                (mcq["value"] * mcq["n"] + qa["value"] * qa["n"]) / (mcq["n"] + qa["n"])
            )
    diff = next(
        c
        for c in macro["comparisons"]
        if (c["candidate"], c["suite"], c["metric"]) == ("chat", "domain@v1", "score")
    )
    per_task = [
        r["metrics"]["score"]["value"]
        for r in macro["by_task"]
        if r["suite"] == "domain@v1" and r["model"] == "chat"
    ]
    base_task = [
        r["metrics"]["score"]["value"]
        for r in macro["by_task"]
        if r["suite"] == "domain@v1" and r["model"] == "base"
    ]
    assert diff["difference"] == pytest.approx(np.mean(np.subtract(per_task, base_task)))


def test_compare_metrics_narrows_the_family(tmp_path: Path, versions: Any) -> None:
    summary = _score(
        tmp_path, versions, {"base": 0.5, "chat": 0.7, "other": 0.5}, compare_metrics=["score"]
    )
    assert {c["metric"] for c in summary["comparisons"]} == {"score"}
    assert summary["family"]["comparisons"] == 2 * 2


def test_results_rows_carry_the_cluster(tmp_path: Path, versions: Any) -> None:
    run = run_with_answers(
        tmp_path / "run", versions, MODELS, _right({"base": 0.5, "chat": 0.5, "other": 0.5})
    )
    score_run(run, resamples=100)
    rows = [json.loads(line) for line in (run / "results.jsonl").read_text().splitlines()]
    grouped = [r for r in rows if r["suite"] == "grouped@v1"]
    assert grouped and all(r["unit"].startswith("case-") for r in grouped)
    assert not any("unit" in r for r in rows if r["suite"] == "domain@v1")
