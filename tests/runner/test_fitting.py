"""Prompts fitted to a model's context with its real tokenizer: exemplars dropped first, text
cut only when the run and the suite allow it, otherwise a per-item error with its reason."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from evalkit.prompts import build_prompts
from evalkit.runner.fitting import (
    ELLIPSIS,
    ContextWindow,
    PromptFitter,
    TokenCounter,
    context_window,
)
from evalkit.runner.models import ModelSpec
from evalkit.suite.items import ITEM_ADAPTER, ItemBase
from evalkit.suite.spec import SuiteSpec

BASE: dict[str, Any] = {"language": "en", "provenance": {"author": "t"}}
LONG = " ".join(
    f"Clause {k}: the Seller shall deliver the goods within thirty days." for k in range(60)
)


def spec(truncate_from: str | None = None) -> SuiteSpec:
    task: dict[str, Any] = {
        "instruction": "Answer the question from the context.",
        "prompt": "Context: {{ context }}\nQuestion: {{ question }}\nAnswer:",
        "target": " {{ answers[0] }}",
        "chat": "{{ context }}\n\n{{ question }}",
        "fewshot": 3,
        "metrics": ["token_f1"],
    }
    if truncate_from:
        task["truncate_from"] = truncate_from
    return SuiteSpec.model_validate(
        {
            "name": "fit",
            "description": "d",
            "guidelines": "g",
            "goals": [{"capability": "c", "description": "d"}],
            "tasks": {"qa": task},
        }
    )


def qa(item_id: str, context: str, split: str = "test") -> ItemBase:
    return ITEM_ADAPTER.validate_python(
        {
            **BASE,
            "id": item_id,
            "task": "qa",
            "split": split,
            "question": "Within how many days?",
            "context": context,
            "answers": ["thirty days"],
        }
    )


DEV = [qa(f"d{k}", LONG[: 400 + 100 * k], "dev") for k in range(3)]


@pytest.fixture(scope="module")
def counters(models_dir: Path) -> dict[str, TokenCounter]:
    return {
        kind: TokenCounter(
            ModelSpec(name=kind, path=str(models_dir / f"weights-{kind}"), kind=kind)
        )
        for kind in ("base", "chat")
    }


def fit(counter: TokenCounter, item: ItemBase, window: int, kind: str, **kw: Any):
    suite = spec(kw.pop("truncate_from", None))
    prompt = build_prompts(suite, [item], DEV, kind)[0]
    fitter = PromptFitter(ContextWindow(window, "test"), counter, kw.pop("truncate", False))
    return prompt, fitter.fit(suite, item, prompt, 16, DEV, 0, None)


def test_context_window_from_engine_option_then_config(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text(json.dumps({"max_position_embeddings": 1024}))
    model = ModelSpec(name="m", path=str(tmp_path), kind="base")
    assert context_window(model) == ContextWindow(1024, "config.json max_position_embeddings")
    capped = model.model_copy(update={"engine": {"max_model_len": 512}})
    assert context_window(capped) == ContextWindow(512, "engine.max_model_len")
    (tmp_path / "config.json").write_text(json.dumps({"text_config": {"n_positions": 2048}}))
    assert context_window(model) == ContextWindow(2048, "config.json n_positions")
    (tmp_path / "config.json").write_text("{}")
    assert context_window(model) is None


def test_a_prompt_that_fits_is_left_alone(counters: dict[str, TokenCounter]) -> None:
    prompt, result = fit(counters["base"], qa("t1", "Deliver within thirty days."), 4096, "base")
    assert result.prompt == prompt and result.record == {} and result.error is None


def test_exemplars_go_first_then_the_item_does_not_fit_without_truncation(
    counters: dict[str, TokenCounter],
) -> None:
    counter = counters["base"]
    item = qa("t1", LONG[:300])
    full, _ = fit(counter, item, 100_000, "base")
    no_shots = build_prompts(spec(), [item], DEV, "base", fewshot=0)[0]
    window = (counter.prompt(full) + counter.prompt(no_shots)) // 2 + 16
    _, result = fit(counter, item, window, "base")
    assert result.prompt is not None and result.error is None
    assert 1 <= result.record["exemplars_dropped"] <= 3
    assert counter.prompt(result.prompt) + 16 <= window
    assert result.record["prompt_tokens_before"] == counter.prompt(full)
    # a context so small that even the bare item does not fit
    _, refused = fit(counter, item, counter.prompt(no_shots) // 2, "base")
    assert refused.prompt is None and refused.record["exemplars_dropped"] == 3
    assert refused.error is not None and refused.error.startswith("does not fit: the prompt needs")
    assert "truncate=true would allow cutting" in refused.error


@pytest.mark.parametrize("kind", ["base", "chat"])
def test_truncation_needs_the_run_and_the_suite_to_allow_it(
    counters: dict[str, TokenCounter], kind: str
) -> None:
    counter, item = counters[kind], qa("t2", LONG)
    _, no_side = fit(counter, item, 200, kind, truncate=True)
    assert no_side.prompt is None and "tasks.qa.truncate_from" in (no_side.error or "")
    for side in ("end", "start"):
        _, cut = fit(counter, item, 200, kind, truncate=True, truncate_from=side)
        assert cut.prompt is not None and cut.error is None, cut.error
        assert counter.prompt(cut.prompt) + 16 <= 200
        truncated = cut.record["truncated"]
        assert truncated["field"] == "context" and truncated["from"] == side
        assert 0 < truncated["removed"] < len(LONG)
        shown = cut.prompt.text if kind == "base" else cut.prompt.messages[-1][1]  # type: ignore[index]
        assert ELLIPSIS in (shown or "")
        kept = (
            LONG[: len(LONG) - truncated["removed"]]
            if side == "end"
            else LONG[truncated["removed"] :]
        )
        assert kept in (shown or "")  # the kept part is the item's own text, unchanged


def test_a_dialogue_loses_its_earliest_turns(counters: dict[str, TokenCounter]) -> None:
    turns = []
    for k in range(12):
        turns += [
            {"role": "user", "content": f"Question {k}: {LONG[:200]}"},
            {"role": "assistant", "content": f"Answer {k}."},
        ]
    turns.append({"role": "user", "content": "And the last one?"})
    item = ITEM_ADAPTER.validate_python(
        {**BASE, "id": "dl", "task": "dialogue", "messages": turns, "references": ["Yes."]}
    )
    suite = SuiteSpec.model_validate(
        {
            **spec().model_dump(),
            "tasks": {
                "dialogue": {
                    "instruction": "i",
                    "prompt": "{{ messages[-1].content }}",
                    "target": " {{ references[0] }}",
                    "chat": "{{ messages[-1].content }}",
                    "metrics": ["chrf"],
                    "truncate_from": "start",
                }
            },
        }
    )
    counter = counters["chat"]
    prompt = build_prompts(suite, [item], [], "chat")[0]
    fitter = PromptFitter(ContextWindow(300, "test"), counter, truncate=True)
    result = fitter.fit(suite, item, prompt, 16, [], 0, None)
    assert result.prompt is not None and result.record["truncated"]["field"] == "messages"
    messages = result.prompt.messages or ()
    assert messages[-1] == ("user", "And the last one?")
    assert len(messages) < len(turns) and counter.prompt(result.prompt) + 16 <= 300
    assert messages[0][1].startswith("Question")  # whole turns went, from the earliest
    assert messages[0][0] == "user" and messages[0][1] != turns[0]["content"]
