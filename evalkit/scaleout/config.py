"""The `engine.*` and `ray.*` keys of `evalkit run`: parallel engines."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from evalkit.errors import UsageError


class EngineParallelConfig(BaseModel):
    """How many engines a model runs on, and how each is split over GPUs."""

    model_config = ConfigDict(extra="forbid")

    replicas: int = Field(
        default=1,
        ge=1,
        le=1024,
        description="Data-parallel engine replicas on a Ray cluster; requests are shared out "
        "and a lost replica's are retried on the others (see docs/scale-out.md).",
    )
    tensor_parallel: int = Field(
        default=1, ge=1, le=64, description="GPUs each engine splits its layers over (vLLM)."
    )
    pipeline_parallel: int = Field(
        default=1, ge=1, le=64, description="Pipeline stages of each engine (vLLM)."
    )

    @property
    def gpus_per_replica(self) -> int:
        return self.tensor_parallel * self.pipeline_parallel

    def engine_args(self) -> dict[str, Any]:
        """vLLM engine options for the parallel sizes set here (none when left at 1)."""
        args: dict[str, Any] = {}
        if self.tensor_parallel > 1:
            args["tensor_parallel_size"] = self.tensor_parallel
        if self.pipeline_parallel > 1:
            args["pipeline_parallel_size"] = self.pipeline_parallel
        return args


class RayConfig(BaseModel):
    """Which Ray cluster runs the replicas."""

    model_config = ConfigDict(extra="forbid")

    address: str | None = Field(
        default=None,
        description="auto (the cluster `ray start` made), local (a cluster of this machine "
        "started for the run) or HOST:PORT; default local when engine.replicas > 1.",
    )
    wait_for_room: float = Field(
        default=600.0,
        gt=0,
        description="Seconds to wait for the cluster to have room for every replica (GPUs "
        "or CPUs other jobs hold) before the run gives up with what is free.",
    )


def check_parallel(engine: EngineParallelConfig, ray: RayConfig, backend: str) -> None:
    """Settings no backend or cluster could honour, refused before any work."""
    if engine.gpus_per_replica > 1 and backend != "vllm":
        key = "tensor_parallel" if engine.tensor_parallel > 1 else "pipeline_parallel"
        value = getattr(engine, key)
        raise UsageError(f"engine.{key}={value}: only backend=vllm splits a model over GPUs")
    if backend == "openai" and (engine.replicas > 1 or ray.address):
        setting = f"engine.replicas={engine.replicas}" if engine.replicas > 1 else "ray.address"
        raise UsageError(
            f"{setting}: backend=openai sends requests to a server that does its own "
            "batching; raise concurrency= instead"
        )


def parallel_record(engine: EngineParallelConfig, ray: RayConfig) -> dict[str, Any] | None:
    """What the worker needs to start replicas on Ray; None for one engine in-process."""
    if engine.replicas == 1 and not ray.address:
        return None
    return {
        "replicas": engine.replicas,
        "gpus_per_replica": engine.gpus_per_replica,
        "tensor_parallel": engine.tensor_parallel,
        "pipeline_parallel": engine.pipeline_parallel,
        "ray_address": ray.address or "local",
        "wait_for_room": ray.wait_for_room,
    }
