"""Feeding an engine requests while it runs, and taking results back as they finish.

The runner keeps a feed topped up to its `capacity` and commits whatever `poll` hands back, so
the engine never idles on a barrier between batches. vLLM steps its own engine
(`evalkit.backends.vllm_feed`); any other backend gets a `BatchFeed`, which runs what was
added as one batch call per poll; a Ray replica pool is a feed too (`evalkit.scaleout`).

A request is never lost to another's failure: a failing batch call is split until the failing
requests are alone, each is retried once, and what still fails comes back as a failure with
its reason. evalkit's own errors (the engine cannot run at all) are raised.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from evalkit.backends.base import (
    Backend,
    Generation,
    GenerationRequest,
    Loglikelihood,
    LoglikelihoodRequest,
)
from evalkit.errors import EvalkitError

EngineRequest = GenerationRequest | LoglikelihoodRequest
EngineResult = Generation | Loglikelihood
RequestKind = Literal["generate", "loglikelihood"]


def request_kind(request: EngineRequest) -> RequestKind:
    return "generate" if isinstance(request, GenerationRequest) else "loglikelihood"


@dataclass
class Polled:
    """What one poll brought back: results and failures, each under the tag it was added with."""

    results: list[tuple[str, EngineResult]] = field(default_factory=list)
    failures: list[tuple[str, str]] = field(default_factory=list)  # (tag, reason)
    engine_seconds: float = 0.0  # time spent inside the engine during this poll

    def extend(self, other: Polled) -> None:
        self.results += other.results
        self.failures += other.failures
        self.engine_seconds += other.engine_seconds


class Feed(Protocol):
    def add(self, tag: str, request: EngineRequest) -> None:
        """Hand the engine a request; its result comes back from a later poll under `tag`."""
        ...

    def poll(self) -> Polled:
        """Run the engine a little; results and failures of requests that finished."""
        ...

    def pending(self) -> int:
        """Requests added whose result has not come back yet."""
        ...

    def capacity(self, kind: RequestKind) -> int:
        """How many more requests of `kind` to add now to keep the engine busy."""
        ...

    def describe(self) -> dict[str, Any]:
        """The engine record for the run manifest."""
        ...


def failure_reason(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0] if text else ''}"[:500]


def run_isolating(
    tagged: Sequence[tuple[str, EngineRequest]],
    call: Callable[[list[Any]], list[Any]],
) -> Polled:
    """Run the requests in one engine call; if it fails, split them in halves until each
    failing request is alone, and retry that one once before recording its reason."""
    try:
        outputs = call([request for _, request in tagged])
    except EvalkitError:
        raise
    except Exception as error:
        if len(tagged) > 1:
            half = len(tagged) // 2
            done = run_isolating(tagged[:half], call)
            done.extend(run_isolating(tagged[half:], call))
            return done
        try:
            outputs = call([tagged[0][1]])
        except EvalkitError:
            raise
        except Exception:
            return Polled(failures=[(tagged[0][0], failure_reason(error))])
    return Polled(results=[(tag, o) for (tag, _), o in zip(tagged, outputs, strict=True)])


def run_batch(engine: Backend, tagged: Sequence[tuple[str, EngineRequest]]) -> Polled:
    """Requests of both kinds through the engine's batch calls, failures isolated."""
    began = time.perf_counter()
    done = Polled()
    generate = [(t, r) for t, r in tagged if isinstance(r, GenerationRequest)]
    score = [(t, r) for t, r in tagged if not isinstance(r, GenerationRequest)]
    if generate:
        done.extend(run_isolating(generate, engine.generate))
    if score:
        done.extend(run_isolating(score, engine.loglikelihood))
    done.engine_seconds = time.perf_counter() - began
    return done


class BatchFeed:
    """A feed over any backend's batch calls: each poll runs up to `batch_size` requests."""

    def __init__(self, engine: Backend, batch_size: int) -> None:
        self.engine = engine
        self.batch_size = batch_size
        self._queue: list[tuple[str, EngineRequest]] = []

    def add(self, tag: str, request: EngineRequest) -> None:
        self._queue.append((tag, request))

    def poll(self) -> Polled:
        batch, self._queue = self._queue[: self.batch_size], self._queue[self.batch_size :]
        return run_batch(self.engine, batch)

    def pending(self) -> int:
        return len(self._queue)

    def capacity(self, kind: RequestKind) -> int:
        return max(0, self.batch_size - len(self._queue))

    def describe(self) -> dict[str, Any]:
        return self.engine.describe()


def engine_feed(engine: Backend, batch_size: int) -> Feed:
    """The engine's own feed where it has one (`engine.feed()`), else a BatchFeed."""
    make = getattr(engine, "feed", None)
    return make() if callable(make) else BatchFeed(engine, batch_size)
