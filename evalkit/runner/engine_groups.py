"""Which models share one engine: a base model and the LoRA adapters run on it.

vLLM serves many adapters on one base engine (and the transformers engine, through PEFT), so
an engine start (tens of seconds, minutes for a large model) is paid once per base rather than
once per checkpoint. Models share an engine only when everything the engine is built from is
the same: weights folder, dtype, engine options, environment and trust_remote_code.
"""

from __future__ import annotations

import json

from evalkit.backends.base import serves_adapters
from evalkit.errors import UsageError
from evalkit.runner.models import ModelSpec


def engine_key(model: ModelSpec) -> str:
    """What an engine is built from; models with equal keys can share one."""
    built_from = {
        "path": model.path,
        "dtype": model.dtype,
        "engine": model.engine,
        "env": model.env,
        "trust_remote_code": model.trust_remote_code,
    }
    return json.dumps(built_from, sort_keys=True, ensure_ascii=False)


def check_adapters_supported(models: list[ModelSpec], backend: str) -> None:
    """Adapters on a backend that cannot serve them fail before any work."""
    adapters = [m.name for m in models if m.adapter is not None]
    if adapters and not serves_adapters(backend):
        raise UsageError(
            f"backend={backend} cannot run LoRA adapters ({', '.join(adapters)}); "
            "use backend=vllm or backend=hf"
        )


def engine_groups(models: list[ModelSpec], backend: str) -> list[list[int]]:
    """Indices of `models` by engine, in order of first appearance: an adapter joins its
    base's engine (as does the base model itself, when the run has it); any other model has an
    engine of its own."""
    if not serves_adapters(backend):
        return [[i] for i in range(len(models))]
    with_adapters = {engine_key(m) for m in models if m.adapter is not None}
    groups: dict[str, list[int]] = {}
    for i, model in enumerate(models):
        key = engine_key(model)
        groups.setdefault(key if key in with_adapters else f"alone:{i}", []).append(i)
    return list(groups.values())
