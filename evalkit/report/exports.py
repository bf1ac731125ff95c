"""The summary as CSV (one row per model × suite × metric) and Markdown (for a PR)."""

from __future__ import annotations

import html
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
    frame = pd.DataFrame.from_records(records)
    for column in ("model", "suite", "metric", "verdict", "test"):
        if column in frame:
            frame[column] = frame[column].map(spreadsheet_safe)
    return frame


# A cell a spreadsheet would run as a formula (OWASP's list); a model folder can be named
# "=HYPERLINK(...)". Such text gets a leading apostrophe, which spreadsheets show as text.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: Any) -> Any:
    """Text that a spreadsheet would read as a formula, made plain text; anything else as is."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _cell(text: str) -> str:
    """A Markdown table cell showing `text` as text: HTML as entities, no link or image
    (brackets escaped), one line, no `|`."""
    text = html.escape(str(text), quote=False)
    for ch in "\\[]|":
        text = text.replace(ch, "\\" + ch)
    return text.replace("\r", " ").replace("\n", " ")


def _code(text: str) -> str:
    """A Markdown code span showing `text` (code spans are literal: no escapes, no backticks)."""
    return "`" + str(text).replace("`", "'").replace("\n", " ") + "`"


def summary_markdown(
    table: list[dict[str, Any]], columns: list[str], summary: dict[str, Any]
) -> str:
    """A Markdown table: model, suite, each metric with its interval, and Δ score vs baseline."""
    baseline, family = summary["baseline"], summary["family"]
    head = ["model", "suite", *columns, f"Δ score vs {baseline}"]
    lines = [
        f"**evalkit run {_code(summary['run_id'])}** — 95% bootstrap intervals; "
        f"{_cell(summary['headline'])} score; * marks a difference significant after "
        f"{_cell(family['correction'])} correction over {family['comparisons']} comparisons "
        f"(alpha {family['alpha']}); each Δ ends with its MDE and verdict",
        "",
        "| " + " | ".join(_cell(h) for h in head) + " |",
        "|" + "---|" * len(head),
    ]
    for row in table:
        # Names and verdicts come from the run: escaped. Numbers are formatted here.
        cells = [_cell(row["model"]), _cell(row["suite"])]
        for name in columns:
            m = row["metrics"].get(name)
            cells.append(f"{m['value']:.3f} [{m['low']:.3f}, {m['high']:.3f}]" if m else "")
        d = row["delta"].get("score")
        cells.append(
            f"{d['difference']:+.3f} [{d['low']:+.3f}, {d['high']:+.3f}]"
            + ("*" if d["significant"] else "")
            + f" MDE {d['mde']:.3f} {_cell(d['verdict'])}"
            if d
            else "—"
        )
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
