"""LoRA checkpoints through the real engines: a sweep of adapters runs on one vLLM engine with
its base model, its greedy outputs equal those of the merged weights, and the transformers
engine (PEFT) gives the same outputs as vLLM's LoRA kernels."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from evalkit.cli import cli
from evalkit.scoring.run_folder import MANIFEST_FILE, SUMMARY_FILE, generations_path

from .conftest import SUITES_DIR, requires_vllm
from .lora_models import save_adapter, save_merged

pytestmark = [pytest.mark.slow, requires_vllm]

STEPS = (10, 20, 30)
COMMON = ["suite=[legal,general]", "limit=6", "max_new_tokens=8", "mcq_mode=both"]
EAGER = (
    "dtype: float32\nengine: {enforce_eager: true}\n"
    "env: {VLLM_ENABLE_V1_MULTIPROCESSING: '0', OMP_NUM_THREADS: '1'}\n"
)


@pytest.fixture(scope="module")
def lora_root(models_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three adapter checkpoints of weights-base and, as model configs, their merged weights."""
    root = tmp_path_factory.mktemp("lora")
    base = models_dir / "weights-base"
    models = root / "models"
    models.mkdir()
    (models / "base.yaml").write_text(f"path: {base}\nkind: base\n" + EAGER, encoding="utf-8")
    for seed, step in enumerate(STEPS):
        adapter = save_adapter(base, root / "adapters" / f"checkpoint-{step}", seed)
        save_merged(base, adapter, root / "merged" / f"checkpoint-{step}")
        (models / f"checkpoint-{step}.yaml").write_text(
            f"path: ../merged/checkpoint-{step}\nkind: sft\nstarting_point: base\n" + EAGER,
            encoding="utf-8",
        )
    return root


def _run(root: Path, *args: str) -> Result:
    result = CliRunner().invoke(
        cli,
        [
            "run",
            f"suites_dir={SUITES_DIR}",
            f"models_dir={root / 'models'}",
            f"out={root / 'runs'}",
            f"cache={root / 'cache.sqlite'}",
            "resamples=200",
            *COMMON,
            *args,
        ],
    )
    assert result.exit_code == 0, result.output
    return result


def _rows(run_dir: Path, model: str, suite: str) -> list[dict[str, Any]]:
    path = generations_path(run_dir, model, suite)
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="module")
def lora_run(lora_root: Path) -> tuple[Path, str]:
    sweep = f"base+{lora_root / 'adapters'}/checkpoint-*"
    result = _run(lora_root, f"model=[base,{sweep}]", "backend=vllm", "run_id=lora")
    return lora_root / "runs" / "lora", result.output


def test_a_lora_sweep_runs_on_one_engine_with_its_base(lora_run: tuple[Path, str]) -> None:
    run_dir, output = lora_run
    names = ["base", *(f"checkpoint-{s}" for s in STEPS)]
    assert f"one engine for {', '.join(names)}" in output
    manifest = json.loads((run_dir / MANIFEST_FILE).read_text(encoding="utf-8"))
    models = {m["name"]: m for m in manifest["models"]}
    assert list(models) == names
    for name in names:
        engine = models[name]["engine"]
        assert engine["started"] and engine["shared_by"] == names
        assert engine["lora_adapters"] == len(STEPS)
    base_print = models["base"]["fingerprint"]
    adapter_prints = set()
    for step in STEPS:
        record = models[f"checkpoint-{step}"]
        assert record["base_fingerprint"] == base_print
        assert record["fingerprint"] not in (base_print, record["adapter_fingerprint"])
        adapter_prints.add(record["adapter_fingerprint"])
        assert (record["kind"], record["starting_model"], record["step"]) == ("sft", "base", step)
    assert len(adapter_prints) == len(STEPS)


def test_the_lora_sweep_has_a_trend_and_a_pick(lora_run: tuple[Path, str]) -> None:
    run_dir, output = lora_run
    summary = json.loads((run_dir / SUMMARY_FILE).read_text(encoding="utf-8"))
    [sweep] = summary["sweeps"]
    assert [c["step"] for c in sweep["checkpoints"]] == list(STEPS)
    assert sweep["starting_model"] == "base"
    assert set(sweep["trend"]) == {"legal@v2", "general@v1"}
    assert "model" in sweep["pick"] and "rule" in sweep
    assert "sweep base+" in output and "(steps 10, 20, 30)" in output
    assert "Trend over training steps" in (run_dir / "report.html").read_text(encoding="utf-8")


def test_adapters_give_the_outputs_of_their_merged_weights(
    lora_root: Path, lora_run: tuple[Path, str]
) -> None:
    run_dir, _ = lora_run
    models = ",".join(f"checkpoint-{s}" for s in STEPS)
    _run(lora_root, f"model=[{models}]", "backend=vllm", "run_id=merged")
    merged_dir = lora_root / "runs" / "merged"
    outputs_differ = False
    for step in STEPS:
        for suite in ("legal@v2", "general@v1"):
            adapter_rows = _rows(run_dir, f"checkpoint-{step}", suite)
            base_rows = _rows(run_dir, "base", suite)
            for a, m, b in zip(
                adapter_rows, _rows(merged_dir, f"checkpoint-{step}", suite), base_rows, strict=True
            ):
                where = (step, suite, a["item_id"])
                assert a["output_token_ids"] == m["output_token_ids"], where
                outputs_differ |= a["output_token_ids"] != b["output_token_ids"]
                for option, scored in a.get("option_logprobs", {}).items():
                    assert m["option_logprobs"][option]["logprob"] == pytest.approx(
                        scored["logprob"], abs=1e-3
                    ), where
    assert outputs_differ  # the adapters really change the base model's answers


def test_the_transformers_engine_runs_adapters_with_peft(
    lora_root: Path, lora_run: tuple[Path, str]
) -> None:
    run_dir, _ = lora_run
    adapter = lora_root / "adapters" / "checkpoint-20"
    output = _run(lora_root, f"model=[base,base+{adapter}]", "backend=hf", "run_id=hf").output
    assert "one engine for base, checkpoint-20" in output
    hf_dir = lora_root / "runs" / "hf"
    for model in ("base", "checkpoint-20"):
        for suite in ("legal@v2", "general@v1"):
            for v, h in zip(_rows(run_dir, model, suite), _rows(hf_dir, model, suite), strict=True):
                assert h["output_token_ids"] == v["output_token_ids"], (model, suite, v["item_id"])
