"""The HTML report: built from a scored run, self-contained, hostile text shown as text.

The browser tests open pages in Debian's chromium (Playwright) from a file: no console
errors, no CSP violation, no request leaves the file, the numbers equal summary.json, the item
table filters, and nothing from the run executes: not from the hostile run (markup in model
names, the run's name, tags, item text, outputs, the environment), not from report data with
payloads in every string, and not from markup pasted raw into the page (the CSP stops it).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from browser import (
    ARTIFACTS,
    BROWSER_ARGS,
    CHROMIUM,
    check_summary_numbers,
    csp_violations,
    open_report,
    require_browser,
)
from click.testing import CliRunner

from evalkit.cli import cli
from evalkit.report import build_report_data, render_report
from evalkit.report.charts import all_charts
from evalkit.report.csp import check_inline_script, script_hash

from .report_helpers import (
    BASE,
    CHAT,
    PAYLOADS,
    RUN_ID,
    SCRIPT_PAYLOAD,
    TAG,
    assert_nothing_ran,
    fill_every_section,
    hostile_run,
    poison,
)


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    run = hostile_run(tmp_path_factory.mktemp("report"))
    result = CliRunner().invoke(cli, ["report", str(run)])
    assert result.exit_code == 0, result.output
    return run, json.loads((run / "summary.json").read_text(encoding="utf-8"))


def test_page_is_self_contained_and_escapes_run_text(report: tuple[Path, dict[str, Any]]) -> None:
    run, _ = report
    page = (run / "report.html").read_text(encoding="utf-8")
    body = page[page.index("<body>") :]  # the head holds plotly.js, which has markup in strings
    # (Booleans and lists only: pytest would spend minutes diffing a 6 MB page.)
    assert ("window.__pwned" in body) is True  # the payloads are on the page...
    markup = [*PAYLOADS, BASE, CHAT, RUN_ID, TAG, "<img", "<svg", "<iframe"]
    assert [m for m in markup if m in body] == []  # ...but never as markup
    shown = [
        "&lt;script&gt;window.__pwned = 108&lt;/script&gt;",  # the environment, as text
        "&lt;b&gt;tag&lt;/b&gt;",  # a tag
        "base&lt;img src=x onerror=window.__pwned=101&gt;",  # a model name
        "run&lt;img src=x onerror=window.__pwned=103&gt;",  # the run's name
    ]
    assert [t for t in shown if t not in body] == []
    # No script or stylesheet is loaded from elsewhere (the browser test watches requests too).
    assert re.search(r"<script[^>]*\bsrc=", page) is None and ("<link" in page) is False


class _Scripts(HTMLParser):
    """The page's <meta> CSP, the tags before it, and its script elements (type, text)."""

    def __init__(self) -> None:
        super().__init__()
        self.csp: str | None = None
        self.before_csp: list[str] = []
        self.scripts: list[tuple[str | None, str]] = []
        self._open: list[str | None] = []  # the open script's type
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "meta" and a.get("http-equiv") == "Content-Security-Policy":
            self.csp = a["content"]
        elif self.csp is None:
            self.before_csp.append(tag)
        if tag == "script":
            self._open, self._text = [a.get("type")], []

    def handle_data(self, data: str) -> None:
        if self._open:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._open:
            self.scripts.append((self._open.pop(), "".join(self._text)))


def test_policy_allows_only_the_pages_own_scripts(report: tuple[Path, dict[str, Any]]) -> None:
    run, _ = report
    parsed = _Scripts()
    parsed.feed((run / "report.html").read_text(encoding="utf-8"))
    assert parsed.csp is not None and parsed.before_csp == ["html", "head", "meta"]  # charset
    directives = dict(d.strip().split(" ", 1) for d in parsed.csp.split(";"))
    script_src = directives["script-src"].split()
    assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src
    assert "'unsafe-inline'" not in directives.get("default-src", "")
    assert directives["default-src"] == "'none'" and directives["base-uri"] == "'none'"
    executable = [text for kind, text in parsed.scripts if kind in (None, "text/javascript")]
    data = [kind for kind, _ in parsed.scripts if kind not in (None, "text/javascript")]
    assert len(executable) == 2 and data == ["application/json", "application/json", "text/plain"]
    # Exactly the page's own scripts are allowed, by the hash of their text.
    assert sorted(script_src) == sorted([*(script_hash(t) for t in executable), "blob:"])
    with pytest.raises(ValueError, match="cannot be inlined"):
        check_inline_script("x.js", "let s = '</SCRIPT>';")


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
    delta = frame[(frame.model == CHAT) & (frame.metric == "score")].difference.iloc[0]
    comparison = next(
        c for c in summary["comparisons"] if c["candidate"] == CHAT and c["metric"] == "score"
    )
    assert delta == pytest.approx(comparison["difference"])
    markdown = (run / "summary.md").read_text(encoding="utf-8")
    assert markdown.count("\n| ") == 1 + len(summary["by_suite"])  # header + one row each
    # Model names are text in the Markdown too: no HTML, no link, the table intact.
    title, table = markdown.split("\n", 1)
    assert f"**evalkit run `{RUN_ID}`**" in title  # a code span shows it literally
    assert "<" not in table and "| base&lt;img src=x onerror=" in table


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


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """One headless Debian chromium for this module's browser tests."""
    require_browser(os.environ)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        yield browser
        browser.close()


