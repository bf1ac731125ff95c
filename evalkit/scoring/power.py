"""Power before anything runs: the difference a suite of this size can resolve.

Two models compared on the same right/wrong items differ only where they disagree; the share
of such items (the discordance) sets the variance of the paired difference: its standard
deviation per item is about sqrt(discordance). Fine-tuned checkpoints of one model disagree
on roughly 10-30% of items. The minimum detectable effect (MDE) at alpha = 0.05 and 80%
power is then (t_0.975 + t_0.8) x sd / sqrt(units), where units are the items, or the groups
when items share a source (clusters count once, which is why they matter).
"""

from __future__ import annotations

from dataclasses import dataclass

from evalkit.stats import binary_difference_sd, items_for_mde, planned_mde
from evalkit.suite.store import SuiteVersion

DISCORDANCES = (0.1, 0.2, 0.3)  # shares of items two compared models disagree on
TARGETS = (0.05, 0.02)  # differences a curator may want to resolve


@dataclass(frozen=True)
class SuitePower:
    """The MDE of a paired comparison on a suite (or one of its tasks), per discordance."""

    scope: str  # "suite" or a task type
    items: int
    units: int  # groups when the items carry group keys, else items
    mde: dict[float, float]  # discordance → MDE
    needed: dict[float, int]  # target difference → units needed at 20% discordance


def suite_power(version: SuiteVersion, alpha: float = 0.05, power: float = 0.8) -> list[SuitePower]:
    """The MDE for the whole suite and for each task, from the number of test items/groups."""
    tests = [i for i in version.items if i.split == "test"]
    scopes = [("suite", tests)] + [
        (task, [i for i in tests if i.task == task]) for task in sorted({i.task for i in tests})
    ]
    out = []
    for scope, items in scopes:
        units = len({i.group or i.id for i in items})
        mde = {d: planned_mde(units, binary_difference_sd(d), alpha, power) for d in DISCORDANCES}
        sd = binary_difference_sd(0.2)
        needed = {t: items_for_mde(t, sd, alpha, power) for t in TARGETS}
        out.append(SuitePower(scope, len(items), units, mde, needed))
    return out


def power_lines(rows: list[SuitePower]) -> list[str]:
    """`evalkit suite show`'s power table."""
    head = " / ".join(f"{d:.0%}" for d in DISCORDANCES)
    lines = [
        "smallest paired difference it can resolve (MDE, alpha 0.05, 80% power), if the two "
        f"models disagree on {head} of items:"
    ]
    for r in rows:
        units = f"{r.units} groups" if r.units != r.items else f"{r.items} items"
        mdes = " / ".join(f"{v:.3f}" if v == v else "-" for v in r.mde.values())
        lines.append(f"  {r.scope:<15} {units:<12} MDE {mdes}")
    suite = rows[0]
    targets = ", ".join(f"{t:.0%}: {n}" for t, n in suite.needed.items())
    lines.append(f"units needed at 20% disagreement for an MDE of {targets}")
    return lines
