"""The regression gate for CI: fail when a model is significantly worse than the baseline.

Significance is the family-corrected one (see `comparisons`), so a run of many models and
suites where nothing changed fails the gate at most `alpha` of the time.
"""

from __future__ import annotations

from typing import Any

from evalkit.errors import EvalkitError


class RegressionFound(EvalkitError):
    """A candidate is significantly worse than the baseline by more than the threshold."""


def regressions(summary: dict[str, Any], threshold: float) -> list[str]:
    """Candidates significantly worse than the run's baseline by more than `threshold`."""
    found = []
    for c in summary["comparisons"]:
        if (
            c["metric"] == "score"
            and c["baseline"] == summary["baseline"]
            and c["significant"]
            and c["difference"] < -threshold
        ):
            found.append(
                f"{c['candidate']} on {c['suite']}: {c['difference']:+.3f} vs {c['baseline']} "
                f"(95% CI {c['low']:+.3f}..{c['high']:+.3f}, p={c['p_value']:.3g}, "
                f"{summary['family']['correction']}-adjusted p={c['p_adjusted']:.3g})"
            )
    return found


def check_gate(summary: dict[str, Any], threshold: float | None) -> None:
    """Raise RegressionFound (exit 1) naming every regression beyond `threshold`."""
    if threshold is None:
        return
    found = regressions(summary, threshold)
    if found:
        raise RegressionFound(f"regression beyond {threshold}: " + "; ".join(found))
