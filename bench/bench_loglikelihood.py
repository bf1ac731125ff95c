"""Option log-likelihoods side by side: `evalkit run mcq_mode=loglikelihood` against
lm-evaluation-harness's vLLM model, on the same items, prompts and continuations.

Both tools run as the command a user types (a process each, start to exit, engine start
included), on the same tiny Llama with the same vLLM engine options and environment, back to
back so both see the same machine load. lm-eval gets the work through `evalkit suite export
--to lm-eval` (evalkit's own base prompts and option continuations); both get only the
suites' MCQ and classification items (a copy of each suite without its other tasks), and
evalkit a fresh cache, so every continuation is computed by each tool.

Printed: wall time (process start to exit), engine start (importing vLLM and building its
`LLM`), the wall time without it, the log-likelihood phase, the time inside the engine's calls
(requests handed to vLLM and its steps), continuations per second, the ratios, and whether the
two tools' log-likelihoods and greedy flags agree item by item and option by option.

Run: python bench/bench_loglikelihood.py [--suites general,legal@v2,...] [--rounds 2]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
CHOICE_TASKS = ("mcq", "classification")
# The engine as the runner tests start it (tests/runner/conftest.py), for both tools.
DTYPE = "float32"
MAX_MODEL_LEN = 2048
ENGINE = {"enforce_eager": True, "max_model_len": MAX_MODEL_LEN}
ENV = {
    "VLLM_ENABLE_V1_MULTIPROCESSING": "0",  # engine core in the calling process
    "OMP_NUM_THREADS": "1",  # else an OpenMP thread spins on the second core
    "VLLM_CPU_KVCACHE_SPACE": "2",  # GiB; evalkit's default on CPU
}
# general@v1 and demo-general@v1 under 3 prompt variants: 381 items, 1,164 continuations, the
# closest the built-in suites come to the 395 items and 1,220 continuations of issue 16 (5 x
# general's 79). (legal@v1 repeats 32 of legal@v2's prompts exactly, which evalkit's cache
# would run once and lm-eval twice: not the same work, so it is left out.)
SUITES = ("general@v1", "demo-general@v1")
VARIANTS = 3
TOLERANCE = 1e-3

# lm-eval's own command line (only told the name of vLLM's CPU build), with the time spent
# importing vLLM and constructing its model (engine start), in its log-likelihood requests
# (`_loglikelihood_tokens`: sorting, LLM.generate, reading results; its tokenizing comes
# before), and inside `LLM.generate` (requests in and engine steps: what evalkit's
# generate_seconds counts) written to a file at exit.
LM_EVAL_DRIVER = """
import atexit, importlib.metadata, json, os, sys, time

# vLLM's CPU build is the distribution vllm-cpu; lm-eval asks for version("vllm"). Answer as
# vLLM itself does (vllm/platforms/__init__.py, vllm_version_matches_substr).
_version = importlib.metadata.version
importlib.metadata.version = lambda name: (
    _version("vllm-cpu") + "+cpu" if name == "vllm" else _version(name)
)

# Engine start counts importing the engine, as evalkit's load_seconds does.
began = time.perf_counter()
from vllm import LLM, SamplingParams, TokensPrompt

TIMES = {"load_seconds": time.perf_counter() - began, "engine_seconds": 0.0}
TIMES["loglikelihood_seconds"] = 0.0

import lm_eval.models.vllm_causallms as vllm_lm


def timed(owner, name, key):
    original = getattr(owner, name)

    def wrapper(*args, **kwargs):
        began = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            TIMES[key] += time.perf_counter() - began

    setattr(owner, name, wrapper)


timed(vllm_lm.VLLM, "__init__", "load_seconds")
timed(vllm_lm.VLLM, "_loglikelihood_tokens", "loglikelihood_seconds")
timed(vllm_lm.VLLM, "_model_generate", "engine_seconds")
atexit.register(lambda: open(os.environ["BENCH_TIMES"], "w").write(json.dumps(TIMES)))

from lm_eval.__main__ import cli_evaluate

