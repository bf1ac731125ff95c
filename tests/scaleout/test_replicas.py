"""Engine replicas on a real local Ray cluster (a head and a worker node, each its own raylet):
the same outputs as one engine, and a replica killed mid-run costs nothing but time."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from runner.conftest import SUITES_DIR, requires_vllm

from evalkit.runner.config import compose_run_config
from evalkit.runner.run import execute_run, generations_path

pytestmark = [pytest.mark.slow, requires_vllm]

SUITES = ["legal@v2", "general@v1"]
COMMON = ["suite=[legal,general]", "model=base", "max_new_tokens=48", "mcq_mode=both"]


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    from ray.cluster_utils import Cluster

    nodes = Cluster(initialize_head=True, head_node_args={"num_cpus": 1})
    nodes.add_node(num_cpus=1)
    nodes.wait_for_nodes()
    yield nodes
    nodes.shutdown()


def args(root: Path, models: Path, run_id: str, *more: str) -> list[str]:
    return [
        f"suites_dir={SUITES_DIR}",
        f"models_dir={models}",
        f"out={root / 'reports'}",
        f"cache={root / (run_id + '.sqlite')}",
        f"run_id={run_id}",
        *COMMON,
        *more,
    ]


def generations(run_dir: Path) -> dict[str, list[dict[str, Any]]]:
    out = {}
    for ref in SUITES:
        lines = generations_path(run_dir, "base", ref).read_text(encoding="utf-8").splitlines()
        out[ref] = [json.loads(line) for line in lines]
    return out


def cached_keys(path: Path) -> list[str]:
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1) as db:
            return [row[0] for row in db.execute("SELECT key FROM generations")]
    except sqlite3.Error:
        return []


def replica_pids() -> list[int]:
    found = subprocess.run(
        ["pgrep", "-f", "ray::EngineReplica"], capture_output=True, text=True, check=False
    )
    return [int(pid) for pid in found.stdout.split()]


def start_replicated_run(cluster: Any, models: Path, root: Path) -> subprocess.Popen[bytes]:
    """`evalkit run` on 2 replicas of the cluster, in a process group of its own; its output
    goes to root/run.log (a pipe nobody reads while the test waits could fill and stall it)."""
    command = args(root, models, "ray", "engine.replicas=2", f"ray.address={cluster.address}")
    with (root / "run.log").open("wb") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "evalkit", "run", *command],
            start_new_session=True,
            stdout=log,
            stderr=subprocess.STDOUT,
        )


def assert_same_outputs(single: dict, replicated: dict) -> None:
    for ref in SUITES:
        assert [r["item_id"] for r in replicated[ref]] == [r["item_id"] for r in single[ref]]
        for one, many in zip(single[ref], replicated[ref], strict=True):
            assert "error" not in many, many.get("error")
            assert many["output_token_ids"] == one["output_token_ids"], one["item_id"]
            assert many["prompt"] == one["prompt"]
            for option, scored in one.get("option_logprobs", {}).items():
                got = many["option_logprobs"][option]["logprob"]
                assert got == pytest.approx(scored["logprob"], abs=1e-3)


def test_two_replicas_match_one_engine_and_survive_a_lost_replica(
    cluster: Any, models_dir: Path, tmp_path: Path
) -> None:
    single = execute_run(compose_run_config(args(tmp_path, models_dir, "single")), echo=print)
    total = single.stats["base"].requests

    # Two replicas, one per node; one is killed as soon as results come in.
    proc = start_replicated_run(cluster, models_dir, tmp_path)
    cache, killed = tmp_path / "ray.sqlite", None
    deadline = time.monotonic() + 600
    while proc.poll() is None and time.monotonic() < deadline:
        pids = replica_pids()
        if len(pids) == 2 and cached_keys(cache):
            killed = pids[0]
            os.kill(killed, signal.SIGKILL)
            break
        time.sleep(0.05)
    proc.wait(timeout=600)
    assert proc.returncode == 0, (tmp_path / "run.log").read_text()[-3000:]
    assert killed is not None, "no replica was killed: the run ended before both answered"

    run_dir = tmp_path / "reports" / "ray"
    manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    engine = manifest["models"][0]["engine"]
    assert engine["fed"] == "ray" and engine["replicas"] == 2 and engine["nodes"] == 2
    assert len(engine["replicas_lost"]) == 1
    assert engine["requests_retried"] > 0  # the lost replica had unanswered requests
    # every request was answered once, by the replicas together, and stored once
    assert sum(engine["answered_by_replica"]) == total
    keys = cached_keys(cache)
    assert len(keys) == len(set(keys)) == total
    assert_same_outputs(generations(single.run_dir), generations(run_dir))


def test_a_replicated_run_killed_midway_resumes_with_nothing_twice(
    cluster: Any, models_dir: Path, tmp_path: Path
) -> None:
    """The whole run (driver and replicas) killed with SIGKILL: its results are in the cache,
    its claims die with it, and the same command generates only the rest."""
    proc = start_replicated_run(cluster, models_dir, tmp_path)
    cache = tmp_path / "ray.sqlite"
    deadline = time.monotonic() + 600
    while len(cached_keys(cache)) < 8 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    before = len(cached_keys(cache))
    command = args(
        tmp_path, models_dir, "ray", "engine.replicas=2", f"ray.address={cluster.address}"
    )
    result = execute_run(compose_run_config(command), echo=print)
    stats = result.stats["base"]
    assert 8 <= before < stats.requests, "the run was not interrupted midway"
    assert stats.cached == before and stats.generated == stats.requests - before
    keys = cached_keys(cache)
    assert len(keys) == len(set(keys)) == stats.requests


def test_a_cluster_too_small_or_unreachable_is_one_line(
    cluster: Any, models_dir: Path, tmp_path: Path
) -> None:
    from click.testing import CliRunner

    from evalkit.cli import cli

    cases = {
        "engine.replicas=3": "engine.replicas=3 needs 3 CPUs on a cluster without GPUs "
        "(one per replica); the Ray cluster at",
        "engine.tensor_parallel=2": "engine.replicas=2 × 2 GPUs each (tensor_parallel × "
        "pipeline_parallel) needs 4 GPUs; the Ray cluster at",
    }
    for setting, message in cases.items():
        more = [setting, f"ray.address={cluster.address}"]
        if setting != "engine.replicas=3":
            more.append("engine.replicas=2")
        result = CliRunner().invoke(cli, ["run", *args(tmp_path, models_dir, "small", *more)])
        assert result.exit_code != 0
        assert message in result.output, result.output
        assert not (tmp_path / "reports" / "small").exists()
    result = CliRunner().invoke(
        cli,
        ["run", *args(tmp_path, models_dir, "far", "engine.replicas=2", "ray.address=127.0.0.1:9")],
    )
    assert result.exit_code != 0
    assert "ray.address=127.0.0.1:9: no Ray cluster answers there" in result.output


def test_a_cluster_busy_with_other_jobs_is_waited_for_then_one_line(
    cluster: Any,
    models_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Another job holds one of the two nodes' CPUs: the run says it is waiting for room, and
    gives up when ray.wait_for_room runs out, naming what is free; nothing is left behind."""
    import ray
    from click.testing import CliRunner

    from evalkit.cli import cli
    from evalkit.scaleout import cluster as cluster_module

    ray.init(address=cluster.address, include_dashboard=False, log_to_driver=False)
    try:

        @ray.remote(num_cpus=1)
        class OtherJob:
            def ping(self) -> bool:
                return True

        other = OtherJob.remote()  # type: ignore[attr-defined]
        assert ray.get(other.ping.remote())
        more = ["engine.replicas=2", f"ray.address={cluster.address}", "ray.wait_for_room=3"]
        began = time.perf_counter()
        result = CliRunner().invoke(cli, ["run", *args(tmp_path, models_dir, "busy", *more)])
        assert result.exit_code != 0
        assert time.perf_counter() - began < 120
        assert (
            "engine.replicas=2: the Ray cluster at "
            f"{cluster.address} had no room for them for 3 s (1 CPU each; free in the whole "
            "cluster now: 1 CPU; other jobs hold the rest)"
        ) in result.output, result.output
        assert "Traceback" not in result.output
        assert not (tmp_path / "reports" / "busy").exists()

        # With room to wait: notes while the other job runs, the replicas' room once it ends.
        monkeypatch.setattr(cluster_module, "ROOM_NOTE_SECONDS", 1.0)
        parallel = {"replicas": 2, "ray_address": cluster.address, "wait_for_room": 60}
        threading.Timer(3.0, ray.kill, args=(other,)).start()
        began = time.perf_counter()
        group = cluster_module.reserve_replicas(ray, {"num_cpus": 1}, parallel)
        assert 2.5 < time.perf_counter() - began < 30
        notes = capsys.readouterr().err.splitlines()
        assert len(notes) >= 2 and all("for room on the Ray cluster" in n for n in notes), notes
        assert "2 replicas of 1 CPU each; free in the whole cluster now: 1 CPU" in notes[0]
        ray.util.remove_placement_group(group)
    finally:
        ray.shutdown()
