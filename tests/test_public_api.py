"""The package's promises about imports: a light `import evalkit` and a declared API."""

from __future__ import annotations

import subprocess
import sys

import evalkit


def test_import_evalkit_loads_no_heavy_modules() -> None:
    code = (
        "import sys, evalkit, evalkit.cli;"
        "heavy = [m for m in ('vllm', 'torch', 'transformers', 'streamlit', 'datasets', 'sklearn')"
        " if m in sys.modules]; print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_public_names_resolve() -> None:
    for name in evalkit.__all__:
        assert getattr(evalkit, name) is not None
