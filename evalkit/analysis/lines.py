"""The terminal summary of a suite analysis (`evalkit suite analyze`)."""

from __future__ import annotations

import math

from evalkit.analysis.coverage import thinnest_lines
from evalkit.analysis.suite_analysis import SuiteAnalysis

SHOWN = 10  # flagged items and suspects printed; the JSON has all of them


def _figure(value: float | None, form: str = ".2f") -> str:
    return "-" if value is None or not math.isfinite(value) else format(value, form)


def analysis_lines(analysis: SuiteAnalysis) -> list[str]:
    """What a curator reads first: flags, suspects, thinnest slices."""
    items = analysis.items
    lines = [
        f"{analysis.suite}: {len(analysis.models)} model(s) from {len(analysis.runs)} run(s), "
        f"{len(items)} test items; IRT: {analysis.irt}"
    ]
    for label in analysis.models:
        theta = analysis.abilities.get(label)
        ability = f", ability {theta:+.2f}" if theta is not None else ""
        lines.append(
            f"  {label:<24} mean score {_figure(analysis.model_scores.get(label))}{ability}"
        )
    lines += [f"note: {note}" for note in analysis.notes]
    flagged = analysis.flagged
    counts: dict[str, int] = {}
    for stats in flagged:
        for flag in stats.flags:
            counts[flag["flag"]] = counts.get(flag["flag"], 0) + 1
    summary = ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "none"
    lines.append(f"flagged items: {len(flagged)} of {len(items)} ({summary})")
    for stats in flagged[:SHOWN]:
        for flag in stats.flags:
            lines.append(
                f"  {stats.item_id:<20} p={_figure(stats.difficulty)} "
                f"r={_figure(stats.discrimination, '+.2f')}  {flag['flag']}: {flag['evidence']}"
            )
    if len(flagged) > SHOWN:
        lines.append(f"  ... {len(flagged) - SHOWN} more in the JSON (-o FILE)")
    suspects = [s for s in analysis.suspects if s.flagged]
    lines.append(
        f"suspected wrong gold answers: {len(suspects)} (suspicions for an expert to check; "
        "nothing is changed)"
    )
    for s in suspects[:SHOWN]:
        lines.append(f"  {s.item_id:<20} gold {s.gold!r}, suspected {s.suspected!r}: {s.evidence}")
    lines.append("coverage, thinnest slices:")
    lines += [f"  {line}" for line in thinnest_lines(analysis.coverage)]
    return lines
