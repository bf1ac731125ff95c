"""A sweep's suggested pick: the best domain gain among the checkpoints that do not forget."""

from __future__ import annotations

from typing import Any

from evalkit.scoring.sweeps import sweep_lines, sweep_view


def _row(model: str, suite: str, value: float) -> dict[str, Any]:
    return {
        "model": model,
        "suite": suite,
        "metrics": {"score": {"value": value, "low": value - 0.05, "high": value + 0.05}},
    }


def _gain(model: str, suite: str, difference: float, significant: bool) -> dict[str, Any]:
    role = "general" if suite.startswith("general") else "domain"
    return {
        "model": model,
        "starting_model": "chat",
        "suite": suite,
        "role": role,
        "difference": difference,
        "significant": significant,
    }


MODELS = [
    {"name": "chat"},
    *({"name": f"sft-{s}", "sweep_of": "sft", "step": s} for s in (100, 200, 300)),
]
BY_SUITE = [
    _row("chat", "legal@v2", 0.40),
    _row("chat", "general@v1", 0.60),
    _row("sft-100", "legal@v2", 0.50),
    _row("sft-200", "legal@v2", 0.62),
    _row("sft-300", "legal@v2", 0.70),
    _row("sft-100", "general@v1", 0.59),
    _row("sft-200", "general@v1", 0.57),
    _row("sft-300", "general@v1", 0.45),
]


def test_the_pick_is_the_best_domain_gain_that_does_not_forget() -> None:
    gains = [
        _gain("sft-100", "legal@v2", 0.10, True),
        _gain("sft-200", "legal@v2", 0.22, True),
        _gain("sft-300", "legal@v2", 0.30, True),
        _gain("sft-100", "general@v1", -0.01, False),
        _gain("sft-200", "general@v1", -0.03, False),
        _gain("sft-300", "general@v1", -0.15, True),  # the best domain gain, but it forgets
    ]
    (sweep,) = sweep_view(MODELS, BY_SUITE, gains)
    assert [c["step"] for c in sweep["checkpoints"]] == [100, 200, 300]
    assert sweep["starting_model"] == "chat"
    assert [p["value"] for p in sweep["trend"]["legal@v2"]] == [0.50, 0.62, 0.70]
    assert sweep["start_scores"]["general@v1"]["value"] == 0.60
    assert sweep["roles"] == {"legal@v2": "domain", "general@v1": "general"}
    assert sweep["pick"] == {"model": "sft-200", "step": 200, "domain_gain": 0.22}
    (line,) = sweep_lines([sweep])
    assert "suggested pick sft-200 (step 200, domain gain +0.220 over chat)" in line
    assert "not significantly worse than chat on any general suite" in line


def test_when_every_checkpoint_forgets_there_is_no_pick() -> None:
    gains = [
        _gain(f"sft-{s}", suite, d, True)
        for s in (100, 200, 300)
        for suite, d in (("legal@v2", 0.1), ("general@v1", -0.2))
    ]
    (sweep,) = sweep_view(MODELS, BY_SUITE, gains)
    assert sweep["pick"]["model"] is None
    assert "no pick: every checkpoint forgets" in sweep_lines([sweep])[0]


def test_without_a_starting_model_the_rule_says_forgetting_is_not_checked() -> None:
    (sweep,) = sweep_view(MODELS, BY_SUITE, [])
    assert sweep["pick"] == {"model": "sft-300", "step": 300, "domain_score": 0.70}
    assert "forgetting on general suites is not checked" in sweep["rule"]


def test_a_run_without_sweeps_has_none() -> None:
    assert sweep_view([{"name": "chat"}], BY_SUITE, []) == []
