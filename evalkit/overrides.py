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

from evalkit.errors import UsageError

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


def explain_validation_error(error: ValidationError, model: type[BaseModel], command: str) -> str:
    """All problems of a composed configuration on one line, with did-you-mean for typos."""
    known = list(model.model_fields)
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
    if config_file is not None:
        if not config_file.is_file():
            raise UsageError(f"{config_file}: no such config file")
        try:
            layers.append(OmegaConf.load(config_file))
        except (OmegaConfBaseException, ValueError) as e:
            raise UsageError(f"{config_file}: cannot read config: {e}") from None
    for override in overrides:
        if "=" not in override or override.startswith("="):
            raise UsageError(f"bad argument {override!r}: expected KEY=VALUE, e.g. {example}")
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
        return model.model_validate(merged)
    except ValidationError as e:
        raise UsageError(explain_validation_error(e, model, command)) from None