sys.argv[0] = "lm_eval"
cli_evaluate()
"""


@dataclass
class Measured:
    wall: float  # process start to exit
    load: float  # engine start (vLLM LLM construction, tokenizer)
    engine: float  # inside the engine's calls: requests in, engine steps
    phase: float  # the log-likelihood phase: requests in, results out (engine start excluded)
    # (suite ref, item id, option) -> (log-likelihood, whether every token was the argmax)
    scores: dict[tuple[str, str, str], tuple[float, bool]]


def choice_suites(refs: list[str], variants: int, root: Path) -> list[str]:
    """Copies of the suites with only their MCQ and classification items, under `root` (same
    specs, same dev exemplars, so the same prompts); with `variants` K > 1, one copy per
    prompt variant k < K (`NAME-kK`: evalkit's k-th instruction wording, MCQ options rotated
    k places, as `prompts.variants` makes them). Returns the refs to run."""
    from evalkit.sensitivity.variants import variant_version
    from evalkit.suite.draft import SuiteDraft
    from evalkit.suite.records import LocatedItem
    from evalkit.suite.store import SuiteStore

    source, target = SuiteStore(REPO / "suites"), SuiteStore(root)
    out = []
    for ref in refs:
        for k in range(variants):
            version = variant_version(source.load(ref), k)
            name = version.spec.name if variants == 1 else f"{version.spec.name}-k{k}"
            items = [it for it in version.items if it.task in CHOICE_TASKS]
            spec = version.spec.model_copy(update={"name": name})
            draft = SuiteDraft(spec, tuple(LocatedItem(it, "-") for it in items))
            number = version.ref.split("@")[1]
            out.append(
                target.publish(draft, author="bench", changelog="choice items", version=number).ref
            )
    return out


def build_model(root: Path) -> Path:
    from evalkit.demo.tiny import build_tiny_llama
    from evalkit.suite.store import SuiteStore

    store = SuiteStore(REPO / "suites")
    corpus = [it.input_text() for name in ("legal", "general") for it in store.load(name).items]
    build_tiny_llama(root / "weights", corpus)
    config = {
        "path": str(root / "weights"),
        "kind": "base",
        "dtype": DTYPE,
        "engine": ENGINE,
        "env": ENV,
    }
    (root / "models").mkdir()
    (root / "models" / "tiny.yaml").write_text(json.dumps(config), encoding="utf-8")
    return root / "weights"


def export_tasks(refs: list[str], suites: Path, out: Path) -> list[str]:
    """lm-eval task folders of the suites; the names of their choice tasks."""
    from evalkit.interop.lm_eval_tasks import export_lm_eval, task_prefix
    from evalkit.suite.store import SuiteStore

    store, names = SuiteStore(suites), []
    out.mkdir()
    for ref in refs:
        version = store.load(ref)
        export_lm_eval(version, out / ref.replace("@", "_"))
        tasks = sorted({it.task for it in version.items if it.split == "test"})
        names += [f"{task_prefix(version)}_{t}" for t in tasks if t in CHOICE_TASKS]
    return names


def check_same_work(tasks_dir: Path) -> None:
    """Refuse a workload with a repeated (prompt, continuation): evalkit's cache would run it
    once and lm-eval once per copy, so the two would not do the same work."""
    seen: set[tuple[str, str]] = set()
    total = 0
    for path in tasks_dir.rglob("*.jsonl"):
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            for continuation in row["continuations"]:
                seen.add((row["prompt"], continuation))
                total += 1
    if len(seen) != total:
        sys.exit(f"{total - len(seen)} of {total} requests repeat: choose other suites")


def run_lm_eval(root: Path, weights: Path, tasks: list[str], tag: str) -> Measured:
    out, times = root / f"lm-eval-{tag}", root / f"lm-eval-{tag}.times.json"
    driver = root / "lm_eval_driver.py"
    driver.write_text(LM_EVAL_DRIVER, encoding="utf-8")
    model_args = (
        f"pretrained={weights},dtype={DTYPE},max_model_len={MAX_MODEL_LEN},"
        f"enforce_eager=True,seed=0"
    )
    command = [
        sys.executable,
        str(driver),
        "--model",
        "vllm",
        "--model_args",
        model_args,
        "--include_path",
        str(root / "lm-tasks"),
        "--tasks",
        ",".join(tasks),
        "--batch_size",
        "auto",
        "--log_samples",
        "--output_path",
        str(out),
    ]
    env = {**os.environ, **ENV, "BENCH_TIMES": str(times), "HF_DATASETS_OFFLINE": "1"}
    began = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, cwd=root)
    wall = time.perf_counter() - began
    if done.returncode != 0:
        sys.exit(f"lm_eval failed:\n{done.stderr[-4000:]}")
    t = json.loads(times.read_text())
    scores: dict[tuple[str, str, str], tuple[float, bool]] = {}
    for path in out.rglob("samples_*.jsonl"):
        for line in path.read_text(encoding="utf-8").splitlines():
            sample = json.loads(line)
            doc = sample["doc"]
            suite = path.name.removeprefix("samples_").rsplit("_", 2)[0]  # NAME_vN_TASK_date
            for option, resp in zip(doc["options"], sample["resps"], strict=True):
                logprob, greedy = resp[0]
                scores[(suite, doc["id"], option)] = (float(logprob), str(greedy) == "True")
    return Measured(
        wall, t["load_seconds"], t["engine_seconds"], t["loglikelihood_seconds"], scores
    )


def run_evalkit(root: Path, refs: list[str], tag: str) -> Measured:
    run_id = f"evalkit-{tag}"
    command = [
        str(BIN / "evalkit"),
        "run",
        f"suite=[{','.join(refs)}]",
        "model=tiny",
        "mcq_mode=loglikelihood",
        f"models_dir={root / 'models'}",
        f"suites_dir={root / 'suites'}",
        f"out={root / 'reports'}",
        f"cache={root / f'{run_id}.sqlite'}",  # fresh: nothing cached
        f"run_id={run_id}",
    ]
    began = time.perf_counter()
    done = subprocess.run(command, env={**os.environ}, capture_output=True, text=True, cwd=root)
    wall = time.perf_counter() - began
    if done.returncode != 0:
        sys.exit(f"evalkit run failed:\n{done.stderr[-4000:]}")
    run_dir = root / "reports" / run_id
    manifest = json.loads((run_dir / "manifest.json").read_text())
    stats = _model_stats(manifest)
    scores: dict[tuple[str, str, str], tuple[float, bool]] = {}
    for path in (run_dir / "generations" / "tiny").glob("*.jsonl"):
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            suite = row["suite"].replace("@", "_").replace("-", "_")
            for option, value in row.get("option_logprobs", {}).items():
                scores[(suite, row["item_id"], option)] = (
                    float(value["logprob"]),
                    bool(value["greedy"]),
                )
    return Measured(
        wall,
        stats["load_seconds"],
        stats["generate_seconds"],
        stats["worker_loop_seconds"],
        scores,
    )


def _model_stats(manifest: dict[str, Any]) -> dict[str, float]:
    """The run's per-model stats (process, load, generate and worker-loop seconds)."""
    for model in manifest["models"]:
        if isinstance(model, dict) and model.get("name") == "tiny":
            return dict(model["stats"])
    raise KeyError(f"no stats for model tiny in manifest: {list(manifest)}")


