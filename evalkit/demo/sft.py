"""Training examples in the exact form the evaluator prompts each kind of model.

An SFT checkpoint is fine-tuned on the domain's instruction set rendered the way it will be
asked: a base starting point on completion prompts (instruction, the suite's dev exemplars,
the item) followed by the answer; a chat starting point on the suite's chat user turn and
the answer as the assistant turn. Both use evalkit's own prompt builder, so the demo trains
on what it evaluates with, never on the test items themselves.
"""

from __future__ import annotations

from collections.abc import Sequence

from evalkit.prompts import build_prompts
from evalkit.suite.items import ItemBase
from evalkit.suite.spec import SuiteSpec
from evalkit.templating import render_template

Messages = list[dict[str, str]]


def answer_text(spec: SuiteSpec, item: ItemBase) -> str:
    """The gold answer as the suite's target template writes it, without leading space."""
    config = spec.tasks[item.task]
    return render_template(config.target, item.template_context()).strip()


def chat_example(spec: SuiteSpec, item: ItemBase) -> Messages:
    """The suite's chat messages for `item`, then the gold answer as the assistant turn."""
    (prompt,) = build_prompts(spec, [item], [], "chat")
    messages = [{"role": role, "content": content} for role, content in prompt.messages or ()]
    return [*messages, {"role": "assistant", "content": answer_text(spec, item)}]


def base_example(
    spec: SuiteSpec, item: ItemBase, dev_items: Sequence[ItemBase], seed: int = 0
) -> tuple[str, str]:
    """(completion prompt with the suite's few-shot exemplars, answer ending in a newline)."""
    (prompt,) = build_prompts(spec, [item], dev_items, "base", seed)
    assert prompt.text is not None
    config = spec.tasks[item.task]
    return prompt.text, render_template(config.target, item.template_context()) + "\n"
