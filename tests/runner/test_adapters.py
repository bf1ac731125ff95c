"""LoRA adapters as models: `BASE+ADAPTER` and adapter sweeps resolve to sft models on their
base, an adapter for another base is refused before any engine, and the base and adapter are
fingerprinted apart."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from evalkit.cache import GenerationCache
from evalkit.demo.tiny import build_tiny_llama
from evalkit.errors import EvalkitError, NotFoundError, UsageError
from evalkit.runner.adapters import fingerprint_record, vllm_lora_rank
from evalkit.runner.engine_groups import check_adapters_supported, engine_groups
from evalkit.runner.models import resolve_model
from evalkit.runner.sweeps import resolve_models

from .lora_models import save_adapter

pytest.importorskip("peft")


@pytest.fixture(scope="module")
def adapters(models_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three adapter checkpoints of weights-base, named out of step order on purpose."""
    root = tmp_path_factory.mktemp("adapters")
    for seed, name in enumerate(("checkpoint-20", "checkpoint-100")):
        save_adapter(models_dir / "weights-base", root / name, seed)
    save_adapter(models_dir / "weights-base", root / "checkpoint-final", 2, step=300)
    return root


def test_base_plus_adapter_is_an_sft_model_of_its_base(models_dir: Path, adapters: Path) -> None:
    [spec] = resolve_models(f"base+{adapters / 'checkpoint-20'}", models_dir)
    base = resolve_model("base", models_dir)
    assert spec.name == "checkpoint-20"
    assert spec.path == base.path  # the engine loads the base
    assert spec.adapter == str((adapters / "checkpoint-20").resolve())
    assert (spec.kind, spec.starting_point, spec.starting_model) == ("sft", "base", "base")
    assert spec.effective_prompt_format == "base"
    assert spec.engine == base.engine and spec.dtype == base.dtype  # the base's engine settings
    [on_chat] = resolve_models(f"chat+{adapters / 'checkpoint-20'}", models_dir)
    assert (on_chat.starting_point, on_chat.effective_prompt_format) == ("chat", "chat")


def test_an_adapter_glob_is_a_sweep_by_step(models_dir: Path, adapters: Path) -> None:
    ref = f"base+{adapters}/checkpoint-*"
    specs = resolve_models(ref, models_dir)
    assert [(s.name, s.step) for s in specs] == [
        ("checkpoint-20", 20),
        ("checkpoint-100", 100),
        ("checkpoint-final", 300),  # trainer_state.json's global_step
    ]
    assert {s.sweep_of for s in specs} == {ref}
    assert {s.starting_model for s in specs} == {"base"}


def test_a_config_with_path_and_sweep_sweeps_adapters(models_dir: Path, adapters: Path) -> None:
    config = models_dir / "lora-sweep.yaml"
    config.write_text(
        f"path: weights-base\nsweep: {adapters}/checkpoint-*\nkind: sft\n"
        "starting_point: base\nstarting_model: base\n"
        "dtype: float32\nengine: {enforce_eager: true}\n",
        encoding="utf-8",
    )
    try:
        specs = resolve_models("lora-sweep", models_dir)
    finally:
        config.unlink()
    assert [s.name for s in specs] == ["lora-sweep-20", "lora-sweep-100", "lora-sweep-300"]
    assert {s.path for s in specs} == {str((models_dir / "weights-base").resolve())}
    assert all(s.adapter is not None and s.sweep is None for s in specs)


def test_an_adapter_for_another_base_is_refused_naming_the_module(
    models_dir: Path, adapters: Path, tmp_path: Path
) -> None:
    other = build_tiny_llama(tmp_path / "other-base", ["a b c d e f g"] * 20, hidden_size=64)
    with pytest.raises(UsageError) as caught:
        resolve_models(f"{other}+{adapters / 'checkpoint-20'}", models_dir)
    message = str(caught.value)
    assert "is for another base model" in message
    assert "model.layers.0." in message and "in the adapter" in message
    assert str(models_dir / "weights-base") in message  # its config names its real base
    assert "\n" not in message


@pytest.mark.parametrize(
    ("adapter", "error", "message"),
    [
        ("nothing-here/checkpoint-*", NotFoundError, "matches no folder"),
        ("no-such-adapter", NotFoundError, "not a LoRA adapter folder"),
        ("plain-model", NotFoundError, "not a LoRA adapter folder"),
        ("", UsageError, "write BASE+ADAPTER"),
    ],
)
def test_bad_adapter_references(
    models_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    adapter: str,
    error: type[EvalkitError],
    message: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "plain-model").mkdir()
    (tmp_path / "plain-model" / "config.json").write_text("{}", encoding="utf-8")
    with pytest.raises(error, match=re.escape(message)):
        resolve_models(f"base+{adapter}", models_dir)


def test_a_dora_adapter_is_refused(models_dir: Path, adapters: Path, tmp_path: Path) -> None:
    dora = tmp_path / "dora"
    dora.mkdir()
    config = json.loads((adapters / "checkpoint-20" / "adapter_config.json").read_text())
    (dora / "adapter_config.json").write_text(json.dumps({**config, "use_dora": True}))
    (dora / "adapter_model.safetensors").write_bytes(
        (adapters / "checkpoint-20" / "adapter_model.safetensors").read_bytes()
    )
    with pytest.raises(EvalkitError, match=r"use_dora.*DoRA"):
        resolve_models(f"base+{dora}", models_dir)


def test_base_and_adapter_are_fingerprinted_apart(
    models_dir: Path, adapters: Path, tmp_path: Path
) -> None:
    base = models_dir / "weights-base"
    with GenerationCache(tmp_path / "cache.sqlite") as cache:
        plain = fingerprint_record(base, None, cache.file_digest)
        first = fingerprint_record(base, adapters / "checkpoint-20", cache.file_digest)
        second = fingerprint_record(base, adapters / "checkpoint-100", cache.file_digest)
    assert set(plain) == {"fingerprint"}
    assert first["base_fingerprint"] == second["base_fingerprint"] == plain["fingerprint"]
    assert first["adapter_fingerprint"] != second["adapter_fingerprint"]
    # the cache key's fingerprint is the pair: neither the base's nor another adapter's
    assert len({plain["fingerprint"], first["fingerprint"], second["fingerprint"]}) == 3


def test_a_base_and_its_adapters_share_one_engine(models_dir: Path, adapters: Path) -> None:
    models = [
        resolve_model("base", models_dir),
        resolve_model("chat", models_dir),
        *resolve_models(f"base+{adapters}/checkpoint-*", models_dir),
    ]
    assert engine_groups(models, "vllm") == [[0, 2, 3, 4], [1]]
    assert engine_groups(models, "hf") == [[0, 2, 3, 4], [1]]
    assert engine_groups(models, "openai") == [[0], [1], [2], [3], [4]]
    with pytest.raises(UsageError, match="backend=openai cannot run LoRA adapters"):
        check_adapters_supported(models, "openai")
    check_adapters_supported(models[:2], "openai")


def test_vllm_rank_is_the_smallest_supported_that_holds_every_adapter() -> None:
    assert vllm_lora_rank([4, 8]) == 8
    assert vllm_lora_rank([12]) == 16
    with pytest.raises(UsageError, match="above vLLM's largest"):
        vllm_lora_rank([1024])
