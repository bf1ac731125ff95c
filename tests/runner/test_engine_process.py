"""The engine's worker starts while the run is still planning: whatever planning then decides
(nothing left to send, or an error), the worker never outlives the run."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import psutil
import pytest
from click.testing import CliRunner, Result

from evalkit.cli import cli
from evalkit.runner.config import RunConfig
from evalkit.runner.engine_process import EngineProcess
from evalkit.runner.models import ModelSpec

from .conftest import SUITES_DIR, requires_vllm

pytestmark = [pytest.mark.slow, requires_vllm]

EAGER = "dtype: float32\nenv: {VLLM_ENABLE_V1_MULTIPROCESSING: '0', OMP_NUM_THREADS: '1'}\n"


def _run(models_dir: Path, tmp_path: Path, model: str) -> Result:
    return CliRunner().invoke(
        cli,
        [
            "run",
            "suite=legal@v2",
            f"model={model}",
            f"models_dir={models_dir}",
            f"suites_dir={SUITES_DIR}",
            f"out={tmp_path / 'runs'}",
            f"cache={tmp_path / 'cache.sqlite'}",
            "max_new_tokens=8",
            "run_id=r1",
            "resamples=200",
        ],
    )


def _children() -> list[psutil.Process]:
    return [p for p in psutil.Process().children(recursive=True) if p.is_running()]


@pytest.mark.parametrize(
    ("wait", "env"),
    [
        (1.0, {"VLLM_ENABLE_V1_MULTIPROCESSING": "0"}),  # still importing vLLM
        (25.0, {}),  # engine up, its core in a process of its own, waiting for requests
    ],
)
def test_a_worker_stopped_before_its_requests_leaves(
    models_dir: Path, tmp_path: Path, wait: float, env: dict[str, str]
) -> None:
    spec = ModelSpec(
        name="base",
        path=str(models_dir / "weights-base"),
        kind="base",
        dtype="float32",
        engine={"enforce_eager": True},
        env={"OMP_NUM_THREADS": "1", **env},
    )
    config = RunConfig.model_validate({"suite": ["legal"], "model": ["base"]})
    engine = EngineProcess([spec], config, tmp_path / "cache.sqlite", tmp_path)
    with engine:
        engine.start()
        assert engine.started
        time.sleep(wait)
        print([p.cmdline()[:3] for p in _children()])
    assert not engine.started
    assert _children() == []
    assert not (tmp_path / "base.error.txt").exists()  # stopping is not the model's error
    assert not (tmp_path / "cache.sqlite").exists()  # it never got as far as the cache


def test_a_run_with_nothing_that_fits_stops_the_engine_it_started(
    models_dir: Path, tmp_path: Path
) -> None:
    (models_dir / "tiny-context.yaml").write_text(
        "path: weights-base\nkind: base\nengine: {enforce_eager: true, max_model_len: 40}\n" + EAGER
    )
    began = time.perf_counter()
    result = _run(models_dir, tmp_path, "tiny-context")
    assert result.exit_code == 3, result.output
    assert time.perf_counter() - began < 120  # no wait for a worker that has nothing to do
    assert _children() == []
    manifest = json.loads((tmp_path / "runs" / "r1" / "manifest.json").read_text())
    (model,) = manifest["models"]
    assert model["engine"]["started"] is False
    assert model["stats"]["errors"] == model["stats"]["items"] == 108
    rows = tmp_path / "runs" / "r1" / "generations" / "tiny-context" / "legal@v2.jsonl"
    assert all("does not fit" in json.loads(r)["error"] for r in rows.read_text().splitlines())


def test_a_planning_error_after_the_engine_started_stops_it(
    models_dir: Path, tmp_path: Path
) -> None:
    weights = tmp_path / "weights"
    shutil.copytree(models_dir / "weights-chat", weights)
    # valid Jinja (the folder check passes), but it refuses to render any conversation
    (weights / "chat_template.jinja").write_text(
        "{{ raise_exception('this template takes no conversation') }}", encoding="utf-8"
    )
    config = json.loads((weights / "tokenizer_config.json").read_text(encoding="utf-8"))
    config.pop("chat_template", None)
    (weights / "tokenizer_config.json").write_text(json.dumps(config), encoding="utf-8")
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "broken.yaml").write_text(
        f"path: {weights}\nkind: chat\nengine: {{enforce_eager: true}}\n" + EAGER
    )
    result = _run(tmp_path / "models", tmp_path, "broken")
    assert result.exit_code != 0
    assert "this template takes no conversation" in result.output, result.output
    assert "Traceback" not in result.output
    assert _children() == []
    assert not (tmp_path / "runs" / "r1").exists()  # a failed run leaves no folder behind


def _engine_processes() -> set[int]:
    found = set()
    for p in psutil.process_iter(["cmdline"]):
        if any("VLLM::" in part for part in p.info["cmdline"] or ()):
            found.add(p.pid)
    return found


def test_a_finished_run_leaves_no_engine_process_behind(models_dir: Path, tmp_path: Path) -> None:
    """With vLLM's default engine core in processes of its own (VLLM::EngineCore and its
    workers), a worker that has written its results still ends them before it leaves: they
    would otherwise hold the model's memory after the run (they do not end with it)."""
    (models_dir / "own-core.yaml").write_text(
        "path: weights-base\nkind: base\ndtype: float32\nengine: {enforce_eager: true}\n"
        "env: {OMP_NUM_THREADS: '1'}\n"
    )
    before = _engine_processes()
    result = CliRunner().invoke(
        cli,
        [
            "run",
            "suite=legal@v2",
            "model=own-core",
            "limit=3",
            f"models_dir={models_dir}",
            f"suites_dir={SUITES_DIR}",
            f"out={tmp_path / 'runs'}",
            f"cache={tmp_path / 'cache.sqlite'}",
            "max_new_tokens=4",
            "run_id=r1",
            "resamples=200",
        ],
    )
    assert result.exit_code == 0, result.output
    manifest = json.loads((tmp_path / "runs" / "r1" / "manifest.json").read_text())
    assert manifest["models"][0]["stats"]["generated"] > 0  # the engine really ran
    assert _engine_processes() - before == set()
