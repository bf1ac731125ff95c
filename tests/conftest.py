"""Shared fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

from drafts import write_draft


@pytest.fixture
def draft_dir(tmp_path: Path) -> Path:
    return write_draft(tmp_path / "draft")
