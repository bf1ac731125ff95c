"""The runner's two comparisons for bench_runner.py: chunked vs streamed feeding of one vLLM
engine, and one engine vs two replicas on a local Ray cluster. Prints figures; decides nothing.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from bench_runner import make_suite

from evalkit.backends.base import BackendOptions, GenerationRequest, Sampling
from evalkit.backends.feed import BatchFeed, Feed
from evalkit.cache import GenerationCache
from evalkit.demo.tiny import build_tiny_llama
from evalkit.prompts import Prompt
from evalkit.runner.config import compose_run_config
from evalkit.runner.models import ModelSpec
from evalkit.runner.run import execute_run
from evalkit.runner.streaming import StreamStats, stream_requests

CHUNK = 256  # the chunk size evalkit used before streaming
CORPUS = [f"Question {i}: how many pens? Answer: {i}" for i in range(500)]


class _Quiet:
    def update(self, n: int) -> None:
        pass

    def set_postfix_str(self, text: str, refresh: bool = True) -> None:
        pass


def _rows(items: int, max_new_tokens: int) -> list[dict[str, Any]]:
    """Completion requests whose answers stop at a newline: of uneven lengths, as real ones."""
    return [
        {
            "key": f"q{i}",
            "kind": "generate",
            "text": f"A shop sells {17 * i % 97} pens on Monday and {31 * i % 89} on Tuesday. "
            f"How many pens in total (case {i})?\nAnswer:",
            "max_new_tokens": max_new_tokens,
        }
        for i in range(items)
    ]


def _request(row: dict[str, Any]) -> GenerationRequest:
    sampling = Sampling(max_new_tokens=row["max_new_tokens"], stop=("\n",))
    return GenerationRequest(Prompt(row["key"], "base", text=row["text"]), sampling)


def _time_feed(feed: Feed, rows: list[dict[str, Any]], cache_path: Path) -> tuple[float, int]:
    stats = StreamStats()
    began = time.perf_counter()
    with GenerationCache(cache_path) as cache:
        stream_requests(rows, "generate", _request, feed, cache, "bench", _Quiet(), {}, stats)
    return time.perf_counter() - began, stats.output_tokens


def compare_feeds(items: int, max_new_tokens: int, repeats: int = 3) -> None:
    """The same requests through one engine: in chunks of 256 with a barrier after each, and
    streamed; alternated, `repeats` times each, after a warm-up."""
    from evalkit.backends.vllm_engine import VLLMBackend

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        build_tiny_llama(root / "model", CORPUS)
        spec = ModelSpec(name="model", path=str(root / "model"), kind="base", dtype="float32")
        engine = VLLMBackend(spec, BackendOptions())
        rows = _rows(items, max_new_tokens)
        feeds: dict[str, Any] = {
            f"chunked ({CHUNK} per call)": lambda: BatchFeed(engine, CHUNK),
            "streamed": engine.feed,
        }
        _time_feed(engine.feed(), rows[:64], root / "warm.sqlite")
        seconds: dict[str, list[float]] = {name: [] for name in feeds}
        tokens: dict[str, int] = {}
        for r in range(repeats):
            for name, make in feeds.items():
                wall, tokens[name] = _time_feed(make(), rows, root / f"{name[:7]}{r}.sqlite")
                seconds[name].append(wall)
    print(f"\nfeeding one vLLM engine {items} requests (max {max_new_tokens} tokens, stop at a")
    print(f"newline), median of {repeats}, results committed to the cache included:")
    for name, walls in seconds.items():
        wall = statistics.median(walls)
        print(
            f"  {name:22s} {wall:7.2f} s  {items / wall:7.1f} requests/s  "
            f"{tokens[name] / wall:7.0f} tokens/s"
        )


def compare_replicas(items: int, max_new_tokens: int) -> None:
    """`evalkit run` on one engine, then on 2 replicas on a local Ray cluster."""
    try:
        import ray  # noqa: F401
    except ImportError:
        print("\nreplicas: Ray is not installed (pip install 'evalkit[ray]'); skipped")
        return
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        build_tiny_llama(root / "model", CORPUS)
        make_suite(root, items)
        (root / "model.yaml").write_text(
            f"path: {root / 'model'}\nkind: base\ndtype: float32\nengine: {{enforce_eager: true}}\n"
            "env: {VLLM_ENABLE_V1_MULTIPROCESSING: '0', OMP_NUM_THREADS: '1'}\n"
        )
        print("\none engine vs 2 replicas on a local Ray cluster (evalkit run, cold cache):")
        for replicas in (1, 2):
            overrides = [
                "suite=bench",
                "model=model",
                f"models_dir={root}",
                f"max_new_tokens={max_new_tokens}",
                f"suites_dir={root / 'suites'}",
                f"out={root / 'reports'}",
                f"cache={root / f'cache{replicas}.sqlite'}",
                f"run_id=r{replicas}",
                f"engine.replicas={replicas}",
            ]
            began = time.perf_counter()
            stats = execute_run(compose_run_config(overrides), echo=lambda _: None).stats["model"]
            wall = time.perf_counter() - began
            loop = stats.worker_loop_seconds
            print(
                f"  {replicas} {'replica ' if replicas == 1 else 'replicas'}  run {wall:7.2f} s  "
                f"engine start {stats.load_seconds:6.2f} s  generation {loop:6.2f} s  "
                f"{stats.output_tokens / loop:7.0f} tokens/s"
            )


def compare_vllm_bench(items: int, output_len: int) -> None:
    """evalkit's streamed feed against `vllm bench throughput` on the same model and prompts
    (fixed output length: vLLM's benchmark ignores EOS; the tiny model rarely emits it)."""
    import json
    import re
    import shutil
    import subprocess
    import sys

    from evalkit.backends.vllm_engine import VLLMBackend

    vllm_cli = shutil.which("vllm", path=str(Path(sys.executable).parent)) or "vllm"
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        build_tiny_llama(root / "model", CORPUS)
        rows = [{**row, "max_new_tokens": output_len} for row in _rows(items, output_len)]
        dataset = root / "prompts.jsonl"
        dataset.write_text("".join(json.dumps({"prompt": r["text"]}) + "\n" for r in rows))
        command = [
            vllm_cli, "bench", "throughput", "--model", str(root / "model"),
            "--dtype", "float32", "--dataset-name", "custom", "--dataset-path", str(dataset),
            "--num-prompts", str(items), "--custom-output-len", str(output_len),
            "--skip-chat-template", "--disable-shuffle",
        ]  # fmt: skip
        out = subprocess.run(command, capture_output=True, text=True, check=False)
        found = re.search(r"Throughput: ([\d.]+) requests/s, ([\d.]+) total tokens/s, "
                          r"([\d.]+) output tokens/s", out.stdout)  # fmt: skip
        spec = ModelSpec(name="model", path=str(root / "model"), kind="base", dtype="float32")
        engine = VLLMBackend(spec, BackendOptions())

        def no_stop(row: dict[str, Any]) -> GenerationRequest:
            sampling = Sampling(max_new_tokens=row["max_new_tokens"])
            return GenerationRequest(Prompt(row["key"], "base", text=row["text"]), sampling)

        _time_feed(engine.feed(), rows[:64], root / "warm.sqlite")
        stats = StreamStats()
        began = time.perf_counter()
        with GenerationCache(root / "c.sqlite") as cache:
            feed = engine.feed()
            stream_requests(rows, "generate", no_stop, feed, cache, "bench", _Quiet(), {}, stats)
        wall = time.perf_counter() - began
    print(f"\n{items} prompts, {output_len} output tokens each, same model and engine options:")
    if found is None:
        print(f"  vllm bench throughput failed: {(out.stderr or out.stdout).strip()[-300:]}")
    else:
        print(f"  vllm bench throughput  {float(found[3]):8.0f} output tokens/s")
    print(f"  evalkit (streamed)     {stats.output_tokens / wall:8.0f} output tokens/s")
