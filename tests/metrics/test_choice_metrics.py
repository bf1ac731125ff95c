"""Choice metrics read answers with the parser: the audit's cases score as wrong, with reasons."""

from __future__ import annotations

import pytest
from test_answer_parser import CAPITALS, CONTRACT, GRAMMAR, SENTIMENT

from evalkit.metrics.answers import NO_ANSWER, SEVERAL_ANSWERS, format_failure
from evalkit.metrics.builtin import parsed_answer, predicted_label
from evalkit.metrics.registry import get_metric
from evalkit.suite.items import ITEM_ADAPTER, ItemBase


def _item(task: str, **fields: object) -> ItemBase:
    base = {"id": "x", "task": task, "language": "en", "provenance": {"author": "t"}}
    return ITEM_ADAPTER.validate_python({**base, **fields})


def test_audit_cases_score_as_wrong_with_the_reason_counted() -> None:
    accuracy = get_metric("accuracy").fn
    mcq = _item("mcq", question="北宋的都城？", choices=CAPITALS, answer="A", language="zh")
    listed = "A. 长安 | B. 南京 | C. 开封 | D. 临安 …"
    assert accuracy(mcq, listed) == 0.0
    assert parsed_answer(mcq, listed).reason == SEVERAL_ANSWERS
    assert accuracy(mcq, "a counter-offer") == 0.0
    cls = _item("classification", text="Him go home.", labels=GRAMMAR, label="grammatical")
    assert accuracy(cls, "The sentence is grammatically incorrect.") == 0.0
    assert parsed_answer(cls, "The sentence is grammatically incorrect.").reason == NO_ANSWER
    assert accuracy(cls, "Grammatical.") == 1.0
    assert predicted_label(cls, "not grammatical") is None


def test_parsed_answer_is_memoised() -> None:
    cls = _item("classification", text="t", labels=SENTIMENT, label="positive")
    assert parsed_answer(cls, "Sentiment: positive") is parsed_answer(cls, "Sentiment: positive")
    with pytest.raises(TypeError):
        parsed_answer(_item("qa", question="q", answers=["a"]), "a")


def test_format_failure_uses_the_same_reading() -> None:
    spec = {"kind": "choice", "choices": list("ABCD")}
    mcq = _item("mcq", question="q", choices=CONTRACT, answer="C", format=spec)
    assert format_failure(mcq, "C") is None
    assert format_failure(mcq, "Answer: C") == "a choice, with extra text"
    assert format_failure(mcq, "A counter-offer.") == "a choice, with extra text"
    assert format_failure(mcq, "B or C") == "not one of the choices"
