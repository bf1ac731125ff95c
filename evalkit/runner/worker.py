"""The per-model worker process: load one engine, run the uncached requests, write the cache.

Each model runs in a process of its own so that its memory is gone before the next model
loads (vLLM cannot shut an engine down in-process). Results go to the generation cache after
every chunk, so a killed run resumes where it stopped.

Run as `python -m evalkit.runner.worker JOB.json`; the `__main__` guard matters because engines
spawn their own worker processes.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
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
from evalkit.cache import GenerationCache
from evalkit.errors import EvalkitError
from evalkit.prompts import Prompt
from evalkit.runner.models import ModelSpec


def prompt_to_json(prompt: Prompt) -> dict[str, Any]:
    return asdict(prompt)


def prompt_from_json(data: dict[str, Any]) -> Prompt:
    messages = data.get("messages")
    return Prompt(
        item_id=data["item_id"],
        format=data["format"],
        text=data.get("text"),
        messages=tuple(tuple(m) for m in messages) if messages is not None else None,  # type: ignore[misc]
        stop=tuple(data.get("stop") or ()),
    )


def _generation_request(row: dict[str, Any]) -> GenerationRequest:
    sampling = {**row["sampling"], "stop": tuple(row["sampling"]["stop"])}
    return GenerationRequest(prompt_from_json(row["prompt"]), Sampling(**sampling))


def _loglikelihood_request(row: dict[str, Any]) -> LoglikelihoodRequest:
    return LoglikelihoodRequest(prompt_from_json(row["prompt"]), row["continuation"])


def _run_chunks(
    rows: list[dict[str, Any]],
    to_request: Callable[[dict[str, Any]], Any],
    call: Callable[[list[Any]], list[Any]],
    cache: GenerationCache,
    bar: Any,
    chunk_size: int,
) -> float:
    """Run `rows` through `call` a chunk at a time, caching each chunk; return engine seconds."""
    seconds = 0.0
    for start in range(0, len(rows), chunk_size):
        chunk = rows[start : start + chunk_size]
        requests = [to_request(row) for row in chunk]
        began = time.perf_counter()
        outputs = call(requests)
        seconds += time.perf_counter() - began
        cache.put_many((row["key"], asdict(o)) for row, o in zip(chunk, outputs, strict=True))
        bar.update(len(chunk))
    return seconds


def run_job(job: dict[str, Any]) -> None:
    from tqdm import tqdm

    model = ModelSpec.model_validate(job["model"])
    os.environ.update(model.env)  # before any engine import reads it
    began = time.perf_counter()
    engine = get_backend(job["backend"])(model, BackendOptions(**job["options"]))
    load_seconds = time.perf_counter() - began
    began = time.perf_counter()
    generate = [r for r in job["requests"] if r["kind"] == "generate"]
    score = [r for r in job["requests"] if r["kind"] == "loglikelihood"]
    size = job["chunk_size"]
    with (
        GenerationCache(job["cache"]) as cache,
        tqdm(total=len(generate) + len(score), desc=model.name, unit="req", file=sys.stderr) as bar,
    ):
        engine_seconds = _run_chunks(
            generate, _generation_request, engine.generate, cache, bar, size
        ) + _run_chunks(score, _loglikelihood_request, engine.loglikelihood, cache, bar, size)
    timing = {
        "load_seconds": load_seconds,
        "generate_seconds": engine_seconds,  # inside the engine's calls only
        # plus request decoding and cache writes:
        "worker_loop_seconds": time.perf_counter() - began,
    }
    Path(job["describe_out"]).write_text(
        json.dumps({**engine.describe(), **timing}, indent=2), encoding="utf-8"
    )


def main(argv: list[str]) -> int:
    job_path = Path(argv[1])
    job = json.loads(job_path.read_text(encoding="utf-8"))
    try:
        run_job(job)
    except EvalkitError as e:
        Path(job["error_out"]).write_text(str(e), encoding="utf-8")
        print(f"error: {e}", file=sys.stderr)
        return e.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
