"""Which model to run and how to prompt it: base, chat, or an SFT checkpoint of either.

`model=NAME` reads `models/NAME.yaml`; `model=PATH` uses a Hugging Face model folder directly,
detecting a chat model by the chat template in its tokenizer (overridable with `kind=`).
"""

from __future__ import annotations

import difflib
import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from evalkit.errors import NotFoundError, UsageError
from evalkit.prompts import PromptFormat

ModelKind = Literal["base", "chat", "sft"]
_TOKENIZER_FILES = ("tokenizer.json", "tokenizer.model", "vocab.json", "tokenizer_config.json")


class ModelSpec(BaseModel):
    """A model to evaluate, as declared in models/NAME.yaml or detected from a folder."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[A-Za-z0-9._-]+$", description="Short name shown in reports.")
    path: str = Field(description="Model folder (config.json, weights, tokenizer).")
    kind: ModelKind = Field(description="base, chat, or sft (a fine-tuned checkpoint).")
    starting_point: Literal["base", "chat"] | None = Field(
        default=None, description="For sft: whether it was fine-tuned from a base or chat model."
    )
    starting_model: str | None = Field(
        default=None,
        description="For sft: the name of the model it was fine-tuned from, when the run has "
        "it; its gain and forgetting are measured against that model.",
    )
    prompt_format: PromptFormat | None = Field(
        default=None,
        description="base (completion + few-shot) or chat (chat template); "
        "default follows kind, and for sft the starting point.",
    )
    baseline: str | None = Field(
        default=None, description="Name of the model this one is compared against."
    )
    dtype: str = Field(default="auto", description="Weights dtype for the engine.")
    trust_remote_code: bool = Field(
        default=False, description="Run code shipped with the model. Only for models you trust."
    )
    engine: dict[str, Any] = Field(
        default_factory=dict, description="Extra engine options (e.g. max_model_len)."
    )
    env: dict[str, str] = Field(
        default_factory=dict,
        description="Environment of the model's worker process, set before the engine loads "
        "(e.g. VLLM_ENABLE_V1_MULTIPROCESSING).",
    )

    @model_validator(mode="after")
    def _sft_declares_starting_point(self) -> ModelSpec:
        if self.kind == "sft" and self.starting_point is None:
            raise ValueError("an sft model must declare starting_point: base or chat")
        if self.kind != "sft" and self.starting_point is not None:
            raise ValueError(f"starting_point applies to sft models, not {self.kind}")
        if self.kind != "sft" and self.starting_model is not None:
            raise ValueError(f"starting_model applies to sft models, not {self.kind}")
        return self

    @property
    def effective_prompt_format(self) -> PromptFormat:
        if self.prompt_format is not None:
            return self.prompt_format
        if self.kind == "sft":
            return "chat" if self.starting_point == "chat" else "base"
        return "chat" if self.kind == "chat" else "base"

    @property
    def stage(self) -> str:
        """base, chat, base→sft or chat→sft: the axis of the starting-point comparison."""
        return f"{self.starting_point}→sft" if self.kind == "sft" else self.kind


def chat_template_of(model_dir: Path) -> str | None:
    """The tokenizer's chat template, from tokenizer_config.json or chat_template.jinja."""
    jinja = model_dir / "chat_template.jinja"
    if jinja.is_file():
        return jinja.read_text(encoding="utf-8")
    config = model_dir / "tokenizer_config.json"
    if config.is_file():
        template = json.loads(config.read_text(encoding="utf-8")).get("chat_template")
        if isinstance(template, list):  # named templates: use "default"
            template = next((t["template"] for t in template if t.get("name") == "default"), None)
        return template or None
    return None


def check_model_dir(path: Path) -> None:
    if not path.is_dir():
        raise NotFoundError(f"{path}: no such model folder")
    if not (path / "config.json").is_file():
        raise NotFoundError(f"{path}: no config.json; not a Hugging Face model folder")
    if not any((path / f).is_file() for f in _TOKENIZER_FILES):
        raise NotFoundError(f"{path}: no tokenizer files ({', '.join(_TOKENIZER_FILES)})")


def resolve_model(ref: str, models_dir: Path, kind: ModelKind | None = None) -> ModelSpec:
    """A model config by name, or a model folder by path."""
    config_path = models_dir / f"{ref}.yaml"
    if config_path.is_file():
        try:
            data = yaml.safe_load(config_path.read_text(encoding="utf-8")) or {}
            spec = ModelSpec.model_validate({"name": ref, **data})
        except yaml.YAMLError as e:
            raise UsageError(f"{config_path}: invalid YAML: {e}") from None
        except ValidationError as e:
            first = e.errors(include_url=False)[0]
            where = ".".join(map(str, first["loc"])) or "-"
            raise UsageError(f"{config_path}: {where}: {first['msg']}") from None
        path = Path(spec.path)
        if not path.is_absolute():
            path = (config_path.parent / path).resolve()
        check_model_dir(path)
        return spec.model_copy(update={"path": str(path)})
    path = Path(ref)
    if path.is_dir():
        check_model_dir(path)
        if kind == "sft":
            raise UsageError(
                f"{path}: an sft model must declare its starting point; write "
                f"{models_dir}/NAME.yaml with kind: sft and starting_point: base|chat"
            )
        detected: ModelKind = "chat" if chat_template_of(path) else "base"
        return ModelSpec(name=path.name, path=str(path.resolve()), kind=kind or detected)
    known = sorted(p.stem for p in models_dir.glob("*.yaml")) if models_dir.is_dir() else []
    close = difflib.get_close_matches(ref, known, n=1)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    raise NotFoundError(
        f"unknown model {ref!r}: no {config_path} and no such folder "
        f"(models: {', '.join(known) or 'none'}){hint}"
    )


_FINGERPRINT_FILES = (
    "config.json",
    "generation_config.json",
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "chat_template.jinja",
    "tokenizer.model",
    "vocab.json",
    "merges.txt",
)
_WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".gguf")


def fingerprint_model(path: Path, file_digest: Callable[[Path], str]) -> str:
    """sha256 over the files that decide a model's outputs: config, tokenizer, weights."""
    digest = hashlib.sha256()
    for name in _FINGERPRINT_FILES:
        if (path / name).is_file():
            digest.update(f"{name}\0{file_digest(path / name)}\0".encode())
    weights = sorted(p for p in path.iterdir() if p.suffix in _WEIGHT_SUFFIXES and p.is_file())
    if not weights:
        raise NotFoundError(f"{path}: no weight files ({', '.join(_WEIGHT_SUFFIXES)})")
    for p in weights:
        digest.update(f"{p.name}\0{file_digest(p)}\0".encode())
    return "sha256:" + digest.hexdigest()
