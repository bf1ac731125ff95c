"""Bad drafts, items files and published versions, for every `evalkit suite` command that
reads them: each is refused with one located line naming the file, and nothing is written."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from badkit import (
    JSON_DOCUMENT,
    JSONL_FILE,
    YAML_FILE,
    Spoil,
    World,
    _replace_field,
    assert_refused,
    invoke,
    spoil,
    state,
)

from drafts import SPEC

# Items that are JSON but not items: the shape of a field, text no file can hold, no items.
ITEM_SHAPES: dict[str, tuple[Spoil, str]] = {
    "question-is-a-number": (_replace_field("question", 5), "question: expected text"),
    "choices-is-an-object": (_replace_field("choices", {"a": 1}), "choices: expected a list"),
    "provenance-is-a-list": (_replace_field("provenance", []), "provenance: expected an object"),
    "id-is-null": (_replace_field("id", None), "id: expected text"),
    "lone-surrogate": (
        lambda d: d.replace(b"Which of these", b"Which \\ud800 of these", 1),
        "question: contains '\\ud800'",
    ),
    "surrogate-in-a-choice": (
        lambda d: d.replace(b"An invitation", b"An \\udfff invitation", 1),
        "choices[0]: contains",
    ),
    "empty-file": (lambda d: b"", "no items"),
    "blank-lines-only": (lambda d: b"\n  \n\r\n", "no items"),
}
ITEMS_CASES = {**JSONL_FILE, **ITEM_SHAPES}


def _spec(**changes: Any) -> Spoil:
    """The world's suite.yaml with some keys changed (None: removed)."""

    def spoil(_: bytes) -> bytes:
        spec = {k: v for k, v in {**SPEC, **changes}.items() if v is not None}
        return yaml.safe_dump(spec, allow_unicode=True, sort_keys=False).encode()

    return spoil


# Valid YAML that is not a suite spec.
SPEC_SHAPES: dict[str, tuple[Spoil, str]] = {
    "empty": (lambda d: b"", "expected a suite spec"),
    "tasks-is-a-list": (_spec(tasks=["mcq"]), "tasks: expected an object"),
    "name-is-a-number": (_spec(name=5), "name: expected text"),
    "goals-is-text": (_spec(goals="know things"), "goals: expected a list"),
    "surrogate": (
        lambda d: d.replace(b"description: ", b'description: "x\\ud800"\n_: ', 1).replace(
            b"\n_: ", b"\n#", 1
        ),
        "description:",
    ),
}
SPEC_CASES = {**YAML_FILE, **SPEC_SHAPES}


@pytest.mark.parametrize("case", ITEMS_CASES)
@pytest.mark.parametrize("command", ["validate-draft", "validate-file", "publish"])
def test_bad_draft_items(world: World, case: str, command: str) -> None:
    how, reason = ITEMS_CASES[case]
    items = world.draft / "items.jsonl"
    spoil(items, how)
    before = state(world.root)
    if command == "publish":
        args = ["--suites-dir", world.suites, "publish", world.draft, "--author", "a", "-m", "x"]
    else:
        args = ["validate", world.draft if command == "validate-draft" else items]
    assert_refused(invoke("suite", *args), items, before, world.root, reason)


@pytest.mark.parametrize("command", ["validate-draft", "publish"])
def test_a_draft_without_test_items(world: World, command: str) -> None:
    items = world.draft / "items.jsonl"
    lines = items.read_text(encoding="utf-8").splitlines()
    dev = [line.replace('"split": "dev", ', "") for line in lines]
    items.write_text(
        "\n".join(line.replace('"language"', '"split": "dev", "language"', 1) for line in dev)
        + "\n",
        encoding="utf-8",
    )
    before = state(world.root)
    if command == "publish":
        args = ["--suites-dir", world.suites, "publish", world.draft, "--author", "a", "-m", "x"]
    else:
        args = ["validate", world.draft]
    assert_refused(invoke("suite", *args), items, before, world.root, "no test items")


@pytest.mark.parametrize("case", SPEC_CASES)
@pytest.mark.parametrize("command", ["validate", "publish"])
def test_bad_suite_yaml(world: World, case: str, command: str) -> None:
    how, reason = SPEC_CASES[case]
    spec = world.draft / "suite.yaml"
    spoil(spec, how)
    before = state(world.root)
    if command == "publish":
        args = ["--suites-dir", world.suites, "publish", world.draft, "--author", "a", "-m", "x"]
    else:
        args = ["validate", world.draft]
    assert_refused(invoke("suite", *args), spec, before, world.root, reason)


# A published version's files: loading them is the store's, which names the bad file or the
# version folder it is in; either way one line, no traceback, nothing written.
VERSION_FILES = {
    **{f"manifest-{k}": ("manifest.json", how) for k, (how, _) in JSON_DOCUMENT.items()},
    **{f"items-{k}": ("items.jsonl", how) for k, (how, _) in JSONL_FILE.items()},
    "items-empty": ("items.jsonl", lambda d: b""),
}


def _command(world: World, command: str) -> list[str | Path]:
    suites = ["suite", "--suites-dir", world.suites]
    return {
        "validate": ["suite", "validate", world.version],
        "show": [*suites, "show", "mini@v1"],
        "diff": [*suites, "diff", "mini@v1", "mini@v2"],
        "export": [*suites, "export", "mini@v1", "--out", world.out / "x.jsonl"],
        "score": ["score", world.run, "--suites-dir", world.suites, "--resamples", "100"],
        "run": [
            "run",
            "suite=mini@v1",
            "model=base",
            f"models_dir={world.models}",
            f"suites_dir={world.suites}",
            f"out={world.out / 'runs'}",
            f"cache={world.out / 'c.sqlite'}",
        ],
        "contamination": [
            "contamination",
            "suite=mini@v1",
            f"data={world.root / 'train.jsonl'}",
            f"suites_dir={world.suites}",
        ],
    }[command]


@pytest.mark.parametrize("case", VERSION_FILES)
@pytest.mark.parametrize(
    "command", ["validate", "show", "diff", "export", "contamination", "score", "run"]
)
def test_bad_published_version(world: World, case: str, command: str) -> None:
    name, how = VERSION_FILES[case]
    path = world.version / name
    spoil(path, how)
    before = state(world.root)
    result = invoke(*_command(world, command))
    named = path if str(path) in result.output else world.version
    assert_refused(result, named, before, world.root)


def test_list_with_a_bad_version(world: World) -> None:
    path = world.version / "manifest.json"
    spoil(path, JSON_DOCUMENT["truncated"][0])
    before = state(world.root)
    result = invoke("suite", "--suites-dir", world.suites, "list")
    named = path if str(path) in result.output else world.version
    assert_refused(result, named, before, world.root)
