"""A real vLLM run of a tiny model with a small context: prompts too long for it are fitted
(few-shot exemplars dropped) or reported with their reason; the run still finishes, scores
every item that was answered, and exits 3 to say that some were not."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from evalkit.cli import cli

from .conftest import SUITES_DIR, requires_vllm

pytestmark = [pytest.mark.slow, requires_vllm]

CONTEXT = 256
NEW_TOKENS = 16


def test_a_small_context_run_finishes_and_reports_what_did_not_fit(
    models_dir: Path, tmp_path: Path
) -> None:
    (models_dir / "small.yaml").write_text(
        "path: weights-base\nkind: base\ndtype: float32\n"
        f"engine: {{enforce_eager: true, max_model_len: {CONTEXT}}}\n"
        "env: {VLLM_ENABLE_V1_MULTIPROCESSING: '0', OMP_NUM_THREADS: '1'}\n"
    )
    result = CliRunner().invoke(
        cli,
        [
            "run",
            "suite=legal@v2",
            "model=small",
            f"models_dir={models_dir}",
            f"suites_dir={SUITES_DIR}",
            f"out={tmp_path}",
            f"cache={tmp_path / 'cache.sqlite'}",
            f"max_new_tokens={NEW_TOKENS}",
            "run_id=small",
            "resamples=200",
        ],
    )
    assert result.exit_code == 3, result.output
    assert "items were not answered (small " in result.stderr
    assert "Traceback" not in result.output
    run = tmp_path / "small"
    rows = [
        json.loads(line)
        for line in (run / "generations" / "small" / "legal@v2.jsonl").read_text().splitlines()
    ]
    answered = [r for r in rows if "output" in r]
    refused = [r for r in rows if "error" in r]
    fitted = [r for r in answered if r.get("fit", {}).get("exemplars_dropped")]
    assert answered and refused and fitted, (len(answered), len(refused), len(fitted))
    assert len(answered) + len(refused) == len(rows) == 108
    for r in answered:  # our count of prompt tokens is vLLM's: every answered prompt fit
        assert r["prompt_tokens"] + NEW_TOKENS <= CONTEXT, r["item_id"]
    for r in fitted:
        assert r["fit"]["prompt_tokens_before"] + NEW_TOKENS > CONTEXT
    for r in refused:
        assert r["error"].startswith("does not fit: the prompt needs")
        assert f"the context holds {CONTEXT} (engine.max_model_len)" in r["error"]
        assert r["prompt"] is None  # never sent to the engine
    results = [json.loads(line) for line in (run / "results.jsonl").read_text().splitlines()]
    not_scored = {r["item_id"] for r in results if r.get("error")}
    assert not_scored == {r["item_id"] for r in refused}
    assert all(r["score"] is None for r in results if r.get("error"))
    summary = json.loads((run / "summary.json").read_text())
    (errors,) = summary["item_errors"]
    assert errors["n"] == len(refused) and errors["reasons"] == {"does not fit": len(refused)}
    suite = summary["by_suite"][0]["metrics"]["score"]
    assert suite["n"] == len(answered)  # the refused items are not scored as wrong
    page = (run / "report.html").read_text(encoding="utf-8")
    assert 'id="item-error-table"' in page and "does not fit (" in page
