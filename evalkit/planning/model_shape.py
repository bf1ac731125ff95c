"""A dense decoder's shape, read from its config.json alone (no weights), and its parameters.

Llama-style models (Llama, Mistral, Qwen2, Qwen3) share one layout: token embeddings; per
layer an RMSNorm, attention with q/k/v/o projections (grouped-query attention when
`num_key_value_heads` < `num_attention_heads`), an RMSNorm and a SwiGLU MLP of three matrices
(gate, up, down); a final RMSNorm; an output projection unless `tie_word_embeddings`. The
families differ only in biases and per-head norms (`FAMILIES`). The count is exact: it equals
the parameters of the transformers model built from the same config.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, PositiveInt, ValidationError

from evalkit.errors import NotFoundError, ProblemsFound, UsageError

MAX_CONFIG_BYTES = 16 << 20  # a config.json is a few KB
# config.json keys that mark a mixture-of-experts model (Mixtral, Qwen-MoE, DeepSeek)
_MOE_KEYS = ("num_local_experts", "num_experts", "n_routed_experts", "moe_intermediate_size")


@dataclass(frozen=True)
class Family:
    """How a model_type departs from the plain Llama layout."""

    qkv_bias: bool = False  # q, k and v projections always have biases (Qwen2)
    bias_key: str | None = None  # config key that gives q, k, v and o biases ("attention_bias")
    mlp_bias_key: str | None = None  # config key that gives the MLP's matrices biases
    qk_norm: bool = False  # an RMSNorm over head_dim on queries and on keys (Qwen3)


FAMILIES: dict[str, Family] = {
    "llama": Family(bias_key="attention_bias", mlp_bias_key="mlp_bias"),
    "mistral": Family(),
    "qwen2": Family(qkv_bias=True),
    "qwen3": Family(bias_key="attention_bias", qk_norm=True),
}


class _ConfigJson(BaseModel):
    """What the plan reads of a config.json; absent optional keys take transformers'
    defaults for these families."""

    model_config = ConfigDict(extra="allow")

    model_type: str
    hidden_size: PositiveInt
    num_hidden_layers: PositiveInt
    num_attention_heads: PositiveInt
    num_key_value_heads: PositiveInt | None = None
    head_dim: PositiveInt | None = None
    intermediate_size: PositiveInt
    vocab_size: PositiveInt
    tie_word_embeddings: bool = False
    max_position_embeddings: PositiveInt | None = None


@dataclass(frozen=True)
class ModelShape:
    """The dimensions that decide a dense decoder's memory."""

    model_type: str
    hidden_size: int
    num_layers: int
    num_heads: int
    num_kv_heads: int
    head_dim: int
    intermediate_size: int
    vocab_size: int
    tied_embeddings: bool
    max_position_embeddings: int | None
    qkv_bias: bool = False
    o_bias: bool = False
    mlp_bias: bool = False
    qk_norm: bool = False

    @property
    def linear_shapes(self) -> dict[str, tuple[int, int]]:
        """Each linear layer of one decoder layer: (in features, out features)."""
        h, q, kv, i = (
            self.hidden_size,
            self.num_heads * self.head_dim,
            self.num_kv_heads * self.head_dim,
            self.intermediate_size,
        )
        return {
            "q_proj": (h, q),
            "k_proj": (h, kv),
            "v_proj": (h, kv),
            "o_proj": (q, h),
            "gate_proj": (h, i),
            "up_proj": (h, i),
            "down_proj": (i, h),
        }

    @property
    def biased(self) -> dict[str, bool]:
        """Which of one layer's linear layers have a bias."""
        attention = {"q_proj": self.qkv_bias, "k_proj": self.qkv_bias, "v_proj": self.qkv_bias}
        mlp = dict.fromkeys(("gate_proj", "up_proj", "down_proj"), self.mlp_bias)
        return {**attention, "o_proj": self.o_bias, **mlp}

    def linear_parameters(self) -> dict[str, int]:
        """Parameters of each linear layer of one decoder layer: weights and bias."""
        biased = self.biased
        return {
            name: n_in * n_out + (n_out if biased[name] else 0)
            for name, (n_in, n_out) in self.linear_shapes.items()
        }

    def linear_weights(self) -> int:
        """Weight-matrix entries of one layer's linear layers (what 4-bit QLoRA quantizes)."""
        return sum(n_in * n_out for n_in, n_out in self.linear_shapes.values())

    def layer_parameters(self) -> int:
        """One decoder layer: linear layers, two RMSNorms (and Qwen3's q/k norms)."""
        norms = 2 * self.hidden_size + (2 * self.head_dim if self.qk_norm else 0)
        return sum(self.linear_parameters().values()) + norms

    def embedding_parameters(self) -> int:
        """Token embeddings plus the output projection when it is not tied to them."""
        return self.vocab_size * self.hidden_size * (1 if self.tied_embeddings else 2)

    def parameter_count(self) -> int:
        """Every parameter: embeddings, layers, final norm, output projection (if untied)."""
        layers = self.num_layers * self.layer_parameters()
        return self.embedding_parameters() + layers + self.hidden_size

    def largest_module_parameters(self) -> int:
        """The most parameters one module holds itself (an embedding, or a linear layer):
        the `largest_layer_params` of DeepSpeed's ZeRO-3 estimator."""
        return max(self.vocab_size * self.hidden_size, *self.linear_parameters().values())


