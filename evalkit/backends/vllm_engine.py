"""vLLM's offline engine (`vllm.LLM`): the default backend.

- A run feeds the engine request by request and steps it itself (`vllm_feed.VLLMFeed`), so
  continuous batching always has work and each result is saved as it finishes; the batch
  calls here (`generate`, `loglikelihood`) serve judges, tests and failure isolation.
- Sampling parameters are always explicit; `generation_config="vllm"` stops the checkpoint's
  generation_config.json from silently changing them.
- Chat prompts go through `LLM.chat` / `LLM.enqueue_chat`, which render the tokenizer's chat
  template without adding a second BOS (rendering to text and calling `generate` would add
  one).
- Option log-likelihoods come from prompt log-probabilities over context + continuation ids.
- LoRA adapters (`BackendOptions.adapters`) run on the same engine (`enable_lora`), each
  request with its adapter's `LoRARequest`; requests without one run on the base weights.
  On a LoRA engine vLLM computes prompt log-probabilities only one request at a time (a batch
  of several fails: vllm#29955, #16668), so log-likelihoods are requested one by one there;
  and it leaves an adapter's lm_head out of them (vllm#51594), so such adapters are refused
  for log-likelihoods rather than scored as if they were the base.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

from evalkit.backends.base import (
    Backend,
    BackendOptions,
    Generation,
    GenerationRequest,
    Loglikelihood,
    LoglikelihoodRequest,
    backend,
)
from evalkit.backends.tokens import continuation_split
from evalkit.errors import EvalkitError, UsageError
from evalkit.prompts import Prompt
from evalkit.runner.models import ModelSpec

# Contexts kept tokenised for log-likelihood requests (an item's options share one).
_CONTEXT_MEMO = 64
# On the CPU backend the KV cache is carved out of RAM; without a bound, vLLM asks for most of a
# NUMA node and refuses to start when other processes hold memory. GiB; the user's value wins.
_CPU_KVCACHE_GIB = "2"


def _on_cpu() -> bool:
    try:
        import torch

        return not torch.cuda.is_available()
    except ImportError:  # pragma: no cover - vllm always brings torch
        return True


class VLLMBackend:
    def __init__(self, model: ModelSpec, options: BackendOptions) -> None:
        if _on_cpu():
            os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", _CPU_KVCACHE_GIB)
        try:
            import vllm
        except ImportError:
            raise EvalkitError(
                "backend=vllm needs vLLM: pip install 'evalkit[cpu]' (CPU) or 'evalkit[gpu]'; "
                "or use backend=hf"
            ) from None
        from vllm.lora.request import LoRARequest

        self._vllm = vllm
        self.spec = model
        engine_args: dict[str, Any] = {
            "model": model.path,
            "dtype": model.dtype,
            "seed": options.seed,
            "trust_remote_code": model.trust_remote_code,
            "generation_config": "vllm",
            # Constrained outputs (judges) are compact JSON: a looping model cannot spend its
            # token budget on whitespace. Unconstrained requests are not affected.
            "structured_outputs_config": {"backend": "xgrammar", "disable_any_whitespace": True},
            **_lora_args(options.adapters),
            **model.engine,
        }
        # Adapter folder → the LoRARequest naming it (ids start at 1; 0 means no adapter).
        self._loras = {
            path: LoRARequest(f"adapter-{i}", i, path)
            for i, path in enumerate(options.adapters, start=1)
        }
        self._lm_head_adapters = _lm_head_adapters(options.adapters)
        self._context_memo: dict[tuple[str | None, Any], list[int]] = {}
        if not _on_cpu():
            import torch

            warning = memory_warning(model, torch.cuda.mem_get_info()[1])
            if warning is not None:
                print(warning, file=sys.stderr)
        try:
            self.llm = vllm.LLM(**engine_args)
        except (ValueError, RuntimeError, OSError) as e:
            raise EvalkitError(f"vLLM could not load {model.path}: {e}") from None
        self.tokenizer = self.llm.get_tokenizer()

    def lora_request(self, adapter: str | None) -> Any:
        if adapter is None:
            return None
        if adapter not in self._loras:
            raise EvalkitError(f"adapter {adapter} was not given to the engine when it started")
        return self._loras[adapter]

    def sampling_params(self, request: GenerationRequest) -> Any:
        s = request.sampling
        constrained = None
        if s.json_schema is not None:
            from vllm.sampling_params import StructuredOutputsParams

            constrained = StructuredOutputsParams(json=json.loads(s.json_schema))
        return self._vllm.SamplingParams(
            n=1,
            max_tokens=s.max_new_tokens,
            temperature=s.temperature,
            top_p=s.top_p,
            seed=s.seed,
            stop=list(s.stop) or None,
            structured_outputs=constrained,
        )

    def generate(self, requests: Sequence[GenerationRequest]) -> list[Generation]:
        results: list[Generation | None] = [None] * len(requests)
        text_idx = [i for i, r in enumerate(requests) if r.prompt.text is not None]
        chat_idx = [i for i, r in enumerate(requests) if r.prompt.text is None]
        for indices, is_chat in ((text_idx, False), (chat_idx, True)):
            if not indices:
                continue
            params = [self.sampling_params(requests[i]) for i in indices]
            loras = [self.lora_request(requests[i].adapter) for i in indices]
            began = time.perf_counter()
            if is_chat:
                conversations = [chat_messages(requests[i].prompt) for i in indices]
                outputs = self.llm.chat(
                    conversations,
                    params,
                    use_tqdm=False,
                    add_generation_prompt=True,
                    lora_request=loras,
                )
            else:
                outputs = self.llm.generate(
                    [requests[i].prompt.text for i in indices],
                    params,
                    use_tqdm=False,
                    lora_request=loras,
                )
            elapsed = time.perf_counter() - began
            total_tokens = sum(len(o.outputs[0].token_ids) for o in outputs) or 1
            for i, out in zip(indices, outputs, strict=True):
                share = elapsed * len(out.outputs[0].token_ids) / total_tokens
                results[i] = generation_result(out, share)
        return [r for r in results if r is not None]

    def _context_ids(self, prompt: Prompt) -> list[int]:
        """The context's token ids, tokenised once for all of an item's options (they come
        one after another)."""
        key = (prompt.text, prompt.messages)
        memo = self._context_memo
        if key not in memo:
            if len(memo) >= _CONTEXT_MEMO:
                memo.clear()
            memo[key] = self._tokenize_context(prompt)
        return memo[key]

    def _tokenize_context(self, prompt: Prompt) -> list[int]:
        if prompt.text is not None:
            return self.tokenizer(prompt.text, add_special_tokens=True)["input_ids"]
        return list(
            self.tokenizer.apply_chat_template(
                chat_messages(prompt), add_generation_prompt=True, tokenize=True, return_dict=False
            )
        )

    def loglikelihood_prompt(self, request: LoglikelihoodRequest) -> tuple[Any, int]:
        """The token prompt (context + continuation) and how many of its last tokens are the
        continuation; refuses adapters whose lm_head vLLM would leave out."""
        from vllm.inputs import TokensPrompt

        if request.adapter in self._lm_head_adapters:
            raise UsageError(
                f"adapter {request.adapter} changes lm_head, which vLLM leaves out of prompt "
                "log-probabilities (vllm#51594); use mcq_mode=generate, or backend=hf"
            )
        ids, n = continuation_split(
            self.tokenizer, self._context_ids(request.prompt), request.continuation
        )
        return TokensPrompt(prompt_token_ids=ids), n

    def loglikelihood_params(self, length: int, continuation: int) -> Any:
        """Sampling parameters scoring the last `continuation` of `length` prompt tokens.

        Prompt log-probabilities only: one token generated, nothing detokenized, and of each
        prompt position only the prompt token's own log-probability and rank
        (`prompt_logprobs=0`), flat (no object per position). The context is taken from
        vLLM's prefix cache where that is safe (`_reads_prefix_cache`): an item's options
        share their whole context, and a suite's items their instruction and exemplars.
        """
        return self._vllm.SamplingParams(
            max_tokens=1,
            temperature=0.0,
            prompt_logprobs=0,
            detokenize=False,
            flat_logprobs=True,
            skip_reading_prefix_cache=not self._reads_prefix_cache(length, continuation),
        )

    def _reads_prefix_cache(self, length: int, continuation: int) -> bool:
        """Whether a prompt may take cached context blocks without losing a log-probability
        it is scored on.

        vLLM computes prompt log-probabilities only for the positions it computes: a request
        that reuses h cached tokens gets none for the rows before h (vllm/v1/worker/
        gpu_model_runner.py, `_get_prompt_logprobs_dict`: `start_idx =
        request.num_computed_tokens`), which is why it skips the prefix cache for every
        request that asks for them (vllm/sampling_params.py, `skip_reading_prefix_cache`).
        The continuation's first token is scored from the row of the context's last token,
        so a hit must stop before it: h <= context - 1. Hits are whole blocks and at most
        length - 1 tokens (vllm/v1/core/kv_cache_manager.py, `get_computed_blocks`), so the
        prompt is safe when no block boundary falls in [context, length - 1]; this holds
        whatever was cached, before or after a preemption. (Blocks the prompt computes are
        still cached for the prompts after it.)
        """
        block = self._prefix_block
        return block is not None and hits_stop_before_continuation(length, continuation, block)

    @cached_property
    def _prefix_block(self) -> int | None:
        """Tokens per prefix-cache hit unit, when the engine caches prefixes in whole blocks
        of `cache_config.block_size` (one full-attention KV cache group); else None."""
        return _prefix_block_size(self.llm.llm_engine.vllm_config)

    @property
    def serves_adapters(self) -> bool:
        """Whether the engine runs LoRA adapters (then log-likelihoods go one at a time)."""
        return bool(self._loras)

    def loglikelihood(self, requests: Sequence[LoglikelihoodRequest]) -> list[Loglikelihood]:
        prompts = [self.loglikelihood_prompt(r) for r in requests]
        params = [self.loglikelihood_params(len(p["prompt_token_ids"]), n) for p, n in prompts]
        loras = [self.lora_request(r.adapter) for r in requests]
        if self._loras:  # one at a time: see the module's docstring
            outputs = [
                out
                for (prompt, _), p, lora in zip(prompts, params, loras, strict=True)
                for out in self.llm.generate([prompt], p, use_tqdm=False, lora_request=lora)
            ]
        else:
            outputs = self.llm.generate([p for p, _ in prompts], params, use_tqdm=False)
        return [loglikelihood_result(out, n) for (_, n), out in zip(prompts, outputs, strict=True)]

    def feed(self) -> Any:
        """This engine fed request by request and stepped here (see vllm_feed)."""
        from evalkit.backends.vllm_feed import VLLMFeed

        return VLLMFeed(self)

    def describe(self) -> dict[str, Any]:
        import torch
        import transformers

        return {
            "engine": "vllm",
            "vllm": self._vllm.__version__,
            "torch": torch.__version__,
            "transformers": transformers.__version__,
            "device": "cpu" if _on_cpu() else torch.cuda.get_device_name(0),
            "kv_cache_gib_cpu": os.environ.get("VLLM_CPU_KVCACHE_SPACE") if _on_cpu() else None,
            "lora_adapters": len(self._loras),
        }


def generation_result(out: Any, seconds: float) -> Generation:
    """A vLLM RequestOutput as evalkit's Generation."""
    completion = out.outputs[0]
    return Generation(
        text=completion.text,
        prompt_tokens=len(out.prompt_token_ids or ()),
        output_tokens=len(completion.token_ids),
        finish_reason=str(completion.finish_reason),
        seconds=seconds,
        token_ids=list(completion.token_ids),
    )


