"""The demo's tests: its shipped data (fast) and the whole demo on the short schedule (slow)."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

REPO = Path(__file__).parents[2]
SUITES_DIR = REPO / "suites"

# As in tests/runner: in CI a missing vLLM is a failure, not a skip.
requires_vllm = pytest.mark.skipif(
    importlib.util.find_spec("vllm") is None and not os.environ.get("CI"),
    reason="vLLM not installed: scripts/install.sh dev",
)
