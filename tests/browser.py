"""Shared by the browser tests: Debian's chromium under Playwright, never a downloaded browser."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
BROWSER_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def browser_missing(chromium: str = CHROMIUM) -> str | None:
    """Why a browser test cannot run here, or None."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install 'evalkit[dev]')"
    if not Path(chromium).exists():
        return f"{chromium} is missing (scripts/install.sh dev installs Debian's chromium)"
    return None


def require_browser(env: Mapping[str, str], chromium: str = CHROMIUM) -> None:
    """Skip when the browser is missing, except in CI, where that is a failure."""
    missing = browser_missing(chromium)
    if missing:
        if env.get("CI"):
            pytest.fail(f"browser test cannot run in CI: {missing}")
        pytest.skip(missing)
