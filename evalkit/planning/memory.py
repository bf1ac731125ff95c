"""GPU memory of each component of a run, per GPU, from a model's shape alone.

One function per component; each docstring names the formula and where it comes from. Sizes
are bytes. Training follows mixed-precision AdamW as in the ZeRO paper (Rajbhandari et al.
2020, "16Ψ") and Transformer Math 101 (EleutherAI, 2023): 16-bit weights (2 bytes/param) and
gradients (2), fp32 master weights and two fp32 moments (12); ZeRO stage 1 partitions the
optimizer states across the GPUs, stage 2 also the gradients, stage 3 also the weights.
Inference follows vLLM: weights and KV cache split by tensor parallelism over the GPUs, the KV
cache allocated in blocks of 16 tokens from what `gpu_memory_utilization` leaves after weights.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from evalkit.planning.model_shape import ModelShape

DTYPE_BYTES: dict[str, int] = {"bfloat16": 2, "float16": 2, "float32": 4}
LORA_TARGETS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
VLLM_BLOCK_TOKENS = 16  # vLLM's default KV-cache block size
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(?:([KMGT])(I?)B?|B)\s*$", re.IGNORECASE)
_POWERS = {"K": 1, "M": 2, "G": 3, "T": 4}


def parse_size(text: str) -> int:
    """Bytes of "80GB", "24G" (powers of 1000) or "80GiB", "24Gi" (powers of 1024)."""
    match = _SIZE.match(text)
    if not match:
        raise ValueError("not a size; write e.g. 80GB, 80GiB or 24G")
    if not match[2]:
        return int(float(match[1]))
    base = 1024 if match[3] else 1000
    return int(float(match[1]) * base ** _POWERS[match[2].upper()])


class MemoryPlanConfig(BaseModel):
    """Settings of `evalkit plan memory`."""

    model_config = ConfigDict(extra="forbid")

    mode: str = Field(default="inference", description="inference, full, lora or qlora.")
    gpus: int = Field(
        default=1, ge=1, description="GPUs: ZeRO's data-parallel group, or vLLM's tensor parallel."
    )
    zero: int = Field(default=0, ge=0, le=3, description="ZeRO stage for training (0-3).")
    seq_len: int | None = Field(
        default=None, ge=1, description="Tokens per sequence (default: max_position_embeddings)."
    )
    batch: int = Field(
        default=1, ge=1, description="Sequences per GPU (training) or at once (inference)."
    )
    gpu_memory: str = Field(default="80GB", description="Memory of one GPU: 80GB, 80GiB, 24G.")
    gpu_memory_utilization: float = Field(
        default=0.9, gt=0, le=1, description="Share of each GPU's memory the plan may use (vLLM's)."
    )
    dtype: str = Field(default="bfloat16", description="bfloat16, float16 or float32.")
    lora_rank: int = Field(default=16, ge=1, description="LoRA rank r.")
    lora_targets: list[str] = Field(
        default=list(LORA_TARGETS), description="Linear layers with LoRA adapters."
    )
    gradient_checkpointing: bool = Field(
        default=False, description="Keep only each layer's input; recompute the rest."
    )
    attention: str = Field(
        default="flash", description="flash (fused kernel, no s×s scores) or eager."
    )
    models_dir: Path = Field(default=Path("models"), description="Where model configs are.")

    @field_validator("mode", "dtype", "attention")
    @classmethod
    def _one_of(cls, v: str, info: ValidationInfo) -> str:
        choices = _CHOICES[str(info.field_name)]
        if v not in choices:
            raise ValueError(f"unknown {info.field_name}; choose one of {', '.join(choices)}")
        return v

    @field_validator("lora_targets", mode="before")
    @classmethod
    def _known_targets(cls, v: object) -> object:
        targets = [v] if isinstance(v, str) else v
        unknown = [t for t in targets if t not in LORA_TARGETS] if isinstance(targets, list) else []
        if unknown or not targets:
            raise ValueError(f"choose among {', '.join(LORA_TARGETS)}")
        return targets

    @field_validator("gpu_memory", mode="before")
    @classmethod
    def _size(cls, v: object) -> object:
        if not isinstance(v, str):
            raise ValueError("give the unit: 80GB, 80GiB or 24G")
        if parse_size(v) <= 0:
            raise ValueError("must be more than 0 bytes")
        return v

    @property
    def gpu_memory_bytes(self) -> int:
        return parse_size(self.gpu_memory)

    @property
    def usable_bytes(self) -> int:
        """What the plan may use of each GPU: gpu_memory × gpu_memory_utilization."""
        return int(self.gpu_memory_bytes * self.gpu_memory_utilization)


# --- model states ---------------------------------------------------------------------------


def weight_bytes(parameters: int, dtype: str) -> int:
    """Weights held in `dtype`: parameters × 2 bytes (bf16/fp16) or × 4 (fp32)."""
    return parameters * DTYPE_BYTES[dtype]


def nf4_weight_bytes(linear_weights: int, other_parameters: int, dtype: str) -> int:
    """QLoRA's frozen base (Dettmers et al. 2023): the decoder layers' linear weights in 4-bit
    NF4 (0.5 byte/param) with double-quantized constants (an 8-bit absmax per block of 64, an
    fp32 constant per 256 blocks: 8/64 + 32/(64·256) = 0.127 bits/param); embeddings, output
    projection, norms and biases stay in `dtype`, as bitsandbytes leaves them."""
    quantized = math.ceil(linear_weights / 2 + linear_weights / 64 + linear_weights / 4096)
    return quantized + other_parameters * DTYPE_BYTES[dtype]


def gradient_bytes(trainable: int, dtype: str) -> int:
    """Gradients of the trained parameters, in the training dtype: 2 bytes/param in mixed
    precision (Transformer Math 101; the ZeRO paper's 2Ψ)."""
    return trainable * DTYPE_BYTES[dtype]


def optimizer_state_bytes(trainable: int, dtype: str) -> int:
    """AdamW's states: two fp32 moments (8 bytes/param) plus, in mixed precision, the fp32
    master weights (4): 12 bytes/param, the ZeRO paper's K = 12 (Transformer Math 101)."""
    master = 4 if DTYPE_BYTES[dtype] < 4 else 0
    return trainable * (8 + master)


def zero_share(total: int, partitioned: bool, gpus: int) -> int:
    """One GPU's share of a model state: total / gpus when ZeRO partitions it, else all of it
    (Rajbhandari et al. 2020, §5: stage 1 P_os, stage 2 P_os+g, stage 3 P_os+g+p)."""
    return math.ceil(total / gpus) if partitioned else total


def zero3_gathered_bytes(largest_module_parameters: int) -> int:
    """ZeRO-3's working set: the largest module's parameters gathered whole, 16-bit weights
    and gradients (4 bytes/param), as DeepSpeed's `estimate_zero3_model_states_mem_needs`
    counts `largest_layer_memory = 4 * largest_layer_params`."""
    return 4 * largest_module_parameters


def lora_parameters(
    linear_shapes: dict[str, tuple[int, int]], rank: int, targets: list[str]
) -> int:
    """LoRA adapters of one layer (Hu et al. 2021): A (in × r) and B (r × out) on each
    targeted linear layer: r · (in + out) parameters each."""
    return sum(rank * (linear_shapes[t][0] + linear_shapes[t][1]) for t in targets)


# --- activations -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ActivationLayout:
    """What one transformer layer keeps for its backward pass, in Korthikanti et al.'s terms."""

    hidden: int
    heads: int
    q_width: int  # heads × head_dim
    kv_width: int  # kv heads × head_dim: narrower than q_width under grouped-query attention
    intermediate: int
    gated_mlp: bool = True  # SwiGLU keeps gate, SiLU(gate), up and their product: 4 × i
    dropout: bool = False  # 1-byte masks, and attention dropout's own output
    attention_scores: bool = False  # eager attention keeps the s×s softmax; fused kernels don't
    element_bytes: int = 2


def layer_activation_bytes(layout: ActivationLayout, seq_len: int, batch: int) -> int:
    """One layer without recomputation, itemised as in Korthikanti et al. 2022 ("Reducing
    Activation Recomputation in Large Transformer Models", §4.1), which for their GPT layer
    (q = kv = h, i = 4h, GeLU, dropout, scores kept, 2-byte elements) sums to sbh(34 + 5as/h).

    Attention: the q/k/v input (sbh), Q and K (sb(q + kv)), V (sb·kv), the output
    projection's input (sb·q); eager attention adds the softmax (as²b), fused kernels their
    fp32 log-sum-exp (4asb bytes). MLP: its input (sbh) and four sb·i tensors (SwiGLU) or two.
    Two norms' inputs (2sbh). Elements of `element_bytes`; dropout adds masks (1 byte).
    """
    e, tokens, a = layout.element_bytes, seq_len * batch, layout.heads
    attention = e * tokens * (layout.hidden + 2 * layout.q_width + 2 * layout.kv_width)
    scores = a * seq_len * seq_len * batch
    if layout.attention_scores:
        attention += e * scores + ((1 + e) * scores if layout.dropout else 0)
    else:
        attention += 4 * a * tokens
    mlp = e * tokens * (layout.hidden + (4 if layout.gated_mlp else 2) * layout.intermediate)
    norms = 2 * e * tokens * layout.hidden
    masks = 2 * tokens * layout.hidden if layout.dropout else 0
    return attention + mlp + norms + masks


def checkpointed_layer_bytes(hidden: int, seq_len: int, batch: int, element_bytes: int) -> int:
    """One layer under full activation checkpointing: its input only, 2sbh bytes in 16-bit
    (Korthikanti et al. 2022, §5; Transformer Math 101's 2sbhL)."""
    return element_bytes * seq_len * batch * hidden


def output_activation_bytes(
    hidden: int, vocab: int, seq_len: int, batch: int, element_bytes: int
) -> int:
    """Final norm, output projection and cross-entropy: 4sbh(1 + v/h) bytes (Korthikanti et
    al. 2022, §4.3, t = 1): two sbh inputs and the fp32 logits (4sbv)."""
    return 2 * element_bytes * seq_len * batch * hidden + 4 * seq_len * batch * vocab


# --- KV cache (inference) --------------------------------------------------------------------


def kv_heads_per_gpu(num_kv_heads: int, tensor_parallel: int) -> int:
    """KV heads one GPU caches: vLLM splits them over tensor parallelism, and replicates a
    head when there are more GPUs than KV heads."""
    return max(1, num_kv_heads // tensor_parallel)


def kv_cache_bytes_per_token(layers: int, kv_heads: int, head_dim: int, dtype: str) -> int:
    """One token's keys and values in every layer: 2 × layers × kv_heads × head_dim × bytes
    (vLLM's KV-cache accounting)."""
    return 2 * layers * kv_heads * head_dim * DTYPE_BYTES[dtype]


def kv_blocks_per_sequence(seq_len: int) -> int:
    """vLLM blocks of 16 tokens one sequence of seq_len tokens takes."""
    return math.ceil(seq_len / VLLM_BLOCK_TOKENS)


def sequences_that_fit(free_bytes: int, kv_bytes_per_token: int, seq_len: int) -> int:
    """Sequences of seq_len tokens whose KV-cache blocks fit in free_bytes (vLLM reports the
    same as its "maximum concurrency" for max_model_len)."""
    block = VLLM_BLOCK_TOKENS * kv_bytes_per_token
    return max(0, free_bytes) // block // kv_blocks_per_sequence(seq_len)


def activation_bytes(
    shape: ModelShape, seq_len: int, batch: int, dtype: str, attention: str, checkpointing: bool
) -> int:
    """A training step's activations on one GPU: every layer's (Korthikanti et al. 2022,
    adapted above to GQA and SwiGLU) plus the output layer's; with full checkpointing, each
    layer's input (2sbh) plus one layer's activations, recomputed during the backward pass."""
    layout = ActivationLayout(
        hidden=shape.hidden_size,
        heads=shape.num_heads,
        q_width=shape.num_heads * shape.head_dim,
        kv_width=shape.num_kv_heads * shape.head_dim,
        intermediate=shape.intermediate_size,
        attention_scores=attention == "eager",
        element_bytes=DTYPE_BYTES[dtype],
    )
    layer = layer_activation_bytes(layout, seq_len, batch)
    e = DTYPE_BYTES[dtype]
    output = output_activation_bytes(shape.hidden_size, shape.vocab_size, seq_len, batch, e)
    if checkpointing:
        inputs = shape.num_layers * checkpointed_layer_bytes(shape.hidden_size, seq_len, batch, e)
        return inputs + layer + output
    return shape.num_layers * layer + output


# --- modes -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Mode:
    """What a mode holds in memory."""

    title: str
    trains: bool
    adapters: bool = False  # trains LoRA adapters; the base weights are frozen
    quantized: bool = False  # the frozen base is 4-bit NF4


MODES: dict[str, Mode] = {
    "inference": Mode("inference (vLLM: weights and KV cache)", trains=False),
    "full": Mode("full fine-tuning, mixed-precision AdamW", trains=True),
    "lora": Mode("LoRA: frozen weights, AdamW on adapters", trains=True, adapters=True),
    "qlora": Mode(
        "QLoRA: frozen 4-bit NF4 weights, AdamW on adapters",
        trains=True,
        adapters=True,
        quantized=True,
    ),
}


_CHOICES: dict[str, Collection[str]] = {
    "mode": MODES,
    "dtype": DTYPE_BYTES,
    "attention": ("flash", "eager"),
}
