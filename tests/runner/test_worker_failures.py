"""One failing request never ends a run: the feed isolates it, retries it once, records it."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from evalkit.backends.base import Generation, GenerationRequest, Sampling
from evalkit.backends.feed import BatchFeed
from evalkit.cache import GenerationCache
from evalkit.errors import EvalkitError
from evalkit.prompts import Prompt
from evalkit.runner.streaming import MAX_FAILURES_IN_A_ROW, StreamStats, stream_requests


class Bar:
    def __init__(self) -> None:
        self.n = 0

    def update(self, n: int) -> None:
        self.n += n

    def set_postfix_str(self, text: str, refresh: bool = True) -> None:
        pass


class Engine:
    """An engine that refuses any batch holding a bad request (as vLLM refuses a batch with
    one over-long prompt); a flaky request fails the first time only."""

    def __init__(self, bad: set[str], flaky: set[str] | None = None) -> None:
        self.bad, self.flaky = bad, flaky or set()
        self.seen: set[str] = set()
        self.calls: list[int] = []

    def generate(self, requests: Sequence[GenerationRequest]) -> list[Generation]:
        texts = [r.prompt.text or "" for r in requests]
        self.calls.append(len(texts))
        if self.bad & set(texts):
            raise ValueError(f"prompt {sorted(self.bad & set(texts))[0]} is too long")
        for t in texts:
            if t in self.flaky and t not in self.seen:
                self.seen.add(t)
                raise ConnectionResetError("connection reset")
        return [Generation(t.upper(), 1, 1, "stop", 0.0) for t in texts]

    def loglikelihood(self, requests: Sequence[Any]) -> list[Any]:
        raise NotImplementedError

    def describe(self) -> dict[str, Any]:
        return {"engine": "test"}


def rows(n: int) -> list[dict[str, Any]]:
    return [{"key": f"k{i}", "text": f"r{i}", "kind": "generate"} for i in range(n)]


def to_request(row: dict[str, Any]) -> GenerationRequest:
    return GenerationRequest(Prompt(row["key"], "base", text=row["text"]), Sampling())


def stream(engine: Any, n: int, batch: int, cache: GenerationCache, failures: dict) -> Bar:
    bar = Bar()
    feed = BatchFeed(engine, batch)
    stream_requests(
        rows(n), "generate", to_request, feed, cache, "me", bar, failures, StreamStats()
    )
    return bar


def test_failing_requests_are_isolated_and_the_rest_answered(tmp_path: Path) -> None:
    failures: dict[str, str] = {}
    engine = Engine({"r3", "r17"}, flaky={"r9"})
    with GenerationCache(tmp_path / "c.sqlite") as cache:
        bar = stream(engine, 40, 16, cache, failures)
        answered = cache.get_many([f"k{i}" for i in range(40)])
        assert cache.claim(["k3", "k17"], "another run") == (["k3", "k17"], [])  # released
    assert set(failures) == {"k3", "k17"}
    assert failures["k3"] == "ValueError: prompt r3 is too long"
    assert len(answered) == 38 and answered["k9"]["text"] == "R9"  # flaky: retried, answered
    assert bar.n == 40
    assert len(engine.calls) < 40  # bisection, not one call per request


def test_an_engine_that_fails_every_request_stops_the_model(tmp_path: Path) -> None:
    every = {f"r{i}" for i in range(200)}
    with (
        GenerationCache(tmp_path / "c.sqlite") as cache,
        pytest.raises(EvalkitError, match=f"failed on {MAX_FAILURES_IN_A_ROW} requests in a row"),
    ):
        stream(Engine(every), 200, 8, cache, {})


def test_evalkit_errors_are_not_one_request_s_fault(tmp_path: Path) -> None:
    class Unreachable(Engine):
        def generate(self, requests: Sequence[GenerationRequest]) -> list[Generation]:
            raise EvalkitError("cannot reach http://127.0.0.1:1/v1")

    with GenerationCache(tmp_path / "c.sqlite") as cache, pytest.raises(EvalkitError):
        stream(Unreachable(set()), 4, 4, cache, {})
