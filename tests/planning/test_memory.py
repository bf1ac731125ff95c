"""`evalkit plan memory`: parameter counts, model states, activations, KV cache and verdicts,
checked against hand-worked figures, published ones, and accelerate's, PEFT's and DeepSpeed's
own accounting."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from evalkit.cli import cli
from evalkit.errors import NotFoundError, UsageError
from evalkit.planning.memory import (
    ActivationLayout,
    MemoryPlanConfig,
    checkpointed_layer_bytes,
    gradient_bytes,
    layer_activation_bytes,
    lora_parameters,
    nf4_weight_bytes,
    optimizer_state_bytes,
    parse_size,
    weight_bytes,
    zero_share,
)
from evalkit.planning.model_shape import ModelShape, find_config_json, shape_from_config
from evalkit.planning.verdict import MemoryPlan, inference_fits, plan_memory, smallest_change

LLAMA_2_7B = {
    "model_type": "llama",
    "hidden_size": 4096,
    "num_hidden_layers": 32,
    "num_attention_heads": 32,
    "intermediate_size": 11008,
    "vocab_size": 32000,
    "max_position_embeddings": 4096,
    "tie_word_embeddings": False,
}
LLAMA_2_13B = {
    **LLAMA_2_7B,
    "hidden_size": 5120,
    "num_hidden_layers": 40,
    "num_attention_heads": 40,
    "intermediate_size": 13824,
}
LLAMA_2_70B = {
    **LLAMA_2_7B,
    "hidden_size": 8192,
    "num_hidden_layers": 80,
    "num_attention_heads": 64,
    "num_key_value_heads": 8,
    "intermediate_size": 28672,
}
QWEN2_7B = {
    "model_type": "qwen2",
    "hidden_size": 3584,
    "num_hidden_layers": 28,
    "num_attention_heads": 28,
    "num_key_value_heads": 4,
    "intermediate_size": 18944,
    "vocab_size": 152064,
    "max_position_embeddings": 131072,
    "tie_word_embeddings": False,
}
QWEN2_5_1_5B = {  # tied embeddings
    **QWEN2_7B,
    "hidden_size": 1536,
    "num_attention_heads": 12,
    "num_key_value_heads": 2,
    "intermediate_size": 8960,
    "vocab_size": 151936,
    "tie_word_embeddings": True,
}
GB = 10**9


def shape(config: dict[str, Any]) -> ModelShape:
    return shape_from_config(config, Path("config.json"))


def plan(config: dict[str, Any], **settings: Any) -> MemoryPlan:
    return plan_memory(shape(config), MemoryPlanConfig(**settings))


def row(p: MemoryPlan, name: str) -> Any:
    return next(r for r in p.rows if r.name == name)


# --- parameter counts ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        (LLAMA_2_7B, 6_738_415_616),  # Llama 2 paper's "7B"; Hugging Face's count
        (LLAMA_2_13B, 13_015_864_320),
        (LLAMA_2_70B, 68_976_648_192),  # GQA: 8 KV heads
        (QWEN2_7B, 7_615_616_512),  # q/k/v biases, untied
        (QWEN2_5_1_5B, 1_543_714_304),  # q/k/v biases, tied embeddings
    ],
)
def test_parameter_count_of_published_models(config: dict[str, Any], expected: int) -> None:
    assert shape(config).parameter_count() == expected


def test_llama_2_7b_parameters_by_hand() -> None:
    h, i, v, layers = 4096, 11008, 32000, 32
    per_layer = 4 * h * h + 3 * h * i + 2 * h  # q, k, v, o; gate, up, down; two RMSNorms
    assert shape(LLAMA_2_7B).layer_parameters() == per_layer
    assert shape(LLAMA_2_7B).parameter_count() == 2 * v * h + layers * per_layer + h


def _transformers_config(kind: str, **dims: Any) -> Any:
    import transformers

    return getattr(transformers, kind)(**dims)


TINY = {
    "hidden_size": 64,
    "num_hidden_layers": 3,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "intermediate_size": 96,
    "vocab_size": 1000,
}


@pytest.mark.parametrize(
    ("kind", "dims"),
    [
        ("LlamaConfig", TINY),
        ("LlamaConfig", {**TINY, "attention_bias": True, "mlp_bias": True}),
        ("Qwen2Config", {**TINY, "tie_word_embeddings": True}),
        ("Qwen2Config", {**TINY, "tie_word_embeddings": False}),
        ("MistralConfig", {**TINY, "head_dim": 24}),
        ("Qwen3Config", {**TINY, "head_dim": 32, "tie_word_embeddings": True}),
        # full size, on the meta device
        ("LlamaConfig", {k: v for k, v in LLAMA_2_7B.items() if k in TINY}),
        ("LlamaConfig", {k: v for k, v in LLAMA_2_70B.items() if k in TINY}),
        ("Qwen2Config", {k: v for k, v in QWEN2_7B.items() if k in TINY}),
    ],
)
def test_parameters_and_weights_equal_accelerates(
    kind: str, dims: dict[str, Any], tmp_path: Path
) -> None:
    """The count from config.json equals the model transformers builds from it, and the bf16
    weights equal accelerate's `calculate_maximum_sizes` (built on the meta device)."""
    import accelerate
    import torch
    from accelerate.utils import calculate_maximum_sizes
    from transformers import AutoModelForCausalLM

    config = _transformers_config(kind, **dims)
    config.save_pretrained(tmp_path)
    ours = shape_from_config(json.loads((tmp_path / "config.json").read_text()), tmp_path)
    with accelerate.init_empty_weights():
        model = AutoModelForCausalLM.from_config(config, dtype=torch.bfloat16)
    model.tie_weights()  # transformers 5 leaves tied embeddings untied under init_empty_weights
    parameters = sum(p.numel() for p in model.parameters())  # tied weights counted once
    total_bytes, _ = calculate_maximum_sizes(model)
    # accelerate also counts buffers (the rotary inv_freq, not saved with the weights)
    buffers = sum(b.numel() * b.element_size() for b in model.buffers())
    assert ours.parameter_count() == parameters
    assert weight_bytes(ours.parameter_count(), "bfloat16") == total_bytes - buffers
    # DeepSpeed's largest_layer_params (stage3.py model_to_params): one module's own params
    largest = max(sum(p.numel() for p in m.parameters(recurse=False)) for m in model.modules())
    assert ours.largest_module_parameters() == largest


