"""Each SFT checkpoint against the model it was fine-tuned from: gain and forgetting.

An SFT model's starting model is, in order: `starting_model.<name>=` on the command line,
`starting_model:` in its model config, or the run's only model of its `starting_point` kind
(base or chat). Its gain on domain suites and its change on the general suite (`general` or
any `*-general`, the forgetting control) are read from its paired comparison with that model.
"""

from __future__ import annotations

from typing import Any

from evalkit.errors import UsageError

GENERAL_SUITE = "general"


def is_general_suite(name: str) -> bool:
    """`general`, or a suite named `<something>-general`: the forgetting control."""
    return name == GENERAL_SUITE or name.endswith("-" + GENERAL_SUITE)


def resolve_starting_models(
    models: list[dict[str, Any]], declared: dict[str, str]
) -> tuple[dict[str, str], list[str]]:
    """SFT model name → its starting model's name, and notes on SFT models that have none.

    `declared` is the `starting_model` setting; a name in it that is not an SFT model of the
    run, or a starting model that is not a model of the run, is a usage error.
    """
    names = [m["name"] for m in models]
    sft = {m["name"]: m for m in models if m.get("kind") == "sft"}
    for name in declared:
        if name not in sft:
            raise UsageError(
                f"starting_model.{name}: {name!r} is not an sft model of this run "
                f"(sft models: {', '.join(sft) or 'none'})"
            )
    resolved, notes = {}, []
    for name, model in sft.items():
        start = declared.get(name) or model.get("starting_model")
        setting = f"starting_model.{name}" if name in declared else f"{name}: starting_model"
        if start is not None:
            if start not in names or start == name:
                raise UsageError(
                    f"{setting}={start!r} is not another model of this run "
                    f"(models: {', '.join(names)})"
                )
            resolved[name] = start
            continue
        kind = model.get("starting_point")
        candidates = [m["name"] for m in models if m.get("kind") == kind and m["name"] != name]
        if len(candidates) == 1:
            resolved[name] = candidates[0]
        elif candidates:
            raise UsageError(
                f"starting_model.{name}: the run has several {kind} models "
                f"({', '.join(candidates)}); say which one {name} was fine-tuned from"
            )
        else:
            notes.append(
                f"{name} was fine-tuned from a {kind} model, and the run has none: "
                "no gain or forgetting is measured for it"
            )
    return resolved, notes


def starting_point_view(
    models: list[dict[str, Any]],
    starting: dict[str, str],
    comparisons: list[dict[str, Any]],
) -> list[dict[str, Any]]:
    """For each SFT checkpoint and suite: its change in score against its starting model."""
    stage = {m["name"]: m.get("stage") for m in models}
    by_pair = {
        (c["baseline"], c["candidate"], c["suite"]): c
        for c in comparisons
        if c["metric"] == "score"
    }
    out = []
    for model, start in starting.items():
        for (base, cand, suite), c in sorted(by_pair.items()):
            if (base, cand) != (start, model):
                continue
            out.append(
                {
                    "model": model,
                    "stage": stage.get(model),
                    "starting_model": start,
                    "suite": suite,
                    "role": "general" if is_general_suite(suite.split("@")[0]) else "domain",
                    **{
                        k: c[k]
                        for k in (
                            "difference",
                            "low",
                            "high",
                            "p_value",
                            "p_adjusted",
                            "mde",
                            "significant",
                            "verdict",
                        )
                    },
                }
            )
    return out
