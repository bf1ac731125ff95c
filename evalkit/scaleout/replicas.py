"""Data-parallel engine replicas on a Ray cluster, fed as one engine.

Each replica is a Ray actor holding evalkit's own backend (vLLM by default) behind its feed,
so prompts, sampling and results are exactly those of a single-engine run. `ReplicaPool` is
itself a feed (`evalkit.backends.feed.Feed`): the runner streams requests into it as into one
engine; the pool shares them out to the replicas with room, a window at a time, and brings
results back as each replica's engine finishes them. When a replica dies (its node lost, its
process killed), the requests it had not answered go back to the queue and run on the others;
results reach the cache only through the pool, so none is stored twice.

Ray Data's LLM batch processing (`ray.data.llm`) is not used: it builds its own vLLM engine
from its own configuration, which would bypass evalkit's backend (its chat rendering, option
log-likelihoods, LoRA requests and failure isolation), and it pins vLLM versions of its own.
"""

from __future__ import annotations

import os
import time
from collections import deque
from typing import Any

from evalkit.backends.feed import EngineRequest, Polled, RequestKind, request_kind
from evalkit.errors import EvalkitError
from evalkit.runner.models import ModelSpec
from evalkit.scaleout.cluster import connect, replica_resources, reserve_replicas

POLL_SECONDS = 0.5  # a replica runs its engine this long per poll before answering
WAIT_SECONDS = 1.0  # the pool waits at most this long for any replica's answer
LORA_LOGLIKELIHOOD_WINDOW = 4  # per replica: a LoRA engine scores options one at a time


def _lost_errors(ray: Any) -> tuple[type[BaseException], ...]:
    """Ray's errors that mean a replica (or the node holding its answer) is gone."""
    return (ray.exceptions.RayActorError, ray.exceptions.ObjectLostError)


def _first_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return f"{type(error).__name__}: {lines[0] if lines else ''}"


class EngineReplica:
    """One engine on a Ray worker (created as a Ray actor by `ReplicaPool.start`)."""

    def __init__(
        self, model: dict[str, Any], backend: str, options: dict[str, Any], batch_size: int
    ) -> None:
        from evalkit.backends.base import BackendOptions, get_backend
        from evalkit.backends.feed import engine_feed

        spec = ModelSpec.model_validate(model)
        os.environ.update(spec.env)
        self._error: str | None = None
        self._queue: deque[tuple[str, EngineRequest]] = deque()
        try:
            engine = get_backend(backend)(spec, BackendOptions(**options))
        except EvalkitError as e:  # said by ready(), not as a dead actor's traceback
            self._error = str(e)
            return
        self._feed = engine_feed(engine, batch_size)

    def ready(self) -> dict[str, Any]:
        """The engine record, or the reason the engine could not start."""
        if self._error is not None:
            return {"error": self._error}
        import ray

        return {
            "describe": self._feed.describe(),
            "node": ray.get_runtime_context().get_node_id(),
            "pid": os.getpid(),
        }

    def add(self, tagged: list[tuple[str, EngineRequest]]) -> None:
        self._queue.extend(tagged)

    def poll(self, seconds: float = POLL_SECONDS) -> Polled:
        """Run the engine up to `seconds`, keeping it topped up from this replica's queue."""
        done = Polled()
        until = time.monotonic() + seconds
        while self._queue or self._feed.pending():
            while self._queue and self._feed.capacity(request_kind(self._queue[0][1])) > 0:
                self._feed.add(*self._queue.popleft())
            done.extend(self._feed.poll())
            if time.monotonic() >= until:
                break
        return done