def test_lora_parameters_equal_peft(tmp_path: Path) -> None:
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    config = _transformers_config("Qwen2Config", **TINY)
    ours = shape_from_config(config.to_dict(), tmp_path)
    targets = ["q_proj", "v_proj", "down_proj"]
    peft_model = get_peft_model(
        AutoModelForCausalLM.from_config(config), LoraConfig(r=8, target_modules=targets)
    )
    trainable = sum(p.numel() for p in peft_model.parameters() if p.requires_grad)
    assert ours.num_layers * lora_parameters(ours.linear_shapes, 8, targets) == trainable


def test_lora_of_llama_2_7b_matches_peft_published_count() -> None:
    # PEFT's print_trainable_parameters() for Llama-2-7b, r=16 on all seven linear layers:
    # "trainable params: 39,976,960"
    p = plan(LLAMA_2_7B, mode="lora", lora_rank=16)
    assert p.trainable == 39_976_960


# --- model states: ZeRO paper, Transformer Math 101, DeepSpeed --------------------------------


def model_states(psi: int, stage: int, gpus: int) -> int:
    """Per-GPU model states from the library's component functions."""
    return (
        zero_share(weight_bytes(psi, "bfloat16"), stage >= 3, gpus)
        + zero_share(gradient_bytes(psi, "bfloat16"), stage >= 2, gpus)
        + zero_share(optimizer_state_bytes(psi, "bfloat16"), stage >= 1, gpus)
    )


