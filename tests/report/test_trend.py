"""A run with a checkpoint sweep: the summary's trend and pick, and the report's Trend section
with one chart per sweep."""

from __future__ import annotations

import json
from pathlib import Path

from scoring.synthetic import model, run_with_answers, synthetic_suite

from evalkit.report import write_report
from evalkit.scoring import score_run, summary_lines

# share of items each checkpoint gets right: the domain rises, the last one forgets general
RIGHT = {
    "chat": {"domain": 0.3, "x-general": 0.8},
    "sft-100": {"domain": 0.5, "x-general": 0.8},
    "sft-200": {"domain": 0.7, "x-general": 0.75},
    "sft-300": {"domain": 0.9, "x-general": 0.2},
}


def test_a_sweep_gets_a_trend_and_a_pick_that_does_not_forget(tmp_path: Path) -> None:
    domain = synthetic_suite(tmp_path / "suites", 60, name="domain")
    general = synthetic_suite(tmp_path / "suites", 60, name="x-general")
    sweep = {"kind": "sft", "starting_point": "chat", "starting_model": "chat", "sweep_of": "sft"}
    models = [model("chat", "chat")] + [model(f"sft-{s}", **sweep, step=s) for s in (100, 200, 300)]

    def right(name: str, version, item, k: int) -> bool:  # type: ignore[no-untyped-def]
        return k < RIGHT[name][version.name] * 60

    run = run_with_answers(tmp_path / "run", [domain, general], models, right)
    summary = score_run(run, tmp_path / "suites", resamples=200)
    (trend,) = summary["sweeps"]
    assert [c["step"] for c in trend["checkpoints"]] == [100, 200, 300]
    assert trend["pick"]["model"] == "sft-200"  # sft-300 gains most but forgets general
    assert any("suggested pick sft-200 (step 200" in line for line in summary_lines(summary))
    html = write_report(run, tmp_path / "suites").read_text(encoding="utf-8")
    assert 'id="trend"' in html and "Suggested pick: sft-200" in html
    charts = json.loads(html.split('id="chart-data">', 1)[1].split("</script>", 1)[0])
    steps = {tuple(t["x"]) for t in charts["trend-0"]["data"] if t["mode"] == "lines+markers"}
    assert steps == {(100, 200, 300)}