def loglikelihood_result(out: Any, n: int) -> Loglikelihood:
    """The continuation's (last `n` prompt tokens') summed log-probability and greediness."""
    ids = out.prompt_token_ids
    total, greedy = 0.0, True
    for position in range(len(ids) - n, len(ids)):
        entry = out.prompt_logprobs[position][ids[position]]
        total += entry.logprob
        greedy = greedy and entry.rank == 1
    return Loglikelihood(total, n, greedy)


def hits_stop_before_continuation(length: int, continuation: int, block: int) -> bool:
    """Whether every prefix-cache hit (whole `block`s, at most `length` - 1 tokens) of a
    prompt of `length` tokens ends before the last context token, the row that scores the
    first of the `continuation` tokens: no block boundary in [context, length - 1]."""
    context = length - continuation
    return (length - 1) // block * block <= context - 1


def _prefix_block_size(config: Any) -> int | None:
    """The prefix-cache hit unit of an engine with prefix caching on and a single
    full-attention KV cache group: `cache_config.block_size` (vllm/v1/core/kv_cache_utils.py,
    `resolve_kv_cache_block_sizes`). None for anything else (hybrid, sliding-window or
    chunked-attention models, context parallelism, KV transfer), where hits may land on
    other units: there log-likelihood prompts keep vLLM's default and skip the cache."""
    cache, model = config.cache_config, config.model_config
    text_config = model.hf_text_config
    layer_types = set(getattr(text_config, "layer_types", None) or ["full_attention"])
    plain = (
        cache.enable_prefix_caching
        and cache.prefix_match_unit in (None, cache.block_size)
        and config.parallel_config.decode_context_parallel_size == 1
        and config.kv_transfer_config is None
        and not model.is_hybrid
        and not model.is_attention_free
        and model.get_sliding_window() is None
        and getattr(text_config, "attention_chunk_size", None) is None
        and layer_types == {"full_attention"}
    )
    return cache.block_size if plain else None


