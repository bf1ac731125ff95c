"""Coverage: how many test items each slice of a suite has, and what that lets it resolve.

A slice is a tag, a task type or a language. Its precision is the minimum detectable
difference (MDE) of a paired comparison of two models on its items (evalkit.stats.power,
Miller 2024), at the discordance the runs show there (the median share of its items on which
two of the analysed models differ) or, without runs, at 20% (as `evalkit suite show`
assumes). Items sharing a group count once. Slices below the suite's own coverage goals
(`coverage.min_items_per_tag`, `coverage.mde` in its spec) are named.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

import numpy as np

from evalkit.analysis.irt import binary_responses
from evalkit.analysis.responses import ResponseMatrix
from evalkit.stats import binary_difference_sd, planned_mde
from evalkit.suite.items import ItemBase
from evalkit.suite.store import SuiteVersion

ASSUMED_DISCORDANCE = 0.2
THINNEST = 3  # slices named as the thinnest


@dataclass
class Slice:
    kind: str  # "tag", "task" or "language"
    name: str
    items: int
    units: int  # groups count once
    discordance: float  # observed median across model pairs, or the assumed 20%
    observed: bool  # whether the discordance comes from runs
    mde: float
    below_goal: list[str] = field(default_factory=list)  # which goals it misses


def _slices(items: list[ItemBase]) -> dict[tuple[str, str], list[int]]:
    out: dict[tuple[str, str], list[int]] = {}
    for j, item in enumerate(items):
        out.setdefault(("task", item.task), []).append(j)
        out.setdefault(("language", item.language), []).append(j)
        for tag in item.tags:
            out.setdefault(("tag", tag), []).append(j)
    return out


def _discordance(responses: np.ndarray | None, columns: list[int]) -> float | None:
    """Median share of the slice's items on which two models differ, over model pairs."""
    if responses is None or responses.shape[0] < 2:
        return None
    shares = []
    for a, b in itertools.combinations(range(responses.shape[0]), 2):
        x, y = responses[a, columns], responses[b, columns]
        both = ~np.isnan(x) & ~np.isnan(y)
        if both.any():
            shares.append(float((x[both] != y[both]).mean()))
    return float(np.median(shares)) if shares else None


def suite_coverage(version: SuiteVersion, matrix: ResponseMatrix | None = None) -> list[Slice]:
    """Every slice of the version's test items, thinnest (largest MDE) first."""
    items = matrix.items if matrix is not None else [i for i in version.items if i.split == "test"]
    responses = binary_responses(matrix) if matrix is not None else None
    goals = version.spec.coverage
    out = []
    for (kind, name), columns in _slices(items).items():
        units = len({items[j].group or items[j].id for j in columns})
        observed = _discordance(responses, columns)
        discordance = ASSUMED_DISCORDANCE if observed is None else observed
        sd = binary_difference_sd(discordance)
        mde = planned_mde(units, sd) if sd > 0 else 0.0
        below = []
        least = goals.min_items_per_tag if goals is not None else None
        if kind == "tag" and least is not None and len(columns) < least:
            below.append(f"fewer than {least} items")
        if goals is not None and goals.mde is not None and not mde <= goals.mde:
            below.append(f"MDE above {goals.mde:.3f}")
        out.append(
            Slice(kind, name, len(columns), units, discordance, observed is not None, mde, below)
        )
    return sorted(out, key=lambda s: (-_finite(s.mde), s.items, s.kind, s.name))


def _finite(value: float) -> float:
    return value if math.isfinite(value) else 1e9


def thinnest_lines(slices: list[Slice], limit: int = THINNEST) -> list[str]:
    """The thinnest slices and every slice below a goal, one line each."""
    named = [s for s in slices if s.below_goal]
    named += [s for s in slices[:limit] if s not in named]
    lines = []
    for s in named:
        source = "observed" if s.observed else "assumed"
        mde = f"MDE {s.mde:.3f}" if math.isfinite(s.mde) else "no MDE (fewer than 2 units)"
        goal = f"; below goal: {', '.join(s.below_goal)}" if s.below_goal else ""
        lines.append(
            f"{s.kind} {s.name}: {s.items} items ({s.units} units), {mde} at "
            f"{s.discordance:.0%} {source} disagreement{goal}"
        )
    return lines