def wait_for_quiet_machine(limit: float = 900.0) -> None:
    """Wait (up to `limit` s) until no test job or other benchmark of someone else runs."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        found = subprocess.run(
            ["pgrep", "-f", "pytest|evalkit run|bench_"], capture_output=True, text=True
        ).stdout.split()
        others = [p for p in found if int(p) not in _own_line()]
        if not others:
            return
        print(f"waiting: other jobs running ({', '.join(others)})", file=sys.stderr)
        time.sleep(20)
    print("machine still busy after the wait: measuring anyway", file=sys.stderr)


def _own_line() -> set[int]:
    """This process and its ancestors (the shell that started it matches the pattern too)."""
    pids, pid = set(), os.getpid()
    while pid > 1:
        pids.add(pid)
        stat = Path(f"/proc/{pid}/stat").read_text()
        pid = int(stat.rsplit(")", 1)[1].split()[1])
    return pids


def agreement(a: Measured, b: Measured) -> tuple[int, float, int]:
    """How many (item, option) scores both have, the largest log-likelihood difference, and
    how many greedy flags differ."""
    common = a.scores.keys() & b.scores.keys()
    worst = max((abs(a.scores[k][0] - b.scores[k][0]) for k in common), default=float("nan"))
    flags = sum(a.scores[k][1] != b.scores[k][1] for k in common)
    return len(common), worst, flags


ROWS = (  # (label, seconds of one run)
    ("wall time, process start to exit", lambda m: m.wall),
    ("engine start (import vLLM, build LLM)", lambda m: m.load),
    ("wall time without engine start", lambda m: m.wall - m.load),
    ("log-likelihood phase", lambda m: m.phase),
    ("engine calls (requests in, steps)", lambda m: m.engine),
)


def report(lm: list[Measured], ek: list[Measured], continuations: int) -> None:
    """A table of medians over the rounds; the ratio is the median of the rounds' ratios."""
    print(f"  {'':40} {'lm-eval':>9} {'evalkit':>9} {'evalkit/lm-eval':>16}")
    for label, seconds in ROWS:
        a = statistics.median(seconds(m) for m in lm)
        b = statistics.median(seconds(m) for m in ek)
        ratio = statistics.median(seconds(e) / seconds(m) for e, m in zip(ek, lm, strict=True))
        print(f"  {label:40} {a:7.2f} s {b:7.2f} s {ratio:15.2f}x")
    for label, seconds in (ROWS[0], ROWS[3]):
        a = continuations / statistics.median(seconds(m) for m in lm)
        b = continuations / statistics.median(seconds(m) for m in ek)
        print(f"  {'continuations/s, ' + label.split(',')[0]:40} {a:9.1f} {b:9.1f}")
    print(
        "  (evalkit's engine starts in its worker while the run still fits prompts to the\n"
        "  context, so its wall time without engine start leaves out that overlap too)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--suites", default=",".join(SUITES), help="suite refs, comma-separated")
    parser.add_argument("--variants", type=int, default=VARIANTS, help="prompt variants")
    parser.add_argument("--rounds", type=int, default=1, help="back-to-back pairs (median shown)")
    parser.add_argument("--keep", type=Path, help="keep the work folder here")
    parser.add_argument("--no-wait", action="store_true", help="skip waiting for a quiet machine")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="bench-ll-")) if args.keep is None else args.keep
    root.mkdir(parents=True, exist_ok=True)
    try:
        refs = choice_suites(args.suites.split(","), args.variants, root / "suites")
        weights = build_model(root)
        tasks = export_tasks(refs, root / "suites", root / "lm-tasks")
        check_same_work(root / "lm-tasks")
        lm_runs, ek_runs = [], []
        for r in range(args.rounds):
            if not args.no_wait:
                wait_for_quiet_machine()
            # Alternate who goes first, so neither always runs on a warmer page cache.
            order = ("lm", "ek") if r % 2 == 0 else ("ek", "lm")
            for who in order:
                if who == "lm":
                    lm_runs.append(run_lm_eval(root, weights, tasks, str(r)))
                else:
                    ek_runs.append(run_evalkit(root, refs, str(r)))
        items = len({k[:2] for k in ek_runs[0].scores})
        continuations = len(ek_runs[0].scores)
        import evalkit

        print(f"evalkit from {Path(evalkit.__file__).parent}")
        print(
            f"option log-likelihoods: {items} items, {continuations} continuations "
            f"({', '.join(refs)}: MCQ and classification, test split); tiny Llama (hidden 128, "
            f"2 layers), vLLM {_vllm_version()} on {os.cpu_count()} CPU cores, dtype {DTYPE}, "
            f"max_model_len {MAX_MODEL_LEN}, enforce_eager, "
            f"{' '.join(f'{k}={v}' for k, v in ENV.items())}; "
            f"median of {args.rounds} back-to-back round(s)"
        )
        report(lm_runs, ek_runs, continuations)
        common, worst, flags = agreement(ek_runs[0], lm_runs[0])
        agree = common == continuations and worst <= TOLERANCE and flags == 0
        verdict = "agree" if agree else "DISAGREE"
        print(
            f"  log-likelihoods {verdict}: {common} of {continuations} (item, option) pairs "
            f"compared, largest difference {worst:.2e} (tolerance {TOLERANCE:g}), "
            f"{flags} greedy flags differ"
        )
        if verdict != "agree":
            sys.exit(1)
    finally:
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)


def _vllm_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("vllm")
    except PackageNotFoundError:
        return f"{version('vllm-cpu')} (CPU build)"


if __name__ == "__main__":
    main()
