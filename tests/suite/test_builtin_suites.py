"""The suites the team ships: valid, hash-intact, and shaped as the product promises."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from evalkit.suite.checks import check_items
from evalkit.suite.diff import diff_versions
from evalkit.suite.items import TASK_TYPES
from evalkit.suite.records import LocatedItem
from evalkit.suite.store import SuiteStore

SUITES = SuiteStore(Path(__file__).parents[2] / "suites")


@pytest.mark.parametrize(
    "ref", [f"{name}@{v}" for name in SUITES.names() for v in SUITES.versions(name)]
)
def test_every_published_version_is_valid(ref: str) -> None:
    version = SUITES.load(ref)  # verifies the content hash
    located = [LocatedItem(item, f"{ref}:{i}") for i, item in enumerate(version.items, 1)]
    assert [str(p) for p in check_items(located, version.spec)] == []


def test_legal_suite_covers_the_domain() -> None:
    assert SUITES.versions("legal") == ["v1", "v2"]
    legal = SUITES.load("legal")
    items = legal.items
    assert len(items) >= 120
    assert {item.task for item in items} == set(TASK_TYPES)
    assert sum(item.language == "zh" for item in items) >= len(items) / 3
    dev = Counter(item.task for item in items if item.split == "dev")
    for task, config in legal.spec.tasks.items():
        assert dev[task] >= config.fewshot, task
    translations = [i for i in items if i.task == "generation" and i.answer_language]
    assert {(i.language, i.answer_language) for i in translations} >= {("en", "zh"), ("zh", "en")}


def test_legal_v2_fixes_and_extends_v1() -> None:
    v1, v2 = SUITES.load("legal@v1"), SUITES.load("legal@v2")
    diff = diff_versions(v1, v2)
    assert v2.manifest.parent == "v1"
    assert len(diff.added) >= 25 and diff.changed and diff.removed


def test_general_suite_covers_four_areas_in_two_languages() -> None:
    general = SUITES.load("general")
    areas = Counter((tag, item.language) for item in general.items for tag in item.tags)
    for area in ("reading", "arithmetic", "facts", "grammar"):
        assert areas[(area, "en")] >= 8 and areas[(area, "zh")] >= 8, area
