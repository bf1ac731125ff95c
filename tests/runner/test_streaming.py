"""Streaming into the cache: results are committed as they finish, and runs that share a cache
share its work (no request generated twice), taking over the claims of a run that died."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from evalkit.backends.base import Generation, GenerationRequest
from evalkit.backends.feed import BatchFeed
from evalkit.cache import GenerationCache
from evalkit.runner.streaming import StreamStats, stream_requests

from .test_worker_failures import Bar, rows, to_request


class SlowEngine:
    """Answers each request after a short delay, counting what it generated."""

    def __init__(self) -> None:
        self.generated: list[str] = []

    def generate(self, requests: Sequence[GenerationRequest]) -> list[Generation]:
        time.sleep(0.01 * len(requests))
        self.generated += [r.prompt.text or "" for r in requests]
        return [Generation((r.prompt.text or "").upper(), 1, 1, "stop", 0.0) for r in requests]

    def loglikelihood(self, requests: Sequence[Any]) -> list[Any]:
        raise NotImplementedError

    def describe(self) -> dict[str, Any]:
        return {"engine": "slow"}


def run_stream(path: Path, owner: str, n: int, engine: SlowEngine, out: dict) -> None:
    with GenerationCache(path) as cache:
        stats = StreamStats()
        stream_requests(
            rows(n), "generate", to_request, BatchFeed(engine, 8), cache, owner, Bar(), {}, stats
        )
        out[owner] = stats


def test_runs_sharing_a_cache_generate_nothing_twice(tmp_path: Path) -> None:
    path, n = tmp_path / "c.sqlite", 300
    engines = {f"host:{i}:run": SlowEngine() for i in range(3)}
    stats: dict[str, StreamStats] = {}
    threads = [
        threading.Thread(target=run_stream, args=(path, owner, n, engine, stats))
        for owner, engine in engines.items()
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    generated = [text for e in engines.values() for text in e.generated]
    assert sorted(generated) == sorted(f"r{i}" for i in range(n))  # each exactly once
    assert all(e.generated for e in engines.values())  # the work was shared, not serialised
    for owner, s in stats.items():  # every run saw every result
        assert s.generated + s.from_other_runs == n, owner
    with GenerationCache(path) as cache:
        assert len(cache.get_many([f"k{i}" for i in range(n)])) == n
        assert cache._db.execute("SELECT COUNT(*) FROM claims").fetchone()[0] == 0


def test_a_run_takes_over_the_claims_of_a_run_that_died(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite"
    with GenerationCache(path) as cache:  # a run on another host claimed k0..k9, then vanished
        cache.claim([f"k{i}" for i in range(10)], "lost-host:1:gone")
        cache._db.execute("UPDATE claims SET heartbeat = heartbeat - 3600")
    engine, stats = SlowEngine(), {}
    run_stream(path, "host:2:me", 20, engine, stats)
    assert sorted(engine.generated) == sorted(f"r{i}" for i in range(20))


def test_results_are_committed_while_the_engine_still_runs(tmp_path: Path) -> None:
    path, seen = tmp_path / "c.sqlite", []
    engine = SlowEngine()
    original = engine.generate

    def generate(requests: Sequence[GenerationRequest]) -> list[Generation]:
        with GenerationCache(path) as look:  # what a concurrent reader sees mid-run
            seen.append(len(look))
        return original(requests)

    engine.generate = generate  # type: ignore[method-assign]
    run_stream(path, "host:1:me", 64, engine, {})
    assert seen[0] == 0 and 0 < seen[-1] < 64  # committed batch by batch, not at the end


def test_runs_waiting_on_each_other_s_failing_requests_both_finish(tmp_path: Path) -> None:
    """A failed request's claim is released at once: two runs that each hold the request the
    other waits for, and each fails it, do not wait on each other forever."""
    from .test_worker_failures import Engine

    class SlowBad(Engine):
        def generate(self, requests: Sequence[GenerationRequest]) -> list[Generation]:
            time.sleep(0.3)
            return super().generate(requests)

    path, finished, failures = tmp_path / "c.sqlite", [], {}

    def run(owner: str, order: list[int]) -> None:
        ordered = [{"key": f"k{i}", "text": f"r{i}", "kind": "generate"} for i in order]
        with GenerationCache(path) as cache:
            feed = BatchFeed(SlowBad({"r0", "r1"}), 1)
            failures[owner] = {}
            stream_requests(
                ordered, "generate", to_request, feed, cache, owner, Bar(), failures[owner],
                StreamStats(),
            )  # fmt: skip
        finished.append(owner)

    threads = [
        threading.Thread(target=run, args=(owner, order), daemon=True)
        for owner, order in (("host:1:a", [0, 1]), ("host:2:b", [1, 0]))
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert sorted(finished) == ["host:1:a", "host:2:b"]
    assert all(set(f) == {"k0", "k1"} for f in failures.values())  # each tried and failed both
