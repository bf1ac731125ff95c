"""Build the demo's four checkpoints once, cached by a hash of the recipe and its data.

`.evalkit/demo/models/<hash>/` holds `base/`, `chat/`, `base-sft/`, `chat-sft/` (Hugging
Face folders), a model config per checkpoint (`NAME.yaml`, what `evalkit run model=NAME`
reads) and `recipe.json`. The hash covers the schedule, the model shape, the data files, the
demo suite versions whose prompts the SFT data is rendered with, and the torch and
transformers versions: any change builds a new folder, an unchanged recipe reuses the old.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

from evalkit.demo.paths import CHAT_FILE, CORPUS_FILES, DOMAIN_SUITE, LAW_SFT_FILE
from evalkit.demo.sft import base_example, chat_example
from evalkit.demo.train import (
    Schedule,
    chat_turns,
    corpus_blocks,
    demo_tokenizer,
    load,
    new_model,
    prompt_completion,
    read_jsonl,
    save,
    train,
)
from evalkit.errors import ProblemsFound
from evalkit.suite.draft import read_items_jsonl
from evalkit.suite.store import SuiteStore, SuiteVersion

RECIPE_VERSION = 2  # bump when the training code changes what it produces
MODEL_NAMES = ("base", "chat", "base-sft", "chat-sft")
# base-sft's checkpoints at a third, two thirds and the end of its training: a sweep
SWEEP_NAME = "base-sft-sweep"
SWEEP_FOLDER = "base-sft-checkpoints"
# Engine settings for a model this small (see docs/running.md): no torch.compile, engine core
# in the worker process; float32 because that is what the checkpoints are.
ENGINE: dict[str, Any] = {
    "dtype": "float32",
    "engine": {"enforce_eager": True},
    "env": {
        "VLLM_ENABLE_V1_MULTIPROCESSING": "0",
        "OMP_NUM_THREADS": "1",
        "VLLM_LOGGING_LEVEL": "ERROR",  # the demo prints results; engine notes go unshown
    },
}
_SPECS: dict[str, dict[str, Any]] = {
    "base": {"kind": "base"},
    "chat": {"kind": "chat"},
    "base-sft": {"kind": "sft", "starting_point": "base", "starting_model": "base"},
    "chat-sft": {"kind": "sft", "starting_point": "chat", "starting_model": "chat"},
}


@dataclass
class DemoModels:
    """Where the built checkpoints are, and how long each took to train (0 when reused)."""

    models_dir: Path
    reused: bool
    train_seconds: dict[str, float] = field(default_factory=dict)


def recipe_hash(schedule: Schedule, domain: SuiteVersion) -> str:
    # Installed versions from package metadata: reusing cached models imports no torch.
    from importlib.metadata import version

    digest = hashlib.sha256()
    recipe = {
        "version": RECIPE_VERSION,
        "schedule": asdict(schedule),
        "domain_suite": [domain.ref, domain.manifest.content_hash],
        "torch": version("torch"),
        "transformers": version("transformers"),
    }
    digest.update(json.dumps(recipe, sort_keys=True).encode())
    for path in (*CORPUS_FILES, CHAT_FILE, LAW_SFT_FILE):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def _write_configs(out: Path) -> None:
    for name in MODEL_NAMES:
        spec = {"path": name, **_SPECS[name], **ENGINE}
        (out / f"{name}.yaml").write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    sweep = {"sweep": f"{SWEEP_FOLDER}/checkpoint-*", **_SPECS["base-sft"], **ENGINE}
    (out / f"{SWEEP_NAME}.yaml").write_text(yaml.safe_dump(sweep, sort_keys=False), "utf-8")


def _save_checkpoint(model: Any, tokenizer: Any, folder: Path, step: int) -> None:
    """A checkpoint as the transformers Trainer leaves one: weights and trainer_state.json."""
    save(model, tokenizer, folder)
    (folder / "trainer_state.json").write_text(json.dumps({"global_step": step}) + "\n")


def _train_all(
    out: Path, schedule: Schedule, domain: SuiteVersion, echo: Callable[[str], Any]
) -> dict[str, float]:
    import torch
    from transformers.utils import logging as transformers_logging

    torch.use_deterministic_algorithms(True, warn_only=True)
    transformers_logging.disable_progress_bar()  # per-file save/load bars; training has its own
    corpus = [p.read_text(encoding="utf-8") for p in CORPUS_FILES]
    dialogues = [r["messages"] for r in read_jsonl(CHAT_FILE)]
    located, problems = read_items_jsonl(LAW_SFT_FILE)
    if problems:
        raise ProblemsFound(problems, f"{LAW_SFT_FILE}: the demo's SFT items do not validate")
    sft_items = [entry.item for entry in located]
    dev_items = [i for i in domain.items if i.split == "dev"]
    spec = domain.spec
    sft_base = [base_example(spec, item, dev_items, schedule.seed) for item in sft_items]
    sft_chat = [chat_example(spec, item) for item in sft_items]

    shape = schedule.shape
    rendered_chat = [m["content"] for d in dialogues + sft_chat for m in d]
    tokenizer = demo_tokenizer(corpus + rendered_chat + [p + c for p, c in sft_base], shape)
    pad = tokenizer.pad_token_id
    seconds: dict[str, float] = {}

    def stage(
        name: str, start: str | None, examples: list, settings: Any, sweep: bool = False
    ) -> None:
        began = time.perf_counter()
        model = new_model(tokenizer, shape, schedule.seed) if start is None else load(out / start)
        steps = (settings.steps // 3, 2 * settings.steps // 3, settings.steps) if sweep else ()

        def checkpoint(step: int, trained: Any) -> None:
            _save_checkpoint(trained, tokenizer, out / SWEEP_FOLDER / f"checkpoint-{step}", step)

        train(
            model,
            examples,
            settings,
            schedule.seed,
            f"train {name}",
            pad,
            echo,
            checkpoint=checkpoint,
            checkpoint_steps=steps,
        )
        save(model, tokenizer, out / name)
        seconds[name] = time.perf_counter() - began

    stage("base", None, corpus_blocks(tokenizer, corpus, schedule.base.max_length), schedule.base)
    stage("chat", "base", [chat_turns(tokenizer, d) for d in dialogues], schedule.chat)
    base_sft = [prompt_completion(tokenizer, p, c, bos=True) for p, c in sft_base]
    stage("base-sft", "base", base_sft, schedule.sft, sweep=True)
    stage("chat-sft", "chat", [chat_turns(tokenizer, m) for m in sft_chat], schedule.sft)
    return seconds


def build_demo_models(
    root: Path,
    schedule: Schedule,
    suites_dir: Path,
    rebuild: bool = False,
    echo: Callable[[str], Any] = print,
) -> DemoModels:
    """The four checkpoints under `root/<recipe hash>`, trained now unless already there."""
    domain = SuiteStore(suites_dir).load(DOMAIN_SUITE)
    key = recipe_hash(schedule, domain)
    target = root / key
    if (target / "recipe.json").is_file() and not rebuild:
        echo(f"models: reusing {target} (recipe {key})")
        _write_configs(target)  # engine settings may have changed since the weights were built
        return DemoModels(target, reused=True)
    echo(f"models: training {', '.join(MODEL_NAMES)} ({schedule.name} schedule) into {target}")
    root.mkdir(parents=True, exist_ok=True)
    # Built in a temporary sibling and renamed: an interrupted build leaves no half folder.
    staging = Path(tempfile.mkdtemp(prefix=f".{key}-", dir=root))
    try:
        seconds = _train_all(staging, schedule, domain, echo)
        _write_configs(staging)
        recipe: dict[str, Any] = {"hash": key, "schedule": asdict(schedule)}
        recipe["train_seconds"] = seconds
        (staging / "recipe.json").write_text(json.dumps(recipe, indent=2) + "\n")
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return DemoModels(target, reused=False, train_seconds=seconds)
