"""The HTML report of a scored run: one self-contained file, plus the summary as CSV/Markdown.

`write_report(run_dir)` reads results.jsonl, summary.json and the run manifest (and the suites
the run used, for items' text) and writes report.html, summary.csv and summary.md beside them.
The page opens offline: plotly.js and the table library (DataTables, from itables' bundle) are
inlined; nothing is fetched. Every string from the run is escaped wherever the page puts it,
and the page's Content-Security-Policy lets only its own scripts run (see `csp`).
"""

from __future__ import annotations

import base64
import json
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from evalkit.report.charts import all_charts
from evalkit.report.csp import check_inline_script, content_security_policy
from evalkit.report.data import build_report_data
from evalkit.report.exports import summary_frame, summary_markdown

REPORT_FILE = "report.html"

__all__ = [
    "REPORT_FILE",
    "build_report_data",
    "content_security_policy",
    "render_report",
    "write_report",
]
# The page's executable inline scripts, in page order; everything else in a <script> is data.
INLINE_SCRIPTS = ("plotly_js", "report_js")


@lru_cache(maxsize=1)
def _assets() -> dict[str, str]:
    import itables
    import plotly

    templates = resources.files("evalkit.report") / "templates"
    table_dir = Path(itables.__file__).parent / "html"
    assets = {
        "plotly_js": (Path(plotly.__file__).parent / "package_data" / "plotly.min.js").read_text(
            encoding="utf-8"
        ),
        "table_js_b64": base64.b64encode((table_dir / "dt_bundle.js").read_bytes()).decode(),
        "table_css": (table_dir / "dt_bundle.css").read_text(encoding="utf-8"),
        "report_js": (templates / "report.js").read_text(encoding="utf-8"),
        "report_css": (templates / "report.css").read_text(encoding="utf-8"),
    }
    for name in INLINE_SCRIPTS:
        check_inline_script(name, assets[name])
    assets["csp"] = content_security_policy(assets[name] for name in INLINE_SCRIPTS)
    return assets


def _environment() -> Any:
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    env = Environment(
        loader=PackageLoader("evalkit.report", "templates"),
        autoescape=select_autoescape(["html", "j2"], default_for_string=True, default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    # tojson escapes <, >, & and ' for a <script> block; keep Chinese as text (smaller).
    env.policies["json.dumps_kwargs"] = {"ensure_ascii": False, "sort_keys": False}
    return env


def _facets(items: list[dict[str, Any]]) -> dict[str, list[str]]:
    return {
        "task": sorted({i["task"] for i in items}),
        "language": sorted({i["language"] for i in items}),
        "tag": sorted({t for i in items for t in i["tags"]}),
    }


def render_report(data: dict[str, Any]) -> str:
    """The report page for `build_report_data`'s output."""
    from markupsafe import Markup

    # Library code, not run data; the policy stays a plain string (escaped into its attribute).
    assets = {k: Markup(v) for k, v in _assets().items() if k != "csp"}
    template = _environment().get_template("report.html.j2")
    return template.render(
        **data,
        assets=assets,
        csp=_assets()["csp"],
        charts=all_charts(data["summary"], data.get("judge_scores")),
        facets=_facets(data["items"]["items"]),
        manifest_text=json.dumps(data["manifest"], ensure_ascii=False, indent=2),
    )


def write_report(run_dir: Path, suites_dir: Path | None = None) -> Path:
    """Write report.html, summary.csv and summary.md into a scored run folder."""
    from evalkit.outputs import atomic_output

    data = build_report_data(run_dir, suites_dir)  # reads and checks everything first
    page = render_report(data)
    frame = summary_frame(data["table"])
    markdown = summary_markdown(data["table"], data["columns"], data["summary"])
    path = run_dir / REPORT_FILE
    with atomic_output(path) as temporary:  # each file whole or not at all
        temporary.write_text(page, encoding="utf-8")
    with atomic_output(run_dir / "summary.csv") as temporary:
        frame.to_csv(temporary, index=False)
    with atomic_output(run_dir / "summary.md") as temporary:
        temporary.write_text(markdown, encoding="utf-8")
    return path
