"""The run index: one SQLite file in the runs folder that lists its scored runs.

Runs stay plain folders (manifest.json, generations, results.jsonl, summary.json); the index
only remembers what each holds — suite versions, models, dates, headline scores — so that
`evalkit runs` and `evalkit compare` need not read every summary. Scoring registers a run;
`sync_index` brings the index in line with the folders (a run scored elsewhere, a folder
deleted by hand). Each registration is one SQLite transaction: a process killed midway leaves
the index as it was before, never half a record.

A folder is *incomplete* when a run was killed before it finished (it carries the run marker
but no manifest.json, or the engine's work folder is still there), and *unscored* when
generation finished but scoring did not; neither is ever listed or compared as a result.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from evalkit.errors import EvalkitError, NotFoundError
from evalkit.scoring.run_folder import MANIFEST_FILE, SUMMARY_FILE

INDEX_FILE = "index.sqlite"
SCHEMA_VERSION = 1
RUN_MARKER = ".evalkit-run"  # written first into a new run folder: it is evalkit's
RunStatus = Literal["scored", "unscored", "incomplete", "other"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY,
    started_at TEXT NOT NULL,
    ended_at TEXT NOT NULL,
    suites TEXT NOT NULL,     -- JSON: [{"ref": "legal@v2", "content_hash": "sha256:..."}]
    models TEXT NOT NULL,     -- JSON: [{"name": ..., "fingerprint": ..., "kind": ...}]
    headline TEXT NOT NULL,   -- JSON: {model: {suite: score}}
    baseline TEXT NOT NULL,
    summary_mtime_ns INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS tags (
    tag TEXT PRIMARY KEY,
    run_id TEXT NOT NULL
)
"""


@dataclass(frozen=True)
class RunRecord:
    """What the index knows of one scored run."""

    run_id: str
    started_at: str
    ended_at: str
    suites: list[dict[str, str]]
    models: list[dict[str, Any]]
    headline: dict[str, dict[str, float]]
    baseline: str

    @property
    def suite_refs(self) -> list[str]:
        return [s["ref"] for s in self.suites]

    @property
    def model_names(self) -> list[str]:
        return [m["name"] for m in self.models]


def run_status(run_dir: Path) -> RunStatus:
    """Whether a folder holds a finished, scored run; "other" when it is no run folder of
    evalkit's at all (never touched)."""
    if not run_dir.is_dir():
        return "other"
    marked = (run_dir / RUN_MARKER).is_file()
    if not (run_dir / MANIFEST_FILE).is_file():
        return "incomplete" if marked else "other"
    if marked and any(run_dir.glob("work-*")):
        return "incomplete"
    return "scored" if (run_dir / SUMMARY_FILE).is_file() else "unscored"


def record_of(run_dir: Path) -> RunRecord:
    """The index record of a scored run folder, from its manifest and summary."""
    manifest = json.loads((run_dir / MANIFEST_FILE).read_text(encoding="utf-8"))
    summary = json.loads((run_dir / SUMMARY_FILE).read_text(encoding="utf-8"))
    headline: dict[str, dict[str, float]] = {}
    for row in summary["by_suite"]:
        headline.setdefault(row["model"], {})[row["suite"]] = row["metrics"]["score"]["value"]
    return RunRecord(
        run_id=run_dir.name,
        started_at=manifest.get("started_at", ""),  # absent only in hand-written manifests
        ended_at=manifest.get("ended_at", ""),
        suites=[
            {"ref": f"{s['name']}@{s['version']}", "content_hash": s["content_hash"]}
            for s in manifest["suites"]
        ],
        models=[
            {k: m.get(k) for k in ("name", "kind", "fingerprint", "path")}
            for m in manifest["models"]
        ],
        headline=headline,
        baseline=summary["baseline"],
    )


