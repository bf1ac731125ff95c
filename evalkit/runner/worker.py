"""The per-model worker process: load one engine, run the uncached requests, write the cache.

Each model runs in a process of its own so that its memory is gone before the next model
loads (vLLM cannot shut an engine down in-process). Results go to the generation cache after
every chunk, so a killed run resumes where it stopped.

Run as `python -m evalkit.runner.worker JOB.json`; the `__main__` guard matters because engines
spawn their own worker processes.
"""

from __future__ import annotations

import json
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


def run_job(job: dict[str, Any]) -> None:
    from tqdm import tqdm

    model = ModelSpec.model_validate(job["model"])
    began = time.perf_counter()
    engine = get_backend(job["backend"])(model, BackendOptions(**job["options"]))
    load_seconds = time.perf_counter() - began
    began = time.perf_counter()
    chunk_size = job["chunk_size"]
    generate = [r for r in job["requests"] if r["kind"] == "generate"]
    score = [r for r in job["requests"] if r["kind"] == "loglikelihood"]
    with (
        GenerationCache(job["cache"]) as cache,
        tqdm(
            total=len(generate) + len(score), desc=f"{model.name}", unit="req", file=sys.stderr
        ) as bar,
    ):
        for start in range(0, len(generate), chunk_size):
            chunk = generate[start : start + chunk_size]
            outputs = engine.generate(
                [
                    GenerationRequest(
                        prompt_from_json(r["prompt"]),
                        Sampling(**{**r["sampling"], "stop": tuple(r["sampling"]["stop"])}),
                    )
                    for r in chunk
                ]
            )
            cache.put_many((r["key"], asdict(o)) for r, o in zip(chunk, outputs, strict=True))
            bar.update(len(chunk))
        for start in range(0, len(score), chunk_size):
            chunk = score[start : start + chunk_size]
            outputs = engine.loglikelihood(
                [
                    LoglikelihoodRequest(prompt_from_json(r["prompt"]), r["continuation"])
                    for r in chunk
                ]
            )
            cache.put_many((r["key"], asdict(o)) for r, o in zip(chunk, outputs, strict=True))
            bar.update(len(chunk))
    timing = {"load_seconds": load_seconds, "generate_seconds": time.perf_counter() - began}
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
