"""The Trend chart of a checkpoint sweep: each suite's score against training step.

Domain suites are solid lines, general (forgetting) suites dashed; the starting model's score
on each suite is a dotted horizontal line of the same colour, and the suggested pick is
marked. Names are HTML-escaped as in `evalkit.report.charts`.
"""

from __future__ import annotations

from typing import Any

from evalkit.report.charts import _figure, _label

COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#17becf")


def trend_chart(sweep: dict[str, Any]) -> dict[str, Any]:
    """One sweep's figure."""
    import plotly.graph_objects as go

    traces = []
    steps = [c["step"] for c in sweep["checkpoints"]]
    for k, (suite, points) in enumerate(sorted(sweep["trend"].items())):
        colour = COLOURS[k % len(COLOURS)]
        dash = "dash" if sweep["roles"][suite] == "general" else "solid"
        traces.append(
            go.Scatter(
                name=f"{_label(suite)} ({sweep['roles'][suite]})",
                x=[p["step"] for p in points],
                y=[p["value"] for p in points],
                mode="lines+markers",
                line={"color": colour, "dash": dash},
                error_y={
                    "type": "data",
                    "array": [p["high"] - p["value"] for p in points],
                    "arrayminus": [p["value"] - p["low"] for p in points],
                },
                customdata=[[_label(p["name"]), p["low"], p["high"]] for p in points],
                hovertemplate="%{customdata[0]} (step %{x}): %{y:.3f} "
                "[%{customdata[1]:.3f}, %{customdata[2]:.3f}]<extra>%{fullData.name}</extra>",
            )
        )
        start = sweep["start_scores"].get(suite)
        if start is not None:
            traces.append(
                go.Scatter(
                    name=f"{_label(sweep['starting_model'])} on {_label(suite)}",
                    x=[min(steps), max(steps)],
                    y=[start["value"], start["value"]],
                    mode="lines",
                    line={"color": colour, "dash": "dot", "width": 1},
                    hovertemplate="starting model: %{y:.3f}<extra>%{fullData.name}</extra>",
                )
            )
    layout: dict[str, Any] = {
        "xaxis": {"title": "training step"},
        "yaxis": {"title": "score", "range": [0, 1.05]},
        "height": 420,
    }
    pick = sweep["pick"]
    if pick and pick.get("model") is not None:
        layout["shapes"] = [
            {
                "type": "line",
                "x0": pick["step"],
                "x1": pick["step"],
                "y0": 0,
                "y1": 1.05,
                "line": {"color": "#444", "width": 1, "dash": "dashdot"},
            }
        ]
        layout["annotations"] = [
            {"x": pick["step"], "y": 1.05, "text": "suggested pick", "showarrow": False}
        ]
    return _figure(traces, layout)


def trend_charts(summary: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Chart id → figure, one per sweep of the run (`trend-0`, `trend-1`, ...)."""
    return {f"trend-{k}": trend_chart(s) for k, s in enumerate(summary.get("sweeps", []))}
