"""The HTML report: built from a scored run, self-contained, hostile text shown as text.

The browser test opens the page in Debian's chromium (Playwright) from a file: no console
errors, no request leaves the file, the numbers equal summary.json, the item table filters,
and nothing from the run executes.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from browser import (
    ARTIFACTS,
    BROWSER_ARGS,
    CHROMIUM,
    check_summary_numbers,
    open_report,
    require_browser,
)
from click.testing import CliRunner

from evalkit.cli import cli
from evalkit.report import build_report_data

from .report_helpers import HOSTILE, hostile_run


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    run = hostile_run(tmp_path_factory.mktemp("report"))
    result = CliRunner().invoke(cli, ["report", str(run)])
    assert result.exit_code == 0, result.output
    return run, json.loads((run / "summary.json").read_text(encoding="utf-8"))


def test_page_is_self_contained_and_escapes_run_text(report: tuple[Path, dict[str, Any]]) -> None:
    run, _ = report
    page = (run / "report.html").read_text(encoding="utf-8")
    assert "window.__pwned" in page  # the payload is on the page...
    assert "<script>window.__pwned" not in page  # ...but never as markup
    assert "<img src=x" not in page and "</table><script>" not in page
    assert "&lt;script&gt;window.__pwned = 4&lt;/script&gt;" in page  # the manifest, as text
    assert "&lt;b&gt;tag&lt;/b&gt;" in page  # a tag, as text
    # No script or stylesheet is loaded from elsewhere (the browser test watches requests too).
    assert not re.search(r"<script[^>]*\bsrc=", page) and "<link" not in page


def test_summary_exports_match_summary_json(report: tuple[Path, dict[str, Any]]) -> None:
    run, summary = report
    frame = pd.read_csv(run / "summary.csv")
    for row in summary["by_suite"]:
        for metric, m in row["metrics"].items():
            match = frame[
                (frame.model == row["model"])
                & (frame.suite == row["suite"])
                & (frame.metric == metric)
            ]
            assert len(match) == 1 and match.value.iloc[0] == pytest.approx(m["value"])
    delta = frame[(frame.model == "chat") & (frame.metric == "score")].difference.iloc[0]
    comparison = next(
        c for c in summary["comparisons"] if c["candidate"] == "chat" and c["metric"] == "score"
    )
    assert delta == pytest.approx(comparison["difference"])
    markdown = (run / "summary.md").read_text(encoding="utf-8")
    assert markdown.count("\n| ") == 1 + len(summary["by_suite"])  # header + one row each


def test_report_states_correction_mde_and_verdicts(report: tuple[Path, dict[str, Any]]) -> None:
    run, summary = report
    page = (run / "report.html").read_text(encoding="utf-8")
    family = summary["family"]
    assert f'<span id="family-size">{family["comparisons"]}</span>' in page
    assert "Holm correction over all" in page
    baseline = [
        c
        for c in summary["comparisons"]
        if c["metric"] == "score" and c["baseline"] == summary["baseline"]
    ]
    assert baseline
    for c in baseline:
        assert f'data-p-adjusted="{c["p_adjusted"]}"' in page
        assert f'data-mde="{c["mde"]}"' in page and f'data-verdict="{c["verdict"]}"' in page
    assert page.count("<tr class=") >= 1 and 'id="comparison-table"' in page
    assert 'id="answer-table"' in page  # unreadable choice answers, per model
    frame = pd.read_csv(run / "summary.csv")
    assert {"p_value", "p_adjusted", "mde", "verdict", "test"} <= set(frame.columns)
    markdown = (run / "summary.md").read_text(encoding="utf-8")
    assert f"holm correction over {family['comparisons']} comparisons" in markdown


def test_report_of_a_folder_that_is_not_a_scored_run(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["report", str(tmp_path / "nope")])
    assert result.exit_code == 1 and "no such run folder" in result.output
    (tmp_path / "run").mkdir()
    result = CliRunner().invoke(cli, ["report", str(tmp_path / "run")])
    assert result.exit_code == 1 and "score the run first" in result.output
    assert "Traceback" not in result.output


def visible_rows(page: Any) -> list[list[str]]:
    return page.eval_on_selector_all(
        "#item-table tbody tr:not(.dt-hasChild + tr)",
        "rows => rows.filter(r => r.querySelector('td.dt-control'))"
        ".map(r => Array.from(r.cells).map(c => c.innerText))",
    )


def test_report_in_a_real_browser(report: tuple[Path, dict[str, Any]]) -> None:
    require_browser(os.environ)
    from playwright.sync_api import sync_playwright

    run, summary = report
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1800})
        errors, requests = open_report(page, run / "report.html")
        check_summary_numbers(page, summary)
        assert page.locator("#chart-scores .main-svg").count() > 0  # plotly drew the chart

        rows = visible_rows(page)
        assert {r[2] for r in rows} == {"m1", "e1", "x1"}
        page.select_option("#filter-task", "extraction")
        assert [r[2] for r in visible_rows(page)] == ["e1"]
        page.select_option("#filter-task", "")
        page.select_option("#filter-model", "1")  # chat
        page.select_option("#filter-outcome", "wrong")
        assert sorted(r[2] for r in visible_rows(page)) == ["e1", "m1"]
        page.select_option("#filter-outcome", "")
        page.fill("#dt-search-0", "x1")
        assert [r[2] for r in visible_rows(page)] == ["x1"]

        page.locator("#item-table tbody td.dt-control").first.click()
        outputs = page.locator(".detail pre.model-output").all_inner_texts()
        assert any("<script>window.__pwned = 1</script>" in o for o in outputs)
        assert "<script>window.__pwned = 1</script>" in page.locator(".detail .input").inner_text()
        assert page.locator(".detail .ctl").count() >= 2  # \x00 and \x07 shown, not dropped
        page.fill("#dt-search-0", "")
        # "show" on a regression row lists exactly that candidate × suite × task's lost items.
        shown = next(g for g in build_report_data(run)["regressions"] if g["lost"])
        page.locator("a.show-regressed").first.click()
        assert sorted(r[2] for r in visible_rows(page)) == sorted(shown["lost"])
        page.click("#clear-regressed")
        page.locator("#format details").first.click()
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "report-hostile.png"), full_page=True)
        assert page.evaluate("window.__pwned") is None
        browser.close()
    assert errors == []
    assert all(url.startswith(("file:", "blob:", "data:")) for url in requests), requests
    assert HOSTILE  # the payload the page was built from
