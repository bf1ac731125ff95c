"""Tiny LoRA checkpoints for tests: PEFT adapters on a tiny Llama, and their merged weights.

Adapters are randomly initialised on both matrices (PEFT's `init_lora_weights=False`), so each
really changes the base model's outputs, and differently per seed; no training is needed for
what these tests check (routing, fingerprints, equality with merged weights).
"""

from __future__ import annotations

import json
from pathlib import Path

TARGETS = ["q_proj", "v_proj", "o_proj", "gate_proj"]


def save_adapter(base: Path, out: Path, seed: int, step: int | None = None, r: int = 8) -> Path:
    """A LoRA adapter for `base` in `out` (with a trainer_state.json at `step`, if given)."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32)
    torch.manual_seed(seed)
    config = LoraConfig(r=r, lora_alpha=2 * r, target_modules=TARGETS, init_lora_weights=False)
    get_peft_model(model, config).save_pretrained(out)
    if step is not None:
        state = {"global_step": step, "epoch": 1.0}
        (out / "trainer_state.json").write_text(json.dumps(state), encoding="utf-8")
    return out


def save_merged(base: Path, adapter: Path, out: Path) -> Path:
    """The base with `adapter` merged into its weights: a plain model folder."""
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32)
    merged = PeftModel.from_pretrained(model, adapter).merge_and_unload()
    merged.save_pretrained(out)
    AutoTokenizer.from_pretrained(base).save_pretrained(out)
    return out
