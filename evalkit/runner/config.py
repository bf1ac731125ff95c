"""The run configuration: one pydantic model, composed from a YAML file and CLI overrides.

Overrides use Hydra's grammar (`suite=[legal,general] seed=1`), parsed by OmegaConf; the
merged result is validated by `RunConfig` (unknown keys, types and ranges), and recorded in
the run manifest exactly as used.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any, Literal, TypeVar

import yaml
from pydantic import ConfigDict, Field, ValidationError, field_validator

from evalkit.errors import UsageError
from evalkit.metrics.selection import ScoringConfig

C = TypeVar("C", bound=ScoringConfig)


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
    fewshot: int | None = Field(
        default=None, ge=0, le=32, description="Override the suite's few-shot count."
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
    cache: str = Field(
        default=".evalkit/cache.sqlite", description="Generation cache file ('' disables)."
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
    chunk_size: int = Field(
        default=256,
        ge=1,
        le=100_000,
        description="Requests per engine call; results are saved after each, so a killed run "
        "resumes from the last chunk.",
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
    rows = []
    # The run's own keys first, then the scoring keys it shares with `evalkit score`.
    fields = sorted(
        RunConfig.model_fields.items(), key=lambda f: f[0] in ScoringConfig.model_fields
    )
    for name, field in fields:
        default = (
            "(required)"
            if field.is_required()
            else repr(field.get_default(call_default_factory=True))
        )
        rows.append((name, default, field.description or ""))
    return rows


def _explain(error: ValidationError, schema: type[ScoringConfig], command: str) -> str:
    known = list(schema.model_fields)
    messages = []
    for err in error.errors(include_url=False):
        key = ".".join(str(p) for p in err["loc"]) or "-"
        if err["type"] == "extra_forbidden":
            close = difflib.get_close_matches(key, known, n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            messages.append(f"unknown key '{key}'{hint} (see evalkit {command} --help)")
        elif err["type"] == "missing":
            messages.append(f"missing {key}=... (required)")
        else:
            messages.append(
                f"{key}={err.get('input')!r}: {err['msg'].removeprefix('Value error, ')}"
            )
    return "; ".join(messages)


def compose_run_config(overrides: list[str], config_file: Path | None = None) -> RunConfig:
    """Merge defaults < config file < KEY=VALUE overrides, then validate. The one merge point."""
    return compose_config(RunConfig, overrides, config_file, command="run")


def compose_config(
    schema: type[C],
    overrides: list[str],
    config_file: Path | None = None,
    command: str = "run",
    base: dict[str, Any] | None = None,
) -> C:
    """Merge `base` < a YAML file < KEY=VALUE overrides (OmegaConf); validate with `schema`."""
    from omegaconf import OmegaConf
    from omegaconf.errors import GrammarParseError, OmegaConfBaseException

    layers = [OmegaConf.create(base)] if base else []
    if config_file is not None:
        if not config_file.is_file():
            raise UsageError(f"{config_file}: no such config file")
        try:
            layers.append(OmegaConf.load(config_file))
        except (OmegaConfBaseException, ValueError) as e:
            raise UsageError(f"{config_file}: cannot read config: {e}") from None
    for override in overrides:
        if "=" not in override or override.startswith("="):
            raise UsageError(f"bad argument {override!r}: expected KEY=VALUE, e.g. suite=legal")
        try:  # one at a time, so that the message names the bad one
            layers.append(OmegaConf.from_dotlist([override]))
        except (yaml.YAMLError, GrammarParseError, OmegaConfBaseException) as e:
            reason = str(e).strip().splitlines()[0]
            raise UsageError(f"cannot parse {override!r}: {reason}") from None
    try:
        merged = OmegaConf.to_container(OmegaConf.merge(*layers), resolve=True) if layers else {}
    except OmegaConfBaseException as e:
        raise UsageError(f"cannot merge configuration: {str(e).splitlines()[0]}") from None
    try:
        return schema.model_validate(merged)
    except ValidationError as e:
        raise UsageError(_explain(e, schema, command)) from None
