"""One failing request never ends a run: the worker isolates it, retries it once, records it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from evalkit.backends.base import Generation
from evalkit.cache import GenerationCache
from evalkit.errors import EvalkitError
from evalkit.runner.worker import MAX_FAILURES_IN_A_ROW, _Failures, _run_chunks


class Bar:
    def __init__(self) -> None:
        self.n = 0

    def update(self, n: int) -> None:
        self.n += n


def engine(bad: set[str], flaky: set[str] | None = None, calls: list[int] | None = None):
    """An engine call that refuses any batch holding a bad request (as vLLM refuses a batch
    with one over-long prompt); a flaky request fails the first time only."""
    seen: set[str] = set()

    def call(requests: list[str]) -> list[Generation]:
        if calls is not None:
            calls.append(len(requests))
        if bad & set(requests):
            raise ValueError(f"prompt {sorted(bad & set(requests))[0]} is too long")
        for r in requests:
            if flaky and r in flaky and r not in seen:
                seen.add(r)
                raise ConnectionResetError("connection reset")
        return [
            Generation(
                text=r.upper(), prompt_tokens=1, output_tokens=1, finish_reason="stop", seconds=0.0
            )
            for r in requests
        ]

    return call


def rows(n: int) -> list[dict[str, Any]]:
    return [{"key": f"k{i}", "text": f"r{i}"} for i in range(n)]


def test_failing_requests_are_isolated_and_the_rest_answered(tmp_path: Path) -> None:
    failures, bar, calls = _Failures(), Bar(), []
    call = engine({"r3", "r17"}, flaky={"r9"}, calls=calls)
    with GenerationCache(tmp_path / "c.sqlite") as cache:
        _run_chunks(rows(40), lambda r: r["text"], call, cache, bar, 16, failures)
        answered = cache.get_many([f"k{i}" for i in range(40)])
    assert set(failures.by_key) == {"k3", "k17"}
    assert failures.by_key["k3"] == "ValueError: prompt r3 is too long"
    assert len(answered) == 38 and answered["k9"]["text"] == "R9"  # flaky: retried, answered
    assert bar.n == 40
    assert len(calls) < 40  # bisection, not one call per request


def test_an_engine_that_fails_every_request_stops_the_model(tmp_path: Path) -> None:
    failures = _Failures()
    every = {f"r{i}" for i in range(200)}
    with (
        GenerationCache(tmp_path / "c.sqlite") as cache,
        pytest.raises(EvalkitError, match=f"failed on {MAX_FAILURES_IN_A_ROW} requests in a row"),
    ):
        _run_chunks(rows(200), lambda r: r["text"], engine(every), cache, Bar(), 8, failures)


def test_evalkit_errors_are_not_one_request_s_fault(tmp_path: Path) -> None:
    def unreachable(requests: list[str]) -> list[Generation]:
        raise EvalkitError("cannot reach http://127.0.0.1:1/v1")

    with GenerationCache(tmp_path / "c.sqlite") as cache, pytest.raises(EvalkitError):
        _run_chunks(rows(4), lambda r: r["text"], unreachable, cache, Bar(), 4, _Failures())
