"""backend=openai against a real `vllm serve` of a tiny chat model on localhost."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from evalkit.runner.config import compose_run_config
from evalkit.runner.run import execute_run, generations_path

from .conftest import SUITES_DIR, requires_vllm

pytestmark = [pytest.mark.slow, requires_vllm]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(models_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = _free_port()
    log = tmp_path_factory.mktemp("server") / "vllm-serve.log"
    path = str(models_dir / "weights-chat")
    env = {**os.environ, "VLLM_CPU_KVCACHE_SPACE": "1"}
    with log.open("w") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "vllm.entrypoints.openai.api_server",
                "--model",
                path,
                "--dtype",
                "float32",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--generation-config",
                "vllm",
                "--seed",
                "0",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300
    try:
        while True:
            try:
                urllib.request.urlopen(f"{url}/v1/models", timeout=2)
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        f"vllm serve did not start:\n{log.read_text()[-3000:]}"
                    ) from None
                time.sleep(1)
        yield f"{url}/v1"
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def _rows(run_dir: Path, model: str) -> list[dict]:
    text = generations_path(run_dir, model, "legal@v2").read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines()]


def test_server_matches_the_offline_engine(server: str, models_dir: Path, tmp_path: Path) -> None:
    # Two configs of the same served weights: chat completions and plain completions.
    (models_dir / "served-chat.yaml").write_text("path: weights-chat\nkind: chat\n")
    (models_dir / "served-base.yaml").write_text("path: weights-chat\nkind: base\n")
    common = [
        f"suites_dir={SUITES_DIR}",
        f"models_dir={models_dir}",
        f"out={tmp_path / 'reports'}",
        "suite=legal",
        "limit=5",
        "max_new_tokens=8",
    ]

    def both(name: str, *extra: str) -> tuple[Path, Path]:
        served = execute_run(
            compose_run_config(
                [
                    *common,
                    *extra,
                    "backend=openai",
                    f"base_url={server}",
                    "concurrency=4",
                    f"cache={tmp_path / 'a.sqlite'}",
                    f"run_id={name}-served",
                ]
            ),
            echo=lambda _: None,
        )
        local = execute_run(
            compose_run_config(
                [
                    *common,
                    *extra,
                    "backend=hf",
                    f"cache={tmp_path / 'b.sqlite'}",
                    f"run_id={name}-local",
                ]
            ),
            echo=lambda _: None,
        )
        return served.run_dir, local.run_dir

    served, local = both("gen", "model=[served-chat,served-base]")
    for model in ("served-chat", "served-base"):
        for s, loc in zip(_rows(served, model), _rows(local, model), strict=True):
            assert s["output"] == loc["output"], (model, s["item_id"])
            assert s["prompt_tokens"] == loc["prompt_tokens"]
            assert s["output_tokens"] == loc["output_tokens"]
    # Option log-likelihoods through the completions endpoint (echo + logprobs).
    served, local = both("ll", "model=served-base", "mcq_mode=loglikelihood")
    scored = 0
    for s, loc in zip(_rows(served, "served-base"), _rows(local, "served-base"), strict=True):
        for option, value in loc.get("option_logprobs", {}).items():
            assert s["option_logprobs"][option]["logprob"] == pytest.approx(
                value["logprob"], abs=2e-3
            )
            scored += 1
    assert scored > 0


def test_unreachable_server_is_one_clear_error(models_dir: Path, tmp_path: Path) -> None:
    from evalkit.errors import EvalkitError

    config = compose_run_config(
        [
            f"suites_dir={SUITES_DIR}",
            f"models_dir={models_dir}",
            f"out={tmp_path}",
            "suite=legal",
            "model=chat",
            "limit=1",
            "backend=openai",
            f"base_url=http://127.0.0.1:{_free_port()}/v1",
            f"cache={tmp_path / 'c.sqlite'}",
        ]
    )
    with pytest.raises(EvalkitError, match=r"cannot reach http://127\.0\.0\.1"):
        execute_run(config, echo=lambda _: None)
