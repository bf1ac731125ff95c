"""KEY=VALUE command lines: Hydra's override grammar, parsed by OmegaConf, validated by pydantic.

Every command that takes KEY=VALUE arguments (`evalkit run`, `evalkit contamination`) merges
them here, in one way: defaults < config file < overrides, then one validation of the whole,
with an unknown key answered by the closest known key.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from evalkit.errors import ConfigProblems, Problem, ProblemsFound, UsageError
from evalkit.files import kind_of, read_yaml, unencodable

ConfigT = TypeVar("ConfigT", bound=BaseModel)


def keys_help(model: type[BaseModel], last: Collection[str] = ()) -> list[tuple[str, str, str]]:
    """(key, default, description) for every key of `model`, those in `last` at the end."""
    rows = []
    for name, field in sorted(model.model_fields.items(), key=lambda f: f[0] in last):
        default = (
            "(required)"
            if field.is_required()
            else repr(field.get_default(call_default_factory=True))
        )
        rows.append((name, default, field.description or ""))
    return rows


def known_keys(model: type[BaseModel]) -> list[str]:
    """Every key of `model`, nested models' keys dotted (judge.model, judge.mode, ...)."""
    keys = []
    for name, field in model.model_fields.items():
        keys.append(name)
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            keys += [f"{name}.{sub}" for sub in annotation.model_fields]
    return keys


def explain_validation_error(
    error: ValidationError,
    model: type[BaseModel],
    command: str,
    origins: dict[str, str] | None = None,
) -> str:
    """All problems of a composed configuration on one line, with did-you-mean for typos;
    `origins` names the file a top-level key's value came from (a config file)."""
    known = known_keys(model)
    messages = []
    for err in error.errors(include_url=False):
        key = ".".join(str(p) for p in err["loc"]) or "-"
        if err["type"] == "extra_forbidden":
            close = difflib.get_close_matches(key, known, n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            message = f"unknown key '{key}'{hint} (see evalkit {command} --help)"
        elif err["type"] == "missing":
            message = f"missing {key}=... (required)"
        else:
            value = _short(err.get("input"))
            message = f"{key}={value}: {err['msg'].removeprefix('Value error, ')}"
        origin = (origins or {}).get(str(err["loc"][0])) if err["loc"] else None
        messages.append(f"{origin}: {message}" if origin else message)
    return "; ".join(messages)


def _short(value: Any, width: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= width else text[: width - 1] + "…"


def _config_layer(path: Path) -> Any:
    """A YAML config file as an OmegaConf layer; every way it can be bad is one located line
    (exit 2: the config file is part of the command line)."""
    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    if not path.exists():
        raise UsageError(f"{path}: no such config file")
    try:
        data = read_yaml(path, "config file")
    except ProblemsFound as e:
        raise ConfigProblems(e.problems) from None
    if data is None:
        return OmegaConf.create({})
    if not isinstance(data, dict):
        reason = f"expected KEY: VALUE lines, got {kind_of(data)}"
        raise ConfigProblems([Problem(str(path), "-", reason)])
    try:
        return OmegaConf.create(data)
    except OmegaConfBaseException as e:
        reason = str(e).strip().splitlines()[0]
        raise ConfigProblems([Problem(str(path), "-", f"cannot read config: {reason}")]) from None


def compose_config(
    model: type[ConfigT],
    overrides: list[str],
    config_file: Path | None = None,
    command: str = "run",
    example: str = "suite=legal",
    base: dict[str, Any] | None = None,
) -> ConfigT:
    """Merge `base` < config file < KEY=VALUE overrides, then validate. The one merge point."""
    from omegaconf import OmegaConf
    from omegaconf.errors import GrammarParseError, OmegaConfBaseException

    layers = [OmegaConf.create(base)] if base else []
    origins: dict[str, str] = {}  # top-level key -> the config file its value came from
    if config_file is not None:
        layers.append(_config_layer(config_file))
        origins = {str(key): str(config_file) for key in layers[-1]}
    for override in overrides:
        if "=" not in override or override.startswith("="):
            raise UsageError(f"bad argument {override!r}: expected KEY=VALUE, e.g. {example}")
        if unencodable(override):  # bytes that are not UTF-8 on the command line
            raise UsageError(f"bad argument {override!r}: not UTF-8 text")
        try:  # one at a time, so that the message names the bad one
            layer = OmegaConf.from_dotlist([override])
        except (yaml.YAMLError, GrammarParseError, OmegaConfBaseException) as e:
            reason = str(e).strip().splitlines()[0]
            raise UsageError(f"cannot parse {override!r}: {reason}") from None
        except RecursionError:
            raise UsageError(f"cannot parse {_short(override)}: nested too deep") from None
        except ValueError as e:  # a number of thousands of digits
            raise UsageError(f"cannot parse {_short(override)}: {str(e).split(';')[0]}") from None
        layers.append(layer)
        for key in layer:
            origins.pop(str(key), None)
    try:
        merged = OmegaConf.to_container(OmegaConf.merge(*layers), resolve=True) if layers else {}
    except OmegaConfBaseException as e:
        raise UsageError(f"cannot merge configuration: {str(e).splitlines()[0]}") from None
    found = unencodable(merged)
    if found:  # a config is recorded in the run's manifest, which must be writable
        key, reason = found
        origin = origins.get(key.split(".")[0].split("[")[0])
        raise UsageError(f"{origin + ': ' if origin else ''}{key}: {reason}")
    try:
        return model.model_validate(merged)
    except ValidationError as e:
        raise UsageError(explain_validation_error(e, model, command, origins)) from None
