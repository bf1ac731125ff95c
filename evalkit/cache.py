"""The generation cache: never compute the same model output twice.

Keyed by (model fingerprint, engine, sampling parameters, exact prompt). Stored in SQLite in
WAL mode: each batch of results commits atomically, so a run killed with `kill -9` keeps every
batch it finished, and concurrent runs (separate processes) read and write the same file safely.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS generations (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS fingerprints (
    path TEXT NOT NULL,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    digest TEXT NOT NULL,
    PRIMARY KEY (path, size, mtime_ns)
);
"""
_CHUNK = 500  # keys per SELECT: stays under SQLite's bound-parameter limit


def cache_key(fingerprint: str, engine: str, sampling: Mapping[str, Any], prompt_key: str) -> str:
    """sha256 over the four things that determine an output."""
    payload = json.dumps(
        [fingerprint, engine, dict(sampling), prompt_key], sort_keys=True, ensure_ascii=False
    )
    return hashlib.sha256(payload.encode()).hexdigest()


class GenerationCache:
    """A persistent map from cache key to a JSON-serialisable result."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, timeout=60.0, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(
            "PRAGMA synchronous=NORMAL"
        )  # WAL + NORMAL: durable at checkpoint, never corrupt
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> GenerationCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def get_many(self, keys: Sequence[str]) -> dict[str, Any]:
        """Cached values for those of `keys` that are present."""
        found: dict[str, Any] = {}
        for start in range(0, len(keys), _CHUNK):
            chunk = keys[start : start + _CHUNK]
            marks = ",".join("?" * len(chunk))
            rows = self._db.execute(
                f"SELECT key, value FROM generations WHERE key IN ({marks})", chunk
            )
            found.update((key, json.loads(value)) for key, value in rows)
        return found

    def put_many(self, entries: Iterable[tuple[str, Any]]) -> None:
        """Store a batch atomically; an existing key keeps its first value."""
        rows = [(key, json.dumps(value, ensure_ascii=False)) for key, value in entries]
        with self._transaction():
            self._db.executemany("INSERT OR IGNORE INTO generations VALUES (?, ?)", rows)

    def __len__(self) -> int:
        return self._db.execute("SELECT COUNT(*) FROM generations").fetchone()[0]

    def file_digest(self, path: Path) -> str:
        """sha256 of a file, remembered per (path, size, mtime) so big weights hash once."""
        stat = path.stat()
        ident = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
        row = self._db.execute(
            "SELECT digest FROM fingerprints WHERE path=? AND size=? AND mtime_ns=?", ident
        ).fetchone()
        if row:
            return row[0]
        digest = hashlib.sha256()
        with path.open("rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
        with self._transaction():
            self._db.execute(
                "INSERT OR REPLACE INTO fingerprints VALUES (?, ?, ?, ?)",
                (*ident, digest.hexdigest()),
            )
        return digest.hexdigest()

    def _transaction(self) -> _Transaction:
        return _Transaction(self._db)


class _Transaction:
    """BEGIN IMMEDIATE ... COMMIT, rolled back on error; waits for other writers."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, *rest: object) -> None:
        self._db.execute("ROLLBACK" if exc_type else "COMMIT")
