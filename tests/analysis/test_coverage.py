"""Coverage per slice: items, units and the MDE they allow, against the spec's goals."""

from __future__ import annotations

from pathlib import Path

import pytest

from analysis.planted import planted_suite, simulate
from evalkit.analysis.coverage import ASSUMED_DISCORDANCE, suite_coverage, thinnest_lines
from evalkit.stats import binary_difference_sd, planned_mde
from evalkit.suite.spec import CoverageGoals


def test_without_runs_the_mde_assumes_twenty_percent_disagreement(tmp_path: Path) -> None:
    version = planted_suite(tmp_path, 30, 0).version
    slices = {(s.kind, s.name): s for s in suite_coverage(version)}
    # 30 items: languages alternate (15 each), tags cycle over 3 topics (10 each)
    assert slices["task", "mcq"].items == 30
    assert slices["language", "en"].items == 15
    topic = slices["tag", "topic-0"]
    assert (topic.items, topic.units, topic.observed) == (10, 10, False)
    assert topic.mde == pytest.approx(planned_mde(10, binary_difference_sd(ASSUMED_DISCORDANCE)))
    assert next(iter(slices.values())).mde == max(s.mde for s in slices.values())  # thinnest


def test_with_runs_the_observed_disagreement_sets_the_mde(tmp_path: Path) -> None:
    suite = planted_suite(tmp_path, 30, 0)
    matrix = simulate(suite, 6, seed=2)
    task = next(s for s in suite_coverage(suite.version, matrix) if s.kind == "task")
    assert task.observed and 0 < task.discordance < 1
    assert task.mde == pytest.approx(planned_mde(30, binary_difference_sd(task.discordance)))


def test_slices_below_the_spec_goals_are_named(tmp_path: Path) -> None:
    goals = CoverageGoals(min_items_per_tag=12, mde=0.5)
    version = planted_suite(tmp_path, 30, 0, coverage=goals).version
    assert version.spec.coverage == goals  # published with the spec, in its hash
    slices = suite_coverage(version)
    below = {s.name: s.below_goal for s in slices if s.below_goal}
    assert set(below) == {"topic-0", "topic-1", "topic-2"}
    assert below["topic-0"] == ["fewer than 12 items"]
    lines = thinnest_lines(slices)
    assert any("tag topic-0: 10 items" in line and "below goal" in line for line in lines)
