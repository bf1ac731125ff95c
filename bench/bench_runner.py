"""Benchmark `evalkit run` on a 1,000-item suite with a tiny model on this machine.

Prints where the time goes: worker start (Python + engine import), engine start, generation
(inside engine calls), and everything else evalkit does (planning, prompts, fingerprinting,
cache, writing files). Then, with vLLM: the same requests fed to one engine in chunks of 256
with a barrier after each (how evalkit ran before streaming) against streamed request by
request; and the run on 1 engine against 2 replicas on a local Ray cluster. Option
log-likelihoods get a run of their own (`--mcq-items`, 4 options each, `mcq_mode=loglikelihood`)
measured in option continuations per second; bench/bench_loglikelihood.py compares that path
with lm-evaluation-harness.
Run: python bench/bench_runner.py [--backend vllm] [--items 1000] [--mcq-items 250] [--no-compare]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

from evalkit.demo.tiny import build_tiny_llama
from evalkit.runner.config import compose_run_config
from evalkit.runner.run import execute_run
from evalkit.suite.draft import SuiteDraft
from evalkit.suite.items import ITEM_ADAPTER
from evalkit.suite.records import LocatedItem
from evalkit.suite.spec import SuiteSpec
from evalkit.suite.store import SuiteStore

SPEC = {
    "name": "bench",
    "description": "Synthetic benchmark suite.",
    "guidelines": "Synthetic.",
    "goals": [{"capability": "speed", "description": "Measures runner overhead."}],
    "tasks": {
        "qa": {
            "instruction": "Answer each question with a number.",
            "prompt": "Question: {{ question }}\nAnswer:",
            "target": " {{ answers[0] }}",
            "chat": "{{ question }}",
            "fewshot": 3,
            "stop": ["\n"],
            "metrics": ["exact_match"],
        }
    },
}


MCQ_SPEC = {
    "name": "bench-mcq",
    "description": "Synthetic MCQ suite.",
    "guidelines": "Synthetic.",
    "goals": [{"capability": "speed", "description": "Measures option scoring."}],
    "tasks": {
        "mcq": {
            "instruction": "Answer each question with the letter of the correct choice.",
            "prompt": "Question: {{ question }}\n"
            "{% for c in choices %}{{ letters[loop.index0] }}. {{ c }}\n{% endfor %}Answer:",
            "target": " {{ answer }}",
            "chat": "{{ question }}\n\n"
            "{% for c in choices %}{{ letters[loop.index0] }}. {{ c }}\n{% endfor %}",
            "fewshot": 3,
            "stop": ["\n"],
            "metrics": ["accuracy"],
        }
    },
}


def _publish(root: Path, spec: dict[str, Any], n: int, fields: Any) -> None:
    """Publish `spec` with `n` test items and 3 dev exemplars; `fields(i, a, b)` gives item
    i's task fields for the sum a + b (its id prefix, and the rest)."""
    items = []
    for i in range(n + 3):
        a, b = 17 * i % 97, 31 * i % 89
        prefix, task_fields = fields(i, a, b)
        items.append(
            ITEM_ADAPTER.validate_python(
                {
                    "id": f"{prefix}{i:05d}" if i >= 3 else f"{prefix}dev{i}",
                    "language": "en",
                    "split": "dev" if i < 3 else "test",
                    "provenance": {"author": "bench"},
                    **task_fields,
                }
            )
        )
    draft = SuiteDraft(SuiteSpec.model_validate(spec), tuple(LocatedItem(it, "-") for it in items))
    SuiteStore(root / "suites").publish(draft, author="bench", changelog="bench")


def make_mcq_suite(root: Path, n: int) -> None:
    """`n` test MCQ items (and 3 dev exemplars), 4 options each."""

    def mcq(i: int, a: int, b: int) -> tuple[str, dict[str, Any]]:
        choices = [str(a + b + d) for d in (0, 1, -1, 10)]
        k = i % 4  # the right answer's place
        choices[0], choices[k] = choices[k], choices[0]
        question = (
            f"A shop sells {a} pens on Monday and {b} pens on Tuesday. "
            f"How many pens does it sell over the two days (case {i})?"
        )
        return "m", {"task": "mcq", "question": question, "choices": choices, "answer": "ABCD"[k]}

    _publish(root, MCQ_SPEC, n, mcq)


