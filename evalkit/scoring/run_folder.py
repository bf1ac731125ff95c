"""A run folder as scoring sees it: the manifest, the suites it names, the generations.

Reading checks that each published suite still has the content hash the run recorded, so a
run is never scored against items it did not see.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from evalkit.errors import IntegrityError, NotFoundError
from evalkit.scoring.config import ScoringConfig
from evalkit.suite.store import SuiteStore, SuiteVersion

RESULTS_FILE = "results.jsonl"
SUMMARY_FILE = "summary.json"
MANIFEST_FILE = "manifest.json"
GENERATIONS_DIR = "generations"


def generations_path(run_dir: Path, model_name: str, suite_ref: str) -> Path:
    """Where a run keeps one model's generations on one suite version."""
    return run_dir / GENERATIONS_DIR / model_name / f"{suite_ref}.jsonl"


def read_manifest(run_dir: Path) -> dict[str, Any]:
    path = run_dir / MANIFEST_FILE
    if not path.is_file():
        raise NotFoundError(f"{run_dir}: not a run folder (no {MANIFEST_FILE})")
    return json.loads(path.read_text(encoding="utf-8"))


def recorded_scoring(manifest: dict[str, Any]) -> dict[str, Any]:
    """The scoring keys a run was configured with (none in runs older than them)."""
    config = manifest.get("config", {})
    return {k: config[k] for k in ScoringConfig.model_fields if k in config}


def load_run(
    run_dir: Path, suites_dir: Path | None
) -> tuple[dict[str, Any], dict[str, SuiteVersion]]:
    """The run's manifest and the suite versions it used, hash-checked."""
    manifest = read_manifest(run_dir)
    store = SuiteStore(suites_dir or manifest["config"]["suites_dir"])
    versions = {}
    for s in manifest["suites"]:
        version = store.load(f"{s['name']}@{s['version']}")
        if version.manifest.content_hash != s["content_hash"]:
            raise IntegrityError(
                f"{version.ref} in {store.root} is not the version this run used "
                f"(hash {version.manifest.content_hash[:19]}..., run {s['content_hash'][:19]}...)"
            )
        versions[version.ref] = version
    return manifest, versions


def read_generations(run_dir: Path, model: str, version: SuiteVersion) -> Iterator[dict[str, Any]]:
    """One model's generation records on one suite, each checked to name an item of it."""
    path = generations_path(run_dir, model, version.ref)
    if not path.is_file():
        raise NotFoundError(f"{path}: generations missing from the run folder")
    with path.open(encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            record = json.loads(line)
            if record.get("item_id") not in version.by_id:
                raise IntegrityError(
                    f"{path}:{number}: item {record.get('item_id')!r} is not in {version.ref}"
                )
            yield record


def write_atomically(path: Path, lines: Iterator[str]) -> None:
    """Write text to `path` through a temporary file in the same folder, then rename it."""
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            for line in lines:
                f.write(line)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def join_atomically(path: Path, parts: list[Path]) -> None:
    """Write the files `parts`, one after the other, to `path`, atomically."""
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            for part in parts:
                with part.open("rb") as f:
                    shutil.copyfileobj(f, out, 1 << 20)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
