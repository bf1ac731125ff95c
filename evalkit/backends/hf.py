"""transformers `generate`: the fallback where vLLM is missing (and on GPUs without vLLM).

Tokenisation matches vLLM's: completion prompts get the tokenizer's special tokens (BOS);
chat prompts are rendered by the tokenizer's chat template, which carries its own BOS.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
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
from evalkit.backends.tokens import continuation_split, truncate_at_stop
from evalkit.errors import EvalkitError
from evalkit.prompts import Prompt
from evalkit.runner.models import ModelSpec

_BATCH = 16


class HFBackend:
    def __init__(self, model: ModelSpec, options: BackendOptions) -> None:
        try:
            import torch
            from transformers import AutoModelForCausalLM, AutoTokenizer
        except ImportError as e:
            raise EvalkitError(f"backend=hf needs torch and transformers ({e})") from None
        self._torch = torch
        self.spec = model
        self.device = "cuda" if torch.cuda.is_available() else "cpu"
        self.tokenizer = AutoTokenizer.from_pretrained(
            model.path, trust_remote_code=model.trust_remote_code
        )
        self.tokenizer.padding_side = "left"
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        dtype = "auto" if model.dtype == "auto" else getattr(torch, model.dtype)
        self.model = AutoModelForCausalLM.from_pretrained(
            model.path, dtype=dtype, trust_remote_code=model.trust_remote_code
        ).to(self.device)
        self.model.eval()

    def _ids(self, prompt: Prompt) -> list[int]:
        if prompt.text is not None:
            return self.tokenizer(prompt.text, add_special_tokens=True)["input_ids"]
        messages = [{"role": r, "content": c} for r, c in prompt.messages or ()]
        ids = self.tokenizer.apply_chat_template(
            messages, add_generation_prompt=True, tokenize=True, return_dict=False
        )
        return list(ids)

    def generate(self, requests: Sequence[GenerationRequest]) -> list[Generation]:
        from transformers import GenerationConfig

        torch = self._torch
        results: list[Generation | None] = [None] * len(requests)
        encoded = [self._ids(r.prompt) for r in requests]
        # Group identical sampling and similar lengths: fewer pad tokens, same parameters.
        order = sorted(
            range(len(requests)), key=lambda i: (repr(requests[i].sampling), len(encoded[i]))
        )
        for start in range(0, len(order), _BATCH):
            batch = order[start : start + _BATCH]
            groups: dict[Any, list[int]] = {}
            for i in batch:
                groups.setdefault(requests[i].sampling, []).append(i)
            for sampling, members in groups.items():
                config = GenerationConfig(
                    max_new_tokens=sampling.max_new_tokens,
                    do_sample=sampling.temperature > 0,
                    temperature=sampling.temperature if sampling.temperature > 0 else None,
                    top_p=sampling.top_p if sampling.temperature > 0 else None,
                    top_k=None,
                    eos_token_id=self.tokenizer.eos_token_id,
                    pad_token_id=self.tokenizer.pad_token_id,
                )
                width = max(len(encoded[i]) for i in members)
                pad = self.tokenizer.pad_token_id
                input_ids = torch.tensor(
                    [[pad] * (width - len(encoded[i])) + encoded[i] for i in members]
                )
                mask = torch.tensor(
                    [[0] * (width - len(encoded[i])) + [1] * len(encoded[i]) for i in members]
                )
                torch.manual_seed(sampling.seed)
                began = time.perf_counter()
                with torch.no_grad():
                    out = self.model.generate(
                        input_ids=input_ids.to(self.device),
                        attention_mask=mask.to(self.device),
                        generation_config=config,
                    )
                elapsed = time.perf_counter() - began
                for i, tokens in zip(members, out[:, width:].tolist(), strict=True):
                    tokens, text, finish = self._finish(tokens, sampling.stop)
                    results[i] = Generation(
                        text=text,
                        prompt_tokens=len(encoded[i]),
                        output_tokens=len(tokens),
                        finish_reason=finish,
                        seconds=elapsed / len(members),
                        token_ids=tokens,
                    )
        return [r for r in results if r is not None]

    def _decode(self, tokens: list[int]) -> str:
        # An incomplete UTF-8 sequence at the very end decodes to U+FFFD; vLLM's detokenizer
        # holds such bytes back, and so do we, so that both engines return the same text.
        return self.tokenizer.decode(tokens, skip_special_tokens=True).rstrip("\ufffd")

    def _finish(self, tokens: list[int], stops: tuple[str, ...]) -> tuple[list[int], str, str]:
        """Cut at EOS (kept, as vLLM keeps it) or at the token completing a stop sequence."""
        eos, finish = self.tokenizer.eos_token_id, "length"
        if eos in tokens:
            tokens, finish = tokens[: tokens.index(eos) + 1], "stop"
        text, stopped = truncate_at_stop(self._decode(tokens), stops)
        if stopped:
            # The shortest prefix whose text contains a stop: containment grows with length.
            low, high = 1, len(tokens)
            while low < high:
                mid = (low + high) // 2
                if truncate_at_stop(self._decode(tokens[:mid]), stops)[1]:
                    high = mid
                else:
                    low = mid + 1
            tokens, finish = tokens[:low], "stop"
        return tokens, text, finish

    def loglikelihood(self, requests: Sequence[LoglikelihoodRequest]) -> list[Loglikelihood]:
        torch = self._torch
        results = []
        for request in requests:
            context_ids = self._ids(request.prompt)
            whole, n_cont = continuation_split(self.tokenizer, context_ids, request.continuation)
            with torch.no_grad():
                logits = self.model(torch.tensor([whole], device=self.device)).logits[0]
            logprobs = torch.log_softmax(logits.float(), dim=-1)
            targets = torch.tensor(whole[-n_cont:], device=self.device)
            picked = logprobs[-n_cont - 1 : -1].gather(1, targets[:, None])[:, 0]
            greedy = bool((logprobs[-n_cont - 1 : -1].argmax(-1) == targets).all())
            results.append(Loglikelihood(float(picked.sum()), n_cont, greedy))
        return results

    def describe(self) -> dict[str, Any]:
        import transformers

        described = {
            "engine": "transformers",
            "transformers": transformers.__version__,
            "torch": self._torch.__version__,
            "device": self.device,
        }
        if self.device == "cuda":  # numbers can differ between GPU models: record which ran
            described["gpu"] = self._torch.cuda.get_device_name(0)
            described["cuda"] = self._torch.version.cuda
        return described


@backend("hf")
def hf_backend(model: ModelSpec, options: BackendOptions) -> Backend:
    return HFBackend(model, options)
