"""A memory plan for one configuration, whether it fits, and the smallest change that does.

The plan adds up `memory`'s components for a mode on each GPU. It fits when that total is
within gpu_memory × gpu_memory_utilization (for inference: the weights and the KV cache of
`batch` sequences of seq_len). When it does not, the changes in `CHANGES` are tried in order,
one at a time, and the first that fits is proposed: turn on gradient checkpointing, the next
ZeRO stage, more GPUs, a smaller batch, LoRA instead of full fine-tuning, QLoRA instead of
LoRA, a shorter seq_len. Nothing else is counted: the CUDA context, allocator fragmentation
and vLLM's activation peak and CUDA graphs come out of the (1 - utilization) headroom.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evalkit.errors import UsageError
from evalkit.planning import memory
from evalkit.planning.memory import DTYPE_BYTES, MODES, MemoryPlanConfig, Mode
from evalkit.planning.model_shape import ModelShape, read_model_shape

MAX_GPUS = 1024  # the most GPUs "more GPUs" proposes for training


@dataclass(frozen=True)
class Row:
    """One component: bytes for the whole model and for one GPU, and how they were found."""

    name: str
    whole: int | None  # None: no whole-model figure (activations are per GPU)
    per_gpu: int
    basis: str
    counted: bool = True  # part of the per-GPU total; False: shown for reference


@dataclass(frozen=True)
class MemoryPlan:
    """Every component of one configuration, and what fits."""

    shape: ModelShape
    config: MemoryPlanConfig
    seq_len: int
    parameters: int
    trainable: int
    rows: tuple[Row, ...]
    sequences: int | None = None  # inference: sequences of seq_len whose KV cache fits

    @property
    def per_gpu(self) -> int:
        return sum(row.per_gpu for row in self.rows if row.counted)

    @property
    def fits(self) -> bool:
        return self.per_gpu <= self.config.usable_bytes


def tensor_parallel_problem(shape: ModelShape, gpus: int) -> str | None:
    """Why vLLM cannot split this model over `gpus` by tensor parallelism, or None."""
    for key, size in (
        ("num_attention_heads", shape.num_heads),
        ("intermediate_size", shape.intermediate_size),
    ):
        if size % gpus:
            return f"{key}={size} is not a multiple of gpus={gpus} (tensor parallel)"
    if shape.num_kv_heads % gpus and gpus % shape.num_kv_heads:
        return f"num_key_value_heads={shape.num_kv_heads} and gpus={gpus} do not divide"
    return None


def plan_memory(shape: ModelShape, config: MemoryPlanConfig) -> MemoryPlan:
    """The memory plan of `config` for a model of `shape`."""
    seq_len = config.seq_len or shape.max_position_embeddings
    if seq_len is None:
        raise UsageError("seq_len: config.json has no max_position_embeddings; give seq_len=N")
    mode = MODES[config.mode]
    if mode.trains:
        return _training_plan(shape, config, mode, seq_len)
    if config.zero:
        raise UsageError(
            f"zero={config.zero}: ZeRO partitions training states; mode=inference splits the "
            "weights over gpus by tensor parallelism"
        )
    problem = tensor_parallel_problem(shape, config.gpus)
    if problem:
        raise UsageError(f"gpus={config.gpus}: {problem}")
    return _inference_plan(shape, config, seq_len)


def _inference_plan(shape: ModelShape, config: MemoryPlanConfig, seq_len: int) -> MemoryPlan:
    tp, d, e = config.gpus, config.dtype, DTYPE_BYTES[config.dtype]
    parameters = shape.parameter_count()
    weights = memory.weight_bytes(parameters, d)
    layers, head_dim = shape.num_layers, shape.head_dim
    per_token = memory.kv_cache_bytes_per_token(layers, shape.num_kv_heads, head_dim, d)
    gpu_heads = memory.kv_heads_per_gpu(shape.num_kv_heads, tp)
    gpu_per_token = memory.kv_cache_bytes_per_token(layers, gpu_heads, head_dim, d)
    tokens = config.batch * memory.kv_blocks_per_sequence(seq_len) * memory.VLLM_BLOCK_TOKENS
    gpu_weights = math.ceil(weights / tp)
    split = f"; ÷ {tp} GPUs (tensor parallel)" if tp > 1 else ""
    kv_basis = f"2 × {layers} layers × {shape.num_kv_heads} KV heads × {head_dim} × {e} B"
    kv_basis += f"; {gpu_heads} KV heads per GPU" if tp > 1 else ""
    rows = (
        Row("weights", weights, gpu_weights, f"{e} B/param ({d}){split}"),
        Row("KV cache per token", per_token, gpu_per_token, kv_basis, counted=False),
        Row(
            f"KV cache, {config.batch} × {seq_len:,} tokens",
            tokens * per_token,
            tokens * gpu_per_token,
            f"batch × seq_len in blocks of {memory.VLLM_BLOCK_TOKENS} tokens",
        ),
    )
    free = config.usable_bytes - gpu_weights
    sequences = memory.sequences_that_fit(free, gpu_per_token, seq_len)
    return MemoryPlan(shape, config, seq_len, parameters, 0, rows, sequences)


def _partitioned(name: str, whole: int, stage: int, config: MemoryPlanConfig, basis: str) -> Row:
    """A model state that ZeRO partitions over the GPUs from `stage` on."""
    n, on = config.gpus, config.zero >= stage
    if n > 1:
        basis += (
            f"; ÷ {n} GPUs (ZeRO-{config.zero})" if on else f"; on every GPU below ZeRO-{stage}"
        )
    return Row(name, whole, memory.zero_share(whole, on, n), basis)


def _training_plan(
    shape: ModelShape, config: MemoryPlanConfig, mode: Mode, seq_len: int
) -> MemoryPlan:
    d, e = config.dtype, DTYPE_BYTES[config.dtype]
    parameters = shape.parameter_count()
    trainable = parameters
    if mode.adapters:
        per_layer = memory.lora_parameters(
            shape.linear_shapes, config.lora_rank, config.lora_targets
        )
        trainable = shape.num_layers * per_layer
    if mode.quantized:
        linear = shape.num_layers * shape.linear_weights()
        base = memory.nf4_weight_bytes(linear, parameters - linear, d)
        basis = f"NF4 0.5 B + 0.127 bit/param; embeddings, norms {d}"
    else:
        base, basis = memory.weight_bytes(parameters, d), f"{e} B/param ({d})"
    states = [_partitioned("weights", base, 3, config, basis)]
    if mode.adapters:
        adapters = memory.weight_bytes(trainable, d)
        basis = f"r={config.lora_rank} on {len(config.lora_targets)} linears × {shape.num_layers}"
        states.append(_partitioned("LoRA adapters", adapters, 3, config, basis))
    optim = memory.optimizer_state_bytes(trainable, d)
    states += [
        _partitioned("gradients", memory.gradient_bytes(trainable, d), 2, config, f"{e} B/param"),
        _partitioned(
            "optimizer states", optim, 1, config, f"{optim // trainable} B/param: AdamW fp32"
        ),
    ]
    whole = sum(row.whole or 0 for row in states)
    per_param = f"{whole / trainable:g} B/param" if not mode.adapters else "all of the above"
    rows = [
        *states,
        Row("model states", whole, sum(r.per_gpu for r in states), per_param, counted=False),
    ]
    if config.zero == 3:
        gathered = memory.zero3_gathered_bytes(shape.largest_module_parameters())
        rows.append(Row("ZeRO-3 gathered module", None, gathered, "4 B × largest module"))
    tokens = f"{config.batch} × {seq_len:,} tokens"
    for checkpointing, name, basis in (
        (False, "activations", f"{tokens}; Korthikanti et al. 2022, {config.attention} attention"),
        (True, "activations, checkpointed", f"{tokens}; 2sbh per layer + 1 layer recomputed"),
    ):
        act = memory.activation_bytes(
            shape, seq_len, config.batch, d, config.attention, checkpointing
        )
        counted = checkpointing == config.gradient_checkpointing
        rows.append(Row(name, None, act, basis, counted=counted))
    return MemoryPlan(shape, config, seq_len, parameters, trainable, tuple(rows))


# --- verdict ---------------------------------------------------------------------------------

Candidates = Callable[[MemoryPlan], list[dict[str, Any]]]


def _checkpointing(plan: MemoryPlan) -> list[dict[str, Any]]:
    off = MODES[plan.config.mode].trains and not plan.config.gradient_checkpointing
    return [{"gradient_checkpointing": True}] if off else []


def _next_zero_stages(plan: MemoryPlan) -> list[dict[str, Any]]:
    if not MODES[plan.config.mode].trains or plan.config.gpus == 1:
        return []
    return [{"zero": stage} for stage in range(plan.config.zero + 1, 4)]


def _more_gpus(plan: MemoryPlan) -> list[dict[str, Any]]:
    most = MAX_GPUS if MODES[plan.config.mode].trains else plan.shape.num_heads
    return [{"gpus": n} for n in range(plan.config.gpus + 1, most + 1)]


def _smaller_batches(plan: MemoryPlan) -> list[dict[str, Any]]:
    return [{"batch": b} for b in range(plan.config.batch - 1, 0, -1)]


def _lora(plan: MemoryPlan) -> list[dict[str, Any]]:
    return [{"mode": "lora"}] if plan.config.mode == "full" else []


def _qlora(plan: MemoryPlan) -> list[dict[str, Any]]:
    return [{"mode": "qlora"}] if plan.config.mode in ("full", "lora") else []


def _shorter_sequences(plan: MemoryPlan, step: int = 256) -> list[dict[str, Any]]:
    return [{"seq_len": n} for n in range((plan.seq_len - 1) // step * step, 0, -step)]


CHANGES: tuple[tuple[str, Candidates], ...] = (
    ("turn on gradient checkpointing", _checkpointing),
    ("next ZeRO stage", _next_zero_stages),
    ("more GPUs", _more_gpus),
    ("smaller batch", _smaller_batches),
    ("LoRA instead of full fine-tuning", _lora),
    ("QLoRA: 4-bit base weights", _qlora),
    ("shorter seq_len", _shorter_sequences),
)


@dataclass(frozen=True)
class Change:
    """One change of settings that makes a plan fit, and the plan it gives."""

    reason: str
    settings: dict[str, Any]
    plan: MemoryPlan

    @property
    def overrides(self) -> str:
        """The change as KEY=VALUE arguments."""
        return " ".join(
            f"{k}={str(v).lower() if isinstance(v, bool) else v}" for k, v in self.settings.items()
        )


def smallest_change(plan: MemoryPlan) -> Change | None:
    """The first change in `CHANGES` order that makes the plan fit (within a kind of change,
    the one closest to the current settings); None when no single change does."""
    for reason, candidates in CHANGES:
        for settings in candidates(plan):
            try:
                changed = plan_memory(plan.shape, plan.config.model_copy(update=settings))
            except UsageError:  # e.g. a GPU count tensor parallelism cannot split
                continue
            if changed.fits:
                return Change(reason, settings, changed)
    return None


def size(n: int) -> str:
    """Bytes as GB (10^9), or as bytes under a million."""
    return f"{n / 1e9:,.2f} GB" if n >= 1_000_000 else f"{n:,} B"


def _fits_text(plan: MemoryPlan) -> str:
    text = f"{size(plan.per_gpu)} per GPU of {size(plan.config.usable_bytes)} usable"
    if plan.sequences is not None:
        text += f"; KV cache room for {plan.sequences:,} sequences of {plan.seq_len:,} tokens"
    return text


def verdict_lines(plan: MemoryPlan) -> list[str]:
    """The verdict line (fits, does not fit) and, when it does not, the smallest change."""
    if plan.fits:
        return [f"verdict: fits: {_fits_text(plan)}"]
    lines = [f"verdict: does not fit: {_fits_text(plan)}"]
    change = smallest_change(plan)
    if change is None:
        tried = ", ".join(reason for reason, _ in CHANGES)
        return [*lines, f"no single change makes it fit (tried: {tried})"]
    change_text = f"{change.overrides} ({change.reason}): {_fits_text(change.plan)}"
    return [*lines, f"smallest change that fits: {change_text}"]


def report_lines(plan: MemoryPlan, source: Path | str) -> list[str]:
    """The plan as `evalkit plan memory` prints it: settings, one row per component, the
    per-GPU total against what is usable, and the verdict."""
    c, shape = plan.config, plan.shape
    mode = MODES[c.mode]
    parallel = f"tensor parallel {c.gpus}" if not mode.trains else f"ZeRO-{c.zero}"
    settings = [c.dtype, f"{c.gpus} × {c.gpu_memory} GPU(s)", parallel, f"batch {c.batch}"]
    settings.append(f"seq_len {plan.seq_len:,}")
    if mode.trains:
        settings.append(f"gradient checkpointing {'on' if c.gradient_checkpointing else 'off'}")
    lines = [
        f"model: {source} ({shape.model_type}; {plan.parameters:,} parameters)",
        f"mode: {c.mode}: {mode.title}",
        f"settings: {', '.join(settings)}",
    ]
    if mode.trains:
        lines.append(f"trainable parameters: {plan.trainable:,}")
    width = max(len(row.name) for row in plan.rows) + 2
    lines += ["", f"{'component':<{width}}{'whole model':>14}{'per GPU':>14}  basis"]
    for row in plan.rows:
        whole = size(row.whole) if row.whole is not None else "-"
        basis = row.basis + ("" if row.counted else "; not in the total")
        lines.append(f"{row.name:<{width}}{whole:>14}{size(row.per_gpu):>14}  {basis}")
    usable = f"{c.gpu_memory} × {c.gpu_memory_utilization}"
    lines += [
        f"{'total per GPU':<{width}}{'':>14}{size(plan.per_gpu):>14}",
        f"{'usable per GPU':<{width}}{'':>14}{size(c.usable_bytes):>14}  {usable}",
        "",
        *verdict_lines(plan),
    ]
    return lines


def inference_fits(
    config_path: Path,
    gpu_memory_bytes: int,
    dtype: str = "auto",
    max_model_len: int | None = None,
    gpus: int = 1,
    gpu_memory_utilization: float = 0.9,
) -> tuple[bool, str]:
    """Whether vLLM can hold the model of `config_path` and one sequence of max_model_len
    tokens (default: its max_position_embeddings) on `gpus` GPUs, with a one-line reason;
    for `evalkit run` to warn before it starts an engine. dtype "auto" counts 2 bytes/param
    (vLLM runs checkpoints in 16-bit unless told otherwise)."""
    config = MemoryPlanConfig(
        mode="inference",
        gpus=gpus,
        seq_len=max_model_len,
        gpu_memory=f"{gpu_memory_bytes}B",
        gpu_memory_utilization=gpu_memory_utilization,
        dtype="bfloat16" if dtype == "auto" else dtype,
    )
    plan = plan_memory(read_model_shape(config_path), config)
    lines = verdict_lines(plan)
    return plan.fits, "; ".join(line.removeprefix("verdict: ") for line in lines)
