"""Streaming a model's requests through an engine feed into the generation cache.

Each result is committed to the cache within `FLUSH_SECONDS` of finishing (no barrier between
batches), so a run killed at any moment loses at most those results, and its rerun generates
only what is not cached.

Before a request goes to the engine it is claimed in the cache (`GenerationCache.claim`). A
request another live run has claimed is not generated again: this run waits for its result
(or takes the claim over if that run dies). A `ClaimHeartbeat` thread refreshes the claims
while the run works, even through a long engine call; a failed request's claim is released
at once (another run may try it), and the rest when the run stops.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from evalkit.backends.feed import EngineRequest, Feed, Polled, RequestKind
from evalkit.cache import GenerationCache
from evalkit.errors import EvalkitError

# Single requests failing one after another with no success between: the engine itself is
# broken, not the requests; the model stops there.
MAX_FAILURES_IN_A_ROW = 50
CLAIM_BATCH = 64  # keys claimed per cache transaction
FLUSH_SECONDS = 0.2  # results wait at most this long before they are committed
FLUSH_RESULTS = 256  # ... or until this many are ready
HEARTBEAT_SECONDS = 10.0  # claims refreshed this often (they go stale after cache.STALE_AFTER)
WAIT_SECONDS = 0.5  # how often a run waiting on another run's claims looks again


@dataclass
class StreamStats:
    """What streaming one model's requests did."""

    generated: int = 0  # results this run's engine produced
    from_other_runs: int = 0  # results another run sharing the cache produced meanwhile
    failed: int = 0
    engine_seconds: float = 0.0  # inside the engine's calls
    output_tokens: int = 0


@dataclass
class _Stream:
    """The state of one stream: its queue, what waits on other runs, and uncommitted results."""

    kind: RequestKind
    feed: Feed
    cache: GenerationCache
    owner: str
    bar: Any
    failures: dict[str, str]
    stats: StreamStats
    queue: deque[dict[str, Any]] = field(default_factory=deque)
    waiting: dict[str, dict[str, Any]] = field(default_factory=dict)
    ready: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    failures_in_a_row: int = 0
    flushed_at: float = field(default_factory=time.monotonic)
    looked_at: float = field(default_factory=time.monotonic)
    began: float = field(default_factory=time.monotonic)


def stream_requests(
    rows: list[dict[str, Any]],
    kind: RequestKind,
    to_request: Callable[[dict[str, Any]], EngineRequest],
    feed: Feed,
    cache: GenerationCache,
    owner: str,
    bar: Any,
    failures: dict[str, str],
    stats: StreamStats,
) -> None:
    """Run `rows` (job rows of one kind, each with its cache `key`) through `feed`, committing
    results to `cache` as they finish; failed keys go to `failures` with their reason."""
    unique = list({row["key"]: row for row in rows}.values())
    s = _Stream(kind, feed, cache, owner, bar, failures, stats, deque(unique))
    while s.queue or s.waiting or s.ready or feed.pending():
        _top_up(s, to_request)
        if feed.pending():
            _take(s, feed.poll())
        elif s.waiting and not s.queue:
            time.sleep(WAIT_SECONDS)
        now = time.monotonic()
        if s.ready and (
            len(s.ready) >= FLUSH_RESULTS
            or now - s.flushed_at >= FLUSH_SECONDS
            or not feed.pending()
        ):
            _flush(s, now)
        if s.waiting and now - s.looked_at >= WAIT_SECONDS:
            _look_at_waiting(s, now)


def _top_up(s: _Stream, to_request: Callable[[dict[str, Any]], EngineRequest]) -> None:
    """Claim and add requests while the feed has room."""
    room = s.feed.capacity(s.kind)
    while room > 0 and s.queue:
        batch = [s.queue.popleft() for _ in range(min(room, CLAIM_BATCH, len(s.queue)))]
        claimed, theirs = s.cache.claim([row["key"] for row in batch], s.owner)
        mine, held = set(claimed), set(theirs)
        for row in batch:
            if row["key"] in mine:
                s.feed.add(row["key"], to_request(row))
                room -= 1
            elif row["key"] in held:
                s.waiting[row["key"]] = row
            else:  # cached by another run since this run planned
                s.stats.from_other_runs += 1
                s.bar.update(1)


def _take(s: _Stream, polled: Polled) -> None:
    s.stats.engine_seconds += polled.engine_seconds
    for key, result in polled.results:
        value = asdict(result)
        s.ready.append((key, value))
        s.stats.output_tokens += int(value.get("output_tokens", 0))
    if polled.results:
        s.failures_in_a_row = 0
    if polled.failures:  # another run waiting on one of them may try it; no deadlock on waits
        s.cache.release(s.owner, [key for key, _ in polled.failures])
    for key, reason in polled.failures:
        s.failures[key] = reason
        s.stats.failed += 1
        s.failures_in_a_row += 1
        s.bar.update(1)
        if s.failures_in_a_row >= MAX_FAILURES_IN_A_ROW:
            raise EvalkitError(
                f"the engine failed on {s.failures_in_a_row} requests in a row; the last: {reason}"
            )


def _flush(s: _Stream, now: float) -> None:
    """Commit the ready results (their claims go with them) and show the throughput."""
    s.cache.put_many(s.ready)
    s.stats.generated += len(s.ready)
    s.bar.update(len(s.ready))
    s.ready = []
    s.flushed_at = now
    elapsed = max(now - s.began, 1e-9)
    s.bar.set_postfix_str(
        f"{s.stats.generated / elapsed:.1f} req/s, {s.stats.output_tokens / elapsed:.0f} tok/s",
        refresh=False,
    )


def _look_at_waiting(s: _Stream, now: float) -> None:
    """Count what other runs finished; take over the claims of runs that are gone."""
    s.looked_at = now
    done = s.cache.get_many(list(s.waiting))
    for key in done:
        del s.waiting[key]
    s.stats.from_other_runs += len(done)
    s.bar.update(len(done))
    if s.waiting:
        claimed, _ = s.cache.claim(list(s.waiting), s.owner)
        # Claimed here: their run died. Cached meanwhile: neither list; looked at next time.
        for key in claimed:
            s.queue.appendleft(s.waiting.pop(key))


class ClaimHeartbeat:
    """Refreshes `owner`'s claims every HEARTBEAT_SECONDS from a thread of its own (with its
    own cache connection), so a long engine call never lets them go stale."""

    def __init__(self, cache_path: str, owner: str) -> None:
        self._cache_path, self._owner = cache_path, owner
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name="claim-heartbeat", daemon=True)

    def _beat(self) -> None:
        with GenerationCache(self._cache_path) as cache:
            while not self._stop.wait(HEARTBEAT_SECONDS):
                cache.heartbeat(self._owner)

    def __enter__(self) -> ClaimHeartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