def test_zero_paper_figure_1() -> None:
    """Rajbhandari et al. 2020, Figure 1: Ψ = 7.5B, N_d = 64, K = 12: 120 GB, 31.4 GB,
    16.6 GB and 1.9 GB per device for baseline, P_os, P_os+g and P_os+g+p."""
    published = [120.0, 31.4, 16.6, 1.9]
    assert [round(model_states(7_500_000_000, s, 64) / GB, 1) for s in range(4)] == published


def test_llama_2_7b_full_fine_tuning_is_16_bytes_per_parameter() -> None:
    """Transformer Math 101 / ZeRO's 16Ψ: 16 × 6.74e9 = 107.8 GB of model states."""
    psi = 6_738_415_616
    p = plan(LLAMA_2_7B, mode="full")
    states = row(p, "model states")
    assert states.whole == states.per_gpu == 16 * psi == 107_814_649_856
    assert round(states.whole / GB, 1) == 107.8
    assert row(p, "optimizer states").whole == 12 * psi
    for stage, expected in enumerate([16 * psi, 4 * psi + 12 * psi // 8, 2 * psi + 14 * psi // 8]):
        assert row(plan(LLAMA_2_7B, mode="full", gpus=8, zero=stage), "model states").per_gpu == (
            expected
        )
    zero3 = plan(LLAMA_2_7B, mode="full", gpus=8, zero=3)
    assert row(zero3, "model states").per_gpu * 8 == row(p, "model states").per_gpu


# Ported from DeepSpeed (github.com/deepspeedai/DeepSpeed): deepspeed/runtime/zero/
# stage_1_and_2.py estimate_zero2_model_states_mem_needs and stage3.py
# estimate_zero3_model_states_mem_needs, the GPU side with cpu_offload=False, one node.
def deepspeed_zero2_gpu_mem(total_params: int, num_gpus_per_node: int = 1) -> int:
    # 2 = params_16bit; 18 = 2_grads_16bit + 4_grads_32bit + 4_params_32bit + 8_optimizer_states
    return int(2 * total_params + int(18 * total_params / num_gpus_per_node))


def deepspeed_zero3_gpu_mem(
    total_params: int, largest_layer_params: int, num_gpus_per_node: int = 1
) -> int:
    largest_layer_memory = 4 * largest_layer_params
    return int(largest_layer_memory + int(18 * total_params / num_gpus_per_node))


def test_zero_estimates_against_deepspeeds_estimator() -> None:
    """DeepSpeed counts one more state than the ZeRO paper's 16Ψ: an fp32 copy of the
    gradients (4 bytes/param, partitioned). ZeRO-2: ours = DeepSpeed's - 4Ψ/N. ZeRO-3: the
    gathered largest module (4 × largest_layer_params) is DeepSpeed's own term, and its
    partitioned 18 bytes/param are 2 more than the paper's 16: ours = DeepSpeed's - 2Ψ/N."""
    psi, gpus = 6_738_415_616, 8
    zero2 = plan(LLAMA_2_7B, mode="full", gpus=gpus, zero=2)
    assert row(zero2, "model states").per_gpu == deepspeed_zero2_gpu_mem(psi, gpus) - 4 * psi // 8
    zero3 = plan(LLAMA_2_7B, mode="full", gpus=gpus, zero=3)
    largest = 32000 * 4096  # the embedding (and the untied output projection)
    ours = row(zero3, "model states").per_gpu + row(zero3, "ZeRO-3 gathered module").per_gpu
    assert ours == deepspeed_zero3_gpu_mem(psi, largest, gpus) - 2 * psi // 8


# --- activations -----------------------------------------------------------------------------


@pytest.mark.parametrize(("s", "b", "h", "a"), [(2048, 1, 12288, 96), (4096, 4, 4096, 32)])
def test_activations_reduce_to_korthikanti_for_their_gpt_layer(
    s: int, b: int, h: int, a: int
) -> None:
    """Korthikanti et al. 2022, eq. (1): sbh(34 + 5as/h) bytes per layer, for a GPT layer
    (MHA, 4h GeLU MLP, dropout, attention scores kept, 16-bit)."""
    gpt = ActivationLayout(
        hidden=h,
        heads=a,
        q_width=h,
        kv_width=h,
        intermediate=4 * h,
        gated_mlp=False,
        dropout=True,
        attention_scores=True,
    )
    assert layer_activation_bytes(gpt, s, b) == s * b * h * 34 + 5 * a * s * s * b
    assert checkpointed_layer_bytes(h, s, b, 2) == 2 * s * b * h


def test_llama_layer_activations_by_hand() -> None:
    """Llama-2-7B layer, flash attention, s = 4096, b = 1: 2 bytes × sb × (qkv input h,
    Q h, K h, V h, o input h; MLP input h, gate, SiLU, up, product 4i; two norms 2h)
    + the fp32 log-sum-exp 4·a·s·b."""
    s, h, i, a = 4096, 4096, 11008, 32
    expected = 2 * s * (5 * h + h + 4 * i + 2 * h) + 4 * a * s
    p = plan(LLAMA_2_7B, mode="full", seq_len=s)
    output = 2 * 2 * s * h + 4 * s * 32000  # Korthikanti §4.3: 4sbh(1 + v/h)
    assert row(p, "activations").per_gpu == 32 * expected + output
    checkpointed = 32 * 2 * s * h + expected + output
    assert row(p, "activations, checkpointed").per_gpu == checkpointed


def test_gqa_keeps_narrower_keys_and_values() -> None:
    mha = plan({**LLAMA_2_70B, "num_key_value_heads": 64}, mode="full", seq_len=1024)
    gqa = plan(LLAMA_2_70B, mode="full", seq_len=1024)
    # K and V per layer: 2 bytes × s × (64 - 8) heads × 128 × 2 tensors, in 80 layers
    saved = 80 * 2 * 1024 * (64 - 8) * 128 * 2
    assert row(mha, "activations").per_gpu - row(gqa, "activations").per_gpu == saved


# --- QLoRA -----------------------------------------------------------------------------------


def test_nf4_constants_are_0_127_bits_per_parameter() -> None:
    """Dettmers et al. 2023: double quantization costs 8/64 + 32/(64·256) = 0.127 bits."""
    n = 64 * 256 * 1000
    extra_bits = (nf4_weight_bytes(n, 0, "bfloat16") - n / 2) * 8 / n
    assert round(extra_bits, 3) == 0.127
    llama = shape(LLAMA_2_7B)
    linear = 32 * llama.linear_weights()
    base = row(plan(LLAMA_2_7B, mode="qlora"), "weights").whole
    assert base == nf4_weight_bytes(linear, llama.parameter_count() - linear, "bfloat16")
    assert 3.8 * GB < base < 3.9 * GB  # 4-bit layers + bf16 embeddings and output projection


# --- inference: vLLM's KV cache ----------------------------------------------------------------


def test_llama_2_70b_inference_at_4k() -> None:
    one = plan(LLAMA_2_70B, seq_len=4096, gpu_memory="80GB")
    assert row(one, "weights").whole == 2 * 68_976_648_192 == 137_953_296_384
    per_token = row(one, "KV cache per token")
    assert per_token.whole == 2 * 80 * 8 * 128 * 2 == 327_680  # 320 KiB
    assert row(one, "KV cache, 1 × 4,096 tokens").whole == 4096 * 327_680  # 1.34 GB
    assert not one.fits and one.sequences == 0
    change = smallest_change(one)
    assert change is not None and change.settings == {"gpus": 2}
    # 2 GPUs: 72e9 usable - 68,976,648,192 weights = 3,023,351,808 bytes for blocks of
    # 16 tokens × 163,840 B = 2,621,440 B: 1,153 blocks; 256 blocks per sequence: 4.
    two = plan(LLAMA_2_70B, seq_len=4096, gpu_memory="80GB", gpus=2)
    assert row(two, "KV cache per token").per_gpu == 163_840
    assert two.fits and two.sequences == 4
    # 4 GPUs: 72e9 - 34,488,324,096 = 37,511,675,904 bytes / 1,310,720 = 28,619 blocks: 111.
    four = plan(LLAMA_2_70B, seq_len=4096, gpu_memory="80GB", gpus=4)
    assert four.sequences == 111


@pytest.mark.parametrize("tp", [1, 2, 4, 16])
def test_kv_cache_per_token_equals_vllms_page_size(tp: int) -> None:
    """vLLM's own spec (vllm/v1/kv_cache_interface.py FullAttentionSpec): one layer's page of
    16 tokens; × layers ÷ 16 is one token in every layer. KV heads per GPU as vLLM's
    ModelConfig.get_num_kv_heads: max(1, total_num_kv_heads // tensor_parallel_size)."""
    torch = pytest.importorskip("torch")
    kv_cache_interface = pytest.importorskip("vllm.v1.kv_cache_interface")
    spec = kv_cache_interface.FullAttentionSpec(
        block_size=16, num_kv_heads=max(1, 8 // tp), head_size=128, dtype=torch.bfloat16
    )
    p = plan(LLAMA_2_70B, seq_len=4096, gpus=tp)
    assert row(p, "KV cache per token").per_gpu == spec.page_size_bytes * 80 // 16


def test_kv_cache_is_allocated_in_blocks_of_16_tokens() -> None:
    """A 17-token sequence takes two of vLLM's 16-token blocks: on 4 GPUs, 28,619 blocks
    (see above) hold 14,309 such sequences, not 37,511,675,904 // (17 × 81,920) = 26,935."""
    four = plan(LLAMA_2_70B, seq_len=17, gpu_memory="80GB", gpus=4)
    assert four.sequences == 14_309
    assert row(four, "KV cache, 1 × 17 tokens").whole == 32 * 327_680


def test_kv_heads_are_replicated_beyond_their_number() -> None:
    sixteen = plan(LLAMA_2_70B, seq_len=4096, gpus=16)
    assert row(sixteen, "KV cache per token").per_gpu == 2 * 80 * 1 * 128 * 2


def test_inference_fits_for_the_runner(tmp_path: Path) -> None:
    config = tmp_path / "config.json"
    config.write_text(json.dumps(LLAMA_2_70B))
    fits, message = inference_fits(config, 80 * GB, "bfloat16", 4096)
    assert not fits and message.startswith("does not fit") and "gpus=2" in message
    config.write_text(json.dumps(LLAMA_2_7B))
    fits, message = inference_fits(config, 80 * GB, "auto", 4096)
    assert fits and message.startswith("fits")


# --- the smallest change -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("settings", "change"),
    [
        ({"gpus": 8, "zero": 3, "batch": 4}, {"gradient_checkpointing": True}),
        ({"gpus": 8, "zero": 0, "gradient_checkpointing": True}, {"zero": 1}),
        ({"gpus": 1, "zero": 3, "gradient_checkpointing": True}, {"gpus": 2}),
        # 4.51 GB of QLoRA states + 2.29 GB of checkpointed activations per sequence
        ({"batch": 64, "mode": "qlora", "gradient_checkpointing": True}, {"batch": 29}),
        ({"gpus": 1}, {"mode": "lora"}),
    ],
)
def test_smallest_change_follows_the_order(settings: dict[str, Any], change: dict) -> None:
    p = plan(LLAMA_2_7B, **{"mode": "full", **settings})
    assert not p.fits
    found = smallest_change(p)
    assert found is not None and found.settings == change and found.plan.fits


# --- reading the model -------------------------------------------------------------------------


def test_model_by_folder_file_or_name(tmp_path: Path) -> None:
    folder = tmp_path / "llama"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps(LLAMA_2_7B))
    (folder / "tokenizer_config.json").write_text("{}")
    models = tmp_path / "models"
    models.mkdir()
    (models / "l7.yaml").write_text(f"path: {folder}\nkind: base\n")
    assert find_config_json(str(folder), models) == folder / "config.json"
    assert find_config_json(str(folder / "config.json"), models) == folder / "config.json"
    assert find_config_json("l7", models) == (folder / "config.json").resolve()
    with pytest.raises(NotFoundError, match=r"no config\.json"):
        find_config_json(str(tmp_path), models)


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"model_type": "llama", "hidden_size": 64}, "missing num_hidden_layers"),
        ({**LLAMA_2_7B, "hidden_size": 0}, "hidden_size=0"),
        ({"model_type": "mixtral", "num_local_experts": 8}, "mixture-of-experts"),
        ({**LLAMA_2_7B, "model_type": "gpt2"}, "model_type='gpt2' is not supported"),
        ({**LLAMA_2_7B, "num_key_value_heads": 5}, "not a multiple of num_key_value_heads"),
    ],
)
def test_bad_configs_are_one_line(config: dict[str, Any], message: str) -> None:
    with pytest.raises(UsageError, match=message) as e:
        shape(config)
    assert "\n" not in str(e.value)


