"""Each task type's validation: what a valid item looks like and what each rule rejects."""

from __future__ import annotations

from typing import Any

import pytest

from evalkit.suite.items import ITEM_CLASSES, TASK_TYPES, item_to_record
from evalkit.suite.records import parse_item

BASE: dict[str, Any] = {"language": "en", "provenance": {"author": "li.na"}}

VALID: dict[str, dict[str, Any]] = {
    "mcq": {"question": "Is silence acceptance?", "choices": ["Yes", "No"], "answer": "B"},
    "classification": {
        "text": "This Agreement is governed by the laws of England.",
        "labels": ["governing_law", "termination"],
        "label": "governing_law",
    },
    "extraction": {"text": "Seller: Acme Ltd.", "fields": {"seller": "Acme Ltd", "buyer": None}},
    "qa": {
        "question": "Limitation period for a simple contract in England?",
        "answers": ["6 years"],
    },
    "generation": {
        "prompt": "Translate: 本合同自双方签字之日起生效。",
        "references": ["This contract..."],
    },
    "dialogue": {
        "messages": [
            {"role": "system", "content": "You are an intake assistant."},
            {"role": "user", "content": "I was dismissed without notice."},
            {"role": "assistant", "content": "When did this happen?"},
            {"role": "user", "content": "Last Monday."},
        ],
        "references": ["Did you receive anything in writing?"],
    },
}


def reasons(record: dict[str, Any]) -> list[str]:
    _, problems = parse_item(record, "f:1")
    return [f"{p.field}: {p.reason}" for p in problems]


def test_every_task_type_has_a_valid_example() -> None:
    assert set(VALID) == set(TASK_TYPES) == set(ITEM_CLASSES)


@pytest.mark.parametrize("task", TASK_TYPES)
def test_valid_items_parse_and_round_trip(task: str) -> None:
    record = {"id": f"x-{task}", "task": task, **BASE, **VALID[task]}
    item, problems = parse_item(record, "f:1")
    assert problems == [] and item is not None
    again, _ = parse_item(item_to_record(item), "f:1")
    assert again == item


INVALID = [
    ("mcq", {"answer": "C"}, "answer: answer 'C' is not among the choices' letters A, B"),
    ("mcq", {"choices": ["Yes"]}, "choices: list should have at least 2 items"),
    ("mcq", {"choices": ["Yes", "Yes "]}, "choices: choices repeat"),
    ("mcq", {"question": "   "}, "question: must not be blank"),
    ("classification", {"label": "payment"}, "label: label 'payment' is not among labels"),
    ("classification", {"labels": ["a", "a"], "label": "a"}, "labels: labels repeat"),
    ("extraction", {"fields": {}}, "fields: dictionary should have at least 1 item"),
    ("qa", {"answers": []}, "answers: list should have at least 1 item"),
    ("generation", {"references": [" "]}, "references: a reference is blank"),
    (
        "dialogue",
        {
            "messages": [
                {"role": "user", "content": "Hi"},
                {"role": "assistant", "content": "Hello"},
            ]
        },
        "messages: the conversation must end with a user turn",
    ),
    (
        "dialogue",
        {"messages": [{"role": "user", "content": "a"}, {"role": "user", "content": "b"}]},
        "messages: two user turns in a row",
    ),
    (
        "qa",
        {"format": {"kind": "regex", "pattern": "(\\d+"}},
        "format.pattern: invalid regular expression",
    ),
    (
        "extraction",
        {"format": {"kind": "json_schema", "json_schema": {"type": "objekt"}}},
        "format.json_schema: invalid JSON schema",
    ),
    ("qa", {"format": {"kind": "regx", "pattern": "x"}}, "format.kind: unknown format kind 'regx'"),
    ("qa", {"split": "train"}, "split: input should be 'test' or 'dev'"),
    ("qa", {"language": "EN"}, "language: must be a language code"),
    ("qa", {"id": "has space"}, "id: must start with a letter or digit"),
    ("qa", {"tags": ["easy", "easy"]}, "tags: tags repeat"),
    ("qa", {"anwser": "x"}, "anwser: unknown field"),
    ("qa", {"provenance": {}}, "provenance.author: missing"),
]


@pytest.mark.parametrize(("task", "change", "expected"), INVALID)
def test_invalid_items_name_field_and_reason(
    task: str, change: dict[str, Any], expected: str
) -> None:
    record = {"id": "x1", "task": task, **BASE, **VALID[task], **change}
    found = reasons(record)
    assert any(r.startswith(expected) for r in found), found


def test_unknown_task_suggests_the_closest() -> None:
    assert reasons({"id": "x", "task": "clasification", **BASE}) == [
        "task: unknown task type 'clasification'; expected one of mcq, classification, "
        "extraction, qa, generation, dialogue; did you mean 'classification'?"
    ]


def test_all_field_problems_of_one_item_are_reported_together() -> None:
    record = {
        "id": "x y",
        "task": "mcq",
        "language": "EN",
        "provenance": {},
        "question": "q",
        "choices": ["a", "b"],
        "answer": "Z",
    }
    fields = [r.split(":")[0] for r in reasons(record)]
    assert fields == ["id", "language", "provenance.author", "answer"]


def test_format_spec_kinds() -> None:
    for spec in (
        {"kind": "choice", "choices": ["A", "B"]},
        {"kind": "regex", "pattern": r"\d+ years"},
        {"kind": "json_schema", "json_schema": {"type": "object", "required": ["seller"]}},
    ):
        item, problems = parse_item(
            {"id": "x", "task": "qa", **BASE, **VALID["qa"], "format": spec}, "f"
        )
        assert problems == [] and item is not None and item.format is not None
        assert item.format.kind == spec["kind"]


def test_translation_answer_language() -> None:
    item, _ = parse_item(
        {"id": "t", "task": "generation", **BASE, **VALID["generation"], "answer_language": "zh"},
        "f",
    )
    assert item is not None and item.expected_language == "zh"
