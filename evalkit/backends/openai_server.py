"""Any OpenAI-compatible server (e.g. `vllm serve`), by base URL.

Requests go out concurrently with bounded parallelism (`concurrency=`); the client retries
transient failures (connection errors, 429, 5xx) with exponential backoff.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from evalkit.backends.base import (
    Backend,
    BackendOptions,
    Generation,
    GenerationRequest,
    Loglikelihood,
    LoglikelihoodRequest,
    RequestRejected,
    backend,
)
from evalkit.errors import EvalkitError, UsageError
from evalkit.runner.models import ModelSpec

T = TypeVar("T")
_RETRIES = 5
# Status codes that mean the request itself was refused; others mean the server or the
# model name is wrong, which no other request would survive either.
_REQUEST_FAULTS = frozenset({400, 413, 422})


class OpenAIServerBackend:
    def __init__(self, model: ModelSpec, options: BackendOptions) -> None:
        try:
            import openai
        except ImportError:
            raise EvalkitError(
                "backend=openai needs the openai package: pip install openai"
            ) from None
        if not options.base_url:
            raise UsageError("backend=openai needs base_url=http://host:port/v1")
        self._openai = openai
        self.spec = model
        self.options = options
        # The server knows the model by the name it was started with (`vllm serve PATH`
        # registers PATH); `engine.served_name` in the model config overrides.
        self.served_name = model.engine.get("served_name", model.path)
        self._api_key = os.environ.get("OPENAI_API_KEY", "EMPTY")

    def _run(self, jobs: Sequence[Callable[[Any], Awaitable[T]]]) -> list[T]:
        async def main() -> list[T]:
            client = self._openai.AsyncOpenAI(
                base_url=self.options.base_url,
                api_key=self._api_key,
                max_retries=_RETRIES,
                timeout=600.0,
            )
            limit = asyncio.Semaphore(self.options.concurrency)

            async def bounded(job: Callable[[Any], Awaitable[T]]) -> T:
                async with limit:
                    return await job(client)

            try:
                return await asyncio.gather(*(bounded(job) for job in jobs))
            finally:
                await client.close()

        try:
            return asyncio.run(main())
        except self._openai.APIConnectionError as e:
            raise EvalkitError(f"cannot reach {self.options.base_url}: {e}") from None
        except self._openai.APIStatusError as e:
            message = f"{self.options.base_url} answered {e.status_code}: {e.message}"
            if e.status_code in _REQUEST_FAULTS:  # this request (too long, malformed): its item
                raise RequestRejected(message) from None
            raise EvalkitError(message) from None  # the server or the model name: every request

    def generate(self, requests: Sequence[GenerationRequest]) -> list[Generation]:
        def job(request: GenerationRequest) -> Callable[[Any], Awaitable[Generation]]:
            s = request.sampling
            common = {
                "model": self.served_name,
                "max_tokens": s.max_new_tokens,
                "temperature": s.temperature,
                "top_p": s.top_p,
                "seed": s.seed,
                "stop": list(s.stop) or None,
            }
            schema = json.loads(s.json_schema) if s.json_schema is not None else None

            async def call(client: Any) -> Generation:
                began = time.perf_counter()
                if request.prompt.text is not None:
                    # Completions have no standard response_format: vLLM's own field.
                    extra = {"structured_outputs": {"json": schema}} if schema else None
                    r = await client.completions.create(
                        prompt=request.prompt.text, extra_body=extra, **common
                    )
                    text = r.choices[0].text
                else:
                    messages = [
                        {"role": role, "content": c} for role, c in request.prompt.messages or ()
                    ]
                    shape = (
                        {"type": "json_schema", "json_schema": {"name": "answer", "schema": schema}}
                        if schema
                        else self._openai.NOT_GIVEN
                    )
                    r = await client.chat.completions.create(
                        messages=messages, response_format=shape, **common
                    )
                    text = r.choices[0].message.content or ""
                usage = r.usage
                return Generation(
                    text=text,
                    prompt_tokens=usage.prompt_tokens if usage else 0,
                    output_tokens=usage.completion_tokens if usage else 0,
                    finish_reason=r.choices[0].finish_reason or "",
                    seconds=time.perf_counter() - began,
                )

            return call

        return self._run([job(r) for r in requests])

    def loglikelihood(self, requests: Sequence[LoglikelihoodRequest]) -> list[Loglikelihood]:
        if any(r.prompt.text is None for r in requests):
            raise UsageError(
                "backend=openai scores log-likelihood only for completion prompts; "
                "use mcq_mode=generate for chat models on a server"
            )

        def job(request: LoglikelihoodRequest) -> Callable[[Any], Awaitable[Loglikelihood]]:
            async def call(client: Any) -> Loglikelihood:
                text = (request.prompt.text or "") + request.continuation
                r = await client.completions.create(
                    model=self.served_name,
                    prompt=text,
                    max_tokens=1,
                    echo=True,
                    logprobs=1,
                    temperature=0.0,
                )
                lp = r.choices[0].logprobs
                # The echoed prompt comes first (usage.prompt_tokens of them), then the one
                # generated token. Text offsets cannot be trusted (the echo may include a
                # decoded BOS), so the continuation is the shortest token suffix spelling it.
                prompt = list(zip(lp.tokens, lp.token_logprobs, lp.top_logprobs, strict=False))
                prompt = prompt[: r.usage.prompt_tokens]
                chosen = _suffix_spelling(prompt, request.continuation)
                total = sum(p for _, p, _ in chosen if p is not None)
                greedy = all(top and max(top, key=top.get) == tok for tok, _, top in chosen)
                return Loglikelihood(float(total), len(chosen), greedy)

            return call

        return self._run([job(r) for r in requests])

    def describe(self) -> dict[str, Any]:
        return {
            "engine": "openai-compatible server",
            "base_url": self.options.base_url,
            "served_name": self.served_name,
            "openai": self._openai.__version__,
        }


def _suffix_spelling(
    tokens: list[tuple[str, Any, Any]], continuation: str
) -> list[tuple[str, Any, Any]]:
    """The last k tokens whose text is exactly `continuation`."""
    text = ""
    for k in range(1, len(tokens) + 1):
        text = tokens[-k][0] + text
        if text == continuation:
            return tokens[-k:]
        if len(text) >= len(continuation) + 16:
            break
    raise EvalkitError(
        f"the server's tokens do not end with the continuation {continuation!r} "
        "(tokenisation merged it with the prompt); score this model with backend=vllm or hf"
    )


@backend("openai")
def openai_backend(model: ModelSpec, options: BackendOptions) -> Backend:
    return OpenAIServerBackend(model, options)