def test_sizes() -> None:
    assert parse_size("80GB") == 80 * 10**9
    assert parse_size("80GiB") == 80 * 2**30
    assert parse_size("24G") == 24 * 10**9
    assert parse_size("1.5Ti") == int(1.5 * 2**40)
    with pytest.raises(ValueError):
        parse_size("80XB")


# --- the command ---------------------------------------------------------------------------------


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["plan", "memory", *args])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def models(tmp_path: Path) -> Path:
    for name, config in (("l7", LLAMA_2_7B), ("l70", LLAMA_2_70B)):
        (tmp_path / name).mkdir()
        (tmp_path / name / "config.json").write_text(json.dumps(config))
    return tmp_path


def test_cli_full_fine_tuning_table(models: Path) -> None:
    code, out, _ = invoke(str(models / "l7"), "mode=full", "gpus=8", "zero=2")
    assert code == 0
    lines = out.splitlines()
    assert any(line.split()[:5] == ["model", "states", "107.81", "GB", "25.27"] for line in lines)
    assert "6,738,415,616 parameters" in lines[0]
    assert lines[-1].startswith("verdict: fits: ")


def test_cli_70b_inference_does_not_fit_on_one_gpu(models: Path) -> None:
    code, out, _ = invoke(str(models / "l70"), "seq_len=4096", "gpu_memory=80GB")
    assert code == 0
    assert "327,680 B" in out and "137.95 GB" in out
    assert "verdict: does not fit: " in out
    assert out.splitlines()[-1].startswith("smallest change that fits: gpus=2 (more GPUs)")


def test_cli_help_lists_the_keys() -> None:
    code, out, _ = invoke("--help")
    assert code == 0 and "gpu_memory" in out and "gradient_checkpointing" in out


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["l70", "mode=foo"], "mode="),
        (["l70", "gpu_memory=80XB"], "gpu_memory="),
        (["l70", "gpu_memory=80"], "gpu_memory="),
        (["l70", "gpus=0"], "gpus=0"),
        (["l70", "gpus=3"], "gpus=3"),
        (["l70", "zero=2"], "zero=2"),
        (["l70", "modes=full"], "unknown key 'modes'"),
        (["."], "no config.json"),
        (["nonexistent"], "unknown model 'nonexistent'"),
        (["bad.json"], "missing num_hidden_layers"),
    ],
)
def test_cli_bad_input_is_one_line(
    models: Path, args: list[str], named: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(models)
    (models / "bad.json").write_text(json.dumps({"model_type": "llama", "hidden_size": 64}))
    code, out, err = invoke(*args)
    assert code != 0 and out == ""
    assert len(err.splitlines()) == 1 and err.startswith("error: ") and named in err
