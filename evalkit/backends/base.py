"""The engine interface: a batch of requests in, a batch of results out.

Kept narrow on purpose so that another engine (a server, a Ray cluster) slots in: a backend
is registered by name with `@backend("name")` on a factory taking the model and options.
"""

from __future__ import annotations

import difflib
import inspect
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol, runtime_checkable

from evalkit.errors import UsageError
from evalkit.prompts import Prompt
from evalkit.runner.models import ModelSpec


@dataclass(frozen=True)
class Sampling:
    """Decoding parameters; always explicit, never the engine's or checkpoint's defaults."""

    max_new_tokens: int = 256
    temperature: float = 0.0
    top_p: float = 1.0
    seed: int = 0
    stop: tuple[str, ...] = ()
    # A JSON schema (as canonical JSON text) the output is constrained to, where the engine
    # can (vLLM's structured outputs; an OpenAI-compatible server's response_format).
    json_schema: str | None = None

    def as_dict(self) -> dict[str, Any]:
        record = {**asdict(self), "stop": list(self.stop)}
        if self.json_schema is None:  # left out: keys of unconstrained requests stay as they were
            record.pop("json_schema")
        return record


@dataclass(frozen=True)
class GenerationRequest:
    prompt: Prompt
    sampling: Sampling
    adapter: str | None = None  # a LoRA adapter folder (one of BackendOptions.adapters)


@dataclass(frozen=True)
class Generation:
    text: str
    prompt_tokens: int
    output_tokens: int
    finish_reason: str  # "stop", "length", ...
    # Streamed (vLLM): from when the request entered the engine to when it finished, queueing
    # included. Batch calls: the batch's wall time shared out per output token.
    seconds: float
    token_ids: list[int] = field(default_factory=list)  # generated ids, EOS/stop token included


@dataclass(frozen=True)
class LoglikelihoodRequest:
    """Score `continuation` after `context` (a base prompt's text or a chat prompt)."""

    prompt: Prompt
    continuation: str
    adapter: str | None = None  # a LoRA adapter folder (one of BackendOptions.adapters)


@dataclass(frozen=True)
class Loglikelihood:
    logprob: float  # sum over the continuation's tokens
    tokens: int  # number of continuation tokens
    greedy: bool  # whether every continuation token was the argmax


class RequestRejected(RuntimeError):
    """The engine refused a request (too long, malformed): that item fails, the run goes on."""


@dataclass(frozen=True)
class BackendOptions:
    """Run-level options every backend receives."""

    seed: int = 0
    base_url: str | None = None
    concurrency: int = 8
    extra: dict[str, Any] = field(default_factory=dict)
    # LoRA adapter folders the engine serves besides its base model, by backends that can.
    adapters: tuple[str, ...] = ()


@runtime_checkable
class Backend(Protocol):
    def generate(self, requests: Sequence[GenerationRequest]) -> list[Generation]: ...

    def loglikelihood(self, requests: Sequence[LoglikelihoodRequest]) -> list[Loglikelihood]: ...

    def describe(self) -> dict[str, Any]:
        """Engine name, versions and the effective chat template, for the run manifest."""
        ...


BackendFactory = Callable[[ModelSpec, BackendOptions], Backend]
_REGISTRY: dict[str, BackendFactory] = {}
_SERVES_ADAPTERS: set[str] = set()


def backend(name: str, adapters: bool = False) -> Callable[[BackendFactory], BackendFactory]:
    """Register a backend factory under `name`; its signature is checked at decoration time.
    `adapters`: the engine serves LoRA adapters on its base model (BackendOptions.adapters)."""

    def register(factory: BackendFactory) -> BackendFactory:
        params = list(inspect.signature(factory).parameters)
        if len(params) != 2:
            raise TypeError(
                f"backend {name!r}: factory must take (model: ModelSpec, options: BackendOptions), "
                f"got ({', '.join(params)})"
            )
        if name in _REGISTRY:
            raise TypeError(f"backend {name!r} is already registered")
        _REGISTRY[name] = factory
        if adapters:
            _SERVES_ADAPTERS.add(name)
        return factory

    return register


def backend_names() -> list[str]:
    _load_builtin()
    return sorted(_REGISTRY)


def get_backend(name: str) -> BackendFactory:
    """The factory registered as `name`; an unknown name suggests the closest."""
    _load_builtin()
    if name not in _REGISTRY:
        close = difflib.get_close_matches(name, list(_REGISTRY), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise UsageError(
            f"unknown backend {name!r}{hint} (backends: {', '.join(sorted(_REGISTRY))})"
        )
    return _REGISTRY[name]


def serves_adapters(name: str) -> bool:
    """Whether backend `name` runs LoRA adapters (one engine for a base and its adapters)."""
    get_backend(name)
    return name in _SERVES_ADAPTERS


def _load_builtin() -> None:
    # Importing the modules registers them; the engines themselves load only when a factory runs.
    from evalkit.backends import hf, openai_server, vllm_engine  # noqa: F401
