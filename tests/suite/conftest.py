"""A published chain mini@v1..v3 and a run that used it, shared by the tamper and verify tests."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from chain_cases import publish_chain
from run_folders import write_run_folder

from evalkit.suite.store import SuiteStore

MODELS = [{"name": "base", "kind": "base", "stage": "base", "starting_point": None}]


@pytest.fixture(scope="session")
def published(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The store and a run that used mini@v3 and recorded its hashes, written once."""
    root = tmp_path_factory.mktemp("chain")
    store = publish_chain(root)
    v3 = store.load("mini@v3")
    run = write_run_folder(root / "run", store.root, [v3], MODELS, lambda *_: "A")
    manifest = json.loads((run / "manifest.json").read_text(encoding="utf-8"))
    manifest["suites"] = [v3.run_record()]  # as a run records it now
    (run / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return store.root, run


@pytest.fixture
def chain(published: tuple[Path, Path], tmp_path: Path) -> SuiteStore:
    """A fresh copy of the published chain, to edit."""
    shutil.copytree(published[0], tmp_path / "suites")
    return SuiteStore(tmp_path / "suites")


@pytest.fixture
def run_dir(published: tuple[Path, Path], tmp_path: Path) -> Path:
    """A fresh copy of the run (it records the original store; pass the copy's root)."""
    return Path(shutil.copytree(published[1], tmp_path / "run"))
