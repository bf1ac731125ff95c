"""Checkpoint sweeps: the checkpoints of one fine-tune, as models ordered by training step.

`model=ckpts/checkpoint-*` (a glob) runs every matching model folder; a model config with
`sweep: ../ckpts/checkpoint-*` instead of `path:` does the same and gives each checkpoint the
config's kind, starting point and starting model. LoRA checkpoints are adapters on one base:
`model=BASE+adapters/checkpoint-*`, or a config with both `path:` (the base) and `sweep:`.
A checkpoint's step is the `global_step` of its `trainer_state.json` (what the transformers
Trainer saves), else the last number in its folder name (`checkpoint-1500`); a folder with
neither is an error, never a guess.
"""

from __future__ import annotations

import glob
import json
import re
from pathlib import Path

from evalkit.errors import NotFoundError, UsageError
from evalkit.runner.adapters import check_adapter_fits, is_adapter_dir, read_adapter_config
from evalkit.runner.models import (
    ModelKind,
    ModelSpec,
    check_model_dir,
    folder_model_name,
    read_model_config,
    resolve_model,
)

PATTERN_CHARACTERS = "*?["


def is_pattern(ref: str) -> bool:
    """Whether a model reference is a glob of checkpoint folders."""
    return any(c in ref for c in PATTERN_CHARACTERS)


def checkpoint_step(path: Path) -> int | None:
    """The training step of a checkpoint folder, or None when nothing says it."""
    state = path / "trainer_state.json"
    if state.is_file():
        try:
            step = json.loads(state.read_text(encoding="utf-8")).get("global_step")
        except (OSError, ValueError, AttributeError):
            step = None
        if isinstance(step, int) and not isinstance(step, bool):
            return step
    numbers = re.findall(r"\d+", path.name)
    return int(numbers[-1]) if numbers else None


def expand_sweep(pattern: str, setting: str, base: Path | None = None) -> list[tuple[int, Path]]:
    """(step, folder) of every folder matching `pattern` (relative to `base`), by step."""
    full = str(base / pattern) if base is not None and not Path(pattern).is_absolute() else pattern
    folders = sorted(Path(p) for p in glob.glob(full) if Path(p).is_dir())
    if not folders:
        raise NotFoundError(f"{setting}: the pattern {full} matches no folder")
    found: dict[int, Path] = {}
    for folder in folders:
        step = checkpoint_step(folder)
        if step is None:
            raise UsageError(
                f"{setting}: cannot tell the training step of {folder} (no global_step in a "
                "trainer_state.json, no number in its name)"
            )
        if step in found:
            raise UsageError(f"{setting}: {found[step]} and {folder} are both step {step}")
        found[step] = folder
    return sorted(found.items())


def resolve_models(ref: str, models_dir: Path, kind: ModelKind | None = None) -> list[ModelSpec]:
    """The models `model=REF` stands for: one, every checkpoint of a sweep by step, or LoRA
    adapters on a base (`BASE+ADAPTER`, where ADAPTER may be a glob)."""
    config_path = models_dir / f"{ref}.yaml"
    if config_path.is_file():
        spec = read_model_config(config_path, ref)
        if spec.sweep is None:
            return [resolve_model(ref, models_dir, kind)]
        steps = expand_sweep(spec.sweep, f"{config_path}: sweep", config_path.parent)
        if spec.path:  # a sweep of adapters on the base at path
            base = _config_base(spec, config_path)
            return [
                _on_base(base, folder, f"{config_path}: sweep", spec, step, ref, f"{ref}-{step}")
                for step, folder in steps
            ]
        out = []
        for step, folder in steps:
            if is_adapter_dir(folder):
                raise UsageError(
                    f"{config_path}: sweep: {folder} is a LoRA adapter; give its base model "
                    "as path:"
                )
            check_model_dir(folder)
            update = {"name": f"{ref}-{step}", "path": str(folder.resolve()), "step": step}
            out.append(spec.model_copy(update={**update, "sweep": None, "sweep_of": ref}))
        return out
    if "+" in ref and not Path(ref).exists():
        return _adapters_on(ref, models_dir, kind)
    if is_pattern(ref) and not Path(ref).is_dir():
        return [
            resolve_model(str(folder), models_dir, kind).model_copy(
                update={"step": step, "sweep_of": ref}
            )
            for step, folder in expand_sweep(ref, f"model={ref}")
        ]
    return [resolve_model(ref, models_dir, kind)]


def _config_base(spec: ModelSpec, config_path: Path) -> ModelSpec:
    """The base model of a config sweeping adapters: its path, checked."""
    path = Path(spec.path)
    path = (path if path.is_absolute() else config_path.parent / path).resolve()
    check_model_dir(path)
    return spec.model_copy(update={"path": str(path), "sweep": None})


def _adapters_on(ref: str, models_dir: Path, kind: ModelKind | None) -> list[ModelSpec]:
    """`BASE+ADAPTER`: the adapter (or each adapter of a glob, by step) on the base model,
    fine-tuned from it: kind sft, its starting point the base's."""
    base_ref, adapter_ref = ref.split("+", 1)
    setting = f"model={ref}"
    if not base_ref or not adapter_ref:
        raise UsageError(f"{setting}: write BASE+ADAPTER (a model and a LoRA adapter folder)")
    base = resolve_model(base_ref, models_dir, kind if kind != "sft" else None)
    if base.adapter is not None:
        raise UsageError(f"{setting}: {base_ref} is itself an adapter; name its base model")
    starting = base.starting_point if base.kind == "sft" else base.kind
    template = base.model_copy(
        update={
            "kind": "sft",
            "starting_point": starting,
            "starting_model": base.name,
            "prompt_format": base.prompt_format,
            "baseline": None,
        }
    )
    if is_pattern(adapter_ref) and not Path(adapter_ref).is_dir():
        return [
            _on_base(base, folder, setting, template, step, ref, folder_model_name(folder))
            for step, folder in expand_sweep(adapter_ref, setting)
        ]
    folder = Path(adapter_ref)
    return [_on_base(base, folder, setting, template, None, None, folder_model_name(folder))]


def _on_base(
    base: ModelSpec,
    folder: Path,
    setting: str,
    template: ModelSpec,
    step: int | None,
    sweep_of: str | None,
    name: str,
) -> ModelSpec:
    """`template` run as the adapter at `folder` on `base`, checked to fit it."""
    if not is_adapter_dir(folder):
        raise NotFoundError(
            f"{setting}: {folder} is not a LoRA adapter folder (no adapter_config.json)"
        )
    read_adapter_config(folder)
    check_adapter_fits(folder, Path(base.path), setting)
    return template.model_copy(
        update={
            "name": name,
            "path": base.path,
            "adapter": str(folder.resolve()),
            "step": step,
            "sweep": None,
            "sweep_of": sweep_of,
        }
    )
