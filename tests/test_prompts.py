"""Prompts: base completion with few-shot from dev items only, chat messages, literal item text."""

from __future__ import annotations

from pathlib import Path

from evalkit.prompts import build_prompts, choose_exemplars
from evalkit.suite.store import SuiteStore

LEGAL = SuiteStore(Path(__file__).parents[1] / "suites").load("legal@v2")
TEST = [i for i in LEGAL.items if i.split == "test"]
DEV = [i for i in LEGAL.items if i.split == "dev"]


def test_base_prompts_use_dev_exemplars_of_the_same_task_and_language_only() -> None:
    prompts = build_prompts(LEGAL.spec, TEST, LEGAL.items, "base", seed=0)
    assert len(prompts) == len(TEST)
    for item, prompt in zip(TEST, prompts, strict=True):
        assert prompt.format == "base" and prompt.text is not None
        k = LEGAL.spec.tasks[item.task].fewshot
        exemplars = choose_exemplars(LEGAL.items, item.task, item.language, k, 0)
        assert len(exemplars) == k and all(
            e.split == "dev" and e.task == item.task for e in exemplars
        )
        for other in TEST:  # no test item's text leaks into another prompt as an exemplar
            if other.id != item.id:
                assert other.input_text()[:60] not in prompt.text
        assert prompt.stop == tuple(LEGAL.spec.tasks[item.task].stop)


def test_exemplars_prefer_the_item_language_and_are_deterministic() -> None:
    zh = choose_exemplars(DEV, "mcq", "zh", 3, seed=0)
    assert [e.language for e in zh].count("zh") == min(
        3, sum(d.language == "zh" and d.task == "mcq" for d in DEV)
    )
    assert choose_exemplars(DEV, "mcq", "zh", 3, seed=0) == zh
    assert choose_exemplars(DEV, "mcq", "en", 0, seed=0) == []


def test_base_prompt_ends_where_the_answer_starts() -> None:
    item = next(i for i in TEST if i.task == "mcq")
    prompt = build_prompts(LEGAL.spec, [item], DEV, "base")[0]
    exemplar = choose_exemplars(DEV, "mcq", item.language, 3, 0)[0]
    assert prompt.text is not None and prompt.text.rstrip().endswith(("Answer:", "答案：", "答案:"))
    assert f"{exemplar.answer}" in prompt.text  # type: ignore[attr-defined]


def test_chat_prompts_are_messages_and_dialogue_keeps_turns() -> None:
    dialogue = next(i for i in TEST if i.task == "dialogue")
    mcq = next(i for i in TEST if i.task == "mcq")
    d, m = build_prompts(LEGAL.spec, [dialogue, mcq], DEV, "chat")
    assert d.messages is not None and m.messages is not None
    turns = [(t.role, t.content) for t in dialogue.messages if t.role != "system"]  # type: ignore[attr-defined]
    assert [r for r, _ in d.messages if r != "system"] == [r for r, _ in turns]
    assert d.messages[-1][0] == "user" and m.messages[-1][0] == "user"
    assert mcq.question in m.messages[-1][1]  # type: ignore[attr-defined]


def test_item_text_with_template_syntax_stays_text() -> None:
    item = next(i for i in TEST if i.task == "mcq")
    hostile = item.model_copy(update={"question": "{{ 7*7 }} {% raw %}x{% endraw %}"})
    prompt = build_prompts(LEGAL.spec, [hostile], DEV, "base")[0]
    assert prompt.text is not None and "{{ 7*7 }} {% raw %}x{% endraw %}" in prompt.text
