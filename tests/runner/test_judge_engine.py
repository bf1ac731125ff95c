"""A real judge: a tiny chat model run by vLLM rates a run's open-ended answers. Left free, its
verdicts are poor and mostly unreadable, and the run says so; constrained to the JSON the
prompt asks for, every judgement is readable; judging again costs no judge call."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from evalkit.cli import cli

from .conftest import SUITES_DIR, requires_vllm

pytestmark = [pytest.mark.slow, requires_vllm]


def test_a_real_judge_rates_the_answers_and_is_cached(models_dir: Path, tmp_path: Path) -> None:
    common = [
        f"models_dir={models_dir}",
        f"cache={tmp_path / 'cache.sqlite'}",
    ]
    result = CliRunner().invoke(
        cli,
        [
            "run",
            "suite=legal@v2",
            "model=[base,chat]",
            "tags=[writing,intake]",  # the generation and dialogue items
            f"suites_dir={SUITES_DIR}",
            f"out={tmp_path}",
            "run_id=judged",
            "max_new_tokens=8",
            "resamples=200",
            "judge.model=chat",
            "judge.mode=both",
            "judge.max_new_tokens=24",
            "judge.structured=false",
            *common,
        ],
    )
    assert result.exit_code == 0, result.output
    run = tmp_path / "judged"
    assert "judge chat:" in result.output and "0 cached" in result.output
    manifest = json.loads((run / "manifest.json").read_text())
    judge = manifest["judge"]
    assert judge["model"]["name"] == "chat" and judge["reference"] == "base"
    assert judge["templates"]["version"] >= 1 and judge["engine"]["started"]
    rows = [
        json.loads(line)
        for line in (run / "judgments" / "chat" / "legal@v2.jsonl").read_text().splitlines()
    ]
    assert rows and all("rubric" in r and "pairwise" in r for r in rows)
    assert all(len(r["pairwise"]["outputs"]) == 2 for r in rows)  # both orders judged
    summary = json.loads((run / "summary.json").read_text())
    judged = summary["judge"]["judged"]
    accuracy = next(j for j in judged if (j["model"], j["criterion"]) == ("chat", "accuracy"))
    assert accuracy["n"] == len(rows) and accuracy["unparseable"] > 0  # reported, not hidden
    total = 4 * len(rows)  # rubric for both models, pairwise both orders for chat

    constrained = CliRunner().invoke(cli, ["judge", str(run), "judge.structured=true", *common])
    assert constrained.exit_code == 0, constrained.output
    assert f"judge chat: {total} judgements (0 cached, 0 failed)" in constrained.output
    rows = [
        json.loads(line)
        for line in (run / "judgments" / "chat" / "legal@v2.jsonl").read_text().splitlines()
    ]
    # Compact JSON from the first token: the first criterion's score is always within 24
    # tokens, and every pairwise verdict names A, B or a tie.
    starts = [r["rubric"]["output"][:30] for r in rows]
    assert all(s.startswith('{"accuracy":{"score":') for s in starts), starts
    assert all(r["rubric"]["scores"]["accuracy"]["problem"] is None for r in rows)
    verdicts = [v for r in rows for v in r["pairwise"]["verdicts"]]
    assert all(v["winner"] in ("a", "b", "tie") for v in verdicts), verdicts
    summary = json.loads((run / "summary.json").read_text())
    judged = summary["judge"]["judged"]
    accuracy = next(j for j in judged if (j["model"], j["criterion"]) == ("chat", "accuracy"))
    assert accuracy["n"] == len(rows) and accuracy["unparseable"] == 0

    again = CliRunner().invoke(cli, ["judge", str(run), *common])
    assert again.exit_code == 0, again.output
    assert f"judge chat: {total} judgements ({total} cached, 0 failed)" in again.output
    assert json.loads((run / "manifest.json").read_text())["judge"]["engine"]["started"] is False
