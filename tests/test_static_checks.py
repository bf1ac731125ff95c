"""Static checks run with the tests: ruff (lint and format) and mypy on the packages.

Part of the README's test command, so CI fails on a lint or type error like on a test.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).parents[1]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=REPO, capture_output=True, text=True, check=False
    )


def test_ruff_lint_and_format_are_clean() -> None:
    lint = _run("ruff", "check", ".")
    assert lint.returncode == 0, lint.stdout + lint.stderr
    formatted = _run("ruff", "format", "--check", ".")
    assert formatted.returncode == 0, formatted.stdout + formatted.stderr


def test_mypy_finds_no_type_errors() -> None:
    result = _run("mypy", "evalkit", "annotation_app")
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
