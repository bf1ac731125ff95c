"""Train the demo's four tiny checkpoints on this CPU: base, chat, base-sft and chat-sft.

Plain PyTorch around a transformers Llama: seeded, deterministic on one machine, with a
tqdm bar per stage. Losses count only what a model should learn to write: every token of the
pre-training corpus, the assistant turns of chat data, the answers of SFT examples.

- base: the Code of Norvale (English and Chinese), as a stream of fixed-length blocks;
- chat: base, then general dialogues through the tokenizer's chat template;
- base-sft: base, then the domain instruction set as completion prompts with few-shot
  exemplars, exactly as the evaluator prompts a base model;
- chat-sft: chat, then the same instruction set as chat messages.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evalkit.demo.tiny import CHAT_TEMPLATE, new_llama, train_tokenizer

IGNORE = -100  # label of a token the loss does not count
Example = tuple[list[int], list[int]]  # (input ids, labels)


@dataclass(frozen=True)
class ModelShape:
    """The tiny Llama's size; a head dimension of 64 is what vLLM's CPU kernels support."""

    hidden_size: int = 256
    layers: int = 4
    vocab_size: int = 3000
    max_positions: int = 1024


@dataclass(frozen=True)
class Stage:
    """One training stage: optimizer steps, batch size and peak learning rate."""

    steps: int
    batch_size: int
    learning_rate: float
    max_length: int = 384


@dataclass(frozen=True)
class Schedule:
    """The stages of one demo build; `short` is for tests, `full` for the demo itself."""

    name: str
    base: Stage
    chat: Stage
    sft: Stage
    shape: ModelShape = ModelShape()
    seed: int = 0


SCHEDULES = {
    "full": Schedule(
        "full",
        base=Stage(steps=300, batch_size=16, learning_rate=2e-3, max_length=128),
        chat=Stage(steps=250, batch_size=16, learning_rate=1e-3),
        sft=Stage(steps=200, batch_size=16, learning_rate=1e-3),
    ),
    # For tests: a smaller model and fewer steps, enough for the qualitative outcomes.
    "short": Schedule(
        "short",
        base=Stage(steps=40, batch_size=16, learning_rate=3e-3, max_length=128),
        chat=Stage(steps=80, batch_size=16, learning_rate=2e-3),
        sft=Stage(steps=60, batch_size=16, learning_rate=2e-3),
        shape=ModelShape(hidden_size=128, layers=2),
    ),
}


def new_model(tokenizer: Any, shape: ModelShape, seed: int) -> Any:
    """A randomly initialised (seeded) tiny Llama of `shape` for `tokenizer`."""
    return new_llama(tokenizer, shape.hidden_size, shape.layers, shape.max_positions, seed)


def demo_tokenizer(texts: Sequence[str], shape: ModelShape) -> Any:
    """A byte-level BPE tokenizer trained on all demo text, with the chat template set."""
    tokenizer = train_tokenizer(texts, vocab_size=shape.vocab_size)
    tokenizer.chat_template = CHAT_TEMPLATE
    tokenizer.model_max_length = shape.max_positions
    return tokenizer


# --- examples ---------------------------------------------------------------------------------


def corpus_blocks(tokenizer: Any, documents: Sequence[str], length: int) -> list[Example]:
    """Documents as one token stream (BOS before each, EOS after), cut into blocks."""
    stream: list[int] = []
    for doc in documents:
        # A whole document is longer than the model window; it is cut below, so no warning.
        stream += tokenizer(doc, verbose=False)["input_ids"] + [tokenizer.eos_token_id]
    blocks = []
    for start in range(0, max(1, len(stream) - length), length // 2):  # half-overlapping
        ids = stream[start : start + length]
        blocks.append((ids, list(ids)))
    return blocks


def prompt_completion(tokenizer: Any, prompt: str, completion: str, bos: bool) -> Example:
    """Prompt tokens (not learned) then completion tokens (learned)."""
    p = tokenizer(prompt, add_special_tokens=bos)["input_ids"]
    c = tokenizer(completion, add_special_tokens=False)["input_ids"]
    return p + c, [IGNORE] * len(p) + c


def chat_turns(tokenizer: Any, messages: list[dict[str, str]]) -> Example:
    """A conversation through the chat template; only the last assistant turn is learned.

    The rendered template already holds BOS, so no special tokens are added (as vLLM's
    chat path does).
    """
    prompt = tokenizer.apply_chat_template(
        messages[:-1], tokenize=False, add_generation_prompt=True
    )
    full = tokenizer.apply_chat_template(messages, tokenize=False)
    assert full.startswith(prompt)
    return prompt_completion(tokenizer, prompt, full[len(prompt) :].rstrip("\n"), bos=False)


# --- the loop ---------------------------------------------------------------------------------


def _batch(examples: Sequence[Example], pad_id: int, max_length: int) -> tuple[Any, Any, Any]:
    import torch

    cut = [(ids[-max_length:], labels[-max_length:]) for ids, labels in examples]
    width = max(len(ids) for ids, _ in cut)
    input_ids = torch.full((len(cut), width), pad_id, dtype=torch.long)
    labels = torch.full((len(cut), width), IGNORE, dtype=torch.long)
    mask = torch.zeros((len(cut), width), dtype=torch.long)
    for row, (ids, lab) in enumerate(cut):
        input_ids[row, : len(ids)] = torch.tensor(ids)
        labels[row, : len(lab)] = torch.tensor(lab)
        mask[row, : len(ids)] = 1
    return input_ids, labels, mask


def train(
    model: Any,
    examples: Sequence[Example],
    stage: Stage,
    seed: int,
    description: str,
    pad_id: int,
    log: Callable[[str], Any] | None = None,
    checkpoint: Callable[[int, Any], Any] | None = None,
    checkpoint_steps: Sequence[int] = (),
) -> float:
    """AdamW with warm-up and cosine decay over `stage.steps` batches; returns the last loss.
    `checkpoint(step, model)` is called after each of `checkpoint_steps` (1-based), as a
    trainer saves checkpoints: the same run, not a shorter one."""
    import torch
    from tqdm import tqdm

    if not examples:
        raise ValueError(f"{description}: no training examples")
    torch.manual_seed(seed)
    rng = random.Random(seed)
    optimizer = torch.optim.AdamW(model.parameters(), lr=stage.learning_rate, weight_decay=0.01)
    warmup = max(1, stage.steps // 10)

    def rate(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        progress = (step - warmup) / max(1, stage.steps - warmup)
        return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress))

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, rate)
    order: list[int] = []
    model.train()
    smoothed = float("nan")
    with tqdm(range(stage.steps), desc=description, unit="step", leave=True) as bar:
        for _ in bar:
            if len(order) < stage.batch_size:
                refill = list(range(len(examples)))
                rng.shuffle(refill)
                order += refill
            chosen = [examples[i] for i in order[: stage.batch_size]]
            del order[: stage.batch_size]
            input_ids, labels, mask = _batch(chosen, pad_id, stage.max_length)
            loss = model(input_ids=input_ids, attention_mask=mask, labels=labels).loss
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            done = bar.n + 1
            if checkpoint is not None and done in checkpoint_steps:
                model.eval()
                checkpoint(done, model)
                model.train()
            value = loss.item()
            smoothed = value if math.isnan(smoothed) else 0.9 * smoothed + 0.1 * value
            bar.set_postfix(loss=f"{smoothed:.3f}")
    model.eval()
    if log is not None:
        log(f"{description}: final loss {smoothed:.3f}")
    return smoothed


def save(model: Any, tokenizer: Any, out: Path) -> Path:
    """A Hugging Face folder vLLM loads: config, safetensors weights, tokenizer, template."""
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


def load(path: Path) -> Any:
    import torch
    from transformers import LlamaForCausalLM

    return LlamaForCausalLM.from_pretrained(path, dtype=torch.float32)


def read_jsonl(path: Path) -> list[Any]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