def _one_line(error: ValidationError, path: Path) -> str:
    missing = [str(e["loc"][0]) for e in error.errors() if e["type"] == "missing"]
    others = [
        f"{'.'.join(str(p) for p in e['loc'])}={e.get('input')!r}: {e['msg']}"
        for e in error.errors()
        if e["type"] != "missing"
    ]
    needs = "the memory plan needs them" if len(missing) > 1 else "the memory plan needs it"
    parts = [f"missing {', '.join(missing)} ({needs})"] if missing else []
    return f"{path}: {'; '.join(parts + others)}"


def shape_from_config(data: Any, path: Path) -> ModelShape:
    """A validated shape from a parsed config.json; every problem on one line."""
    if not isinstance(data, dict):
        raise UsageError(f"{path}: expected a JSON object, as in a model's config.json")
    moe = [key for key in _MOE_KEYS if data.get(key)]
    if moe or "moe" in str(data.get("model_type", "")):
        what = f"{moe[0]}={data[moe[0]]}" if moe else f"model_type={data['model_type']}"
        raise UsageError(
            f"{path}: a mixture-of-experts model ({what}); plan memory covers dense models"
        )
    try:
        config = _ConfigJson.model_validate(data)
    except ValidationError as e:
        raise UsageError(_one_line(e, path)) from None
    family = FAMILIES.get(config.model_type)
    if family is None:
        raise UsageError(
            f"{path}: model_type={config.model_type!r} is not supported; "
            f"plan memory knows {', '.join(FAMILIES)}"
        )
    heads = config.num_attention_heads
    kv_heads = config.num_key_value_heads or heads
    if config.head_dim is None and config.hidden_size % heads:
        raise UsageError(
            f"{path}: hidden_size={config.hidden_size} is not a multiple of "
            f"num_attention_heads={heads}, and there is no head_dim"
        )
    if heads % kv_heads:
        raise UsageError(
            f"{path}: num_attention_heads={heads} is not a multiple of "
            f"num_key_value_heads={kv_heads}"
        )
    bias = bool(data.get(family.bias_key)) if family.bias_key else False
    return ModelShape(
        model_type=config.model_type,
        hidden_size=config.hidden_size,
        num_layers=config.num_hidden_layers,
        num_heads=heads,
        num_kv_heads=kv_heads,
        head_dim=config.head_dim or config.hidden_size // heads,
        intermediate_size=config.intermediate_size,
        vocab_size=config.vocab_size,
        tied_embeddings=config.tie_word_embeddings,
        max_position_embeddings=config.max_position_embeddings,
        qkv_bias=family.qkv_bias or bias,
        o_bias=bias,
        mlp_bias=bool(data.get(family.mlp_bias_key)) if family.mlp_bias_key else False,
        qk_norm=family.qk_norm,
    )


def read_model_shape(path: Path) -> ModelShape:
    """The shape of the model whose config.json is at `path`."""
    from evalkit.files import read_json

    try:
        data = read_json(path, "model config", MAX_CONFIG_BYTES)
    except ProblemsFound as e:  # one located line, like every other bad input here
        raise UsageError(str(e.problems[0]) if e.problems else str(e)) from None
    return shape_from_config(data, path)


def find_config_json(model: str, models_dir: Path) -> Path:
    """The config.json of MODEL: models_dir/MODEL.yaml's folder, a model folder, or the
    config.json file itself."""
    if "\0" in model:
        raise UsageError(f"model {model!r}: contains a NUL character")
    path = Path(model)
    if not (models_dir / f"{model}.yaml").is_file():
        if path.is_file():
            return path
        if path.is_dir():
            if not (path / "config.json").is_file():
                raise NotFoundError(f"{path}: no config.json; not a Hugging Face model folder")
            return path / "config.json"
    from evalkit.runner.models import resolve_model  # a name, or an unknown model's hint

    return Path(resolve_model(model, models_dir).path) / "config.json"
