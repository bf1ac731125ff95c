"""`engine.*` and `ray.*`: settings no backend or machine could honour are one line, before
any run folder or engine exists."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from evalkit.cli import cli
from evalkit.errors import UsageError
from evalkit.runner.config import compose_run_config
from evalkit.scaleout.cluster import connect, import_ray
from evalkit.scaleout.config import EngineParallelConfig, RayConfig, parallel_record

SUITES_DIR = Path(__file__).parents[2] / "suites"


def test_parallel_sizes_reach_vllm_and_one_engine_needs_no_ray() -> None:
    config = compose_run_config(
        ["suite=legal", "model=m", "engine.tensor_parallel=2", "engine.pipeline_parallel=2"]
    )
    assert config.engine.engine_args() == {"tensor_parallel_size": 2, "pipeline_parallel_size": 2}
    assert config.engine.gpus_per_replica == 4
    assert parallel_record(config.engine, config.ray) is None  # one engine, in-process
    record = parallel_record(EngineParallelConfig(replicas=3), RayConfig())
    assert record is not None and record["ray_address"] == "local" and record["replicas"] == 3
    assert EngineParallelConfig().engine_args() == {}


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from evalkit.demo.tiny import build_tiny_llama

    return build_tiny_llama(tmp_path_factory.mktemp("m") / "tiny", ["a small corpus"] * 20)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["engine.replicas=0"], "engine.replicas=0: Input should be greater than or equal to 1"),
        (["engine.replica=2"], "unknown key 'engine.replica'; did you mean 'engine.replicas'?"),
        (
            ["engine.tensor_parallel=2", "backend=hf"],
            "engine.tensor_parallel=2: only backend=vllm splits a model over GPUs",
        ),
        (
            ["engine.replicas=2", "backend=openai"],
            "engine.replicas=2: backend=openai sends requests to a server that does its own",
        ),
        (
            ["engine.tensor_parallel=2"],  # this machine has no GPU
            "engine.tensor_parallel=2 needs 2 GPUs; this machine has none",
        ),
    ],
)
def test_bad_parallel_settings_are_one_line(
    tiny_model: Path, tmp_path: Path, overrides: list[str], message: str
) -> None:
    args = [f"suites_dir={SUITES_DIR}", f"out={tmp_path}", "suite=legal", f"model={tiny_model}"]
    result = CliRunner().invoke(cli, ["run", *args, *overrides, "run_id=bad"])
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and message in lines[0], result.output
    assert not (tmp_path / "bad").exists()


def test_ray_missing_or_unreachable_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(UsageError, match=r"ray\.address=127\.0\.0\.1:9: no Ray cluster answers"):
        connect("127.0.0.1:9")  # the discard port: nothing listens
    monkeypatch.setitem(sys.modules, "ray", None)  # as if Ray were not installed
    with pytest.raises(
        UsageError, match=r"engine\.replicas=2 needs Ray: pip install 'evalkit\[ray\]'"
    ):
        import_ray("engine.replicas=2")


def test_replicas_must_fit_the_nodes_not_only_the_cluster_total() -> None:
    from types import SimpleNamespace

    from evalkit.scaleout.cluster import replica_resources

    def cluster(*nodes: dict[str, float], dead: dict[str, float] | None = None) -> object:
        listed = [{"Alive": True, "Resources": n} for n in nodes]
        listed += [{"Alive": False, "Resources": dead}] if dead else []
        return SimpleNamespace(nodes=lambda: listed)

    def ask(replicas: int, tp: int) -> dict[str, object]:
        return {"replicas": replicas, "gpus_per_replica": tp, "ray_address": "auto"}

    two_by_four = cluster({"GPU": 4, "CPU": 16}, {"GPU": 4, "CPU": 16}, dead={"GPU": 8})
    assert replica_resources(two_by_four, ask(2, 4)) == {"num_gpus": 4, "num_cpus": 1}
    with pytest.raises(UsageError, match=r"needs 12 GPUs; the Ray cluster at auto has 8$"):
        replica_resources(two_by_four, ask(3, 4))
    with pytest.raises(
        UsageError, match="must be on one node, and the Ray cluster at auto has 4, 4"
    ):
        replica_resources(two_by_four, ask(1, 8))
    cpus = cluster({"CPU": 1}, {"CPU": 1})
    assert replica_resources(cpus, ask(2, 1)) == {"num_cpus": 1}
    with pytest.raises(UsageError, match=r"engine\.replicas=3 needs 3 CPUs"):
        replica_resources(cpus, ask(3, 1))
