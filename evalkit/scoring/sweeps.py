"""A checkpoint sweep's trend and the suggested pick.

For each sweep of the run (models expanded from one `sweep:` config or glob, with their
training step): every suite's score against step with its interval, the starting model's
score beside it, and the checkpoint to ship by the stated rule — the largest mean gain on the
domain suites over the starting model among the checkpoints that are not significantly worse
(family-corrected) than it on any general suite. Without a starting model in the run,
forgetting cannot be checked: the pick is the best mean domain score, and the rule says so.
"""

from __future__ import annotations

from typing import Any

from evalkit.scoring.starting_points import is_general_suite

RULE = (
    "largest mean gain on the domain suites over {start}, among the checkpoints not "
    "significantly worse than {start} on any general suite (corrected for multiple comparisons)"
)
RULE_WITHOUT_START = (
    "best mean score on the domain suites; the run has no starting model, so forgetting on "
    "general suites is not checked"
)


def _score(row: dict[str, Any]) -> dict[str, float]:
    s = row["metrics"]["score"]
    return {"value": s["value"], "low": s["low"], "high": s["high"]}


def _pick(
    checkpoints: list[dict[str, Any]],
    by_suite: list[dict[str, Any]],
    rows: list[dict[str, Any]],
    start: str | None,
) -> dict[str, Any] | None:
    names = [c["name"] for c in checkpoints]
    step = {c["name"]: c["step"] for c in checkpoints}
    if start is None:
        scores = {
            n: [
                r["metrics"]["score"]["value"]
                for r in by_suite
                if r["model"] == n and not is_general_suite(r["suite"].split("@")[0])
            ]
            for n in names
        }
        scored = {n: sum(v) / len(v) for n, v in scores.items() if v}
        if not scored:
            return None
        best = max(scored, key=lambda n: (scored[n], -step[n]))
        return {"model": best, "step": step[best], "domain_score": scored[best]}
    eligible: list[str] = []
    gains: dict[str, float] = {}
    for name in names:
        own = [r for r in rows if r["model"] == name]
        if any(r["role"] == "general" and r["significant"] and r["difference"] < 0 for r in own):
            continue
        domain = [r["difference"] for r in own if r["role"] == "domain"]
        if domain:
            eligible.append(name)
            gains[name] = sum(domain) / len(domain)
    if not eligible:
        return {
            "model": None,
            "reason": f"every checkpoint forgets: significantly worse than "
            f"{start} on a general suite",
        }
    best = max(eligible, key=lambda n: (gains[n], -step[n]))
    return {"model": best, "step": step[best], "domain_gain": gains[best]}


def sweep_view(
    models: list[dict[str, Any]],
    by_suite: list[dict[str, Any]],
    starting_points: list[dict[str, Any]],
) -> list[dict[str, Any]]:
    """Per sweep: its checkpoints by step, each suite's trend, and the suggested pick."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for model in models:
        if model.get("sweep_of") and model.get("step") is not None:
            groups.setdefault(model["sweep_of"], []).append(model)
    out = []
    for sweep, members in groups.items():
        checkpoints = sorted(
            ({"name": m["name"], "step": m["step"]} for m in members), key=lambda c: c["step"]
        )
        names = {c["name"] for c in checkpoints}
        rows = [r for r in starting_points if r["model"] in names]
        starts = {r["starting_model"] for r in rows}
        start = starts.pop() if len(starts) == 1 else None
        trend: dict[str, list[dict[str, Any]]] = {}
        for c in checkpoints:
            for row in by_suite:
                if row["model"] == c["name"]:
                    trend.setdefault(row["suite"], []).append({**c, **_score(row)})
        start_scores = {r["suite"]: _score(r) for r in by_suite if r["model"] == start}
        out.append(
            {
                "sweep": sweep,
                "checkpoints": checkpoints,
                "starting_model": start,
                "trend": trend,
                "start_scores": start_scores,
                "roles": {
                    s: "general" if is_general_suite(s.split("@")[0]) else "domain" for s in trend
                },
                "gains": rows,
                "pick": _pick(checkpoints, by_suite, rows, start),
                "rule": RULE.format(start=start) if start else RULE_WITHOUT_START,
            }
        )
    return out


def sweep_lines(sweeps: list[dict[str, Any]]) -> list[str]:
    """The terminal lines: the suggested pick of each sweep, with its rule."""
    lines = []
    for s in sweeps:
        pick = s["pick"]
        steps = ", ".join(str(c["step"]) for c in s["checkpoints"])
        if pick is None or pick.get("model") is None:
            why = pick["reason"] if pick else "no domain suite scored"
            lines.append(f"sweep {s['sweep']} (steps {steps}): no pick: {why}")
            continue
        gain = (
            f"domain gain {pick['domain_gain']:+.3f} over {s['starting_model']}"
            if "domain_gain" in pick
            else f"domain score {pick['domain_score']:.3f}"
        )
        lines.append(
            f"sweep {s['sweep']} (steps {steps}): suggested pick {pick['model']} "
            f"(step {pick['step']}, {gain}); rule: {s['rule']}"
        )
    return lines
