"""The report's charts, as Plotly figure JSON (rendered in the page by the inlined plotly.js).

Plotly reads a few HTML tags (and entities) in axis labels, legend names, text and hover
labels, so every name from a run (model, suite, task, tag, stage) is HTML-escaped by `_label`
before it goes into a figure; templates (`hovertemplate`) are constants.
"""

from __future__ import annotations

import html
import json
from typing import Any

LAYOUT: dict[str, Any] = {
    "template": "plotly_white",
    "margin": {"l": 60, "r": 20, "t": 40, "b": 60},
    "font": {"family": "system-ui, 'WenQuanYi Micro Hei', 'Noto Sans CJK SC', sans-serif"},
    "height": 380,
    "hoverlabel": {"namelength": -1},  # whole names: a cut one could end inside an entity
}


def _figure(data: list[Any], layout: dict[str, Any]) -> dict[str, Any]:
    import plotly.graph_objects as go

    figure = go.Figure(data=data, layout={**LAYOUT, **layout})
    return json.loads(figure.to_json())


def _label(text: str) -> str:
    """A run's name as Plotly shows text: its tags and entities escaped."""
    return html.escape(str(text), quote=False)


def score_chart(summary: dict[str, Any]) -> dict[str, Any]:
    """Each model's score per suite with its 95% interval as whiskers."""
    import plotly.graph_objects as go

    traces = []
    for model in summary["models"]:
        rows = [r for r in summary["by_suite"] if r["model"] == model["name"]]
        scores = [r["metrics"]["score"] for r in rows]
        traces.append(
            go.Bar(
                name=_label(model["name"]),
                x=[_label(r["suite"]) for r in rows],
                y=[s["value"] for s in scores],
                error_y={
                    "type": "data",
                    "array": [s["high"] - s["value"] for s in scores],
                    "arrayminus": [s["value"] - s["low"] for s in scores],
                },
                customdata=[[s["low"], s["high"], s["n"]] for s in scores],
                hovertemplate="%{x}: %{y:.3f} [%{customdata[0]:.3f}, %{customdata[1]:.3f}]"
                " n=%{customdata[2]}<extra>%{fullData.name}</extra>",
            )
        )
    return _figure(traces, {"barmode": "group", "yaxis": {"title": "score", "range": [0, 1.05]}})


def breakdown_heatmap(summary: dict[str, Any], key: str) -> dict[str, Any] | None:
    """Score per suite and task or tag (rows) × model (columns)."""
    import plotly.graph_objects as go

    section = summary[f"by_{key}"]
    if not section:
        return None
    groups = sorted({(r["suite"], r[key]) for r in section})
    models = [m["name"] for m in summary["models"]]
    value = {(r["model"], r["suite"], r[key]): r["metrics"]["score"] for r in section}
    z, text = [], []
    for suite, name in groups:
        cells = [value.get((model, suite, name)) for model in models]
        z.append([c["value"] if c else None for c in cells])
        text.append(
            [
                f"{c['value']:.2f} [{c['low']:.2f}, {c['high']:.2f}] n={c['n']}" if c else ""
                for c in cells
            ]
        )
    heat = go.Heatmap(
        z=z,
        x=[_label(m) for m in models],
        y=[f"{_label(suite)} · {_label(name)}" for suite, name in groups],
        text=text,
        texttemplate="%{z:.2f}" if len(groups) * len(models) <= 400 else None,
        hovertemplate="%{y} · %{x}<br>%{text}<extra></extra>",
        zmin=0,
        zmax=1,
        colorscale="RdYlGn",
    )
    height = max(260, 100 + 26 * len(groups))  # a readable row, with every label shown
    return _figure(
        [heat],
        {
            "height": height,
            "yaxis": {"autorange": "reversed", "dtick": 1},
            "margin": {**LAYOUT["margin"], "l": 200},
        },
    )


def _range_with_zero(values: list[float]) -> list[float]:
    low, high = min([*values, 0.0]), max([*values, 0.0])
    pad = (high - low) * 0.1 or 0.05
    return [low - pad, high + pad]


def starting_point_chart(summary: dict[str, Any]) -> dict[str, Any] | None:
    """Each SFT checkpoint: its gain on a domain suite (y) against its change on the general
    suite (x), both relative to its starting model, with 95% intervals."""
    import plotly.graph_objects as go

    points: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for p in summary["starting_points"]:
        points.setdefault(p["model"], {"domain": [], "general": []})[p["role"]].append(p)
    traces = []
    xs: list[float] = []  # interval ends, for axis ranges that keep zero in view
    ys: list[float] = []
    for model, parts in points.items():
        if not parts["general"] or not parts["domain"]:
            continue
        general = parts["general"][0]
        for domain in parts["domain"]:
            xs += [general["low"], general["high"]]
            ys += [domain["low"], domain["high"]]
            traces.append(
                go.Scatter(
                    name=f"{_label(model)} ({_label(domain['stage'])}) · {_label(domain['suite'])}",
                    x=[general["difference"]],
                    y=[domain["difference"]],
                    mode="markers+text",
                    text=[_label(model)],
                    textposition="top center",
                    marker={"size": 14},
                    error_x={
                        "type": "data",
                        "array": [general["high"] - general["difference"]],
                        "arrayminus": [general["difference"] - general["low"]],
                    },
                    error_y={
                        "type": "data",
                        "array": [domain["high"] - domain["difference"]],
                        "arrayminus": [domain["difference"] - domain["low"]],
                    },
                    hovertemplate="change on general %{x:+.3f}<br>gain on domain %{y:+.3f}"
                    "<extra>%{fullData.name}</extra>",
                )
            )
    if not traces:
        return None
    zero = {"zeroline": True, "zerolinewidth": 2, "zerolinecolor": "#888"}
    return _figure(
        traces,
        {
            "xaxis": {
                "title": "change on the general suite (forgetting when < 0)",
                "range": _range_with_zero(xs),
                **zero,
            },
            "yaxis": {
                "title": "SFT gain on the domain suite",
                "range": _range_with_zero(ys),
                **zero,
            },
            "height": 440,
        },
    )


def judge_score_chart(
    distributions: dict[str, dict[str, dict[int, int]]], models: list[str]
) -> dict[str, Any] | None:
    """Per criterion and score, the share of each model's judged answers the judge gave it."""
    import plotly.graph_objects as go

    if not distributions:
        return None
    traces = []
    for model in models:
        x, y = [], []
        for criterion, by_model in sorted(distributions.items()):
            counts = by_model.get(model, {})
            total = sum(counts.values()) or 1
            levels = sorted({s for c in by_model.values() for s in c})
            for level in levels:
                x.append(f"{_label(criterion)} {level}")
                y.append(counts.get(level, 0) / total)
        traces.append(go.Bar(name=_label(model), x=x, y=y))
    return _figure(traces, {"barmode": "group", "yaxis": {"title": "share of judged answers"}})


def all_charts(
    summary: dict[str, Any], judge_scores: dict[str, dict[str, dict[int, int]]] | None = None
) -> dict[str, dict[str, Any]]:
    """The report's charts by id; a chart the run has no data for is left out."""
    models = [m["name"] for m in summary["models"]]
    charts: dict[str, dict[str, Any] | None] = {
        "scores": score_chart(summary),
        "tasks": breakdown_heatmap(summary, "task"),
        "tags": breakdown_heatmap(summary, "tag"),
        "starting_points": starting_point_chart(summary),
        "judge_scores": judge_score_chart(judge_scores or {}, models),
    }
    from evalkit.report.trend import trend_charts

    charts.update(trend_charts(summary))
    return {name: chart for name, chart in charts.items() if chart is not None}