class ReplicaPool:
    """Replicas on a Ray cluster as one feed; see the module's docstring."""

    def __init__(self, ray: Any, actors: list[Any], infos: list[dict[str, Any]], window: int):
        self._ray = ray
        self._actors = dict(enumerate(actors))  # the replicas still alive, by index
        self._infos = infos
        self._window = window
        self._queue: deque[tuple[str, EngineRequest]] = deque()
        self._assigned: dict[int, dict[str, EngineRequest]] = {i: {} for i in self._actors}
        self._polls: dict[Any, int] = {}  # poll in flight → replica index
        self._answered = [0] * len(actors)
        self._lost: list[str] = []
        self._retried = 0

    @classmethod
    def start(
        cls,
        model: ModelSpec,
        backend: str,
        options: dict[str, Any],
        parallel: dict[str, Any],
        batch_size: int,
    ) -> ReplicaPool:
        """Connect to the cluster, check it can hold the replicas, and start their engines."""
        ray = connect(parallel["ray_address"])
        resources = replica_resources(ray, parallel)
        engine = dict(model.engine)  # tensor/pipeline parallel sizes set by the run
        if parallel["gpus_per_replica"] > 1:
            # Inside an actor, vLLM's own workers are processes on the replica's node.
            engine.setdefault("distributed_executor_backend", "mp")
        spec = model.model_copy(update={"engine": engine}).model_dump(mode="json")
        from ray.util.scheduling_strategies import PlacementGroupSchedulingStrategy

        group = reserve_replicas(ray, resources, parallel)
        remote = ray.remote(EngineReplica)
        actors = [
            remote.options(
                **resources,
                max_restarts=0,
                scheduling_strategy=PlacementGroupSchedulingStrategy(
                    group, placement_group_bundle_index=i
                ),
            ).remote(spec, backend, options, batch_size)
            for i in range(parallel["replicas"])
        ]
        try:
            infos = ray.get([a.ready.remote() for a in actors])
        except (*_lost_errors(ray), ray.exceptions.RayTaskError) as e:
            raise EvalkitError(f"an engine replica could not start: {_first_line(e)}") from None
        errors = [info["error"] for info in infos if "error" in info]
        if errors:
            raise EvalkitError(errors[0])
        from evalkit.backends.vllm_feed import WINDOW

        window = WINDOW if backend == "vllm" else batch_size
        return cls(ray, actors, infos, window)

    def add(self, tag: str, request: EngineRequest) -> None:
        self._queue.append((tag, request))

    def pending(self) -> int:
        return len(self._queue) + sum(len(a) for a in self._assigned.values())

    def _window_for(self, kind: RequestKind) -> int:
        # A LoRA engine scores options one at a time: a short queue per replica shares them out.
        if kind == "loglikelihood" and self._infos[0]["describe"].get("lora_adapters"):
            return LORA_LOGLIKELIHOOD_WINDOW
        return self._window

    def capacity(self, kind: RequestKind) -> int:
        window = self._window_for(kind)
        room = sum(max(0, window - len(self._assigned[i])) for i in self._actors)
        return max(0, room - len(self._queue))

    def poll(self) -> Polled:
        self._dispatch()
        done = Polled()
        if not self._polls:
            return done
        ready, _ = self._ray.wait(list(self._polls), num_returns=1, timeout=WAIT_SECONDS)
        for ref in ready:
            index = self._polls.pop(ref)
            try:
                polled: Polled = self._ray.get(ref)
            except _lost_errors(self._ray) as e:
                self._lose(index, e)
                continue
            except self._ray.exceptions.RayTaskError as e:  # the replica's code raised
                if isinstance(e.cause, EvalkitError):
                    raise e.cause from None
                raise EvalkitError(f"engine replica {index}: {_first_line(e.cause or e)}") from None
            assigned = self._assigned[index]
            for tag, _ in polled.results:
                assigned.pop(tag, None)
            for tag, _ in polled.failures:
                assigned.pop(tag, None)
            self._answered[index] += len(polled.results)
            done.extend(polled)
        return done

    def _dispatch(self) -> None:
        """Share the queue out evenly to replicas with room; keep one poll in flight per busy
        replica."""
        if self._queue:
            window = self._window_for(request_kind(self._queue[0][1]))
            rooms = {i: window - len(self._assigned[i]) for i in self._actors}
            open_ = [i for i, room in rooms.items() if room > 0]
            for n, index in enumerate(open_):
                share = -(-len(self._queue) // (len(open_) - n))  # ceil: even over the rest
                batch = [self._queue.popleft() for _ in range(min(rooms[index], share))]
                if batch:
                    self._actors[index].add.remote(batch)
                    self._assigned[index].update(batch)
        for index, actor in self._actors.items():
            if self._assigned[index] and index not in self._polls.values():
                self._polls[actor.poll.remote()] = index

    def _lose(self, index: int, error: BaseException) -> None:
        """A replica died: its unanswered requests go back to the front of the queue."""
        del self._actors[index]
        orphans = self._assigned.pop(index)
        self._queue.extendleft(reversed(list(orphans.items())))
        self._retried += len(orphans)
        self._lost.append(f"replica {index}: {_first_line(error)[:200]}")
        if not self._actors:
            raise EvalkitError(
                f"all {len(self._infos)} engine replicas were lost; the last: {self._lost[-1]}"
            )

    def describe(self) -> dict[str, Any]:
        first = self._infos[0]["describe"]
        return {
            **first,
            "fed": "ray",
            "replicas": len(self._infos),
            "nodes": len({info["node"] for info in self._infos}),
            "answered_by_replica": self._answered,
            "replicas_lost": self._lost,
            "requests_retried": self._retried,
        }
