"""Checkpoint sweeps: a glob or a `sweep:` config expands to checkpoints ordered by training
step, each inheriting the config's starting point; what cannot be ordered is refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evalkit.errors import NotFoundError, UsageError
from evalkit.runner.sweeps import checkpoint_step, expand_sweep, resolve_models


def _checkpoint(path: Path, step_in_state: int | None = None) -> Path:
    """A model folder the runner accepts (config, tokenizer config, weights)."""
    path.mkdir(parents=True)
    (path / "config.json").write_text('{"model_type": "llama"}', encoding="utf-8")
    (path / "tokenizer_config.json").write_text("{}", encoding="utf-8")
    (path / "model.safetensors").write_bytes(b"weights")
    if step_in_state is not None:
        state = {"global_step": step_in_state, "epoch": 1.0}
        (path / "trainer_state.json").write_text(json.dumps(state), encoding="utf-8")
    return path


def test_the_step_comes_from_trainer_state_then_the_folder_name(tmp_path: Path) -> None:
    assert checkpoint_step(_checkpoint(tmp_path / "checkpoint-500")) == 500
    assert checkpoint_step(_checkpoint(tmp_path / "run2-step-1200-final")) == 1200
    assert checkpoint_step(_checkpoint(tmp_path / "checkpoint-9", step_in_state=900)) == 900
    assert checkpoint_step(_checkpoint(tmp_path / "best")) is None


def test_a_sweep_is_ordered_by_step_not_by_name(tmp_path: Path) -> None:
    for step in (1000, 500, 1500):
        _checkpoint(tmp_path / "ckpts" / f"checkpoint-{step}")
    found = expand_sweep("ckpts/checkpoint-*", "model=ckpts/checkpoint-*", tmp_path)
    assert [s for s, _ in found] == [500, 1000, 1500]


def test_a_sweep_config_gives_every_checkpoint_its_starting_point(tmp_path: Path) -> None:
    for step in (200, 100):
        _checkpoint(tmp_path / "ckpts" / f"checkpoint-{step}")
    models = tmp_path / "models"
    models.mkdir()
    (models / "sft.yaml").write_text(
        "sweep: ../ckpts/checkpoint-*\nkind: sft\nstarting_point: chat\nstarting_model: chat\n",
        encoding="utf-8",
    )
    specs = resolve_models("sft", models)
    assert [(s.name, s.step, s.sweep_of) for s in specs] == [
        ("sft-100", 100, "sft"),
        ("sft-200", 200, "sft"),
    ]
    assert all(s.kind == "sft" and s.starting_model == "chat" for s in specs)
    assert specs[0].path == str((tmp_path / "ckpts" / "checkpoint-100").resolve())


def test_a_glob_on_the_command_line_is_a_sweep_of_folders(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for step in (20, 10):
        _checkpoint(tmp_path / "out" / f"checkpoint-{step}")
    monkeypatch.chdir(tmp_path)
    specs = resolve_models("out/checkpoint-*", tmp_path / "models")
    assert [(s.name, s.step, s.sweep_of, s.kind) for s in specs] == [
        ("checkpoint-10", 10, "out/checkpoint-*", "base"),
        ("checkpoint-20", 20, "out/checkpoint-*", "base"),
    ]


@pytest.mark.parametrize(
    ("folders", "error", "message"),
    [
        ([], NotFoundError, "model=ck/checkpoint-*: the pattern ck/checkpoint-* matches no folder"),
        (["checkpoint-1", "best"], UsageError, "cannot tell the training step of"),
        (["checkpoint-1", "run-1"], UsageError, "are both step 1"),
    ],
)
def test_what_cannot_be_ordered_is_refused(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    folders: list[str],
    error: type[Exception],
    message: str,
) -> None:
    (tmp_path / "ck").mkdir()
    for name in folders:
        _checkpoint(tmp_path / "ck" / name)
    monkeypatch.chdir(tmp_path)
    pattern = "ck/checkpoint-*" if not folders or "best" not in folders else "ck/*"
    if folders == ["checkpoint-1", "run-1"]:
        pattern = "ck/*"
    with pytest.raises(error, match=message.replace("*", r"\*")):
        resolve_models(pattern, tmp_path / "models")


def test_a_sweep_config_with_a_path_sweeps_adapters_only(tmp_path: Path) -> None:
    models = tmp_path / "models"
    models.mkdir()
    _checkpoint(models / "base")
    _checkpoint(models / "ck" / "checkpoint-1")
    (models / "sft.yaml").write_text("sweep: ck/*\npath: base\nkind: base\n", encoding="utf-8")
    with pytest.raises(NotFoundError, match="not a LoRA adapter folder"):
        resolve_models("sft", models)


def test_a_sweep_config_without_a_path_refuses_adapters(tmp_path: Path) -> None:
    models = tmp_path / "models"
    (models / "ck" / "checkpoint-1").mkdir(parents=True)
    (models / "ck" / "checkpoint-1" / "adapter_config.json").write_text("{}", encoding="utf-8")
    (models / "sft.yaml").write_text("sweep: ck/*\nkind: base\n", encoding="utf-8")
    with pytest.raises(UsageError, match="is a LoRA adapter; give its base model as path:"):
        resolve_models("sft", models)
