"""vLLM's engine fed request by request and stepped here, each result handed back the step it
finishes.

`LLM.generate` returns only when its whole batch is done, so a batch's longest answer holds
every other slot idle at its end. Here requests go in with `LLM.enqueue`/`enqueue_chat` (the
same rendering and validation as `generate`/`chat`), the runner tops the engine up as results
come out of `LLMEngine.step`, and the engine's scheduler always has work.

If a step fails, the requests in flight are aborted and rerun through the backend's batch
calls, where failures are isolated request by request (`evalkit.backends.feed.run_isolating`).
"""

from __future__ import annotations

import contextlib
import time
from typing import TYPE_CHECKING, Any

from evalkit.backends.base import GenerationRequest
from evalkit.backends.feed import (
    EngineRequest,
    Polled,
    RequestKind,
    failure_reason,
    run_batch,
)
from evalkit.errors import EvalkitError

if TYPE_CHECKING:
    from evalkit.backends.vllm_engine import VLLMBackend

# Requests in the engine at once. Its scheduler takes what fits its KV cache and max_num_seqs
# from these; a few hundred waiting keep it full without holding many prompts in memory.
WINDOW = 512


def _external_id(request_id: str) -> str:
    """The id outputs carry: vLLM adds a random suffix to the id `enqueue` returns."""
    return request_id.rsplit("-", 1)[0]


class VLLMFeed:
    def __init__(self, backend: VLLMBackend, window: int = WINDOW) -> None:
        self.backend = backend
        self.window = window
        self._engine = backend.llm.llm_engine
        # output id → (internal id, tag, request, continuation tokens or None, time added)
        self._in_flight: dict[str, tuple[str, str, EngineRequest, int | None, float]] = {}
        self._rejected: list[tuple[str, str]] = []
        self._enqueue_seconds = 0.0  # rendering and tokenizing in enqueue: engine time too

    def add(self, tag: str, request: EngineRequest) -> None:
        began = time.perf_counter()
        try:
            request_id, continuation = self._enqueue(request)
        except EvalkitError:
            raise
        except Exception as error:  # vLLM refused it (too long, malformed): this one fails
            self._rejected.append((tag, failure_reason(error)))
            return
        finally:
            self._enqueue_seconds += time.perf_counter() - began
        entry = (request_id, tag, request, continuation, time.perf_counter())
        self._in_flight[_external_id(request_id)] = entry

    def _enqueue(self, request: EngineRequest) -> tuple[str, int | None]:
        llm, backend = self.backend.llm, self.backend
        lora = backend.lora_request(request.adapter)
        if isinstance(request, GenerationRequest):
            params = backend.sampling_params(request)
            if request.prompt.text is not None:
                ids = llm.enqueue(request.prompt.text, params, lora_request=lora, use_tqdm=False)
            else:
                from evalkit.backends.vllm_engine import chat_messages

                ids = llm.enqueue_chat(
                    [chat_messages(request.prompt)],
                    params,
                    lora_request=lora,
                    use_tqdm=False,
                    add_generation_prompt=True,
                )
            return ids[0], None
        prompt, n = backend.loglikelihood_prompt(request)
        params = backend.loglikelihood_params(len(prompt["prompt_token_ids"]), n)
        ids = llm.enqueue(prompt, params, lora_request=lora, use_tqdm=False)
        return ids[0], n

    def poll(self) -> Polled:
        from evalkit.backends.vllm_engine import generation_result, loglikelihood_result

        done = Polled(failures=self._rejected, engine_seconds=self._enqueue_seconds)
        self._rejected, self._enqueue_seconds = [], 0.0
        if not self._in_flight:
            return done
        began = time.perf_counter()
        try:
            outputs = self._engine.step()
        except EvalkitError:
            raise
        except Exception:
            done.extend(self._rerun_in_flight())
            return done
        now = time.perf_counter()
        done.engine_seconds += now - began
        for out in outputs:
            if not out.finished or out.request_id not in self._in_flight:
                continue
            _, tag, _, continuation, added = self._in_flight.pop(out.request_id)
            if continuation is None:
                done.results.append((tag, generation_result(out, now - added)))
            else:
                done.results.append((tag, loglikelihood_result(out, continuation)))
        return done

    def _rerun_in_flight(self) -> Polled:
        """After a failed step: abort what is in flight and run it again as batches."""
        entries = list(self._in_flight.values())
        self._in_flight.clear()
        # A dead engine refuses the abort too; the batch calls below then fail per request.
        with contextlib.suppress(Exception):
            self._engine.abort_request([e[0] for e in entries], internal=True)
        return run_batch(self.backend, [(tag, request) for _, tag, request, _, _ in entries])

    def pending(self) -> int:
        return len(self._in_flight) + len(self._rejected)

    def capacity(self, kind: RequestKind) -> int:
        # On a LoRA engine vLLM computes prompt log-probabilities one request at a time
        # (see vllm_engine's docstring).
        limit = 1 if kind == "loglikelihood" and self.backend.serves_adapters else self.window
        return max(0, limit - self.pending())

    def describe(self) -> dict[str, Any]:
        return {**self.backend.describe(), "fed": "streaming"}
