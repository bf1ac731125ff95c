"""Checkpoint sweeps: the checkpoints of one fine-tune, as models ordered by training step.

`model=ckpts/checkpoint-*` (a glob) runs every matching model folder; a model config with
`sweep: ../ckpts/checkpoint-*` instead of `path:` does the same and gives each checkpoint the
config's kind, starting point and starting model. A checkpoint's step is the `global_step` of
its `trainer_state.json` (what the transformers Trainer saves), else the last number in its
folder name (`checkpoint-1500`); a folder with neither is an error, never a guess.
"""

from __future__ import annotations

import glob
import json
import re
from pathlib import Path

from evalkit.errors import NotFoundError, UsageError
from evalkit.runner.models import (
    ModelKind,
    ModelSpec,
    check_model_dir,
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
    """The models `model=REF` stands for: one, or every checkpoint of a sweep by step."""
    config_path = models_dir / f"{ref}.yaml"
    if config_path.is_file():
        spec = read_model_config(config_path, ref)
        if spec.sweep is None:
            return [resolve_model(ref, models_dir, kind)]
        out = []
        for step, folder in expand_sweep(spec.sweep, f"{config_path}: sweep", config_path.parent):
            check_model_dir(folder)
            update = {"name": f"{ref}-{step}", "path": str(folder.resolve()), "step": step}
            out.append(spec.model_copy(update={**update, "sweep": None, "sweep_of": ref}))
        return out
    if is_pattern(ref) and not Path(ref).is_dir():
        return [
            resolve_model(str(folder), models_dir, kind).model_copy(
                update={"step": step, "sweep_of": ref}
            )
            for step, folder in expand_sweep(ref, f"model={ref}")
        ]
    return [resolve_model(ref, models_dir, kind)]
