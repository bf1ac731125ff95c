"""Constrained judge outputs: the schemas accept exactly what the prompts ask for, the parser
reads every output they allow, reasons fit the token budget, and a judge run without them
keeps the cache keys of unconstrained requests."""

from __future__ import annotations

import json

import jsonschema
import pytest

from evalkit.backends.base import Sampling
from evalkit.judging.parse import parse_pairwise, parse_rubric
from evalkit.judging.schemas import pairwise_schema, reason_chars, rubric_schema
from evalkit.suite.rubric import DEFAULT_CRITERIA, Criterion

CRITERIA = [
    *DEFAULT_CRITERIA,
    Criterion(name="cites_law", description="引用法条：是否准确", scale=(0, 3)),
]


def validator(schema_text: str) -> jsonschema.Draft202012Validator:
    schema = json.loads(schema_text)
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def rubric_output(scores: dict[str, int], reason: str = "ok") -> dict[str, object]:
    return {name: {"score": score, "reason": reason} for name, score in scores.items()}


def test_the_rubric_schema_accepts_what_the_prompt_asks_for_and_the_parser_reads_it() -> None:
    check = validator(rubric_schema(CRITERIA, 512))
    scores = {c.name: c.scale[1] for c in CRITERIA} | {"accuracy": 1}
    output = rubric_output(scores, "答案与参考一致。")
    check.validate(output)
    parsed = parse_rubric(json.dumps(output, ensure_ascii=False), CRITERIA)
    assert {name: s.score for name, s in parsed.items()} == scores
    assert all(s.problem is None for s in parsed.values())


@pytest.mark.parametrize(
    "change",
    [
        {"accuracy": {"score": 6, "reason": "ok"}},  # above the scale
        {"cites_law": {"score": 4, "reason": "ok"}},  # this criterion tops out at 3
        {"fluency": {"score": 4.5, "reason": "ok"}},  # not a whole number
        {"fluency": {"score": 4}},  # no reason
        {"extra": 3},  # a key the rubric does not have
    ],
)
def test_the_rubric_schema_refuses_what_the_parser_would_not_score(
    change: dict[str, object],
) -> None:
    output = rubric_output({c.name: c.scale[0] for c in CRITERIA}) | change
    assert not validator(rubric_schema(CRITERIA, 512)).is_valid(output)


def test_every_criterion_is_required_in_the_rubric_order() -> None:
    schema = json.loads(rubric_schema(CRITERIA, 512))
    assert list(schema["properties"]) == [c.name for c in CRITERIA] == schema["required"]
    entry = schema["properties"]["accuracy"]
    assert list(entry["properties"]) == ["score", "reason"]  # the score survives a cut reason


@pytest.mark.parametrize("winner", ["A", "B", "tie"])
def test_the_pairwise_schema_allows_the_three_verdicts(winner: str) -> None:
    output = {"winner": winner, "reason": "A cites the statute."}
    validator(pairwise_schema(512)).validate(output)
    assert parse_pairwise(json.dumps(output)).winner == winner.lower()


@pytest.mark.parametrize("winner", ["C", "both", "a"])
def test_the_pairwise_schema_refuses_other_winners(winner: str) -> None:
    assert not validator(pairwise_schema(512)).is_valid({"winner": winner, "reason": "x"})


@pytest.mark.parametrize("entries", [1, 3, 6])
@pytest.mark.parametrize("budget", [128, 256, 512, 2048])
def test_reasons_leave_room_for_every_entry(entries: int, budget: int) -> None:
    """At one token per character, a reason of the cap on every entry, with the structure,
    stays within the budget (unless the budget is below the 40-character floor)."""
    chars = reason_chars(entries, budget)
    assert 40 <= chars <= 300
    if chars > 40:
        assert entries * (chars + 24) + 16 <= budget
    longest = rubric_output({f"c{i}": 1 for i in range(entries)}, "1." * (chars // 2))
    check = validator(
        rubric_schema([Criterion(name=f"c{i}", description="d") for i in range(entries)], budget)
    )
    check.validate(longest)
    too_long = rubric_output({f"c{i}": 1 for i in range(entries)}, "x" * (chars + 1))
    assert not check.is_valid(too_long)


def test_unconstrained_requests_keep_their_cache_keys() -> None:
    """json_schema=None is left out of the sampling record, so the keys of every cached
    generation made before structured outputs existed still match."""
    plain = Sampling(max_new_tokens=64)
    assert "json_schema" not in plain.as_dict()
    constrained = Sampling(max_new_tokens=64, json_schema=pairwise_schema(64))
    assert constrained.as_dict()["json_schema"] == pairwise_schema(64)
