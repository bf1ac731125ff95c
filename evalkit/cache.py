"""The generation cache: never compute the same model output twice.

Keyed by (model fingerprint, engine, sampling parameters, exact prompt). Stored in SQLite in
WAL mode: each batch of results commits atomically, so a run killed with `kill -9` keeps every
batch it finished, and concurrent runs (separate processes) read and write the same file safely.

Runs sharing a cache also share the work: a run *claims* a request before its engine starts on
it, and another run that needs the same request waits for the result instead of generating it
again. A claim lives while its owner is alive: the owner refreshes it (`heartbeat`), and a claim
whose process is gone (on this host) or that went unrefreshed for `STALE_AFTER` seconds (a
hung run) is taken over, so a killed run never blocks the next one for long. Runs share a
cache on one machine or on a file system with working locks; SQLite's WAL mode does not work
over network file systems such as NFS.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import sqlite3
import time
import uuid
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
CREATE TABLE IF NOT EXISTS claims (
    key TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    heartbeat REAL NOT NULL
);
"""
_CHUNK = 500  # keys per SELECT: stays under SQLite's bound-parameter limit


# Seconds after its last heartbeat that a claim counts as abandoned (its owner hung or lost its
# host); owners refresh theirs every few seconds.
STALE_AFTER = 60.0


def _host() -> str:
    """This host as claim owners name it: its name and PID namespace (containers on one host
    share a name but not their process ids)."""
    try:
        namespace = os.stat("/proc/self/ns/pid").st_ino
    except OSError:
        namespace = 0
    return f"{socket.gethostname()}/{namespace}"


def claim_owner() -> str:
    """A claim owner's name for this process: host, pid and a random part."""
    return f"{_host()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _owner_gone(owner: str) -> bool:
    """Whether `owner` was a process of this host (and PID namespace) that has ended."""
    host, _, rest = owner.partition(":")
    pid = rest.partition(":")[0]
    if host != _host() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, another user's
        return False
    return False


def _set_wal(db: sqlite3.Connection, wait: float = 60.0) -> None:
    """Put the database in WAL mode. Switching a new file's journal mode needs it to itself,
    and SQLite answers "database is locked" at once, without its busy wait, while another
    connection opens it: runs starting together on a new cache retry here."""
    deadline = time.monotonic() + wait
    while True:
        try:
            db.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as e:
            if "locked" not in str(e) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


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
        _set_wal(self._db)
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
        """Store a batch atomically, releasing its claims; an existing key keeps its first
        value."""
        rows = [(key, json.dumps(value, ensure_ascii=False)) for key, value in entries]
        with self._transaction():
            self._db.executemany("INSERT OR IGNORE INTO generations VALUES (?, ?)", rows)
            self._db.executemany("DELETE FROM claims WHERE key = ?", [(k,) for k, _ in rows])

    def claim(self, keys: Sequence[str], owner: str) -> tuple[list[str], list[str]]:
        """Claim those of `keys` that are neither cached nor claimed by a live run.

        Returns (claimed, theirs): the keys `owner` now holds, and the keys another live run
        holds; cached keys are in neither."""
        claimed: list[str] = []
        theirs: list[str] = []
        now = time.time()
        with self._transaction():
            for start in range(0, len(keys), _CHUNK):
                chunk = list(dict.fromkeys(keys[start : start + _CHUNK]))
                marks = ",".join("?" * len(chunk))
                cached = {
                    row[0]
                    for row in self._db.execute(
                        f"SELECT key FROM generations WHERE key IN ({marks})", chunk
                    )
                }
                held = {
                    key: (who, beat)
                    for key, who, beat in self._db.execute(
                        f"SELECT key, owner, heartbeat FROM claims WHERE key IN ({marks})", chunk
                    )
                }
                gone: dict[str, bool] = {}
                for key in chunk:
                    if key in cached:
                        continue
                    who, beat = held.get(key, (owner, now))
                    if who != owner and now - beat < STALE_AFTER:
                        if who not in gone:
                            gone[who] = _owner_gone(who)
                        if not gone[who]:
                            theirs.append(key)
                            continue
                    claimed.append(key)
            self._db.executemany(
                "INSERT OR REPLACE INTO claims VALUES (?, ?, ?)",
                [(key, owner, now) for key in claimed],
            )
        return claimed, theirs

    def heartbeat(self, owner: str) -> None:
        """Refresh `owner`'s claims: it is still working on them."""
        with self._transaction():
            self._db.execute(
                "UPDATE claims SET heartbeat = ? WHERE owner = ?", (time.time(), owner)
            )

    def release(self, owner: str, keys: Sequence[str] | None = None) -> None:
        """Give up `owner`'s claims (on `keys`, or all): another run may take them."""
        with self._transaction():
            if keys is None:
                self._db.execute("DELETE FROM claims WHERE owner = ?", (owner,))
            else:
                self._db.executemany(
                    "DELETE FROM claims WHERE key = ? AND owner = ?", [(k, owner) for k in keys]
                )

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