def make_suite(root: Path, n: int) -> None:
    """`n` test QA items (and 3 dev exemplars) with one numeric answer each."""

    def qa(i: int, a: int, b: int) -> tuple[str, dict[str, Any]]:
        question = (
            f"A shop sells {a} pens on Monday and {b} pens on Tuesday. "
            f"How many pens does it sell in total over the two days (case {i})?"
        )
        return "q", {"task": "qa", "question": question, "answers": [str(a + b)]}

    _publish(root, SPEC, n, qa)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--backend", default="vllm")
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--max-new-tokens", type=int, default=32)
    parser.add_argument(
        "--mcq-items", type=int, default=250, help="MCQ items scored by log-likelihood (0: none)"
    )
    parser.add_argument("--no-compare", action="store_true", help="skip feeds and replicas")
    parser.add_argument(
        "--vllm-bench",
        action="store_true",
        help="also compare with `vllm bench throughput` (always with a GPU)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        corpus = [f"Question {i}: how many pens? Answer: {i}" for i in range(500)]
        build_tiny_llama(root / "model", corpus)
        make_suite(root, args.items)
        overrides = [
            "suite=bench",
            f"model={root / 'model'}",
            f"backend={args.backend}",
            f"max_new_tokens={args.max_new_tokens}",
            "dtype=float32",
            "chunk_size=1000",
            f"suites_dir={root / 'suites'}",
            f"out={root / 'reports'}",
            f"cache={root / 'cache.sqlite'}",
        ]
        began = time.perf_counter()
        result = execute_run(compose_run_config([*overrides, "run_id=cold"]), echo=lambda _: None)
        total = time.perf_counter() - began
        stats = result.stats["model"]
        worker_start = stats.process_seconds - stats.worker_loop_seconds - stats.load_seconds
        in_worker = stats.worker_loop_seconds - stats.generate_seconds
        outside = total - stats.process_seconds
        overhead = in_worker + outside
        began = time.perf_counter()
        execute_run(compose_run_config([*overrides, "run_id=warm"]), echo=lambda _: None)
        warm = time.perf_counter() - began
        scored = None
        if args.mcq_items:
            make_mcq_suite(root, args.mcq_items)
            mcq = [o for o in overrides if not o.startswith("suite=")]
            mcq += ["suite=bench-mcq", "mcq_mode=loglikelihood", "run_id=mcq"]
            scored = execute_run(compose_run_config(mcq), echo=lambda _: None).stats["model"]

    print(
        f"runner benchmark: {args.items} items, backend={args.backend}, "
        f"max_new_tokens={args.max_new_tokens}, tiny Llama (hidden 128, 2 layers)"
    )
    print(f"  total wall time            {total:8.2f} s")
    print(f"  worker start (python+import){worker_start:8.2f} s")
    print(f"  engine start               {stats.load_seconds:8.2f} s")
    print(
        f"  generation (engine calls)  {stats.generate_seconds:8.2f} s  "
        f"{stats.output_tokens} tokens, {stats.tokens_per_second:.0f} tokens/s"
    )
    print(f"  evalkit in the worker      {in_worker:8.2f} s  (request decoding, cache writes)")
    print(f"  evalkit outside the worker {outside:8.2f} s  (plan, prompts, fingerprint, files)")
    print(
        f"  non-engine overhead        {overhead:8.2f} s  = "
        f"{100 * overhead / stats.generate_seconds:.1f}% of generation time"
    )
    print(f"  re-run, all cached         {warm:8.2f} s")
    if scored is not None:
        print(
            f"  log-likelihood run: {args.mcq_items} MCQ items, {scored.requests} option "
            f"continuations (engine start {scored.load_seconds:.1f} s not counted)"
        )
        print(
            f"    inside engine calls      {scored.generate_seconds:8.2f} s  "
            f"{scored.requests / scored.generate_seconds:.0f} continuations/s"
        )
        print(
            f"    worker loop              {scored.worker_loop_seconds:8.2f} s  "
            f"{scored.requests / scored.worker_loop_seconds:.0f} continuations/s "
            "(with request decoding and cache writes)"
        )
    if args.backend == "vllm" and not args.no_compare:
        from runner_compare import compare_feeds, compare_replicas

        compare_feeds(args.items, args.max_new_tokens)
        compare_replicas(args.items, args.max_new_tokens)
        import torch

        if args.vllm_bench or torch.cuda.is_available():
            from runner_compare import compare_vllm_bench

            compare_vllm_bench(args.items, args.max_new_tokens)


if __name__ == "__main__":
    main()
