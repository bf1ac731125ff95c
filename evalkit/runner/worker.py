"""The per-engine worker process: load one engine, run the uncached requests, write the cache.

Each engine runs in a process of its own so that its memory is gone before the next one
loads (vLLM cannot shut an engine down in-process). An engine serves one model, or a base
model and LoRA adapters on it: then the models' requests run one model after another.
Results go to the generation cache after every chunk, so a killed run resumes where it
stopped. One failing request never ends the run: a failing engine call is split until the
failing requests are alone, each is retried once, and what still fails is written with its
reason to the job's `failed_out` file.

Run as `python -m evalkit.runner.worker JOB.json`; the `__main__` guard matters because engines
spawn their own worker processes.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
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


# Single requests failing one after another with no success between: the engine itself is
# broken, not the requests; the model stops there.
MAX_FAILURES_IN_A_ROW = 50


@dataclass
class _Failures:
    """Requests that failed one by one (key → reason), and how many in a row."""

    by_key: dict[str, str] = field(default_factory=dict)
    in_a_row: int = 0


def _reason(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0] if text else ''}"[:500]


def _run_isolating(
    rows: list[dict[str, Any]],
    to_request: Callable[[dict[str, Any]], Any],
    call: Callable[[list[Any]], list[Any]],
    cache: GenerationCache,
    bar: Any,
    failures: _Failures,
) -> float:
    """Run `rows` in one engine call and cache the results; if the call fails, split the rows
    in halves until each failing request is alone, retry it once, and record its reason.
    evalkit's own errors (the engine cannot run at all) are not one request's fault: raised."""
    began = time.perf_counter()
    try:
        outputs = call([to_request(row) for row in rows])
    except EvalkitError:
        raise
    except Exception:
        if len(rows) > 1:
            half = len(rows) // 2
            return sum(
                _run_isolating(part, to_request, call, cache, bar, failures)
                for part in (rows[:half], rows[half:])
            )
        retried = _retry_once(rows[0], to_request, call, failures)
        if retried is None:
            bar.update(1)
            return time.perf_counter() - began
        outputs = retried
    failures.in_a_row = 0
    cache.put_many((row["key"], asdict(o)) for row, o in zip(rows, outputs, strict=True))
    bar.update(len(rows))
    return time.perf_counter() - began


def _retry_once(
    row: dict[str, Any],
    to_request: Callable[[dict[str, Any]], Any],
    call: Callable[[list[Any]], list[Any]],
    failures: _Failures,
) -> list[Any] | None:
    """A failing request's second chance; None, with its reason recorded, if it fails again."""
    try:
        return call([to_request(row)])
    except EvalkitError:
        raise
    except Exception as error:
        failures.by_key[row["key"]] = _reason(error)
        failures.in_a_row += 1
        if failures.in_a_row >= MAX_FAILURES_IN_A_ROW:
            raise EvalkitError(
                f"the engine failed on {failures.in_a_row} requests in a row; the last: "
                f"{_reason(error)}"
            ) from None
        return None


def _run_chunks(
    rows: list[dict[str, Any]],
    to_request: Callable[[dict[str, Any]], Any],
    call: Callable[[list[Any]], list[Any]],
    cache: GenerationCache,
    bar: Any,
    chunk_size: int,
    failures: _Failures,
) -> float:
    """Run `rows` through `call` a chunk at a time, caching each chunk; return engine seconds."""
    return sum(
        _run_isolating(rows[start : start + chunk_size], to_request, call, cache, bar, failures)
        for start in range(0, len(rows), chunk_size)
    )


def run_job(job: dict[str, Any]) -> None:
    from tqdm import tqdm

    model = ModelSpec.model_validate(job["model"])
    os.environ.update(model.env)  # before any engine import reads it
    began = time.perf_counter()
    options = {**job["options"], "adapters": tuple(job["options"].get("adapters", ()))}
    engine = get_backend(job["backend"])(model, BackendOptions(**options))
    load_seconds = time.perf_counter() - began
    by_model: dict[str, list[dict[str, Any]]] = {}
    for row in job["requests"]:
        by_model.setdefault(row.get("model", model.name), []).append(row)
    size = job["chunk_size"]
    failures = _Failures()
    timings: dict[str, dict[str, float]] = {}
    try:
        with GenerationCache(job["cache"]) as cache:
            for name, rows in by_model.items():
                began = time.perf_counter()
                generate = [r for r in rows if r["kind"] == "generate"]
                score = [r for r in rows if r["kind"] == "loglikelihood"]
                with tqdm(total=len(rows), desc=name, unit="req", file=sys.stderr) as bar:
                    engine_seconds = _run_chunks(
                        generate, _generation_request, engine.generate, cache, bar, size, failures
                    ) + _run_chunks(
                        score,
                        _loglikelihood_request,
                        engine.loglikelihood,
                        cache,
                        bar,
                        size,
                        failures,
                    )
                timings[name] = {
                    "generate_seconds": engine_seconds,  # inside the engine's calls only
                    # plus request decoding and cache writes:
                    "worker_loop_seconds": time.perf_counter() - began,
                }
    finally:
        Path(job["failed_out"]).write_text(json.dumps(failures.by_key), encoding="utf-8")
    described = {**engine.describe(), "load_seconds": load_seconds, "models": timings}
    Path(job["describe_out"]).write_text(json.dumps(described, indent=2), encoding="utf-8")


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
