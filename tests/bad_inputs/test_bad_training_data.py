"""`evalkit contamination` with training files it cannot read: one located line naming the
file and exit 2 (exit 1 means "contaminated", so a bad input must never read so)."""

from __future__ import annotations

from pathlib import Path

import pytest
from badkit import JSONL_FILE, World, assert_refused, invoke, spoil, state
from click.testing import Result

# Any JSON value is a record of training text; a JSONL file can only be bad as text or JSON.
ANY_RECORD = ("array-line", "number-line", "text-line", "null-line")
TRAINING_JSONL = {k: v for k, v in JSONL_FILE.items() if k not in ANY_RECORD}
TRAINING_TEXT = {
    "latin-1": (lambda d: "Vertragsstrafe über".encode("latin-1"), "not UTF-8"),
    "utf-16": (lambda d: d.decode().encode("utf-16"), "UTF-16"),
    "binary": (lambda d: bytes(range(256)), "not a text file"),
    "cut-inside-a-character": (lambda d: "合同".encode()[:-1], "not UTF-8"),
}


def _check(world: World, data: Path) -> Result:
    return invoke("contamination", "suite=mini", f"data={data}", f"suites_dir={world.suites}")


def test_the_good_training_files_are_clean(world: World) -> None:
    for name in ("train.jsonl", "train.txt"):
        result = _check(world, world.root / name)
        assert result.exit_code == 0 and "clean" in result.output, result.output


@pytest.mark.parametrize("case", TRAINING_JSONL)
def test_bad_training_jsonl(world: World, case: str) -> None:
    how, reason = TRAINING_JSONL[case]
    path = world.root / "train.jsonl"
    spoil(path, how)
    before = state(world.root)
    assert_refused(_check(world, path), path, before, world.root, reason, exit_codes=(2,))


@pytest.mark.parametrize("case", TRAINING_TEXT)
def test_bad_training_text(world: World, case: str) -> None:
    how, reason = TRAINING_TEXT[case]
    path = world.root / "train.txt"
    spoil(path, how)
    before = state(world.root)
    assert_refused(_check(world, path), path, before, world.root, reason, exit_codes=(2,))


@pytest.mark.parametrize("name", ["folder.jsonl", "folder.txt"])
def test_a_folder_given_as_training_data(world: World, name: str) -> None:
    path = world.root / name
    path.mkdir()
    before = state(world.root)
    assert_refused(_check(world, path), path, before, world.root, "folder", exit_codes=(2,))
