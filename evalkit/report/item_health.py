"""The report's item health: what this run's models say about each suite's items.

The same analysis as `evalkit suite analyze` (evalkit.analysis), on this run's models only
and without the IRT fit (which needs more models than most runs have, and time the report
does not take): items that separate no models, suspected wrong gold answers with the
models' answers, format failures concentrated on an item, and the thinnest slices.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from evalkit.suite.store import SuiteVersion

SHOWN = 20  # flagged items per suite in the page; `evalkit suite analyze -o` has all
SERIOUS = ("suspected_wrong_gold", "format_failures", "negative_discrimination")


def _seriousness(flagged: dict[str, Any]) -> int:
    """Where an item goes in the list: its most serious flag first, the rest after."""
    kinds = [text.split(":")[0] for text in flagged["flags"]]
    return min((SERIOUS.index(k) for k in kinds if k in SERIOUS), default=len(SERIOUS))


def item_health(
    run_dir: Path, versions: dict[str, SuiteVersion], rows: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Per suite: flag counts, the flagged items with their evidence, suspects, slices."""
    from evalkit.analysis.coverage import thinnest_lines
    from evalkit.analysis.responses import gather_responses
    from evalkit.analysis.suite_analysis import analyze_matrix

    out = []
    for ref, version in versions.items():
        analysis = analyze_matrix(
            version, gather_responses(version, [run_dir], {run_dir: rows}), irt=False
        )
        counts: dict[str, int] = {}
        flagged = []
        for stats in analysis.flagged:
            for flag in stats.flags:
                counts[flag["flag"]] = counts.get(flag["flag"], 0) + 1
            flagged.append(
                {
                    "item_id": stats.item_id,
                    "task": stats.task,
                    "difficulty": stats.difficulty,
                    "flags": [f"{f['flag']}: {f['evidence']}" for f in stats.flags],
                }
            )
        # items with the most serious flags first: suspected gold, format, then the rest
        flagged.sort(key=_seriousness)
        out.append(
            {
                "suite": ref,
                "models": len(analysis.models),
                "items": len(analysis.items),
                "counts": dict(sorted(counts.items())),
                "flagged": flagged[:SHOWN],
                "more": max(0, len(flagged) - SHOWN),
                "suspects": [
                    {
                        "item_id": s.item_id,
                        "gold": s.gold,
                        "suspected": s.suspected,
                        "evidence": s.evidence,
                    }
                    for s in analysis.suspects
                    if s.flagged
                ],
                "thinnest": thinnest_lines(analysis.coverage),
                "notes": analysis.notes,
            }
        )
    return out
