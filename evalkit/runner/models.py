"""Which model to run and how to prompt it: base, chat, or an SFT checkpoint of either.

`model=NAME` reads `models/NAME.yaml`; `model=PATH` uses a Hugging Face model folder directly,
detecting a chat model by the chat template in its tokenizer (overridable with `kind=`).
"""

from __future__ import annotations

import difflib
import hashlib
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from evalkit.errors import ConfigProblems, NotFoundError, ProblemsFound, UsageError
from evalkit.files import bad, expect_object, kind_of, read_json, read_text, read_yaml, validate
from evalkit.prompts import PromptFormat

ModelKind = Literal["base", "chat", "sft"]
_TOKENIZER_FILES = ("tokenizer.json", "tokenizer.model", "vocab.json", "tokenizer_config.json")
# JSON files of a model folder that the engines parse; a corrupt one is found before they start.
_JSON_CONFIGS = (
    "config.json",
    "generation_config.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "tokenizer.json",
)
MAX_CONFIG_BYTES = 256 << 20  # tokenizer.json of a large vocabulary is tens of MB


class ModelSpec(BaseModel):
    """A model to evaluate, as declared in models/NAME.yaml or detected from a folder."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[A-Za-z0-9._-]+$", description="Short name shown in reports.")
    path: str = Field(default="", description="Model folder (config.json, weights, tokenizer).")
    adapter: str | None = Field(
        default=None,
        description="A LoRA adapter folder (PEFT) run on the model at path: the model is the "
        "base with this adapter (see runner.adapters).",
    )
    sweep: str | None = Field(
        default=None,
        description="Instead of path: a glob of checkpoint folders (relative to this file); "
        "the config stands for each, ordered by training step (see runner.sweeps). With "
        "path: a glob of LoRA adapter folders for the model at path.",
    )
    sweep_of: str | None = Field(
        default=None, description="Set by expansion: the sweep (config or glob) it belongs to."
    )
    step: int | None = Field(default=None, description="Set by expansion: the training step.")
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
    def _path_or_sweep(self) -> ModelSpec:
        if self.sweep is not None and self.adapter is not None:
            raise ValueError("give adapter or sweep, not both")
        if not self.path and (self.sweep is None or self.adapter is not None):
            raise ValueError("path: required (or sweep: a glob of checkpoint folders)")
        return self

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


class _CheckpointConfig(BaseModel):
    """What evalkit reads of a checkpoint's config.json (its context length, see fitting)."""

    model_config = ConfigDict(extra="allow")

    text_config: dict[str, Any] | None = None


class _NamedTemplate(BaseModel):
    """One entry of a tokenizer config's list of named chat templates."""

    name: str
    template: str


class _TokenizerConfig(BaseModel):
    """What evalkit reads of a tokenizer_config.json: the chat template, if any."""

    model_config = ConfigDict(extra="allow")

    chat_template: Any = None

    @field_validator("chat_template")
    @classmethod
    def _template(cls, v: Any) -> str | list[_NamedTemplate] | None:
        if v is None or isinstance(v, str):
            return v
        if isinstance(v, list) and all(isinstance(t, dict) for t in v):
            try:
                return [_NamedTemplate.model_validate(t) for t in v]
            except ValidationError:
                pass
        raise ValueError(f"expected text or a list of {{name, template}} objects, got {kind_of(v)}")


def _read_tokenizer_config(path: Path) -> _TokenizerConfig:
    data = read_json(path, "tokenizer config", MAX_CONFIG_BYTES)
    return validate(_TokenizerConfig, data, path)


def chat_template_of(model_dir: Path) -> str | None:
    """The tokenizer's chat template, from tokenizer_config.json or chat_template.jinja."""
    jinja = model_dir / "chat_template.jinja"
    if jinja.is_file():
        return read_text(jinja, "chat template", MAX_CONFIG_BYTES)
    config = model_dir / "tokenizer_config.json"
    if config.is_file():
        template = _read_tokenizer_config(config).chat_template
        if isinstance(template, list):  # named templates: use "default"
            template = next((t.template for t in template if t.name == "default"), None)
        return template or None
    return None


