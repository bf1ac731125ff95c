"""Model resolution: configs by name, folders by path, kind detection, clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from evalkit.backends.base import get_backend
from evalkit.errors import NotFoundError, UsageError
from evalkit.runner.models import ModelSpec, resolve_model


def test_config_by_name(models_dir: Path) -> None:
    spec = resolve_model("chat-sft", models_dir)
    assert spec.kind == "sft" and spec.starting_point == "chat" and spec.stage == "chat→sft"
    assert spec.effective_prompt_format == "chat"
    assert Path(spec.path) == (models_dir / "weights-chat").resolve()


def test_path_detects_chat_by_template(models_dir: Path) -> None:
    assert resolve_model(str(models_dir / "weights-chat"), models_dir).kind == "chat"
    base = resolve_model(str(models_dir / "weights-base"), models_dir)
    assert base.kind == "base" and base.effective_prompt_format == "base"
    assert resolve_model(str(models_dir / "weights-base"), models_dir, kind="chat").kind == "chat"


def test_sft_must_declare_starting_point(models_dir: Path) -> None:
    with pytest.raises(ValueError, match="starting_point"):
        ModelSpec(name="x", path="p", kind="sft")
    with pytest.raises(UsageError, match="must declare its starting point"):
        resolve_model(str(models_dir / "weights-base"), models_dir, kind="sft")


def test_bad_model_paths(models_dir: Path, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(NotFoundError, match=r"no config\.json"):
        resolve_model(str(tmp_path / "empty"), models_dir)
    no_tok = tmp_path / "notok"
    no_tok.mkdir()
    (no_tok / "config.json").write_text("{}")
    with pytest.raises(NotFoundError, match="no tokenizer files"):
        resolve_model(str(no_tok), models_dir)
    with pytest.raises(NotFoundError, match=r"did you mean 'chat'\?"):
        resolve_model("chta", models_dir)


def test_bad_model_config(models_dir: Path, tmp_path: Path) -> None:
    (tmp_path / "m.yaml").write_text("path: x\nkind: sft\n")
    with pytest.raises(UsageError, match="starting_point"):
        resolve_model("m", tmp_path)


def test_unknown_backend_suggests() -> None:
    with pytest.raises(UsageError, match="unknown backend 'vlm'; did you mean 'vllm'"):
        get_backend("vlm")
