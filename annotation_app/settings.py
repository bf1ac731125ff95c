"""Where the app keeps its data: read once from the environment, with defaults for a fresh clone."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from evalkit.suite.checks import NEAR_DUPLICATE_THRESHOLD

DB_ENV = "EVALKIT_APP_DB"
SUITES_DIR_ENV = "EVALKIT_SUITES_DIR"  # the same variable `evalkit suite` reads
RUNS_DIR_ENV = "EVALKIT_RUNS_DIR"  # where the *Rate outputs* page lists run folders
DEFAULT_DB_URL = "sqlite:///.evalkit/app.db"
DEFAULT_SUITES_DIR = "suites"
DEFAULT_RUNS_DIR = "reports"  # where `evalkit run` writes by default (`out=`)


@dataclass(frozen=True)
class AppSettings:
    """The database URL, the folder publishing writes to, the folder of runs to rate."""

    db_url: str = DEFAULT_DB_URL
    suites_dir: Path = Path(DEFAULT_SUITES_DIR)
    runs_dir: Path = Path(DEFAULT_RUNS_DIR)
    near_duplicate_threshold: float = NEAR_DUPLICATE_THRESHOLD

    @classmethod
    def from_env(cls) -> AppSettings:
        return cls(
            db_url=os.environ.get(DB_ENV) or DEFAULT_DB_URL,
            suites_dir=Path(os.environ.get(SUITES_DIR_ENV) or DEFAULT_SUITES_DIR),
            runs_dir=Path(os.environ.get(RUNS_DIR_ENV) or DEFAULT_RUNS_DIR),
        )
