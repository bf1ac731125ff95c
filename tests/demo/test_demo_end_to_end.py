"""`evalkit demo --fast`: real training, real vLLM, and the outcomes the design guarantees."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import SUITES_DIR, requires_vllm

from evalkit.cli import cli
from evalkit.demo.paths import DOMAIN_SUITE, GENERAL_SUITE


def _by_suite(summary: dict, metric: str) -> dict[tuple[str, str], float]:
    return {
        (row["model"], row["suite"].split("@")[0]): row["metrics"][metric]["value"]
        for row in summary["by_suite"]
        if metric in row["metrics"]
    }


@pytest.mark.slow
@requires_vllm
def test_demo_trains_runs_and_shows_the_designed_differences(tmp_path: Path) -> None:
    args = [
        "demo",
        "--fast",
        f"--out={tmp_path / 'reports'}",
        f"--models-root={tmp_path / 'models'}",
        f"--cache={tmp_path / 'cache.sqlite'}",
        f"--suites-dir={SUITES_DIR}",
    ]
    first = CliRunner().invoke(cli, [*args, "--run-id=first"])
    assert first.exit_code == 0, first.output
    assert "clean: no item reaches the threshold" in first.output
    assert "run folder:" in first.output and "format adherence" in first.output
    report = tmp_path / "reports" / "first" / "report.html"
    assert f"report: {report}" in first.output and report.stat().st_size > 0

    summary = json.loads((tmp_path / "reports" / "first" / "summary.json").read_text())
    fmt, score = _by_suite(summary, "format_adherence"), _by_suite(summary, "score")
    law, general = DOMAIN_SUITE, GENERAL_SUITE
    # Fine-tuning on the answer format is what makes a model follow it.
    assert fmt[("base-sft", law)] > fmt[("base", law)] + 0.3
    assert fmt[("chat-sft", law)] > fmt[("chat", law)]
    # The general skills come from the chat stage, which base never had.
    assert score[("chat", general)] > score[("base", general)]
    # base-sft's checkpoints at a third, two thirds and the end of training: a sweep
    (sweep,) = summary["sweeps"]
    steps = [c["step"] for c in sweep["checkpoints"]]
    assert sweep["sweep"] == "base-sft-sweep" and len(steps) == 3 and steps == sorted(steps)
    assert sweep["starting_model"] == "base" and set(sweep["trend"]) == {
        r["suite"] for r in summary["by_suite"] if r["model"] == "base"
    }
    assert sweep["pick"] is not None and "general suite" in sweep["rule"]
    page = report.read_text(encoding="utf-8")
    assert 'id="trend"' in page
    # every model under 2 prompt variants, and the tokenizer table of the domain suites
    sensitivity = json.loads((tmp_path / "reports" / "first" / "sensitivity.json").read_text())
    assert sensitivity["variants"] == 2
    suites = {ref.split("@")[0]: s for ref, s in sensitivity["suites"].items()}
    assert set(suites[law]["models"]) == {r["model"] for r in summary["by_suite"]}
    assert 'id="sensitivity"' in page and 'id="tokenizers"' in page
    sft = ("base-sft", "chat-sft", *(c["name"] for c in sweep["checkpoints"]))
    roles = {(s["model"], s["role"]) for s in summary["starting_points"]}
    assert roles == {(m, r) for m in sft for r in ("domain", "general")}
    # the last checkpoint is base-sft itself: the same weights, answered from the cache
    last = sweep["checkpoints"][-1]["name"]
    assert _by_suite(summary, "score")[(last, law)] == score[("base-sft", law)]
    # The judge (SmolLM2, constrained to the rubric's JSON) scored every open-ended answer on
    # every criterion; the demo's ratings were written for the full schedule's answers, so
    # they apply here only where an answer is word for word the one rated.
    judged = summary["judge"]["judged"]
    assert {j["model"] for j in judged} == {"base", "chat", *sft}
    assert {j["criterion"] for j in judged} >= {"accuracy", "fluency", "relevance"}
    assert all(j["n"] == 6 and j["unparseable"] == 0 for j in judged), judged
    assert "expert ratings: the demo's ratings apply to" in first.output

    # A second run reuses the checkpoints and regenerates nothing.
    second = CliRunner().invoke(cli, [*args, "--run-id=second"])
    assert second.exit_code == 0, second.output
    assert "models: reusing" in second.output
    manifest = json.loads((tmp_path / "reports" / "second" / "manifest.json").read_text())
    for model in manifest["models"]:
        assert model["stats"]["cached"] == model["stats"]["requests"] > 0
        assert model["engine"]["started"] is False
    judgements = re.search(r"judge judge: (\d+) judgements \((\d+) cached", second.output)
    assert judgements and judgements[1] == judgements[2] != "0", second.output
    again = json.loads((tmp_path / "reports" / "second" / "summary.json").read_text())
    assert _by_suite(again, "score") == score


def test_demo_outside_the_checkout_names_the_missing_suite(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["demo", "--fast", f"--suites-dir={tmp_path}", f"--out={tmp_path / 'r'}"]
    )
    assert result.exit_code == 2
    assert f"{tmp_path / DOMAIN_SUITE}: the demo suite is missing" in result.output
    assert not (tmp_path / "r").exists()
