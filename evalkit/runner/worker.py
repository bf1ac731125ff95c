"""The per-engine worker process: load one engine, run the uncached requests, write the cache.

Each engine runs in a process of its own so that its memory is gone before the next one
loads (vLLM cannot shut an engine down in-process). An engine serves one model, or a base
model and LoRA adapters on it: then the models' requests run one model after another. With
`engine.replicas` or `ray.address`, the engine is a pool of replicas on a Ray cluster.
Results stream into the generation cache as they finish (`evalkit.runner.streaming`), so a
killed run resumes where it stopped. One failing request never ends the run: it is written
with its reason to the job's `failed_out` file (`evalkit.backends.feed`).

Run as `python -m evalkit.runner.worker JOB.json`; the `__main__` guard matters because engines
spawn their own worker processes. The job names the engine; the requests come later: once the
engine is up, the worker reads one line from standard input, the path of a JSON list of
requests (`evalkit.runner.engine_process.EngineProcess`), so that the engine loads while the
run is still planning. End of input instead means the run stopped: the worker leaves.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from evalkit.backends.base import (
    BackendOptions,
    GenerationRequest,
    LoglikelihoodRequest,
    Sampling,
    get_backend,
)
from evalkit.backends.feed import EngineRequest, Feed, engine_feed
from evalkit.cache import GenerationCache, claim_owner
from evalkit.errors import EvalkitError
from evalkit.prompts import Prompt
from evalkit.runner.models import ModelSpec
from evalkit.runner.streaming import ClaimHeartbeat, StreamStats, stream_requests


def prompt_to_json(prompt: Prompt) -> dict[str, Any]:
    return asdict(prompt)


def prompt_from_json(data: dict[str, Any]) -> Prompt:
    messages = data.get("messages")
    return Prompt(
        item_id=data["item_id"],
        format=data["format"],
        text=data.get("text"),
        messages=tuple(tuple(m) for m in messages) if messages is not None else None,
        stop=tuple(data.get("stop") or ()),
    )


def _generation_request(row: dict[str, Any]) -> GenerationRequest:
    sampling = {**row["sampling"], "stop": tuple(row["sampling"]["stop"])}
    return GenerationRequest(
        prompt_from_json(row["prompt"]), Sampling(**sampling), row.get("adapter")
    )


def _loglikelihood_request(row: dict[str, Any]) -> LoglikelihoodRequest:
    return LoglikelihoodRequest(
        prompt_from_json(row["prompt"]), row["continuation"], row.get("adapter")
    )


def _to_request(row: dict[str, Any]) -> EngineRequest:
    if row["kind"] == "generate":
        return _generation_request(row)
    return _loglikelihood_request(row)


def open_feed(job: dict[str, Any], model: ModelSpec) -> Feed:
    """The job's engine: one in this process, or replicas on a Ray cluster."""
    options = {**job["options"], "adapters": tuple(job["options"].get("adapters", ()))}
    parallel = job.get("parallel") or {}
    if parallel.get("replicas", 1) > 1 or parallel.get("ray_address"):
        from evalkit.scaleout.replicas import ReplicaPool

        return ReplicaPool.start(model, job["backend"], options, parallel, job["chunk_size"])
    engine = get_backend(job["backend"])(model, BackendOptions(**options))
    return engine_feed(engine, job["chunk_size"])


def _await_requests() -> list[dict[str, Any]] | None:
    """The requests the run hands over once the engine is up, or None at end of input."""
    line = sys.stdin.readline().strip()
    if not line:
        return None
    rows: list[dict[str, Any]] = json.loads(Path(line).read_text(encoding="utf-8"))
    return rows


def run_job(job: dict[str, Any]) -> None:
    from tqdm import tqdm

    model = ModelSpec.model_validate(job["model"])
    os.environ.update(model.env)  # before any engine import reads it
    began = time.perf_counter()
    feed = open_feed(job, model)
    load_seconds = time.perf_counter() - began
    requests = _await_requests()
    if requests is None:  # the run stopped before handing over any work
        return
    by_model: dict[str, list[dict[str, Any]]] = {}
    for row in requests:
        by_model.setdefault(row.get("model", model.name), []).append(row)
    failures: dict[str, str] = {}
    timings: dict[str, dict[str, float]] = {}
    owner = claim_owner()
    try:
        with GenerationCache(job["cache"]) as cache, ClaimHeartbeat(job["cache"], owner):
            try:
                for name, rows in by_model.items():
                    began = time.perf_counter()
                    stats = StreamStats()
                    with tqdm(total=len(rows), desc=name, unit="req", file=sys.stderr) as bar:
                        for kind in ("generate", "loglikelihood"):
                            phase = [r for r in rows if r["kind"] == kind]
                            stream_requests(
                                phase, kind, _to_request, feed, cache, owner, bar, failures, stats
                            )
                    timings[name] = {
                        "generate_seconds": stats.engine_seconds,  # inside the engine only
                        # plus request decoding and cache writes:
                        "worker_loop_seconds": time.perf_counter() - began,
                        "generated": stats.generated,
                        "from_other_runs": stats.from_other_runs,
                    }
            finally:
                cache.release(owner)
    finally:
        Path(job["failed_out"]).write_text(json.dumps(failures), encoding="utf-8")
    described = {**feed.describe(), "load_seconds": load_seconds, "models": timings}
    Path(job["describe_out"]).write_text(json.dumps(described, indent=2), encoding="utf-8")


def _leave_on_sigterm(signum: int, frame: object) -> None:
    # a stopped run's worker leaves through SystemExit, so that the engine shuts its own
    # processes down on the way out
    raise SystemExit(128 + signum)


def main(argv: list[str]) -> int:
    signal.signal(signal.SIGTERM, _leave_on_sigterm)
    job_path = Path(argv[1])
    job = json.loads(job_path.read_text(encoding="utf-8"))
    try:
        run_job(job)
    except EvalkitError as e:
        Path(job["error_out"]).write_text(str(e), encoding="utf-8")
        print(f"error: {e}", file=sys.stderr)
        return e.exit_code
    if not job.get("parallel") and _end_engine_processes():
        # Everything is committed and written, and the engine's own processes are gone: skip
        # the interpreter's teardown, where an in-process vLLM engine spends seconds in a
        # full garbage collection (cleanup_dist_env_and_memory). A Ray driver shuts down
        # normally, so its cluster releases the replicas.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)
    return 0


def _end_engine_processes(grace: float = 5.0) -> bool:
    """End the processes the engine started (vLLM's engine core and its workers: they do not
    end with this process, and hold the model's memory): SIGTERM, then SIGKILL after `grace`
    seconds. Python's resource tracker is left to end by itself, cleaning up after them.
    False when psutil is missing: then only the interpreter's own teardown ends them."""
    try:
        import psutil  # type: ignore[import-untyped]
    except ImportError:
        return False
    engine = [p for p in psutil.Process().children(recursive=True) if not _is_resource_tracker(p)]
    for process in engine:
        with contextlib.suppress(psutil.Error):
            process.terminate()
    _, alive = psutil.wait_procs(engine, timeout=grace)
    for process in alive:
        with contextlib.suppress(psutil.Error):
            process.kill()
    psutil.wait_procs(alive, timeout=grace)
    return True


def _is_resource_tracker(process: Any) -> bool:
    try:
        return "multiprocessing.resource_tracker" in " ".join(process.cmdline())
    except Exception:  # gone meanwhile, or not ours to read
        return False


if __name__ == "__main__":
    sys.exit(main(sys.argv))
