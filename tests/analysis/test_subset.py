"""Anchor subsets: a validated estimate of the full-suite score from K items, and refusals
with the reason when the runs cannot support one."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from analysis.planted import PlantedSuite, planted_suite, scored_run, simulate
from evalkit.analysis.irt import binary_responses
from evalkit.analysis.subset import AnchorSubset, choose_subset, read_subset
from evalkit.cli import cli
from evalkit.errors import UsageError


@pytest.fixture(scope="module")
def chosen(tmp_path_factory: pytest.TempPathFactory) -> tuple[PlantedSuite, AnchorSubset]:
    suite = planted_suite(tmp_path_factory.mktemp("subset"), 60, 0, seed=3)
    matrix = simulate(suite, 8, seed=3)
    return suite, choose_subset(matrix, 12, seed=0)


def test_the_estimate_is_validated_by_leaving_each_model_out(
    chosen: tuple[PlantedSuite, AnchorSubset],
) -> None:
    suite, subset = chosen
    matrix = simulate(suite, 8, seed=3)
    assert subset.k == 12 and subset.model_type == "1pl"  # 7 models in each refit: a 1PL
    test_ids = {i.id for i in suite.version.items if i.split == "test"}
    assert set(subset.anchors) <= set(subset.params) and set(subset.params) <= test_ids
    # every informative item is represented by exactly one anchor
    assert sum(subset.anchors.values()) == len(subset.params)
    assert subset.total_items == 60
    # one case per model; each compares the estimate with the model's real share right
    binary = binary_responses(matrix)
    assert [c.model for c in subset.validation] == matrix.labels
    for m, case in enumerate(subset.validation):
        assert case.actual == pytest.approx(float(np.nanmean(binary[m])))
        assert 0 <= case.estimate <= 1 and case.error < 0.3
    # how good it is depends on the models at hand (bench/bench_subset.py); here, sane
    assert subset.mae < 0.15 and 0 < subset.random_mae < 0.2


def test_the_estimate_follows_the_anchor_results(
    chosen: tuple[PlantedSuite, AnchorSubset],
) -> None:
    _, subset = chosen
    all_right = subset.estimate(dict.fromkeys(subset.anchors, 1.0))
    all_wrong = subset.estimate(dict.fromkeys(subset.anchors, 0.0))
    half = subset.estimate({i: float(k % 2) for k, i in enumerate(sorted(subset.anchors))})
    assert all_wrong < half < all_right
    assert all_right > 0.8 and all_wrong < 0.35  # items nobody got right still count as wrong


def test_a_subset_file_round_trips(
    chosen: tuple[PlantedSuite, AnchorSubset], tmp_path: Path
) -> None:
    _, subset = chosen
    path = tmp_path / "anchors.json"
    path.write_text(json.dumps(subset.as_dict()), encoding="utf-8")
    again = read_subset(path)
    answers = {i: float(k % 3 == 0) for k, i in enumerate(sorted(subset.anchors))}
    assert again.estimate(answers) == pytest.approx(subset.estimate(answers))
    assert (again.mae, again.random_mae, again.k) == (subset.mae, subset.random_mae, subset.k)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (None, "subset=PATH: no such file"),
        ("{", "subset=PATH: not a subset file from evalkit suite subset"),
        ('{"format": "other"}', "not an evalkit subset file"),
    ],
)
def test_a_bad_subset_file_is_one_line(tmp_path: Path, text: str | None, message: str) -> None:
    path = tmp_path / "anchors.json"
    if text is not None:
        path.write_text(text, encoding="utf-8")
    with pytest.raises(UsageError, match=message.replace("PATH", str(path))):
        read_subset(path)


def test_too_few_models_or_too_large_k_is_refused(tmp_path: Path) -> None:
    suite = planted_suite(tmp_path, 30, 0)
    with pytest.raises(UsageError, match=r"at least 6 models .* the runs have 5"):
        choose_subset(simulate(suite, 5, seed=0), 5)
    with pytest.raises(UsageError, match=r"k=30: not smaller than the 30 test items"):
        choose_subset(simulate(suite, 6, seed=0), 30)


def test_suite_subset_command_prints_the_validation_and_writes_the_file(tmp_path: Path) -> None:
    suite = planted_suite(tmp_path / "suites", 40, 0, seed=2)
    runs = [
        scored_run(tmp_path / "reports" / "a", suite, [f"a{k}" for k in range(3)], seed=1),
        scored_run(tmp_path / "reports" / "b", suite, [f"b{k}" for k in range(3)], seed=2),
    ]
    out = tmp_path / "anchors.json"
    args = ["suite", "--suites-dir", str(tmp_path / "suites"), "subset", "planted@v1"]
    result = CliRunner().invoke(
        cli, [*args, "runs_dir=" + str(runs[0].parent), "k=8", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "planted@v1: 8 anchor items of 40 (1PL fit on 6 models)" in result.output
    assert "mean absolute error" in result.output and "8 random items" in result.output
    written = read_subset(out)
    assert written.suite == "planted@v1" and len(written.validation) == 6
    # bad input: one line, nothing written
    out.unlink()
    result = CliRunner().invoke(cli, [*args, f"runs=[{runs[0]}]", "k=8", "-o", str(out)])
    assert result.exit_code != 0 and not out.exists()
    assert "a subset needs at least 6 models" in result.output


@pytest.mark.parametrize("k", [2, 3, 8, 12, 29])
def test_anchors_are_exactly_k_and_stand_for_every_item(tmp_path: Path, k: int) -> None:
    from evalkit.analysis.irt_map import fit_irt_map
    from evalkit.analysis.subset import choose_anchors

    fit = fit_irt_map(simulate(planted_suite(tmp_path, 30, 0), 6, seed=k), "1pl")
    anchors = choose_anchors(fit, k, seed=k)
    assert len(anchors) == k and sum(anchors.values()) == pytest.approx(30)
