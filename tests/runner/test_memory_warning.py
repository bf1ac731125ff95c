"""Before a vLLM engine starts on a GPU, the memory plan warns when the model cannot fit."""

from __future__ import annotations

import json
from pathlib import Path

from evalkit.backends.vllm_engine import memory_warning
from evalkit.runner.models import ModelSpec

LLAMA_2_70B = {
    "model_type": "llama",
    "hidden_size": 8192,
    "num_hidden_layers": 80,
    "num_attention_heads": 64,
    "num_key_value_heads": 8,
    "intermediate_size": 28672,
    "vocab_size": 32000,
    "max_position_embeddings": 4096,
    "tie_word_embeddings": False,
}
GPU = 80 * 10**9


def _model(folder: Path, **engine: object) -> ModelSpec:
    folder.mkdir(exist_ok=True)
    (folder / "config.json").write_text(json.dumps(LLAMA_2_70B), encoding="utf-8")
    return ModelSpec(name="big", path=str(folder), kind="base", engine=engine)


def test_a_70b_model_on_one_80gb_gpu_is_warned_with_the_change_that_fits(tmp_path: Path) -> None:
    warning = memory_warning(_model(tmp_path / "m"), GPU)
    assert warning is not None and warning.startswith("warning: big may not fit:")
    assert "gpus=2" in warning


def test_no_warning_when_tensor_parallel_makes_it_fit(tmp_path: Path) -> None:
    assert memory_warning(_model(tmp_path / "m", tensor_parallel_size=2), GPU) is None


def test_no_warning_when_the_plan_cannot_tell(tmp_path: Path) -> None:
    folder = tmp_path / "no-config"
    folder.mkdir()
    assert memory_warning(ModelSpec(name="x", path=str(folder), kind="base"), GPU) is None
    moe = tmp_path / "moe"
    moe.mkdir()
    (moe / "config.json").write_text(json.dumps({"model_type": "mixtral"}), encoding="utf-8")
    assert memory_warning(ModelSpec(name="y", path=str(moe), kind="base"), GPU) is None
