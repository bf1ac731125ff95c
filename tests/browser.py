"""Shared by the browser tests: Debian's chromium under Playwright, never a downloaded browser."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

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


# Every Content-Security-Policy violation is kept in window.__cspViolations and logged as a
# console error, so a test that expects no console errors also expects no violation.
WATCH_CSP = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  const v = { directive: e.effectiveDirective, blocked: e.blockedURI, sample: e.sample };
  window.__cspViolations.push(v);
  console.error("CSP violation: " + JSON.stringify(v));
}, true);
"""


def csp_violations(page: Any) -> list[dict[str, str]]:
    """The CSP violations the page has reported so far (needs `open_report`'s watcher)."""
    return page.evaluate("window.__cspViolations")


def open_report(page: Any, path: Path) -> tuple[list[str], list[str]]:
    """Load a report; return console errors (CSP violations included) and every URL
    requested."""
    errors: list[str] = []
    requests: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("request", lambda r: requests.append(r.url))
    page.add_init_script(WATCH_CSP)
    page.goto(path.resolve().as_uri())
    page.wait_for_selector("body[data-items-ready='true']", state="attached", timeout=30_000)
    return errors, requests


def check_summary_numbers(page: Any, summary: dict[str, Any]) -> int:
    """Every summary cell on the page shows summary.json's value; returns how many were seen."""
    expected = {
        (r["model"], r["suite"], name): m["value"]
        for r in summary["by_suite"]
        for name, m in r["metrics"].items()
    }
    cells = page.eval_on_selector_all(
        "#summary-table td[data-metric]",
        """cells => cells.map(td => [td.closest('tr').dataset.model, td.closest('tr').dataset.suite,
                                     td.dataset.metric, Number(td.dataset.value), td.innerText])""",
    )
    seen = 0
    for model, suite, metric, value, text in cells:
        if (model, suite, metric) in expected:
            assert value == pytest.approx(expected[model, suite, metric]), (model, suite, metric)
            assert text.startswith(f"{expected[model, suite, metric]:.3f}")
            seen += 1
    assert seen == len(expected)
    return seen
