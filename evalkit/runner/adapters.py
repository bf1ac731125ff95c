"""LoRA adapters as models: `model=BASE+ADAPTER`, checked against their base before any engine.

An adapter folder is what PEFT's `save_pretrained` writes: `adapter_config.json` and
`adapter_model.safetensors` (or `.bin`). It runs on its base model's engine (vLLM's LoRA
support, one engine for the base and all its adapters; PEFT on the transformers engine), so it
is fingerprinted apart from its base and the pair makes the model's fingerprint.

An adapter trained for another base is refused up front: every LoRA matrix pair must match the
shape of the base weight it adapts (read from the safetensors headers, no weights loaded).
"""

from __future__ import annotations

import hashlib
import json
import struct
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from evalkit.errors import NotFoundError, UsageError
from evalkit.files import bad, read_json, validate

ADAPTER_CONFIG = "adapter_config.json"
ADAPTER_WEIGHTS = ("adapter_model.safetensors", "adapter_model.bin")
# vLLM compiles LoRA kernels for these ranks only (vllm.config.lora.MaxLoRARanks).
VLLM_LORA_RANKS = (1, 8, 16, 32, 64, 128, 256, 320, 512)
_MAX_HEADER_BYTES = 100 << 20


class AdapterConfig(BaseModel):
    """What evalkit reads of a PEFT adapter_config.json."""

    model_config = ConfigDict(extra="allow")

    peft_type: str
    r: int
    base_model_name_or_path: str | None = None
    target_modules: list[str] | str | None = None
    modules_to_save: list[str] | None = None

    @property
    def changes_lm_head(self) -> bool:
        """Whether the adapter changes the output layer (as a LoRA target or a saved copy)."""
        targets = self.target_modules or []
        named = [targets] if isinstance(targets, str) else targets
        return any("lm_head" in name for name in [*named, *(self.modules_to_save or [])])

    use_dora: bool = False


def is_adapter_dir(path: Path) -> bool:
    return (path / ADAPTER_CONFIG).is_file()


def read_adapter_config(path: Path) -> AdapterConfig:
    """The adapter's config, checked: a LoRA adapter with its weights."""
    if not path.is_dir():
        raise NotFoundError(f"{path}: no such adapter folder")
    config_file = path / ADAPTER_CONFIG
    if not config_file.is_file():
        raise NotFoundError(f"{path}: no {ADAPTER_CONFIG}; not a PEFT adapter folder")
    config = validate(AdapterConfig, read_json(config_file, "adapter config"), config_file)
    if config.peft_type.upper() != "LORA":
        reason = f"a {config.peft_type} adapter; evalkit runs LoRA adapters"
        raise bad(config_file, reason, "peft_type")
    if config.use_dora:
        raise bad(config_file, "a DoRA adapter; vLLM and evalkit run plain LoRA", "use_dora")
    if not any((path / name).is_file() for name in ADAPTER_WEIGHTS):
        raise NotFoundError(f"{path}: no adapter weights ({', '.join(ADAPTER_WEIGHTS)})")
    return config


def vllm_lora_rank(ranks: list[int]) -> int:
    """The smallest rank vLLM accepts as `max_lora_rank` that holds every adapter's."""
    top = max(ranks)
    for rank in VLLM_LORA_RANKS:
        if rank >= top:
            return rank
    raise UsageError(f"a LoRA rank of {top} is above vLLM's largest ({VLLM_LORA_RANKS[-1]})")


def safetensors_shapes(path: Path) -> dict[str, tuple[int, ...]]:
    """Tensor name → shape, from a safetensors file's header (no tensor is read)."""
    with path.open("rb") as f:
        prefix = f.read(8)
        if len(prefix) != 8:
            raise bad(path, "not a safetensors file (shorter than its header)")
        (size,) = struct.unpack("<Q", prefix)
        if size > _MAX_HEADER_BYTES:
            raise bad(path, "not a safetensors file (header size out of range)")
        try:
            header = json.loads(f.read(size))
        except (UnicodeDecodeError, ValueError):
            raise bad(path, "not a safetensors file (its header is not JSON)") from None
    if not isinstance(header, dict):
        raise bad(path, "not a safetensors file (its header is not an object)")
    return {
        name: tuple(entry["shape"])
        for name, entry in header.items()
        if name != "__metadata__" and isinstance(entry, dict) and "shape" in entry
    }