def _lora_args(adapters: tuple[str, ...]) -> dict[str, Any]:
    """Engine options serving `adapters`: LoRA on, the rank all of them fit, one adapter at a
    time on the device (evalkit sends one model's requests at a time)."""
    if not adapters:
        return {}
    from evalkit.runner.adapters import read_adapter_config, vllm_lora_rank

    ranks = [read_adapter_config(Path(a)).r for a in adapters]
    return {"enable_lora": True, "max_lora_rank": vllm_lora_rank(ranks), "max_loras": 1}


def memory_warning(model: ModelSpec, gpu_bytes: int) -> str | None:
    """A warning line when the memory plan (`evalkit plan memory`) says the model and one
    sequence of its context cannot fit the GPUs its engine gets; None when it fits or the
    plan cannot tell (no config.json, an architecture it does not know)."""
    from evalkit.planning.verdict import inference_fits

    config = Path(model.path) / "config.json"
    if not config.is_file():
        return None
    engine = model.engine
    gpus = int(engine.get("tensor_parallel_size", 1)) * int(engine.get("pipeline_parallel_size", 1))
    try:
        fits, message = inference_fits(
            config,
            gpu_bytes,
            model.dtype,
            engine.get("max_model_len"),
            gpus,
            float(engine.get("gpu_memory_utilization", 0.9)),
        )
    except (EvalkitError, ValueError):
        return None
    return None if fits else f"warning: {model.name} may not fit: {message}"


def _lm_head_adapters(adapters: tuple[str, ...]) -> set[str]:
    from evalkit.runner.adapters import read_adapter_config

    return {a for a in adapters if read_adapter_config(Path(a)).changes_lm_head}


def chat_messages(prompt: Prompt) -> list[dict[str, str]]:
    return [{"role": role, "content": content} for role, content in prompt.messages or ()]


@backend("vllm", adapters=True)
def vllm_backend(model: ModelSpec, options: BackendOptions) -> Backend:
    return VLLMBackend(model, options)
