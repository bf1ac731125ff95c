"""End to end with real engines on tiny models: vLLM (CPU) and transformers.

Slow (each vLLM engine start takes ~20 s on 2 cores) but run in CI: this is the product path.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from evalkit.runner.config import compose_run_config
from evalkit.runner.run import RunResult, execute_run, generations_path
from evalkit.suite.store import SuiteStore

from .conftest import SUITES_DIR, requires_vllm

pytestmark = [pytest.mark.slow, requires_vllm]

COMMON = [
    "suite=[legal,general]",
    "model=[base,chat]",
    "limit=6",
    "max_new_tokens=8",
    "mcq_mode=both",
]


def run(root: Path, models_dir: Path, *overrides: str) -> tuple[RunResult, list[str]]:
    config = compose_run_config(
        [
            f"suites_dir={SUITES_DIR}",
            f"models_dir={models_dir}",
            f"out={root / 'reports'}",
            f"cache={root / 'cache.sqlite'}",
            *overrides,
        ]
    )
    lines: list[str] = []
    return execute_run(config, echo=lines.append), lines


def rows(result: RunResult, model: str, suite_ref: str) -> list[dict[str, Any]]:
    path = generations_path(result.run_dir, model, suite_ref)
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="module")
def first_run(
    models_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, RunResult, list[str]]:
    root = tmp_path_factory.mktemp("run")
    result, lines = run(root, models_dir, *COMMON, "backend=vllm", "run_id=first")
    return root, result, lines


def test_vllm_generates_for_base_and_chat_and_records_the_run(
    first_run: tuple[Path, RunResult, list[str]],
) -> None:
    _, result, lines = first_run
    legal = SuiteStore(SUITES_DIR).load("legal")
    test_ids = [i.id for i in legal.items if i.split == "test"][:6]
    base_rows, chat_rows = rows(result, "base", "legal@v2"), rows(result, "chat", "legal@v2")
    assert [r["item_id"] for r in base_rows] == test_ids == [r["item_id"] for r in chat_rows]
    for row in base_rows + chat_rows:
        assert isinstance(row["output"], str) and 0 < row["output_tokens"] <= 8
        assert row["finish_reason"] in ("stop", "length") and row["prompt_tokens"] > 0
        if row["task"] == "mcq":
            options = row["option_logprobs"]
            assert sorted(options) == ["A", "B", "C", "D"]
            assert all(o["logprob"] < 0 and o["tokens"] >= 1 for o in options.values())
    # base: completion text with dev exemplars; chat: messages for the tokenizer's template
    assert "text" in base_rows[0]["prompt"] and "messages" in chat_rows[0]["prompt"]
    dev_ids_in_prompt = [i for i in legal.items if i.split == "dev" and i.task == "mcq"]
    assert any(d.question[:40] in base_rows[0]["prompt"]["text"] for d in dev_ids_in_prompt)  # type: ignore[attr-defined]

    manifest = json.loads((result.run_dir / "manifest.json").read_text(encoding="utf-8"))
    assert [(s["name"], s["version"]) for s in manifest["suites"]] == [
        ("legal", "v2"),
        ("general", "v1"),
    ]
    assert manifest["suites"][0]["content_hash"] == legal.manifest.content_hash
    base, chat = manifest["models"]
    assert (base["kind"], base["prompt_format"], chat["kind"], chat["prompt_format"]) == (
        "base",
        "base",
        "chat",
        "chat",
    )
    assert base["fingerprint"].startswith("sha256:") and base["fingerprint"] != chat["fingerprint"]
    assert base["engine"]["engine"] == "vllm" and base["engine"]["vllm"].startswith("0.32")
    assert chat["templates"]["legal@v2"]["chat_template"]  # the tokenizer's template is recorded
    assert manifest["config"]["max_new_tokens"] == 8 and manifest["config"]["seed"] == 0
    assert "torch" in manifest["environment"]["packages"]
    assert sum("prompt template sha256:" in line for line in lines) == 4
    assert any(line.startswith("base: 12 items") and "tokens/s" in line for line in lines)

    # Scoring reads the run folder alone: option log-likelihoods give ll_accuracy too.
    from evalkit.scoring import score_run

    summary = score_run(result.run_dir, SUITES_DIR, resamples=200)
    by_suite = {(r["model"], r["suite"]): r["metrics"] for r in summary["by_suite"]}
    assert {"accuracy", "ll_accuracy", "score"} <= set(by_suite[("chat", "legal@v2")])
    assert summary["baseline"] == "base" and (result.run_dir / "results.jsonl").is_file()


def test_report_of_a_real_run_in_a_real_browser(
    first_run: tuple[Path, RunResult, list[str]],
) -> None:
    """The report of this real vLLM run opens offline with the numbers of its summary.json."""
    import os

    from browser import (
        ARTIFACTS,
        BROWSER_ARGS,
        CHROMIUM,
        check_summary_numbers,
        open_report,
        require_browser,
    )

    from evalkit.report import write_report
    from evalkit.scoring import score_run

    _, result, _ = first_run
    summary = score_run(result.run_dir, SUITES_DIR, resamples=200)
    path = write_report(result.run_dir, SUITES_DIR)
    require_browser(os.environ)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1800})
        errors, requests = open_report(page, path)
        assert check_summary_numbers(page, summary) > 0
        page.locator("#item-table tbody td.dt-control").first.click()
        assert page.locator(".detail pre.model-output").count() == 2  # base and chat
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "report-real-run.png"), full_page=True)
        browser.close()
    assert errors == [] and all(u.startswith(("file:", "blob:")) for u in requests)


def test_rerun_regenerates_nothing(
    first_run: tuple[Path, RunResult, list[str]], models_dir: Path
) -> None:
    root, first, _ = first_run
    again, _ = run(root, models_dir, *COMMON, "backend=vllm", "run_id=again")
    for stats in again.stats.values():
        assert stats.cached == stats.requests and stats.process_seconds == 0.0
    for model in ("base", "chat"):
        for suite in ("legal@v2", "general@v1"):
            assert rows(again, model, suite) == rows(first, model, suite)


def test_changed_parameter_misses_the_cache(
    first_run: tuple[Path, RunResult, list[str]], models_dir: Path
) -> None:
    root, _, _ = first_run
    result, _ = run(
        root,
        models_dir,
        "suite=legal",
        "model=base",
        "limit=6",
        "max_new_tokens=9",
        "mcq_mode=both",
        "backend=vllm",
        "run_id=changed",
    )
    stats = result.stats["base"]
    option_requests = sum(
        len(r.get("option_logprobs", {})) for r in rows(result, "base", "legal@v2")
    )
    # Option scores do not depend on max_new_tokens: cached. Every generation is new.
    assert stats.cached == option_requests and stats.requests - stats.cached == 6


def test_hf_gives_the_same_greedy_output_as_vllm(
    first_run: tuple[Path, RunResult, list[str]], models_dir: Path
) -> None:
    root, first, _ = first_run
    hf, _ = run(root, models_dir, *COMMON, "backend=hf", "run_id=hf")
    assert hf.stats["base"].cached == 0  # the engine is part of the cache key
    for model in ("base", "chat"):
        for suite in ("legal@v2", "general@v1"):
            for v, h in zip(rows(first, model, suite), rows(hf, model, suite), strict=True):
                where = (model, suite, v["item_id"])
                assert h["output_token_ids"] == v["output_token_ids"], where
                assert h["output"] == v["output"], where
                assert h["prompt_tokens"] == v["prompt_tokens"]
                for option, scored in v.get("option_logprobs", {}).items():
                    assert h["option_logprobs"][option]["logprob"] == pytest.approx(
                        scored["logprob"], abs=2e-3
                    )


def _cached_rows(path: Path) -> int:
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1) as db:
            return db.execute("SELECT COUNT(*) FROM generations").fetchone()[0]
    except sqlite3.Error:
        return 0


def test_killed_run_resumes_with_only_the_missing_requests(
    models_dir: Path, tmp_path: Path
) -> None:
    cache = tmp_path / "cache.sqlite"
    args = [
        f"suites_dir={SUITES_DIR}",
        f"models_dir={models_dir}",
        f"out={tmp_path / 'reports'}",
        f"cache={cache}",
        "suite=general",
        "model=base",
        "backend=vllm",
        "max_new_tokens=128",
    ]
    proc = subprocess.Popen(
        [sys.executable, "-m", "evalkit", "run", *args, "run_id=killed"],
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 300
    while _cached_rows(cache) < 4 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    done_before = _cached_rows(cache)
    total = sum(1 for i in SuiteStore(SUITES_DIR).load("general").items if i.split == "test")
    assert 4 <= done_before < total, "the run was not interrupted midway"

    # the killed run's folder is marked incomplete: never listed as a result
    from evalkit.history.index import run_status, sync_index

    killed = tmp_path / "reports" / "killed"
    assert run_status(killed) == "incomplete"
    listing = sync_index(tmp_path / "reports")
    assert listing.runs == [] and listing.incomplete == [killed]

    # the same run_id again completes it, from the cache
    lines: list[str] = []
    config = compose_run_config([*args, "run_id=killed"])
    result = execute_run(config, echo=lines.append)
    assert any("replacing an incomplete run folder" in line for line in lines)
    stats = result.stats["base"]
    assert stats.cached == done_before and stats.requests == total
    assert len(rows(result, "base", "general@v1")) == total
    assert run_status(killed) == "unscored"


def test_a_rerun_gated_against_the_stored_run_passes_without_an_engine(
    first_run: tuple[Path, RunResult, list[str]], models_dir: Path
) -> None:
    """`gate.baseline_run=`: the stored run is not regenerated, and nor is this one (cached):
    the same model with the same outputs passes, with a Markdown summary for the PR."""
    from click.testing import CliRunner

    from evalkit.cli import cli

    root, first, _ = first_run
    args = [
        f"suites_dir={SUITES_DIR}",
        f"models_dir={models_dir}",
        f"out={root / 'reports'}",
        f"cache={root / 'cache.sqlite'}",
        *COMMON,
        "backend=vllm",
        "run_id=gated",
        "resamples=200",
        f"gate.baseline_run={first.run_dir.name}",
        "gate.model=chat",
    ]
    result = CliRunner().invoke(cli, ["run", *args])
    assert result.exit_code == 0, result.output
    import re

    counts = re.findall(r"(\d+) requests \((\d+) cached\)", result.output)
    assert len(counts) == 2 and all(done == cached for done, cached in counts)  # no engine
    assert f"gate against chat of {first.run_dir}: PASS" in result.output
    markdown = (root / "reports" / "gated" / "gate.md").read_text(encoding="utf-8")
    assert "**PASS**" in markdown and "| legal@v2 | chat.gated | score |" in markdown
