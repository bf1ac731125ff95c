"""Build a tiny Llama-architecture model and a BPE tokenizer trained on a given corpus.

vLLM's CPU backend needs a head dimension of 64: hidden 128 with 2 heads. Weights are random
(seeded) unless a caller trains them; that is enough to exercise every engine path for real.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

BOS, EOS, PAD = "<s>", "</s>", "<pad>"
ROLE_TOKENS = ("<|system|>", "<|user|>", "<|assistant|>")

# A plain chat template in the common shape: role markers, BOS once, EOS after each answer.
CHAT_TEMPLATE = (
    "{{ bos_token }}"
    "{% for m in messages %}"
    "{% if m['role'] == 'system' %}<|system|>\n{{ m['content'] }}\n"
    "{% elif m['role'] == 'user' %}<|user|>\n{{ m['content'] }}\n"
    "{% elif m['role'] == 'assistant' %}<|assistant|>\n{{ m['content'] }}{{ eos_token }}\n"
    "{% endif %}"
    "{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>\n{% endif %}"
)


def train_tokenizer(corpus: Iterable[str], vocab_size: int = 1000) -> Any:
    """A byte-level BPE tokenizer (any text encodes) that prepends BOS, Llama-style."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=2,
        special_tokens=[PAD, BOS, EOS, *ROLE_TOKENS],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(list(corpus), trainer=trainer)
    tok.post_processor = processors.TemplateProcessing(
        single=f"{BOS} $A", pair=f"{BOS} $A {BOS} $B", special_tokens=[(BOS, tok.token_to_id(BOS))]
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token=BOS,
        eos_token=EOS,
        pad_token=PAD,
        additional_special_tokens=list(ROLE_TOKENS),
        model_max_length=2048,
    )


def new_llama(
    tokenizer: Any,
    hidden_size: int = 128,
    layers: int = 2,
    max_positions: int = 2048,
    seed: int = 0,
) -> Any:
    """A randomly initialised (seeded) float32 Llama for `tokenizer`, head dimension 64."""
    import torch
    from transformers import GenerationConfig, LlamaConfig, LlamaForCausalLM

    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=hidden_size,
        intermediate_size=hidden_size * 2,
        num_hidden_layers=layers,
        num_attention_heads=hidden_size // 64,  # head_dim 64: what vLLM's CPU kernels support
        num_key_value_heads=hidden_size // 64,
        max_position_embeddings=max_positions,
        rms_norm_eps=1e-6,
        tie_word_embeddings=False,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    model = LlamaForCausalLM(config).to(torch.float32)
    # Only the special ids: no sampling defaults hiding in generation_config.json.
    model.generation_config = GenerationConfig(
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    return model


def build_tiny_llama(
    out: Path,
    corpus: Iterable[str],
    chat: bool = False,
    seed: int = 0,
    hidden_size: int = 128,
    layers: int = 2,
) -> Path:
    """Write a random-weight tiny Llama + tokenizer to `out`; with `chat`, a chat template too."""
    tokenizer = train_tokenizer(corpus)
    model = new_llama(tokenizer, hidden_size, layers, seed=seed).eval()
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)
    if chat:
        tokenizer.chat_template = CHAT_TEMPLATE
    tokenizer.save_pretrained(out)
    return out
