"""prompts.variants through a real engine: one run generates every variant with the same
engine, scores each, writes sensitivity.json and the report's section, and a rerun takes
every variant from the cache."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from evalkit.cli import cli
from evalkit.report import write_report
from evalkit.runner.config import compose_run_config
from evalkit.runner.run import execute_run
from evalkit.scoring import score_run

from .conftest import SUITES_DIR, requires_vllm

pytestmark = [pytest.mark.slow, requires_vllm]

COMMON = ["suite=[legal,general]", "model=[base,chat]", "limit=6", "max_new_tokens=8"]


def _run(root: Path, models_dir: Path, *overrides: str) -> list[str]:
    config = compose_run_config(
        [
            f"suites_dir={SUITES_DIR}",
            f"models_dir={models_dir}",
            f"out={root / 'reports'}",
            f"cache={root / 'cache.sqlite'}",
            "resamples=200",
            *COMMON,
            *overrides,
        ]
    )
    lines: list[str] = []
    execute_run(config, echo=lines.append)
    return lines


def test_variants_are_generated_scored_reported_and_cached(
    models_dir: Path, tmp_path: Path
) -> None:
    lines = _run(tmp_path, models_dir, "prompts.variants=3", "run_id=v", "mcq_mode=both")
    # 6 items x 2 suites, each under 3 variants; MCQ items also score their options
    assert any(line.startswith("base: 12 items,") for line in lines), lines
    run = tmp_path / "reports" / "v"
    summary = json.loads((run / "sensitivity.json").read_text(encoding="utf-8"))
    assert summary["variants"] == 3 and set(summary["suites"]) == {"legal@v2", "general@v1"}
    for suite in summary["suites"].values():
        for model in ("base", "chat"):
            m = suite["models"][model]
            assert len(m["scores"]) == 3 and m["items"] == 6
            assert m["min"] <= min(m["scores"]) and m["max"] >= max(m["scores"])
    legal = summary["suites"]["legal@v2"]["models"]["base"]
    assert legal["choice_items"] == 6  # legal's first 6 test items are MCQ
    score_run(run, SUITES_DIR, resamples=200)
    page = write_report(run, SUITES_DIR).read_text(encoding="utf-8")
    assert 'id="sensitivity"' in page and "robust accuracy" in page.lower()

    # the same run again: every variant's request comes from the cache
    again = _run(tmp_path, models_dir, "prompts.variants=3", "run_id=v2", "mcq_mode=both")
    for model in ("base", "chat"):
        line = next(line for line in again if line.startswith(f"{model}: 12 items,"))
        requests, cached = map(int, re.findall(r"(\d+) requests \((\d+) cached\)", line)[0])
        assert requests == cached > 36, line  # more than the 12 items x 3 variants
    second = json.loads((tmp_path / "reports" / "v2" / "sensitivity.json").read_text("utf-8"))
    assert second == summary


def test_more_variants_than_wordings_is_refused_before_any_work(
    models_dir: Path, tmp_path: Path
) -> None:
    result = CliRunner().invoke(
        cli,
        [
            "run",
            f"suites_dir={SUITES_DIR}",
            f"models_dir={models_dir}",
            f"out={tmp_path / 'reports'}",
            *COMMON,
            "prompts.variants=9",
        ],
    )
    assert result.exit_code != 0
    assert "prompts.variants=9: legal@v2 has 4 wordings for mcq" in result.output
    assert not (tmp_path / "reports").exists()
