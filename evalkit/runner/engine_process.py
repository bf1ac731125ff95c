"""Running the uncached requests of one engine's models in a worker process of its own.

An engine serves one model, or a base model and LoRA adapters on it (see `engine_groups`).

The worker writes results to the generation cache as it goes, and the keys of requests that
failed one by one (with the reason) to a file; its engine description and timings to another.
A worker that dies (out of memory, killed) leaves its unanswered requests as per-item errors;
a worker that stops on evalkit's own error (the model cannot load, the server cannot be
reached) stops the run with that message.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evalkit.errors import EvalkitError
from evalkit.runner.config import RunConfig
from evalkit.runner.models import ModelSpec
from evalkit.runner.plan import PlannedRequest
from evalkit.runner.worker import prompt_to_json
from evalkit.scaleout.config import parallel_record


@dataclass
class EngineRun:
    """What a worker process did: its wall time, its engine, and requests that failed."""

    seconds: float
    describe: dict[str, Any]
    errors: dict[str, str] = field(default_factory=dict)  # request key → reason
    # model name → its share: generate_seconds and worker_loop_seconds
    timings: dict[str, dict[str, float]] = field(default_factory=dict)


def _job_request(model: str, p: PlannedRequest) -> dict[str, Any]:
    if p.generation is not None:
        return {
            "kind": "generate",
            "model": model,
            "key": p.key,
            "prompt": prompt_to_json(p.generation.prompt),
            "sampling": p.generation.sampling.as_dict(),
            "adapter": p.generation.adapter,
        }
    assert p.loglikelihood is not None
    return {
        "kind": "loglikelihood",
        "model": model,
        "key": p.key,
        "prompt": prompt_to_json(p.loglikelihood.prompt),
        "continuation": p.loglikelihood.continuation,
        "adapter": p.loglikelihood.adapter,
    }


def run_engine(
    work: list[tuple[ModelSpec, list[PlannedRequest]]],
    config: RunConfig,
    cache_path: Path,
    work_dir: Path,
) -> EngineRun:
    """Run each model's missing requests in one fresh worker process: one model, or a base
    model and adapters on it (the engine loads the base, the first model's path)."""
    model = work[0][0].model_copy(update={"adapter": None})
    adapters = [m.adapter for m, _ in work if m.adapter is not None]
    missing = [p for _, requests in work for p in requests]
    names = ", ".join(m.name for m, _ in work)
    job: dict[str, Any] = {
        "model": model.model_dump(mode="json"),
        "backend": config.backend,
        "options": {
            "seed": config.seed,
            "base_url": config.base_url,
            "concurrency": config.concurrency,
            "adapters": list(dict.fromkeys(adapters)),
        },
        "cache": str(cache_path),
        "chunk_size": config.chunk_size,
        "parallel": parallel_record(config.engine, config.ray),
        "requests": [_job_request(m.name, p) for m, requests in work for p in requests],
        "describe_out": str(work_dir / f"{model.name}.engine.json"),
        "error_out": str(work_dir / f"{model.name}.error.txt"),
        "failed_out": str(work_dir / f"{model.name}.failed.json"),
    }
    job_path = work_dir / f"{model.name}.job.json"
    job_path.write_text(json.dumps(job, ensure_ascii=False), encoding="utf-8")
    began = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "evalkit.runner.worker", str(job_path)], check=False
    )
    seconds = time.perf_counter() - began
    failed_file = Path(job["failed_out"])
    errors = json.loads(failed_file.read_text(encoding="utf-8")) if failed_file.is_file() else {}
    if proc.returncode != 0:
        error_file = Path(job["error_out"])
        if error_file.is_file():  # evalkit's own error: the model as a whole cannot run
            who = f"model {names!r}" if len(work) == 1 else f"models {names}"
            raise EvalkitError(f"{who}: {error_file.read_text(encoding='utf-8')}")
        reason = f"the engine process ended with exit code {proc.returncode} before answering"
        return EngineRun(
            seconds,
            {"engine": config.backend, "crashed": True},
            {p.key: reason for p in missing} | errors,
        )
    describe = json.loads(Path(job["describe_out"]).read_text(encoding="utf-8"))
    return EngineRun(seconds, describe, errors, describe.pop("models", {}))
