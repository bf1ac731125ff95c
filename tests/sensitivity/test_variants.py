"""Prompt variants: options rotate with their gold, wordings change where each prompt format
reads them, and a model that always answers "A" is scored against each variant's own golds —
its spread, robust accuracy and the rankings it flips computed from them."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import pytest

from evalkit.backends.base import Generation
from evalkit.cache import GenerationCache
from evalkit.errors import UsageError
from evalkit.prompts import build_prompts
from evalkit.runner.config import RunConfig
from evalkit.runner.models import ModelSpec
from evalkit.runner.plan import plan_requests, select_items
from evalkit.sensitivity.scores import (
    _suite_summary,
    model_variant_scores,
    plan_variants,
    sensitivity_lines,
    sensitivity_summary,
)
from evalkit.sensitivity.variants import check_variants, variant_version
from evalkit.suite.items import MCQItem
from evalkit.suite.store import SuiteStore, SuiteVersion

SUITES_DIR = Path(__file__).parents[2] / "suites"


@pytest.fixture(scope="module")
def legal() -> SuiteVersion:
    return SuiteStore(SUITES_DIR).load("legal")


def test_options_rotate_with_their_gold(legal: SuiteVersion) -> None:
    for k in (1, 2, 3):
        variant = variant_version(legal, k)
        for item in legal.items:
            moved = variant.by_id[item.id]
            if not isinstance(item, MCQItem):
                assert moved == item
                continue
            assert isinstance(moved, MCQItem)
            n = len(item.choices)
            assert sorted(moved.choices) == sorted(item.choices)
            assert moved.choices[(0 + k) % n] == item.choices[0]  # option A moved k places
            assert moved.answer_text == item.answer_text  # the gold moved with its text
    assert variant_version(legal, 0) is legal


def test_wordings_change_the_instruction_and_the_system_prompt(legal: SuiteVersion) -> None:
    variant = variant_version(legal, 1)
    tests = [i for i in legal.items if i.split == "test" and i.task == "qa"]
    zh = next(i for i in tests if i.language == "zh")
    en = next(i for i in tests if i.language == "en")
    devs = [i for i in variant.items if i.split == "dev"]
    base = {p.item_id: p.text for p in build_prompts(variant.spec, [zh, en], devs, "base")}
    assert base[zh.id].startswith("简要回答问题。") and base[en.id].startswith(
        "Answer the question"
    )
    chat = build_prompts(variant.spec, [en], devs, "chat")[0]
    assert chat.messages is not None and chat.messages[0] == (
        "system",
        "Answer the question briefly.",
    )
    # the suite's own system prompt (dialogue) is kept after the wording
    dialogue = variant.spec.tasks["dialogue"]
    assert dialogue.system is not None and legal.spec.tasks["dialogue"].system in dialogue.system


def test_more_variants_than_wordings_is_one_line(legal: SuiteVersion) -> None:
    check_variants([legal], 4, "prompts.variants")  # its own and 3 built in
    with pytest.raises(UsageError, match=r"prompts.variants=5: legal@v2 has 4 wordings for mcq"):
        check_variants([legal], 5, "prompts.variants")


def test_an_always_A_model_is_scored_against_each_variants_golds(
    legal: SuiteVersion, tmp_path: Path
) -> None:
    config = RunConfig(
        suite=["legal"], model=["m"], mcq_mode="generate", prompts={"variants": 3}, limit=None
    )
    model = ModelSpec(name="m", path=str(tmp_path), kind="base")
    items = [i for i in select_items(legal, config) if i.task == "mcq"]
    plan = plan_requests(model, "sha256:m", "vllm", legal, items, config)
    per_suite = [(legal, items, plan)]
    variants = plan_variants(model, "sha256:m", config, per_suite)
    assert [v.k for v in variants] == [1, 2]
    requests = plan.requests + [r for v in variants for r in v.plan.requests]
    assert len({r.key for r in requests}) == 3 * len(items)  # every variant is its own request
    answer = asdict(Generation("A", 10, 1, "stop", 0.01))
    with GenerationCache(tmp_path / "cache.sqlite") as cache:
        cache.put_many((r.key, answer) for r in requests)
        results = cache.get_many([r.key for r in requests])
    scores = model_variant_scores(per_suite, variants, results, config)
    by_variant = scores[legal.ref]
    for k, variant_scores in enumerate(by_variant):
        golds = variant_version(legal, k).by_id
        expected = {i.id: float(golds[i.id].answer == "A") for i in items}  # type: ignore[attr-defined]
        assert variant_scores == expected
    summary = sensitivity_summary({"m": scores}, [legal], 3)["suites"][legal.ref]["models"]["m"]
    means = [sum(v.values()) / len(v) for v in by_variant]
    assert summary["scores"] == pytest.approx(means)
    assert summary["min"] == min(means) and summary["max"] == max(means)
    # "A" is right under every variant only if the gold is A under all three rotations: never
    assert summary["robust_accuracy"] == 0.0 and summary["choice_items"] == len(items)


def test_spread_robust_accuracy_and_flips_by_hand() -> None:
    tasks = {"q1": "mcq", "q2": "mcq", "g1": "qa"}
    by_model = {
        "a": [{"q1": 1.0, "q2": 1.0, "g1": 0.5}, {"q1": 1.0, "q2": 0.0, "g1": 0.5}],
        "b": [{"q1": 0.0, "q2": 1.0, "g1": 0.2}, {"q1": 1.0, "q2": 1.0, "g1": 1.0}],
    }
    summary = _suite_summary(by_model, tasks)
    a, b = summary["models"]["a"], summary["models"]["b"]
    assert a["scores"] == pytest.approx([2.5 / 3, 1.5 / 3])
    assert a["sd"] == pytest.approx((1 / 3) / 2**0.5)  # two values: |difference| / sqrt 2
    assert a["robust_accuracy"] == 0.5 and b["robust_accuracy"] == 0.5
    assert summary["flips"] == [["a", "b"]]  # a leads under variant 0, b under variant 1
    lines = sensitivity_lines({"variants": 2, "suites": {"s@v1": summary}})
    assert lines[0] == "prompt sensitivity over 2 prompt variants (min-max, sd):"
    assert lines[1].split() == [
        "a",
        "s@v1",
        "0.500-0.833,",
        "sd",
        "0.236;",
        "robust",
        "accuracy",
        "0.500",
        "of",
        "1.000",
    ]
    assert lines[-1] == "  s@v1: ranking flips across variants: a/b"
    assert sensitivity_lines(None) == []