def _text_of(page: Any, selector: str) -> list[str]:
    return page.eval_on_selector_all(selector, "es => es.map(e => e.textContent)")


def _drawn(page: Any, charts: dict[str, Any], models: list[str]) -> None:
    """Every chart is drawn, its legend and the item table's headers show the model names
    as text."""
    for name in charts:
        assert page.locator(f"#chart-{name} .main-svg").count() > 0, name
    assert _text_of(page, "#chart-scores .legendtext") == models
    assert _text_of(page, "#item-table thead th.model-col .dt-column-title") == models


def _hover(page: Any, chart: str) -> str:
    """The hover label's text with the mouse over the middle of a chart's plot area."""
    area = page.locator(f"#chart-{chart} .nsewdrag").first
    area.scroll_into_view_if_needed()
    box = area.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_selector(f"#chart-{chart} .hoverlayer .hovertext", timeout=5_000)
    return " ".join(_text_of(page, f"#chart-{chart} .hoverlayer .hovertext"))


def test_report_in_a_real_browser(report: tuple[Path, dict[str, Any]], chromium: Any) -> None:
    run, summary = report
    page = chromium.new_page(viewport={"width": 1400, "height": 1800})
    errors, requests = open_report(page, run / "report.html")
    check_summary_numbers(page, summary)
    _drawn(page, all_charts(summary), [BASE, CHAT])
    assert page.title() == f"evalkit report · {RUN_ID}"

    rows = visible_rows(page)
    assert {r[2] for r in rows} == {"m1", "e1", "x1"}
    page.select_option("#filter-task", "extraction")
    assert [r[2] for r in visible_rows(page)] == ["e1"]
    page.select_option("#filter-task", "")
    page.select_option("#filter-tag", TAG)  # an option's value is the tag, markup and all
    assert [r[2] for r in visible_rows(page)] == ["x1"]
    page.select_option("#filter-tag", "")
    page.select_option("#filter-model", "1")  # chat
    page.select_option("#filter-outcome", "wrong")
    assert sorted(r[2] for r in visible_rows(page)) == ["e1", "m1"]
    page.select_option("#filter-outcome", "")
    page.fill("#dt-search-0", "x1")
    assert [r[2] for r in visible_rows(page)] == ["x1"]

    page.locator("#item-table tbody td.dt-control").first.click()
    outputs = page.locator(".detail pre.model-output").all_inner_texts()
    assert any(SCRIPT_PAYLOAD in o for o in outputs)
    assert SCRIPT_PAYLOAD in page.locator(".detail .input").inner_text()
    assert page.locator(".detail .ctl").count() >= 2  # \x00 and \x07 shown, not dropped
    assert [t.strip() for t in _text_of(page, ".detail .output .head > span:first-child")] == [
        BASE,
        CHAT,
    ]
    page.fill("#dt-search-0", "")
    # "show" on a regression row lists exactly that candidate × suite × task's lost items.
    shown = next(g for g in build_report_data(run)["regressions"] if g["lost"])
    page.locator("a.show-regressed").first.click()
    assert sorted(r[2] for r in visible_rows(page)) == sorted(shown["lost"])
    assert CHAT in page.locator("#regressed-note").inner_text()
    page.click("#clear-regressed")
    page.locator("#format details").first.click()
    assert any(m in _hover(page, "tasks") for m in (BASE, CHAT))  # a hover label, as text
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "report-hostile.png"), full_page=True)
    assert_nothing_ran(page, f"evalkit report · {RUN_ID}")
    assert csp_violations(page) == []
    page.close()
    assert errors == []
    assert all(url.startswith(("file:", "blob:", "data:")) for url in requests), requests