def _base_shapes(base: Path) -> dict[str, tuple[int, ...]] | None:
    files = sorted(base.glob("*.safetensors"))
    if not files:
        return None  # .bin weights only: shapes unknown without loading them
    shapes: dict[str, tuple[int, ...]] = {}
    for file in files:
        shapes.update(safetensors_shapes(file))
    return shapes


def _adapted_modules(shapes: dict[str, tuple[int, ...]]) -> dict[str, tuple[int, int, int]]:
    """Module → (out, in, rank) from lora_A [rank, in] and lora_B [out, rank] pairs."""
    modules: dict[str, dict[str, tuple[int, ...]]] = {}
    for name, shape in shapes.items():
        for part in ("lora_A", "lora_B"):
            marker = f".{part}."
            if marker in name and name.endswith(".weight") and len(shape) == 2:
                module = name.split(marker)[0].removeprefix("base_model.model.")
                modules.setdefault(module, {})[part] = shape
    return {
        m: (p["lora_B"][0], p["lora_A"][1], p["lora_A"][0])
        for m, p in modules.items()
        if "lora_A" in p and "lora_B" in p
    }


def check_adapter_fits(adapter: Path, base: Path, setting: str) -> None:
    """Every module the adapter changes exists in the base with the shape it was trained on."""
    weights = adapter / ADAPTER_WEIGHTS[0]
    base_shapes = _base_shapes(base)
    if not weights.is_file() or base_shapes is None:
        return  # .bin on either side: the engine checks when it loads
    modules = _adapted_modules(safetensors_shapes(weights))
    if not modules:
        raise bad(weights, "no LoRA weights (lora_A/lora_B pairs) in the adapter")
    trained_for = read_adapter_config(adapter).base_model_name_or_path
    hint = f" (its config names {trained_for} as its base)" if trained_for else ""
    for module, (out, inp, _) in sorted(modules.items()):
        shape = base_shapes.get(f"{module}.weight")
        if shape is None:
            raise UsageError(
                f"{setting}: adapter {adapter} is for another base model: it changes {module}, "
                f"which {base} does not have{hint}"
            )
        if tuple(shape) != (out, inp):
            raise UsageError(
                f"{setting}: adapter {adapter} is for another base model: {module} is "
                f"{out}x{inp} in the adapter, {shape[0]}x{shape[1]} in {base}{hint}"
            )


def fingerprint_adapter(path: Path, file_digest: Callable[[Path], str]) -> str:
    """sha256 over the adapter's config and weights."""
    digest = hashlib.sha256()
    for name in (ADAPTER_CONFIG, *ADAPTER_WEIGHTS):
        if (path / name).is_file():
            digest.update(f"{name}\0{file_digest(path / name)}\0".encode())
    return "sha256:" + digest.hexdigest()


def combined_fingerprint(base: str, adapter: str) -> str:
    """The fingerprint of a base model with an adapter on it: what its outputs depend on."""
    return "sha256:" + hashlib.sha256(f"{base}\0lora\0{adapter}".encode()).hexdigest()


def fingerprint_record(
    model_path: Path, adapter: Path | None, file_digest: Callable[[Path], str]
) -> dict[str, Any]:
    """`fingerprint` (the cache key's), and for an adapter the base's and adapter's apart."""
    from evalkit.runner.models import fingerprint_model

    base = fingerprint_model(model_path, file_digest)
    if adapter is None:
        return {"fingerprint": base}
    own = fingerprint_adapter(adapter, file_digest)
    return {
        "fingerprint": combined_fingerprint(base, own),
        "base_fingerprint": base,
        "adapter_fingerprint": own,
    }
