"""transformers `generate`: the fallback where vLLM is missing (and on GPUs without vLLM).

Tokenisation matches vLLM's: completion prompts get the tokenizer's special tokens (BOS);
chat prompts are rendered by the tokenizer's chat template, which carries its own BOS.
LoRA adapters (`BackendOptions.adapters`) are loaded onto the one base model with PEFT and
switched per request; requests without an adapter run with the adapters disabled.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

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
_Request = TypeVar("_Request", GenerationRequest, LoglikelihoodRequest)


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
        self._adapters = {path: f"adapter-{i}" for i, path in enumerate(options.adapters)}
        if self._adapters:
            self.model = _with_adapters(self.model, list(self._adapters))
        self.model.eval()

    @contextlib.contextmanager
    def _adapter(self, adapter: str | None) -> Iterator[None]:
        """The model with `adapter` active, or with every adapter off for None."""
        if not self._adapters:
            if adapter is not None:
                raise EvalkitError(f"adapter {adapter} was not given to the engine")
            yield
        elif adapter is None:
            with self.model.disable_adapter():
                yield
        else:
            if adapter not in self._adapters:
                raise EvalkitError(f"adapter {adapter} was not given to the engine")
            self.model.set_adapter(self._adapters[adapter])
            yield

    def _per_adapter(
        self, requests: Sequence[_Request], run: Callable[[list[_Request]], list[Any]]
    ) -> list[Any]:
        """`run` on the requests of each adapter in turn, results in request order."""
        results: list[Any] = [None] * len(requests)
        groups: dict[str | None, list[int]] = {}
        for i, r in enumerate(requests):
            groups.setdefault(r.adapter, []).append(i)
        for adapter, members in groups.items():
            with self._adapter(adapter):
                for i, out in zip(members, run([requests[i] for i in members]), strict=True):
                    results[i] = out
        return results

    def _ids(self, prompt: Prompt) -> list[int]:
        if prompt.text is not None:
            return self.tokenizer(prompt.text, add_special_tokens=True)["input_ids"]
        messages = [{"role": r, "content": c} for r, c in prompt.messages or ()]
        ids = self.tokenizer.apply_chat_template(
            messages, add_generation_prompt=True, tokenize=True, return_dict=False
        )
        return list(ids)

    def generate(self, requests: Sequence[GenerationRequest]) -> list[Generation]:
        return self._per_adapter(requests, self._generate)

    def _generate(self, requests: Sequence[GenerationRequest]) -> list[Generation]:
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
        return self._per_adapter(requests, self._loglikelihood)

    def _loglikelihood(self, requests: Sequence[LoglikelihoodRequest]) -> list[Loglikelihood]:
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
            "lora_adapters": len(self._adapters),
        }
        if self._adapters:
            import peft

            described["peft"] = peft.__version__
        if self.device == "cuda":  # numbers can differ between GPU models: record which ran
            described["gpu"] = self._torch.cuda.get_device_name(0)
            described["cuda"] = self._torch.version.cuda
        return described


def _with_adapters(model: Any, adapters: list[str]) -> Any:
    """`model` wrapped by PEFT with every adapter loaded (named adapter-0, adapter-1, ...)."""
    try:
        from peft import PeftModel
    except ImportError:
        raise EvalkitError(
            "LoRA adapters on backend=hf need PEFT: pip install 'evalkit[lora]'"
        ) from None
    wrapped = PeftModel.from_pretrained(model, adapters[0], adapter_name="adapter-0")
    for i, path in enumerate(adapters[1:], start=1):
        wrapped.load_adapter(path, adapter_name=f"adapter-{i}")
    return wrapped


@backend("hf", adapters=True)
def hf_backend(model: ModelSpec, options: BackendOptions) -> Backend:
    return HFBackend(model, options)
