"""The summary as CSV (one row per model × suite × metric) and Markdown (for a PR)."""

from __future__ import annotations

from typing import Any


def summary_frame(table: list[dict[str, Any]]) -> Any:
    """Long format: every metric of every model × suite, with the change against the baseline."""
    import pandas as pd

    records = []
    for row in table:
        for metric, m in row["metrics"].items():
            delta = row["delta"].get(metric, {})
            records.append(
                {
                    "model": row["model"],
                    "suite": row["suite"],
                    "metric": metric,
                    "value": m["value"],
                    "low": m["low"],
                    "high": m["high"],
                    "n": m["n"],
                    "difference": delta.get("difference"),
                    "difference_low": delta.get("low"),
                    "difference_high": delta.get("high"),
                    "p_value": delta.get("p_value"),
                    "p_adjusted": delta.get("p_adjusted"),
                    "significant": delta.get("significant"),
                    "mde": delta.get("mde"),
                    "verdict": delta.get("verdict"),
                    "test": delta.get("test"),
                }
            )
    return pd.DataFrame.from_records(records)


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def summary_markdown(
    table: list[dict[str, Any]], columns: list[str], summary: dict[str, Any]
) -> str:
    """A Markdown table: model, suite, each metric with its interval, and Δ score vs baseline."""
    baseline, family = summary["baseline"], summary["family"]
    head = ["model", "suite", *columns, f"Δ score vs {baseline}"]
    lines = [
        f"**evalkit run `{_cell(summary['run_id'])}`** — 95% bootstrap intervals; "
        f"{summary['headline']} score; * marks a difference significant after "
        f"{family['correction']} correction over {family['comparisons']} comparisons "
        f"(alpha {family['alpha']}); each Δ ends with its MDE and verdict",
        "",
        "| " + " | ".join(_cell(h) for h in head) + " |",
        "|" + "---|" * len(head),
    ]
    for row in table:
        cells = [row["model"], row["suite"]]
        for name in columns:
            m = row["metrics"].get(name)
            cells.append(f"{m['value']:.3f} [{m['low']:.3f}, {m['high']:.3f}]" if m else "")
        d = row["delta"].get("score")
        cells.append(
            f"{d['difference']:+.3f} [{d['low']:+.3f}, {d['high']:+.3f}]"
            + ("*" if d["significant"] else "")
            + f" MDE {d['mde']:.3f} {d['verdict']}"
            if d
            else "—"
        )
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return "\n".join(lines) + "\n"
