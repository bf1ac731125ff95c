"""Connecting to a Ray cluster and checking it can hold the replicas asked for."""

from __future__ import annotations

import logging
import socket
import sys
import time
from typing import Any

from evalkit.errors import EvalkitError, UsageError

RAY_MISSING = (
    "{setting} needs Ray: pip install 'evalkit[ray]' (or run one engine: engine.replicas=1)"
)
CONNECT_SECONDS = 5.0


def import_ray(setting: str) -> Any:
    try:
        import ray
    except ImportError:
        raise UsageError(RAY_MISSING.format(setting=setting)) from None
    return ray


def _check_reachable(address: str) -> None:
    """A HOST:PORT that no server answers on fails here in seconds, not after Ray's retries."""
    host, _, port = address.rpartition(":")
    if address.startswith("ray://") or not host or not port.isdigit():
        return  # Ray client addresses and other forms: Ray itself says what is wrong
    try:
        with socket.create_connection((host, int(port)), timeout=CONNECT_SECONDS):
            pass
    except OSError as e:
        raise UsageError(
            f"ray.address={address}: no Ray cluster answers there ({e.strerror or e}); start "
            "one with `ray start --head` or use ray.address=local"
        ) from None


def connect(address: str) -> Any:
    """ray.init for `address`: local starts a cluster of this machine for the run."""
    ray = import_ray(f"ray.address={address}")
    if ray.is_initialized():
        return ray
    if address not in ("local", "auto"):
        _check_reachable(address)
    try:
        ray.init(
            address=None if address == "local" else address,
            include_dashboard=False,
            logging_level=logging.WARNING,
            log_to_driver=True,
        )
    except ConnectionError as e:
        if address == "auto":
            raise UsageError(
                "ray.address=auto: no Ray cluster was started on this machine (`ray start "
                "--head`); use ray.address=local for one of this run's own"
            ) from None
        raise UsageError(f"ray.address={address}: {str(e).splitlines()[0]}") from None
    except (RuntimeError, ValueError) as e:
        raise EvalkitError(f"ray.address={address}: {str(e).splitlines()[0]}") from None
    return ray


def replica_resources(ray: Any, parallel: dict[str, Any]) -> dict[str, float]:
    """Each replica's Ray resources: its GPUs on a cluster with GPUs, else one CPU; refused in
    one line when the cluster's nodes cannot hold them all (a replica lives on one node)."""
    nodes = [node.get("Resources", {}) for node in ray.nodes() if node.get("Alive")]
    replicas, per_replica = parallel["replicas"], parallel["gpus_per_replica"]
    where = f"the Ray cluster at {parallel['ray_address']}"
    gpus = [int(node.get("GPU", 0)) for node in nodes]
    if sum(gpus) or per_replica > 1:
        needed = replicas * per_replica
        split = (
            f" × {per_replica} GPUs each (tensor_parallel × pipeline_parallel)"
            if per_replica > 1
            else ""
        )
        if needed > sum(gpus):
            raise UsageError(
                f"engine.replicas={replicas}{split} needs {needed} GPUs; {where} has {sum(gpus)}"
            )
        if sum(g // per_replica for g in gpus) < replicas:
            raise UsageError(
                f"engine.replicas={replicas}{split}: a replica's GPUs must be on one node, and "
                f"{where} has {', '.join(map(str, sorted(gpus, reverse=True)))} GPUs per node"
            )
        return {"num_gpus": per_replica, "num_cpus": 1}
    cpus = sum(int(node.get("CPU", 0)) for node in nodes)
    if replicas > cpus:
        raise UsageError(
            f"engine.replicas={replicas} needs {replicas} CPUs on a cluster without GPUs "
            f"(one per replica); {where} has {cpus}"
        )
    return {"num_cpus": 1}


# How often a run waiting for room on the cluster says so.
ROOM_NOTE_SECONDS = 30.0


def reserve_replicas(ray: Any, resources: dict[str, float], parallel: dict[str, Any]) -> Any:
    """A placement group holding every replica's resources (spread over nodes), waiting up to
    `parallel["wait_for_room"]` seconds while other jobs hold them, with a note every
    ROOM_NOTE_SECONDS; refused in one line, with what is free, when the wait runs out."""
    from ray.util.placement_group import placement_group, remove_placement_group

    bundle = {"CPU": resources.get("num_cpus", 1)}
    if resources.get("num_gpus"):
        bundle["GPU"] = resources["num_gpus"]
    replicas, limit = parallel["replicas"], float(parallel.get("wait_for_room", 600.0))
    group = placement_group([dict(bundle)] * replicas, strategy="SPREAD")
    began = time.monotonic()
    while True:
        waited = time.monotonic() - began
        if group.wait(timeout_seconds=max(0.1, min(ROOM_NOTE_SECONDS, limit - waited))):
            return group
        waited = time.monotonic() - began
        free = ray.available_resources()
        needs = ", ".join(f"{v:g} {k}" for k, v in bundle.items())
        room = ", ".join(f"{free.get(k, 0):g} {k}" for k in bundle)
        if waited >= limit:
            remove_placement_group(group)
            raise EvalkitError(
                f"engine.replicas={replicas}: the Ray cluster at {parallel['ray_address']} had "
                f"no room for them for {waited:.0f} s ({needs} each; free in the whole "
                f"cluster now: {room}; other jobs hold the rest); ray.wait_for_room= sets how "
                "long to wait"
            )
        print(
            f"waiting {waited:.0f} s for room on the Ray cluster: {replicas} replicas of "
            f"{needs} each; free in the whole cluster now: {room}",
            file=sys.stderr,
        )


def check_local_gpus(gpus_per_replica: int, setting: str) -> None:
    """One engine split over GPUs in this process: this machine must have that many."""
    if gpus_per_replica <= 1:
        return
    try:
        import torch

        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
    except ImportError:  # pragma: no cover - the engines bring torch
        count = 0
    if count < gpus_per_replica:
        raise UsageError(
            f"{setting} needs {gpus_per_replica} GPUs; this machine has {count or 'none'}"
        )
