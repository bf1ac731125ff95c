"""A suite's rubric: checked when the suite is validated, left out of the hash when unset."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from drafts import SPEC
from evalkit.suite.rubric import DEFAULT_RUBRIC
from evalkit.suite.spec import SuiteSpec


def spec(rubric: Any) -> SuiteSpec:
    return SuiteSpec.model_validate({**SPEC, "rubric": rubric})


@pytest.mark.parametrize(
    ("rubric", "message"),
    [
        ({"criteria": []}, "at least 1 item"),
        (
            {"criteria": [{"name": "a", "description": "x"}, {"name": "a", "description": "y"}]},
            "criteria repeat a name",
        ),
        ({"criteria": [{"name": "a", "description": "x", "scale": [5, 1]}]}, "must rise"),
        ({"criteria": [{"name": "Accuracy!", "description": "x"}]}, "should match pattern"),
        ({"criteria": [{"name": "a", "description": ""}]}, "at least 1 character"),
        ({"criteria": [{"name": "a", "description": "x", "tasks": ["essay"]}]}, "tasks"),
    ],
)
def test_a_bad_rubric_is_refused(rubric: Any, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        spec(rubric)


def test_default_rubric_and_hash_stability() -> None:
    plain = SuiteSpec.model_validate(SPEC)
    assert plain.effective_rubric == DEFAULT_RUBRIC
    assert "rubric" not in plain.model_dump(mode="json")  # unset: old specs hash as before
    own = spec(
        {
            "criteria": [
                {
                    "name": "citation",
                    "description": "引用条文是否正确？",
                    "scale": [0, 2],
                    "tasks": ["qa"],
                }
            ]
        }
    )
    assert [c.name for c in own.effective_rubric.for_task("qa")] == ["citation"]
    assert own.effective_rubric.for_task("generation") == []
    assert own.effective_rubric.criteria[0].normalised(1) == 0.5
