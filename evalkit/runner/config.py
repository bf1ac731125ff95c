"""The run configuration: one pydantic model, composed from a YAML file and CLI overrides.

Overrides use Hydra's grammar (`suite=[legal,general] seed=1`), parsed by OmegaConf; the
merged result is validated by `RunConfig` (unknown keys, types and ranges), and recorded in
the run manifest exactly as used.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import ConfigDict, Field, field_validator

from evalkit.history.gate_config import StoredGateConfig
from evalkit.judging.config import JudgeConfig
from evalkit.overrides import compose_config, keys_help
from evalkit.scaleout.config import EngineParallelConfig, RayConfig
from evalkit.scoring.config import ScoringConfig
from evalkit.sensitivity.config import PromptVariantsConfig


class RunConfig(ScoringConfig):
    """Everything `evalkit run` accepts as KEY=VALUE (the scoring keys come from ScoringConfig)."""

    model_config = ConfigDict(extra="forbid")

    suite: list[str] = Field(min_length=1, description="Suites: NAME, NAME@VERSION, or a list.")
    model: list[str] = Field(
        min_length=1, description="Models: a config name in models_dir, a model folder, or a list."
    )
    backend: str = Field(default="vllm", description="Engine: vllm, hf or openai.")
    seed: int = Field(default=0, ge=0, description="Seed for sampling and exemplar choice.")
    max_new_tokens: int = Field(default=256, ge=1, le=32768, description="Tokens per answer.")
    temperature: float = Field(default=0.0, ge=0.0, le=5.0, description="0 means greedy.")
    top_p: float = Field(default=1.0, gt=0.0, le=1.0, description="Nucleus sampling mass.")
    limit: int | None = Field(default=None, ge=1, description="First N test items per suite.")
    tags: list[str] = Field(default_factory=list, description="Only items with any of these tags.")
    subset: str | None = Field(
        default=None,
        description="An anchor subset file (evalkit suite subset): run only its items and "
        "report each model's estimated full-suite score beside the subset's validated error.",
    )
    fewshot: int | None = Field(
        default=None, ge=0, le=32, description="Override the suite's few-shot count."
    )
    truncate: bool = Field(
        default=False,
        description="Cut an item's long text to fit the model's context (after dropping "
        "few-shot exemplars), from the end the suite's task allows (truncate_from).",
    )
    mcq_mode: Literal["generate", "loglikelihood", "both"] = Field(
        default="generate",
        description="Score mcq/classification by generation, option log-likelihood, or both.",
    )
    kind: Literal["base", "chat", "sft"] | None = Field(
        default=None, description="Override the detected kind of models given as paths."
    )
    dtype: str = Field(default="auto", description="Weights dtype: auto, float32, bfloat16...")
    out: str = Field(default="reports", description="Folder for run outputs.")
    run_id: str | None = Field(
        default=None, pattern=r"^[A-Za-z0-9._-]+$", description="Run folder name (default: time)."
    )
    cache: str | None = Field(
        default=".evalkit/cache.sqlite",
        description="Generation cache file ('' or nothing: a cache of this run's own only).",
    )
    models_dir: str = Field(default="models", description="Folder of model configs (NAME.yaml).")
    suites_dir: str = Field(default="suites", description="Folder of published suites.")
    base_url: str | None = Field(default=None, description="Server URL for backend=openai.")
    concurrency: int = Field(default=8, ge=1, le=256, description="Parallel requests (openai).")
    baseline: str | None = Field(
        default=None, description="Model the others are compared with (default: the base model)."
    )
    resamples: int = Field(default=1000, ge=100, le=100_000, description="Bootstrap resamples.")
    fail_on_regression: float | None = Field(
        default=None,
        ge=0.0,
        le=1.0,
        description="Exit non-zero if a model is significantly worse than the baseline by more "
        "than this on any suite.",
    )
    gate: StoredGateConfig = Field(
        default_factory=StoredGateConfig,
        description="Gate against a stored run: gate.baseline_run=RUN or gate.baseline=TAG "
        "(with gate.model=NAME); fails beyond fail_on_regression (default 0). See docs/history.md.",
    )
    prompts: PromptVariantsConfig = Field(
        default_factory=PromptVariantsConfig,
        description="Prompt sensitivity: prompts.variants=K runs every item under K wordings "
        "and MCQ option orders (see docs/scoring.md).",
    )
    judge: JudgeConfig = Field(
        default_factory=JudgeConfig,
        description="An LLM judge of open-ended answers: judge.model=NAME, judge.mode=rubric|"
        "pairwise|both, judge.reference=MODEL (see docs/judging.md).",
    )
    chunk_size: int = Field(
        default=256,
        ge=1,
        le=100_000,
        description="Requests per batch call of backends that take batches (hf, openai). vLLM "
        "is fed request by request; results are saved as they finish either way.",
    )
    engine: EngineParallelConfig = Field(
        default_factory=EngineParallelConfig,
        description="Parallel engines: engine.replicas=N (on Ray), engine.tensor_parallel=N, "
        "engine.pipeline_parallel=N (see docs/scale-out.md).",
    )
    ray: RayConfig = Field(
        default_factory=RayConfig,
        description="The Ray cluster of the replicas: ray.address=auto|local|HOST:PORT.",
    )

    @field_validator("suite", "model", "tags", mode="before")
    @classmethod
    def _one_or_many(cls, v: Any) -> Any:
        return [v] if isinstance(v, str) else v

    @field_validator("suite", "model")
    @classmethod
    def _unique(cls, v: list[str]) -> list[str]:
        if len(set(v)) != len(v):
            raise ValueError("names repeat")
        return v


def config_help() -> list[tuple[str, str, str]]:
    """(key, default, description) for every key, for `evalkit run --help`."""
    # The run's own keys first, then the scoring keys it shares with `evalkit score`.
    return keys_help(RunConfig, last=ScoringConfig.model_fields)


def compose_run_config(overrides: list[str], config_file: Path | None = None) -> RunConfig:
    """Merge defaults < config file < KEY=VALUE overrides, then validate (see evalkit.overrides)."""
    return compose_config(RunConfig, overrides, config_file, command="run")
