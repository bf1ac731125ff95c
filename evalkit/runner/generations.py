"""The generations file of one model on one suite: a line per test item.

Each line holds the prompt as sent, the raw output with its tokens, finish reason and time,
the option log-likelihoods when options were scored, `fit` when fitting the prompt to the
model's context changed it (exemplars dropped, text cut), and `error` when the item was not
answered (it could not fit, or its request failed): such an item is reported, not scored.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from evalkit.prompts import Prompt
from evalkit.runner.plan import Plan, PlannedRequest
from evalkit.suite.items import ItemBase
from evalkit.suite.store import SuiteVersion


def prompt_record(prompt: Prompt | None) -> dict[str, Any] | None:
    if prompt is None:
        return None
    if prompt.text is not None:
        return {"text": prompt.text}
    return {"messages": [{"role": r, "content": c} for r, c in prompt.messages or ()]}


def generation_row(
    version: SuiteVersion,
    item: ItemBase,
    prompt: Prompt | None,
    requests: list[PlannedRequest],
    plan: Plan,
    results: dict[str, Any],
    failed: dict[str, str],
) -> dict[str, Any]:
    """One item's line: what was sent, what came back, and what went wrong."""
    row: dict[str, Any] = {
        "suite": version.ref,
        "item_id": item.id,
        "task": item.task,
        "prompt": prompt_record(prompt),
    }
    fit = plan.fits.get(item.id)
    if fit is not None and fit.record:
        row["fit"] = fit.record
    if fit is not None and fit.error:
        row["error"] = fit.error
    for p in requests:
        value = results.get(p.key)
        if value is None:
            row.setdefault("error", f"the engine failed on this request: {failed.get(p.key)}")
        elif p.kind == "generate":
            row["output"] = value["text"]
            row["prompt_tokens"] = value["prompt_tokens"]
            row["output_tokens"] = value["output_tokens"]
            row["finish_reason"] = value["finish_reason"]
            row["output_token_ids"] = value.get("token_ids", [])
            row["seconds"] = round(value["seconds"], 6)
        else:
            row.setdefault("option_logprobs", {})[p.option] = value
    if "error" in row:  # an item is answered whole or not at all
        for partial in ("output", "option_logprobs"):
            row.pop(partial, None)
    return row


def write_generations(
    path: Path,
    version: SuiteVersion,
    items: list[ItemBase],
    plan: Plan,
    results: dict[str, Any],
    failed: dict[str, str],
) -> int:
    """Write one line per item; return how many items have an error."""
    by_item: dict[str, list[PlannedRequest]] = {}
    for p in plan.requests:
        by_item.setdefault(p.item_id, []).append(p)
    path.parent.mkdir(parents=True, exist_ok=True)
    errors = 0
    with path.open("w", encoding="utf-8") as f:
        for item, prompt in zip(items, plan.prompts, strict=True):
            row = generation_row(
                version, item, prompt, by_item.get(item.id, []), plan, results, failed
            )
            errors += "error" in row
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    return errors
