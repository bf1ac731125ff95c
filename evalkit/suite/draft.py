"""Drafts: a folder with `suite.yaml` and `items.jsonl`, the editable form of a suite.

Reading never stops at the first problem: every bad line and field is collected and located
(`items.jsonl:12: choices: ...`, `suite.yaml:30: tasks.mcq.prompt: ...`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from pydantic import ValidationError

from evalkit.errors import NotFoundError, Problem, ProblemsFound
from evalkit.files import MAX_YAML_BYTES, jsonl_lines, kind_of, parse_yaml, read_text, unencodable
from evalkit.suite.checks import NEAR_DUPLICATE_THRESHOLD, check_items
from evalkit.suite.items import ItemBase, item_to_record
from evalkit.suite.records import LocatedItem, parse_item, problems_from_validation_error
from evalkit.suite.spec import SuiteSpec

SPEC_FILE = "suite.yaml"
ITEMS_FILE = "items.jsonl"
NO_TEST_ITEMS = "no test items: a suite needs at least one item with split 'test'"


@dataclass(frozen=True)
class SuiteDraft:
    """A suite spec and its items, not yet published."""

    spec: SuiteSpec
    items: tuple[LocatedItem, ...]
    path: Path | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        # Whoever builds a draft (a folder, the app, a script): a suite scores its test items.
        if not any(located.item.split == "test" for located in self.items):
            where = str(self.path / ITEMS_FILE) if self.path else self.spec.name
            raise ProblemsFound([Problem(where, "split", NO_TEST_ITEMS)])

    @property
    def plain_items(self) -> list[ItemBase]:
        return [located.item for located in self.items]


def read_items_jsonl(path: Path) -> tuple[list[LocatedItem], list[Problem]]:
    """Parse an items file line by line; blank lines are skipped, every bad line reported.

    A file without a single item is a problem too: "ok, 0 items" passes nothing.
    """
    items: list[LocatedItem] = []
    problems: list[Problem] = []
    lines = 0
    for line in jsonl_lines(path, "items file"):
        lines += 1
        if line.problem is not None:
            problems.append(line.problem)
            continue
        item, item_problems = parse_item(line.value, line.where, utf8_clean=not line.escapes)
        problems.extend(item_problems)
        if item is not None:
            items.append(LocatedItem(item, line.where))
    if not lines:
        problems.append(Problem(str(path), "-", "no items: the file is empty"))
    return items, problems


def write_items_jsonl(path: Path, items: Iterable[ItemBase]) -> None:
    """Write items one per line, UTF-8, Chinese unescaped, in the given order."""
    with path.open("w", encoding="utf-8", newline="\n") as f:
        for item in items:
            f.write(json.dumps(item_to_record(item), ensure_ascii=False) + "\n")


def _yaml_line(root: yaml.Node | None, loc: tuple[int | str, ...]) -> int | None:
    """1-based line of the YAML node at `loc`, or of its deepest existing ancestor."""
    node, line = root, (root.start_mark.line + 1 if root is not None else None)
    for key in loc:
        if isinstance(node, yaml.MappingNode):
            match = next((v for k, v in node.value if k.value == key), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int):
            match = node.value[key] if key < len(node.value) else None
        else:
            match = None
        if match is None:
            break
        node, line = match, match.start_mark.line + 1
    return line


def read_spec(path: Path) -> tuple[SuiteSpec | None, list[Problem]]:
    """Parse and validate a suite.yaml; problems carry the YAML line of the offending key."""
    try:
        text = read_text(path, "suite spec", MAX_YAML_BYTES)
        data = parse_yaml(text, path)
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except ProblemsFound as e:
        return None, e.problems
    if not isinstance(data, dict):
        return None, [
            Problem(str(path), "-", f"expected a suite spec (an object), got {kind_of(data)}")
        ]
    try:
        spec = SuiteSpec.model_validate(data)
    except ValidationError as e:

        def locate(loc: tuple[int | str, ...]) -> str:
            line = _yaml_line(root, loc)
            return f"{path}:{line}" if line else str(path)

        return None, problems_from_validation_error(e, locate)
    found = unencodable(spec)
    if found:
        field, reason = found
        loc = re.findall(r"[^.\[\]]+", field)
        line = _yaml_line(root, tuple(int(k) if k.isdigit() else k for k in loc))
        return None, [Problem(f"{path}:{line}" if line else str(path), field, reason)]
    return spec, []


def read_draft(
    path: Path, near_duplicate_threshold: float = NEAR_DUPLICATE_THRESHOLD
) -> tuple[SuiteDraft | None, list[Problem]]:
    """Read and check a draft folder: every problem in either file and across items.

    Returns the draft only when there are no problems.
    """
    if not path.is_dir():
        raise NotFoundError(f"{path}: no such folder")
    spec_path, items_path = path / SPEC_FILE, path / ITEMS_FILE
    spec, problems = read_spec(spec_path)
    try:
        items, item_problems = read_items_jsonl(items_path)
    except ProblemsFound as e:  # unreadable as a whole (a folder, too large)
        items, item_problems = [], e.problems
    problems += item_problems
    problems += check_items(items, spec, near_duplicate_threshold, spec_where=str(spec_path))
    if items and not any(li.item.split == "test" for li in items):
        problems.append(Problem(str(items_path), "split", NO_TEST_ITEMS))
    if spec is None or problems:
        return None, problems
    return SuiteDraft(spec, tuple(items), path), problems


def write_draft(path: Path, spec: SuiteSpec, items: Iterable[ItemBase]) -> None:
    """Write a draft folder (used by export); refuses to write into a non-empty folder."""
    from evalkit.errors import ImmutableError

    if path.exists() and any(path.iterdir()):
        raise ImmutableError(f"{path}: folder exists and is not empty; choose a new --out")
    path.mkdir(parents=True, exist_ok=True)
    spec_data = spec.model_dump(mode="json", exclude_none=True)
    (path / SPEC_FILE).write_text(
        yaml.safe_dump(spec_data, allow_unicode=True, sort_keys=False, width=100),
        encoding="utf-8",
    )
    write_items_jsonl(path / ITEMS_FILE, items)
