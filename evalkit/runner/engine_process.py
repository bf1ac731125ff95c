"""Running one model's uncached requests in a worker process of its own.

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


@dataclass
class EngineRun:
    """What a worker process did: its wall time, its engine, and requests that failed."""

    seconds: float
    describe: dict[str, Any]
    errors: dict[str, str] = field(default_factory=dict)  # request key → reason


def _job_request(p: PlannedRequest) -> dict[str, Any]:
    if p.generation is not None:
        return {
            "kind": "generate",
            "key": p.key,
            "prompt": prompt_to_json(p.generation.prompt),
            "sampling": p.generation.sampling.as_dict(),
        }
    assert p.loglikelihood is not None
    return {
        "kind": "loglikelihood",
        "key": p.key,
        "prompt": prompt_to_json(p.loglikelihood.prompt),
        "continuation": p.loglikelihood.continuation,
    }


def run_engine(
    model: ModelSpec,
    missing: list[PlannedRequest],
    config: RunConfig,
    cache_path: Path,
    work_dir: Path,
) -> EngineRun:
    """Run `missing` in a fresh worker process."""
    job: dict[str, Any] = {
        "model": model.model_dump(mode="json"),
        "backend": config.backend,
        "options": {
            "seed": config.seed,
            "base_url": config.base_url,
            "concurrency": config.concurrency,
        },
        "cache": str(cache_path),
        "chunk_size": config.chunk_size,
        "requests": [_job_request(p) for p in missing],
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
            raise EvalkitError(f"model {model.name!r}: {error_file.read_text(encoding='utf-8')}")
        reason = f"the engine process ended with exit code {proc.returncode} before answering"
        return EngineRun(
            seconds,
            {"engine": config.backend, "crashed": True},
            {p.key: reason for p in missing} | errors,
        )
    describe_file = Path(job["describe_out"])
    return EngineRun(seconds, json.loads(describe_file.read_text(encoding="utf-8")), errors)
