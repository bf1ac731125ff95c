"""The memory plan (`evalkit plan memory`) against what the engines really allocate.

Two checks, each printing the plan's figure, the measured one and their ratio:

1. **KV cache** (CPU or GPU): a GQA Llama (random weights, built here) is loaded by vLLM, and
   the KV-cache blocks vLLM allocated are compared with the blocks the plan's per-token size
   gives for the memory vLLM had for the cache. On a GPU that memory is the plan's own free
   memory (the GPU × gpu_memory_utilization − weights), so the whole inference plan is checked;
   on the CPU build it is `VLLM_CPU_KVCACHE_SPACE`, so the per-token formula is.
2. **Training step** (GPU only): one full fine-tuning step of a Llama (mixed-precision AdamW:
   fp32 master weights, bf16 autocast, SDPA attention) after a first step has created the
   optimizer states; `torch.cuda.max_memory_allocated` against the plan's per-GPU total for
   mode=full with the same seq_len and batch (with and without gradient checkpointing).

The issue's bar is within 15%. Run: python bench/bench_memory_plan.py [--skip-train]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from evalkit.planning.memory import (  # noqa: E402
    DTYPE_BYTES,
    MemoryPlanConfig,
    kv_cache_bytes_per_token,
)
from evalkit.planning.model_shape import read_model_shape  # noqa: E402
from evalkit.planning.verdict import plan_memory  # noqa: E402

GIB = 1 << 30
BAR = 0.15
# A GQA Llama: 8 layers, 8 query heads sharing 2 KV heads of 64 dims.
KV_SHAPE = {"hidden_size": 512, "layers": 8, "heads": 8, "kv_heads": 2, "intermediate": 1408}
# A ~0.5B Llama for the training step, at a sequence length where activations matter.
TRAIN_SHAPE = {"hidden_size": 1536, "layers": 12, "heads": 12, "kv_heads": 4, "intermediate": 4096}
TRAIN_SEQ, TRAIN_BATCH, VOCAB = 2048, 4, 32000


def llama_config(shape: dict[str, int], vocab: int, max_positions: int) -> object:
    from transformers import LlamaConfig

    return LlamaConfig(
        vocab_size=vocab,
        hidden_size=shape["hidden_size"],
        intermediate_size=shape["intermediate"],
        num_hidden_layers=shape["layers"],
        num_attention_heads=shape["heads"],
        num_key_value_heads=shape["kv_heads"],
        max_position_embeddings=max_positions,
        tie_word_embeddings=False,
    )


def build_kv_model(out: Path) -> Path:
    """The GQA model with the tiny models' tokenizer, saved in bfloat16 (vLLM's default on a
    GPU; the CPU build runs it as is)."""
    import torch
    from transformers import LlamaForCausalLM

    from evalkit.demo.tiny import train_tokenizer

    tokenizer = train_tokenizer(["a tiny corpus for a tokenizer"] * 20)
    config = llama_config(KV_SHAPE, len(tokenizer), 2048)
    config.bos_token_id, config.eos_token_id = tokenizer.bos_token_id, tokenizer.eos_token_id
    torch.manual_seed(0)
    model = LlamaForCausalLM(config).to(torch.bfloat16)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


def check_kv_cache(folder: Path, gpu: bool) -> tuple[float, str]:
    """(measured/planned blocks, the line printed)."""
    from vllm import LLM

    utilization = 0.9
    llm = LLM(
        str(folder),
        dtype="bfloat16",
        max_model_len=2048,
        seed=0,
        enforce_eager=not gpu,
        gpu_memory_utilization=utilization,
    )
    cache = llm.llm_engine.vllm_config.cache_config
    measured, block = int(cache.num_gpu_blocks), int(cache.block_size)
    shape = read_model_shape(folder / "config.json")
    per_token = kv_cache_bytes_per_token(
        shape.num_layers, shape.num_kv_heads, shape.head_dim, "bfloat16"
    )
    if gpu:
        import torch

        total = torch.cuda.mem_get_info()[1]
        plan = plan_memory(
            shape,
            MemoryPlanConfig(
                mode="inference",
                seq_len=2048,
                gpu_memory=f"{total}B",
                gpu_memory_utilization=utilization,
            ),
        )
        weights = next(r.per_gpu for r in plan.rows if r.name == "weights")
        space = int(total * utilization) - weights
        where = f"GPU {total / GIB:.1f} GiB x {utilization} - weights {weights / GIB:.2f} GiB"
    else:
        space = int(float(os.environ.get("VLLM_CPU_KVCACHE_SPACE", "4")) * GIB)
        where = f"VLLM_CPU_KVCACHE_SPACE {space / GIB:g} GiB"
    planned = space // (block * per_token)
    ratio = measured / planned
    line = (
        f"KV cache: {per_token} B/token (2 x {shape.num_layers} layers x {shape.num_kv_heads} "
        f"KV heads x {shape.head_dim} x 2 B); {where}: plan {planned:,} blocks of {block} "
        f"tokens, vLLM allocated {measured:,} ({ratio:.3f}x)"
    )
    del llm
    gc.collect()
    return ratio, line


def _train_step(model: Any, optimizer: Any, tokens: Any) -> None:
    import torch

    with torch.autocast("cuda", dtype=torch.bfloat16):
        loss = model(input_ids=tokens, labels=tokens).loss
    loss.backward()
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)


def check_training_step(checkpointing: bool) -> tuple[float, str]:
    import torch
    from transformers import LlamaForCausalLM

    config = llama_config(TRAIN_SHAPE, VOCAB, TRAIN_SEQ)
    config._attn_implementation = "sdpa"
    torch.manual_seed(0)
    model = LlamaForCausalLM(config).cuda()  # fp32 master weights
    if checkpointing:
        model.gradient_checkpointing_enable()
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-5)
    tokens = torch.randint(0, VOCAB, (TRAIN_BATCH, TRAIN_SEQ), device="cuda")

    _train_step(model, optimizer, tokens)  # creates the optimizer states
    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
    _train_step(model, optimizer, tokens)
    torch.cuda.synchronize()
    measured = torch.cuda.max_memory_allocated()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "config.json"
        path.write_text(json.dumps(config.to_dict()), encoding="utf-8")
        shape = read_model_shape(path)
    plan = plan_memory(
        shape,
        MemoryPlanConfig(
            mode="full",
            seq_len=TRAIN_SEQ,
            batch=TRAIN_BATCH,
            dtype="bfloat16",
            gpu_memory="141GB",
            gradient_checkpointing=checkpointing,
        ),
    )
    rows = ", ".join(f"{r.name} {r.per_gpu / GIB:.2f}" for r in plan.rows if r.counted)
    ratio = measured / plan.per_gpu
    line = (
        f"training step ({shape.parameter_count() / 1e6:.0f}M params, seq {TRAIN_SEQ} x batch "
        f"{TRAIN_BATCH}, checkpointing {'on' if checkpointing else 'off'}): plan "
        f"{plan.per_gpu / GIB:.2f} GiB ({rows}), max_memory_allocated "
        f"{measured / GIB:.2f} GiB ({ratio:.3f}x)"
    )
    del model, optimizer
    gc.collect()
    torch.cuda.empty_cache()
    return ratio, line


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--skip-train", action="store_true", help="only the KV-cache check")
    args = parser.parse_args()
    import torch

    gpu = torch.cuda.is_available()
    os.environ.setdefault("VLLM_ENABLE_V1_MULTIPROCESSING", "0")  # the engine's config here
    if not gpu:
        os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", "2")
    results: list[tuple[float | None, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = build_kv_model(Path(tmp) / "gqa")
        results.append(check_kv_cache(folder, gpu))
    if gpu and not args.skip_train:
        for checkpointing in (False, True):
            results.append(check_training_step(checkpointing))
    elif not args.skip_train:
        results.append((None, "training step: needs a GPU (torch.cuda.max_memory_allocated)"))
    for ratio, line in results:
        mark = "-- " if ratio is None else "ok " if abs(ratio - 1) <= BAR else "OFF"
        print(f"{mark} {line}")
    print(f"(bar: within {BAR:.0%}; bytes per element: {DTYPE_BYTES['bfloat16']})")


if __name__ == "__main__":
    main()