def check_model_dir(path: Path) -> None:
    """A Hugging Face model folder whose configs evalkit and the engines read are readable:
    a corrupt one fails here, in one line, before any engine starts."""
    if not path.is_dir():
        raise NotFoundError(f"{path}: no such model folder")
    if not (path / "config.json").is_file():
        raise NotFoundError(f"{path}: no config.json; not a Hugging Face model folder")
    if not any((path / f).is_file() for f in _TOKENIZER_FILES):
        raise NotFoundError(f"{path}: no tokenizer files ({', '.join(_TOKENIZER_FILES)})")
    for name in _JSON_CONFIGS:
        if (path / name).is_file():
            data = read_json(path / name, "model config", MAX_CONFIG_BYTES)
            if name == "config.json":
                validate(_CheckpointConfig, data, path / name)
            else:
                expect_object(data, path / name)
    _check_chat_template(path)
    _check_tokenizer(path / "tokenizer.json")


def _check_chat_template(model_dir: Path) -> None:
    """The chat template parses as Jinja (the engines render it; a syntax error there would
    come after the engine started)."""
    from jinja2 import TemplateSyntaxError
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    template = chat_template_of(model_dir)
    if template is None:
        return
    jinja = model_dir / "chat_template.jinja"
    source = jinja if jinja.is_file() else model_dir / "tokenizer_config.json"
    try:  # as transformers parses it: with loop controls; its own tags ({% generation %}) pass
        ImmutableSandboxedEnvironment(extensions=["jinja2.ext.loopcontrols"]).parse(template)
    except TemplateSyntaxError as e:
        if e.message and e.message.startswith("Encountered unknown tag"):
            return
        where = f"{source}:{e.lineno}" if source == jinja else str(source)
        field = "-" if source == jinja else "chat_template"
        reason = f"not a valid Jinja template (line {e.lineno}: {e.message})"
        raise bad(where, reason, field) from None


def _check_tokenizer(path: Path) -> None:
    """A tokenizer.json that parses as JSON can still be no tokenizer: load it, when the
    `tokenizers` library is here (the engines bring it), as the engines will."""
    if not path.is_file():
        return
    try:
        from tokenizers import Tokenizer
    except ImportError:
        return
    try:
        Tokenizer.from_file(str(path))
    except Exception as e:  # the library raises a bare Exception for a malformed file
        reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise bad(path, f"not a tokenizer the engines can load ({reason})") from None


def folder_model_name(path: Path) -> str:
    """A model's short name from its folder's name: `my ckpt [2]` -> `my-ckpt-2`."""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", path.name).strip("-.") or "model"


def read_model_config(config_path: Path, ref: str) -> ModelSpec:
    try:
        data = read_yaml(config_path, "model config")
        data = {} if data is None else data
        if not isinstance(data, dict):
            raise bad(config_path, f"expected KEY: VALUE lines, got {kind_of(data)}")
        spec = validate(ModelSpec, {"name": ref, **data}, config_path)
    except ProblemsFound as e:  # part of the command line, as the run's --config is
        raise ConfigProblems(e.problems) from None
    if "\0" in spec.path:
        raise UsageError(f"{config_path}: path: contains a NUL character")
    return spec


def resolve_model(ref: str, models_dir: Path, kind: ModelKind | None = None) -> ModelSpec:
    """A model config by name, or a model folder by path; a config's adapter checked against
    its base."""
    if "\0" in ref:
        raise UsageError(f"model {ref!r}: contains a NUL character")
    config_path = models_dir / f"{ref}.yaml"
    if config_path.is_file():
        spec = read_model_config(config_path, ref)
        if spec.sweep is not None:
            raise UsageError(
                f"{config_path}: a sweep of checkpoints ({spec.sweep}) cannot be used here; "
                "name one checkpoint"
            )
        path = Path(spec.path)
        if not path.is_absolute():
            path = (config_path.parent / path).resolve()
        check_model_dir(path)
        spec = spec.model_copy(update={"path": str(path)})
        if spec.adapter is not None:
            from evalkit.runner.adapters import check_adapter_fits, read_adapter_config

            adapter = Path(spec.adapter)
            adapter = adapter if adapter.is_absolute() else config_path.parent / adapter
            read_adapter_config(adapter)
            check_adapter_fits(adapter, path, f"{config_path}: adapter")
            spec = spec.model_copy(update={"adapter": str(adapter.resolve())})
        return spec
    path = Path(ref)
    if path.is_dir():
        check_model_dir(path)
        if kind == "sft":
            raise UsageError(
                f"{path}: an sft model must declare its starting point; write "
                f"{models_dir}/NAME.yaml with kind: sft and starting_point: base|chat"
            )
        detected: ModelKind = "chat" if chat_template_of(path) else "base"
        return ModelSpec(
            name=folder_model_name(path), path=str(path.resolve()), kind=kind or detected
        )
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