class RunIndex:
    """The index of the runs folder `runs_dir` (created on first use)."""

    def __init__(self, runs_dir: Path) -> None:
        self.runs_dir = runs_dir
        self.path = runs_dir / INDEX_FILE
        try:
            self._db = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            with self._transaction():
                for statement in _SCHEMA.split(";"):
                    self._db.execute(statement)
                self._db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        except sqlite3.DatabaseError as e:
            raise EvalkitError(
                f"{self.path}: the run index cannot be read ({e}); delete it and run "
                "`evalkit runs` to rebuild it from the run folders"
            ) from None

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> RunIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def register(self, run_dir: Path) -> RunRecord:
        """Add or update the record of a scored run folder of this runs folder."""
        record = record_of(run_dir)
        mtime = (run_dir / SUMMARY_FILE).stat().st_mtime_ns
        row = (
            record.run_id,
            record.started_at,
            record.ended_at,
            json.dumps(record.suites, ensure_ascii=False),
            json.dumps(record.models, ensure_ascii=False),
            json.dumps(record.headline, ensure_ascii=False),
            record.baseline,
            mtime,
        )
        with self._transaction():
            self._db.execute("INSERT OR REPLACE INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?)", row)
        return record

    def records(self) -> list[RunRecord]:
        """Every registered run, oldest first."""
        rows = self._db.execute(
            "SELECT run_id, started_at, ended_at, suites, models, headline, baseline "
            "FROM runs ORDER BY started_at, run_id"
        ).fetchall()
        return [
            RunRecord(r[0], r[1], r[2], json.loads(r[3]), json.loads(r[4]), json.loads(r[5]), r[6])
            for r in rows
        ]

    def stamps(self) -> dict[str, int]:
        """run id → the summary.json modification time it was registered at."""
        return dict(self._db.execute("SELECT run_id, summary_mtime_ns FROM runs").fetchall())

    def forget(self, run_ids: list[str]) -> None:
        with self._transaction():
            self._db.executemany("DELETE FROM runs WHERE run_id = ?", [(r,) for r in run_ids])

    def tag(self, tag: str, run_id: str) -> None:
        """Name a registered run (`prod`, `last-release`); a tag names one run at a time."""
        if run_id not in self.stamps():
            raise NotFoundError(
                f"{run_id}: no scored run of that id in {self.runs_dir}; tag a scored run"
            )
        with self._transaction():
            self._db.execute("INSERT OR REPLACE INTO tags VALUES (?, ?)", (tag, run_id))

    def tags(self) -> dict[str, str]:
        """tag → run id."""
        return dict(self._db.execute("SELECT tag, run_id FROM tags ORDER BY tag").fetchall())


@dataclass
class RunListing:
    """The runs folder as `evalkit runs` shows it."""

    runs: list[RunRecord]
    unscored: list[Path]
    incomplete: list[Path]
    tags: dict[str, str]  # tag → run id


def sync_index(runs_dir: Path) -> RunListing:
    """Bring the index in line with the folders and list them: scored runs (registered where
    they were not, or re-scored since), unscored and incomplete folders."""
    if not runs_dir.is_dir():
        raise NotFoundError(f"{runs_dir}: no such runs folder")
    folders = {p.name: p for p in sorted(runs_dir.iterdir()) if p.is_dir()}
    status = {name: run_status(path) for name, path in folders.items()}
    with RunIndex(runs_dir) as index:
        stamps = index.stamps()
        index.forget([r for r in stamps if status.get(r) != "scored"])
        for name, path in folders.items():
            if status[name] != "scored":
                continue
            if stamps.get(name) != (path / SUMMARY_FILE).stat().st_mtime_ns:
                index.register(path)
        runs, tags = index.records(), index.tags()
    return RunListing(
        runs,
        [folders[n] for n, s in status.items() if s == "unscored"],
        [folders[n] for n, s in status.items() if s == "incomplete"],
        tags,
    )


def register_run(run_dir: Path) -> str | None:
    """Register a just-scored run in its runs folder's index; a warning line when the index
    cannot be written (the run itself is safe: `evalkit runs` registers it later)."""
    try:
        with RunIndex(run_dir.parent) as index:
            index.register(run_dir)
    except (EvalkitError, sqlite3.Error, OSError, KeyError, ValueError) as e:
        return f"warning: {run_dir} not registered in the run index ({e})"
    return None