def test_every_string_from_the_run_is_text_in_the_browser(
    report: tuple[Path, dict[str, Any]], chromium: Any, tmp_path: Path
) -> None:
    """Report data with every payload in every string (names, ids, verdicts, notes, item text):
    the page works and shows them as text."""
    run, _ = report
    data = poison(fill_every_section(build_report_data(run)))
    path = tmp_path / "poisoned.html"
    path.write_text(render_report(data), encoding="utf-8")
    page = chromium.new_page(viewport={"width": 1400, "height": 1800})
    errors, requests = open_report(page, path)
    _drawn(page, all_charts(data["summary"]), data["items"]["models"])
    title = f"evalkit report · {data['summary']['run_id']}"
    assert page.title() == title
    shown = data["summary"]
    assert _text_of(page, "#models td:first-child") == [m["name"] for m in shown["models"]]
    assert _text_of(page, "#suites td:first-child") == [s["name"] for s in shown["suites"]]
    # The filters still match: options' values are the poisoned names.
    mcq = next(i["task"] for i in data["items"]["items"] if i["id"].startswith("x1 "))
    page.select_option("#filter-task", mcq)
    assert {r[3] for r in visible_rows(page)} == {mcq}
    page.select_option("#filter-task", "")
    page.locator("a.show-regressed").first.click()
    lost = json.loads(page.locator("a.show-regressed").first.get_attribute("data-lost"))
    assert sorted(r[2] for r in visible_rows(page)) == sorted(lost) and lost
    page.locator("#item-table tbody td.dt-control").first.click()
    assert SCRIPT_PAYLOAD in page.locator(".detail .input").inner_text()
    assert (
        page.locator("#starting-point-table td").first.inner_text()
        == data["summary"]["starting_points"][0]["model"]
    )
    page.locator("#run details").click()
    assert any(m in _hover(page, "tasks") for m in data["items"]["models"])
    page.screenshot(path=str(ARTIFACTS / "report-poisoned.png"), full_page=True)
    assert_nothing_ran(page, title)
    assert csp_violations(page) == []
    page.close()
    assert errors == []
    assert all(url.startswith(("file:", "blob:", "data:")) for url in requests), requests


def test_policy_stops_markup_that_escaping_missed(
    report: tuple[Path, dict[str, Any]], chromium: Any, tmp_path: Path
) -> None:
    """Payloads pasted into the page raw, as an escaping bug would leave them: the CSP refuses
    every script and handler among them, and the page's own scripts still run."""
    run, summary = report
    # Not the <style> (CSS may apply; it cannot run code) nor the text one (its "<!--" would
    # comment out the rest of the page, report.js included).
    raw = "".join(p for p in PAYLOADS if "<style>" not in p and "<!--" not in p)
    page_html = (run / "report.html").read_text(encoding="utf-8")
    injected = page_html.replace("<main>", "<main>" + raw, 1).replace(
        "<h3>Models</h3>", f"<h3>Models {raw}</h3>", 1
    )
    path = tmp_path / "injected.html"
    path.write_text(injected, encoding="utf-8")
    page = chromium.new_page(viewport={"width": 1400, "height": 1800})
    errors, _ = open_report(page, path)
    check_summary_numbers(page, summary)  # the page's own scripts ran
    assert page.locator("#chart-scores .main-svg").count() > 0
    page.locator("#pwned-link").first.click()  # a javascript: URL is refused too
    page.wait_for_timeout(200)
    assert page.evaluate("window.__pwned") is None
    assert page.title() == f"evalkit report · {RUN_ID}"
    assert page.locator("#pwned").count() == 0
    violations = csp_violations(page)
    directives = {v["directive"] for v in violations}
    assert {"script-src-elem", "script-src-attr"} <= directives, violations
    assert directives <= {"script-src-elem", "script-src-attr", "img-src", "base-uri"}, violations
    assert all(e.startswith("CSP violation") or "Content Security Policy" in e for e in errors)
    page.close()


def test_summary_csv_cells_never_run_as_spreadsheet_formulas() -> None:
    from evalkit.report.exports import summary_frame

    row = {
        "model": '=HYPERLINK("http://x","ok")',
        "suite": "@SUM(1)",
        "metrics": {"score": {"value": -0.5, "low": -0.6, "high": -0.4, "n": 3}},
        "delta": {},
    }
    frame = summary_frame([row])
    assert frame.model.iloc[0] == '\'=HYPERLINK("http://x","ok")'
    assert frame.suite.iloc[0] == "'@SUM(1)"
    assert frame.value.iloc[0] == -0.5  # numbers stay numbers
