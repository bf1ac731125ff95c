"""Running the uncached requests of one engine's models in a worker process of its own.

The worker starts as soon as planning finds work, so the engine loads while the run fits
prompts to the context (loading the tokenizer); the requests follow when planning is done.

An engine serves one model, or a base model and LoRA adapters on it (see `engine_groups`).

The worker writes results to the generation cache as it goes, and the keys of requests that
failed one by one (with the reason) to a file; its engine description and timings to another.
A worker that dies (out of memory, killed) leaves its unanswered requests as per-item errors;
a worker that stops on evalkit's own error (the model cannot load, the server cannot be
reached) stops the run with that message.
"""

from __future__ import annotations

import contextlib
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


class EngineProcess:
    """One engine's worker process, started before its requests are known.

    `start` launches the worker, which loads the engine (importing vLLM and building it takes
    seconds to minutes) while this process plans and fits prompts (loading the tokenizer
    takes seconds of its own); `run` then hands it the requests and waits for it to finish.
    An engine serves one model, or a base model and LoRA adapters on it (the engine loads the
    base, the first model's path). Leaving the `with` block without `run` stops the worker.
    """

    def __init__(
        self, models: list[ModelSpec], config: RunConfig, cache_path: Path, work_dir: Path
    ) -> None:
        self.config = config
        model = models[0].model_copy(update={"adapter": None})
        adapters = [m.adapter for m in models if m.adapter is not None]
        self.job: dict[str, Any] = {
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
            "describe_out": str(work_dir / f"{model.name}.engine.json"),
            "error_out": str(work_dir / f"{model.name}.error.txt"),
            "failed_out": str(work_dir / f"{model.name}.failed.json"),
        }
        self.job_path = work_dir / f"{model.name}.job.json"
        self.requests_path = work_dir / f"{model.name}.requests.json"
        self._proc: subprocess.Popen[bytes] | None = None
        self._began = 0.0

    @property
    def started(self) -> bool:
        return self._proc is not None

    def start(self) -> None:
        """Launch the worker (once): it loads the engine, then waits for `run`."""
        if self._proc is not None:
            return
        self.job_path.write_text(json.dumps(self.job, ensure_ascii=False), encoding="utf-8")
        self._began = time.perf_counter()
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "evalkit.runner.worker", str(self.job_path)],
            stdin=subprocess.PIPE,
        )

    def run(self, work: list[tuple[ModelSpec, list[PlannedRequest]]]) -> EngineRun:
        """Hand the worker each model's missing requests and wait until it has answered."""
        self.start()
        assert self._proc is not None and self._proc.stdin is not None
        missing = [p for _, requests in work for p in requests]
        rows = [_job_request(m.name, p) for m, requests in work for p in requests]
        self.requests_path.write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
        try:  # the worker reads this line once its engine is up
            self._proc.stdin.write(f"{self.requests_path}\n".encode())
            self._proc.stdin.close()
        except BrokenPipeError:  # it ended before reading: its exit code and files say why
            pass
        returncode = self._proc.wait()
        seconds = time.perf_counter() - self._began
        self._proc = None
        return self._outcome(returncode, seconds, [m.name for m, _ in work], missing)

    def _outcome(
        self, returncode: int, seconds: float, names: list[str], missing: list[PlannedRequest]
    ) -> EngineRun:
        failed_file = Path(self.job["failed_out"])
        errors = (
            json.loads(failed_file.read_text(encoding="utf-8")) if failed_file.is_file() else {}
        )
        if returncode != 0:
            error_file = Path(self.job["error_out"])
            if error_file.is_file():  # evalkit's own error: the model as a whole cannot run
                who = f"model {names[0]!r}" if len(names) == 1 else f"models {', '.join(names)}"
                raise EvalkitError(f"{who}: {error_file.read_text(encoding='utf-8')}")
            reason = f"the engine process ended with exit code {returncode} before answering"
            return EngineRun(
                seconds,
                {"engine": self.config.backend, "crashed": True},
                {p.key: reason for p in missing} | errors,
            )
        describe = json.loads(Path(self.job["describe_out"]).read_text(encoding="utf-8"))
        return EngineRun(seconds, describe, errors, describe.pop("models", {}))

    def stop(self) -> None:
        """End a worker that was started but not run: no requests (end of input), then
        SIGTERM if it does not leave at once, SIGKILL as a last resort."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.stdin is not None:
            with contextlib.suppress(BrokenPipeError):
                proc.stdin.close()
        proc.terminate()
        try:
            proc.wait(timeout=_STOP_SECONDS)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def __enter__(self) -> EngineProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


# How long a worker told to stop may take to shut its engine down before it is killed.
_STOP_SECONDS = 30.0


def run_engine(
    work: list[tuple[ModelSpec, list[PlannedRequest]]],
    config: RunConfig,
    cache_path: Path,
    work_dir: Path,
) -> EngineRun:
    """Run each model's missing requests in one fresh worker process: one model, or a base
    model and adapters on it."""
    with EngineProcess([m for m, _ in work], config, cache_path, work_dir) as engine:
        return engine.run(work)
