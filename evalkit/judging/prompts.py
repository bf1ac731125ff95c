"""Judge prompts: the item, its reference answer(s) and the answer(s) to judge, as chat messages.

Two judges, after MT-Bench (Zheng et al. 2023, "Judging LLM-as-a-Judge"): single-answer
grading with a reference (`rubric_prompt`: a score per rubric criterion) and pairwise
comparison with a reference (`pairwise_prompt`: answer A, answer B or a tie; each pair is
judged in both orders, see `evalkit.judging.pairwise`). Unlike MT-Bench the judge answers
with a JSON object, and scores every criterion of the suite's rubric, not one overall rating.

The wording lives in package files (`templates/system.j2`, `rubric.j2`, `pairwise.j2`),
rendered with `evalkit.templating` in its sandbox: item text and model outputs are only ever
variables' values, so `{{ 7*7 }}` in an answer stays text. Untrusted text sits inside tags
(<question>, <answer>, ...) that the judge is told to read as data; a tag of ours inside that
text is escaped (`</answer>` → `&lt;/answer>`) so that it cannot close the block early.

`JUDGE_TEMPLATES_VERSION` changes when the templates' meaning changes; `template_record()`
(the version and each file's sha256) goes into the run manifest.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from functools import cache
from importlib import resources
from typing import Any

from evalkit.prompts import Prompt
from evalkit.suite.items import DialogueItem, ItemBase
from evalkit.suite.rubric import Criterion
from evalkit.templating import render_template

JUDGE_TEMPLATES_VERSION = 1
TEMPLATE_NAMES = ("system", "rubric", "pairwise")  # templates/<name>.j2

# Our delimiting tags, opening or closing, in any case and spacing: `</answer>`, `< Answer >`.
_OUR_TAG = re.compile(
    r"<(?=\s*/?\s*(?:question|conversation|system|user|assistant|reference|answer(?:_a|_b)?)"
    r"\s*>)",
    re.IGNORECASE,
)


@cache
def template_text(name: str) -> str:
    """The source of `templates/<name>.j2`, as shipped with the package."""
    if name not in TEMPLATE_NAMES:
        raise ValueError(f"unknown judge template {name!r}; known: {', '.join(TEMPLATE_NAMES)}")
    path = resources.files("evalkit.judging") / "templates" / f"{name}.j2"
    return path.read_text(encoding="utf-8")


def template_record() -> dict[str, Any]:
    """What the run manifest records of the judge's prompts: version and sha256 per template."""
    return {
        "version": JUDGE_TEMPLATES_VERSION,
        "sha256": {
            name: hashlib.sha256(template_text(name).encode("utf-8")).hexdigest()
            for name in TEMPLATE_NAMES
        },
    }


def escape_tags(text: str) -> str:
    """`text` with our delimiting tags defused (`<` → `&lt;`); everything else untouched."""
    return _OUR_TAG.sub("&lt;", text)


def _item_variables(item: ItemBase, criteria: Sequence[Criterion]) -> dict[str, Any]:
    if not criteria:
        raise ValueError(f"item {item.id!r}: a judge prompt needs at least one criterion")
    variables: dict[str, Any] = {
        "question": "",
        "conversation": [],
        "references": [escape_tags(r) for r in item.reference_texts()],
        "criteria": [
            {"name": c.name, "description": c.description, "low": c.scale[0], "high": c.scale[1]}
            for c in criteria
        ],
    }
    if isinstance(item, DialogueItem):
        variables["conversation"] = [
            {"role": m.role, "content": escape_tags(m.content)} for m in item.messages
        ]
    else:
        variables["question"] = escape_tags(item.input_text())
    return variables


def _chat(item: ItemBase, template: str, variables: dict[str, Any]) -> Prompt:
    system = render_template(template_text("system"), {}).strip()
    user = render_template(template_text(template), variables).strip()
    return Prompt(item.id, "chat", messages=(("system", system), ("user", user)))


def rubric_prompt(item: ItemBase, output: str, criteria: Sequence[Criterion]) -> Prompt:
    """The judge's prompt to score `output` (a model's answer to `item`) on each criterion."""
    variables = _item_variables(item, criteria)
    variables["answer"] = escape_tags(output)
    return _chat(item, "rubric", variables)


def pairwise_prompt(
    item: ItemBase, output_a: str, output_b: str, criteria: Sequence[Criterion]
) -> Prompt:
    """The judge's prompt to choose the better of two answers to `item` (A, B or a tie)."""
    variables = _item_variables(item, criteria)
    variables["answer_a"] = escape_tags(output_a)
    variables["answer_b"] = escape_tags(output_b)
    return _chat(item, "pairwise", variables)
